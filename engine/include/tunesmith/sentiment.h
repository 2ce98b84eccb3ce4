// Sentiment and mood of lyrics: a valence in [-1, 1] and one of five moods (or neutral) per line and
// for the whole song, from lexicons built by tools/lyrics/build_sentiment.mjs into
// models/sentiment-{en,zh}.tsv plus models/sentiment.json. English valence is AFINN-111, else the Liu
// opinion lexicon; Chinese valence is SO-PMI over the classical training corpus plus curated modern
// words; moods come from hand-curated word lists. Method, rules and measured accuracy:
// docs/sentiment.md. Used by the analyze_lyrics task and by mood steering in generate_lyrics.
//
//   tunesmith::Sentiment s;
//   s.load_dir("models");              // native; elsewhere load(manifest, {{name, text}, ...})
//   s.analyze("I can't stop smiling\nThe rain keeps falling", "en")["lines"][0]["label"];  // "happy"
//   s.en_word_valence("Tears,");       // -0.4 (AFINN -2 / 5)
//   s.en_word_mood("lonely", tunesmith::Mood::sad);  // > 0;  ("lonely", Mood::happy) < 0
//   s.zh_char_mood(U'笑', tunesmith::Mood::happy);    // > 0
//
// Loading checks every file against the manifest (bytes, sha256) and every table line, and throws
// tunesmith::Error "model_invalid" (details {"file", "line"?}) on anything malformed; a failed load
// leaves the object as it was. A loaded Sentiment is immutable: const methods are safe from any thread.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunesmith {

enum class Mood { neutral = 0, happy, sad, tender, defiant, calm };
constexpr int kMoodCount = 5;  // happy .. calm; Mood(i + 1) for i in [0, kMoodCount)

const char* mood_name(Mood m);  // "neutral", "happy", "sad", "tender", "defiant", "calm"
// English names in any case (surrounding spaces ignored), and 快乐 欢快 开心 / 悲伤 伤感 忧伤 /
// 温柔 深情 / 倔强 反抗 愤怒 / 平静 安静 (also 中性 and "neutral"). False, out untouched, otherwise.
bool parse_mood(const std::string& s, Mood& out);

class Sentiment {
 public:
  // files: the text of each file the manifest lists, by its name there ("sentiment-en.tsv",
  // "sentiment-zh.tsv" as shipped). Exactly the listed files must be given, each matching its bytes
  // and sha256, one table per language (told by the table's first line). On error nothing is replaced.
  void load(const std::string& manifest_text, const std::map<std::string, std::string>& files);
  // Native convenience: dir/sentiment.json and the files it lists; a missing file throws
  // "model_not_found" (details {"file"}).
  void load_dir(const std::string& dir);
  bool loaded() const { return loaded_; }
  size_t en_size() const { return en_.size(); }
  size_t zh_size() const { return zh_chars_.size() + zh_words_.size(); }

  // The analyze_lyrics answer body for lyrics text ("\n"-separated lines; blank lines are skipped and
  // "index" counts the non-blank lines in order):
  //   {"language", "overall": {"valence", "label", "confidence", "scores": {"neutral", "happy", "sad",
  //    "tender", "defiant", "calm"} (shares summing to 1), "words": [{"word", "weight", "count"}] (top 8)},
  //    "lines": [{"index", "text", "valence", "label", "confidence",
  //               "words": [{"word", "weight", "mood"?, "negated"?}] (top 8)}],
  //    "method": "..."}
  // language "zh" or "en" ("" = zh if the text has a CJK character, else en); anything else throws
  // Error "invalid_field" {"field": "language"}. Numbers are rounded to 3 decimals. Throws
  // "model_not_loaded" before a load.
  nlohmann::json analyze(const std::string& lyrics, const std::string& language) const;

  // Generation steering: how strongly a unit evokes a mood, in [-1, 1]; 0 for unknown units and for
  // Mood::neutral. Its mood-list weight, plus a share of its valence in the mood's direction, minus
  // half the weight of another mood's list when it is not on this one's (docs/sentiment.md). One
  // hash lookup: cheap enough for every vocabulary entry.
  float zh_char_mood(char32_t c, Mood m) const;
  float en_word_mood(std::string_view word, Mood m) const;  // any case, surrounding punctuation ignored, ’ == '
  float zh_char_valence(char32_t c) const;                   // 0 unknown
  float en_word_valence(std::string_view word) const;        // 0 unknown; -s -ed -ing -ly -in' stripped when the word is missing

  // Internal unit of the tables, public for the tests and for callers that want both numbers.
  struct Entry {
    float valence = 0;
    float tags[kMoodCount] = {0, 0, 0, 0, 0};   // mood-list weights, happy .. calm
    float mood[kMoodCount] = {0, 0, 0, 0, 0};   // steering scores, precomputed at load
  };
  const Entry* en_entry(std::string_view word) const;  // after normalisation and suffix stripping
  const Entry* zh_entry(const std::string& unit) const;  // a character or a word of 2-3 characters

 private:
  const Entry* en_lookup(const std::string& normalised) const;
  nlohmann::json analyze_en(const std::vector<std::string>& lines) const;
  nlohmann::json analyze_zh(const std::vector<std::string>& lines) const;

  bool loaded_ = false;
  std::unordered_map<std::string, Entry> en_;        // lowercase word
  std::unordered_map<char32_t, Entry> zh_chars_;
  std::unordered_map<std::string, Entry> zh_words_;  // UTF-8, 2-3 characters
};

}  // namespace tunesmith
