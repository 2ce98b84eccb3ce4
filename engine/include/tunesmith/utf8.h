// UTF-8 <-> code points. Invalid input is reported, never guessed at.
#pragma once
#include <string>
#include <vector>

namespace tunesmith {

// Decodes s; returns false on malformed UTF-8 (overlongs, surrogates, > U+10FFFF, truncation).
bool utf8_decode(const std::string& s, std::u32string& out);
void utf8_append(std::string& out, char32_t c);
std::string utf8_encode(const std::u32string& s);
// Code points of s; its bytes read as Latin-1 when s is not valid UTF-8 (for text to analyse, never
// to store).
std::u32string decode_lenient(const std::string& s);
inline bool is_cjk(char32_t c) { return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F); }
inline bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0x2028 || c == 0x2029; }

}  // namespace tunesmith
