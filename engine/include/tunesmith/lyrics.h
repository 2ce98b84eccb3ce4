// Lyrics on a character-level GPT (see model.h): the parameters every lyrics request shares,
// language detection and how a requested style maps onto the model's trained styles. The decoder
// that writes songs under a plan is songwriter.h.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tunesmith/api.h"
#include "tunesmith/model.h"

namespace tunesmith {

struct LyricsParams {
  std::string title;               // UTF-8, already validated
  std::string style;               // what the user asked for (free text; "" = model default)
  int lines = 8;                   // exactly this many lines come back
  uint64_t seed = 0;
  float temperature = 0.8f;        // 0 = greedy
  int top_k = 40;
  float top_p = 0.95f;
  float repetition_penalty = 1.1f;
};

// "zh" when the title has CJK characters, "en" otherwise.
std::string detect_language(const std::string& title);

// How a requested style maps onto the styles the model was trained on (manifest "styles").
struct StyleMatch {
  std::string name;     // trained style, e.g. "ci"
  int token = -1;       // its control token
  std::string how;      // "default", "exact", "alias '流行'", or "unknown (default used)"
};
StyleMatch resolve_style(const GptModel& model, const std::string& requested);

}  // namespace tunesmith
