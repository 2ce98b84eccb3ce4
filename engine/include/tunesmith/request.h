// Reading request fields: each field's type, range and default are stated where it is parsed, and
// every violation throws tunesmith::Error("invalid_field" | "missing_field") naming the field.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace tunesmith {

class Fields {
 public:
  // Throws "bad_request" unless req is an object; rejects fields not in `allowed` (typos would
  // otherwise be silently ignored).
  Fields(const nlohmann::json& req, std::initializer_list<const char*> allowed);

  bool has(const char* name) const;
  // Text: valid UTF-8, no control characters except where allow_newlines, 1..max_chars code points
  // (min_chars 0 allows ""), surrounding whitespace trimmed.
  std::string text(const char* name, bool required, size_t max_chars, const std::string& def = "",
                   size_t min_chars = 1, bool allow_newlines = false) const;
  int64_t integer(const char* name, int64_t def, int64_t min, int64_t max) const;
  int64_t required_integer(const char* name, int64_t min, int64_t max) const;
  double number(const char* name, double def, double min, double max) const;
  // One of `choices`, or def when absent.
  std::string choice(const char* name, std::initializer_list<const char*> choices, const std::string& def) const;
  // 0 .. 2^53-1 (exact in JavaScript); when absent, a fresh random seed.
  uint64_t seed(const char* name) const;

  const nlohmann::json& raw() const { return req_; }

 private:
  const nlohmann::json& req_;
};

}  // namespace tunesmith
