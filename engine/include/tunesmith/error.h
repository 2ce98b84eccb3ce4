// The one error type the core throws internally; the API boundary (tunesmith/api.h) turns it into
// {"error": {"code", "message", ...details}} and never lets an exception cross into JS or the CLI.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace tunesmith {

struct Error : std::runtime_error {
  std::string code;        // stable, machine-readable: "invalid_field", "model_not_loaded", ...
  nlohmann::json details;  // extra fields merged into the error object (e.g. {"field": "seed"})
  Error(std::string c, const std::string& message, nlohmann::json d = nlohmann::json::object())
      : std::runtime_error(message), code(std::move(c)), details(std::move(d)) {}
};

}  // namespace tunesmith
