// Shared by the C++ tests: where the shipped models are, and reading files.
#pragma once
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace tstest {

// The shipped models (TS_MODELS_DIR), or TUNESMITH_TEST_MODELS when set.
inline std::string models_dir() {
  const char* env = std::getenv("TUNESMITH_TEST_MODELS");
  return env ? env : TS_MODELS_DIR;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace tstest
