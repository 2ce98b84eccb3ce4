#include "tunesmith/request.h"

#include <cmath>
#include <random>

#include "tunesmith/error.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

static Error invalid_field(const char* name, const std::string& why) {
  return Error("invalid_field", std::string("'") + name + "' " + why, {{"field", name}});
}

Fields::Fields(const json& req, std::initializer_list<const char*> allowed) : req_(req) {
  if (!req.is_object()) throw Error("bad_request", "the request must be a JSON object");
  for (auto it = req.begin(); it != req.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw Error("unknown_field", "unknown field '" + it.key() + "' (this task takes: " + list + ")", {{"field", it.key()}});
    }
  }
}

bool Fields::has(const char* name) const { return req_.contains(name) && !req_[name].is_null(); }

std::string Fields::text(const char* name, bool required, size_t max_chars, const std::string& def, size_t min_chars,
                         bool allow_newlines) const {
  if (!has(name)) {
    if (required) throw Error("missing_field", std::string("'") + name + "' is required", {{"field", name}});
    return def;
  }
  const json& v = req_[name];
  if (!v.is_string()) throw invalid_field(name, "must be a string");
  std::u32string cps;
  if (!utf8_decode(v.get<std::string>(), cps)) throw invalid_field(name, "is not valid UTF-8");
  for (char32_t c : cps)
    if (is_control(c) && !(allow_newlines && c == U'\n'))
      throw invalid_field(name, "contains a control character (U+" + [&] {
        char b[8]; std::snprintf(b, sizeof b, "%04X", (unsigned)c); return std::string(b); }() + ")");
  size_t a = 0, b = cps.size();
  auto space = [](char32_t c) { return c == U' ' || c == U'\n' || c == 0x3000 || c == 0xA0; };
  while (a < b && space(cps[a])) ++a;
  while (b > a && space(cps[b - 1])) --b;
  cps = cps.substr(a, b - a);
  if (cps.size() < min_chars)
    throw invalid_field(name, min_chars == 1 ? "must not be empty" : "must have at least " + std::to_string(min_chars) + " characters");
  if (cps.size() > max_chars)
    throw invalid_field(name, "has " + std::to_string(cps.size()) + " characters; the limit is " + std::to_string(max_chars));
  return utf8_encode(cps);
}

int64_t Fields::integer(const char* name, int64_t def, int64_t min, int64_t max) const {
  if (!has(name)) return def;
  return required_integer(name, min, max);
}

int64_t Fields::required_integer(const char* name, int64_t min, int64_t max) const {
  if (!has(name)) throw Error("missing_field", std::string("'") + name + "' is required", {{"field", name}});
  const json& v = req_[name];
  const std::string range = " (allowed: " + std::to_string(min) + " to " + std::to_string(max) + ")";
  int64_t x;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t)INT64_MAX) throw invalid_field(name, "is out of range" + range);
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) throw invalid_field(name, "must be a whole number" + range);
    x = (int64_t)d;
  } else {
    throw invalid_field(name, "must be a number" + range);
  }
  if (x < min || x > max) throw invalid_field(name, "is " + std::to_string(x) + ", out of range" + range);
  return x;
}

double Fields::number(const char* name, double def, double min, double max) const {
  if (!has(name)) return def;
  const json& v = req_[name];
  char range[96];
  std::snprintf(range, sizeof range, " (allowed: %g to %g)", min, max);
  if (!v.is_number()) throw invalid_field(name, std::string("must be a number") + range);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max) throw invalid_field(name, std::string("is out of range") + range);
  return x;
}

std::string Fields::choice(const char* name, std::initializer_list<const char*> choices, const std::string& def) const {
  if (!has(name)) return def;
  const json& v = req_[name];
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  if (v.is_string())
    for (const char* c : choices)
      if (v.get<std::string>() == c) return c;
  throw invalid_field(name, "must be one of: " + list);
}

uint64_t Fields::seed(const char* name) const {
  if (!has(name)) {
    std::random_device rd;  // only when the caller did not ask for reproducibility; reported back
    return (((uint64_t)rd() << 32) ^ rd()) & ((1ULL << 53) - 1);
  }
  return (uint64_t)required_integer(name, 0, (1LL << 53) - 1);
}

}  // namespace tunesmith
