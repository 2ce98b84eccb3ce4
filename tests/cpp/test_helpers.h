// Shared by the C++ tests: where the shipped models are, and reading files.
#pragma once
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tunesmith/api.h"
#include "tunesmith/error.h"

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

// The error code thrown by f, "" if none.
template <class F>
std::string error_code(F f) {
  try {
    f();
  } catch (const tunesmith::Error& e) {
    return e.code;
  }
  return "";
}

// One engine over the shipped models, shared by a test binary's suites (models load once).
inline tunesmith::Engine& models_engine() {
  static tunesmith::Engine e = [] { tunesmith::Engine x; x.set_model_dir(models_dir()); return x; }();
  return e;
}

}  // namespace tstest
