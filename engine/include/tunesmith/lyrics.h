// Lyrics writing on a character-level GPT (see model.h): prompt building from title and style,
// line-by-line decoding through the sampler chain (sampling.h) with masks that keep every line
// well-formed, and context shifting for songs longer than the model's context.
//
//   tunesmith::LyricsParams p;
//   p.title = "我爱你"; p.style = "流行音乐"; p.lines = 8; p.seed = 1;
//   nlohmann::json r = tunesmith::generate_lyrics(*model, p, on_event);  // r["lyrics"], r["lines"]
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

nlohmann::json generate_lyrics(const GptModel& model, const LyricsParams& p, const EventFn& on_event);

}  // namespace tunesmith
