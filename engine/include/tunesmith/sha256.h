// SHA-256 (FIPS 180-4), used to verify downloaded model files against their manifest hashes.
// Portable C++ (no intrinsics) so native and wasm builds agree.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tunesmith {

// Digest of data[0, size) as 64 lowercase hex characters.
std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace tunesmith
