// Songwriting on top of the lyrics models: a song plan (sections, rhyme classes, syllable targets,
// keywords) read from a request, and a decoder that writes lines under that plan with masks in the
// sampler chain, so every constraint is enforced while decoding:
//
//   - Chinese: a line of T syllables is exactly T characters; its last character is sampled from
//     the characters of its rhyme class's 十三辙 group only.
//   - English: words come from the phonetics table through a trie (en_lexicon.h). A letter is
//     allowed only if some dictionary word it starts still fits the line's syllable budget; the
//     word that uses the last syllables must rhyme (CMUdict rhyme key) with its class.
//   - Originality: a candidate that would complete an 8-character (Chinese) or 6-word (English)
//     run found in the training text (ngram_index.h) is masked; a dead end backs up to the start of
//     the word (bounded) and, failing that, is reported in "relaxations".
//   - Mood: a logit bias from the sentiment lexicon (per character; per English word through
//     potentials on the trie).
//
//   SongPlan plan = parse_song_plan(request, "zh", seed);     // throws invalid_field
//   place_keywords(plan, "zh", phonetics);
//   json song = write_song(*model, params, plan, resources, nullptr, on_event);
//
// The JSON contract is docs/lyrics-controls.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tunesmith/api.h"
#include "tunesmith/lyrics.h"
#include "tunesmith/model.h"

namespace tunesmith {

class Phonetics;
class Sentiment;
class NgramIndex;
class EnLexicon;

struct SectionPlan {
  std::string name;   // "verse", "pre-chorus", "chorus", ...
  std::string label;  // "Verse 1"
  int start = 0, lines = 0;
  std::string scheme;          // one letter per line ('X' = unrhymed), "" = none
  int repeat_of = -1;          // earlier section whose lines this one repeats (choruses, hooks)
};

struct LinePlan {
  int section = 0, in_section = 0;
  int rhyme_class = -1;  // song-wide class id; -1 = unrhymed
  char letter = 0;       // the letter as requested ('A'..'Z'), 0 = none
  int syllables = 0;     // target; 0 = free
  int repeat_of = -1;    // line this one copies verbatim
  int keyword = -1;      // index in SongPlan::keywords written at the start of this line
};

struct SongPlan {
  std::vector<SectionPlan> sections;
  std::vector<LinePlan> lines;
  int classes = 0;
  bool vary_chorus = false;
  std::vector<std::string> keywords, avoid;
  std::string mood;            // canonical English name, "" = none
  std::string mood_requested;  // as the request spelled it
  bool originality = true;
  bool structured = false;     // the request gave a structure
  std::vector<std::string> notes;  // planning decisions the response reports
  nlohmann::json describe() const;  // the response's "sections"
};

// The moods generation can steer towards, with their accepted names.
bool canonical_mood(const std::string& requested, std::string& out);

// Reads structure, chorus, rhyme_scheme, syllables, keywords, avoid, mood, originality and
// lyrics_length (as the one-section default) from a request; throws Error("invalid_field") naming
// the field for anything malformed or contradictory. extra_structure (edit "continue") is appended.
SongPlan parse_song_plan(const nlohmann::json& req, const std::string& lang, uint64_t seed,
                         const nlohmann::json* extra_structure = nullptr);
// Chooses a line for each keyword (first the opening line of the first chorus, then section
// openings); throws invalid_field when a keyword cannot fit any line's syllable target.
void place_keywords(SongPlan& plan, const std::string& lang, const Phonetics& ph);

struct SongResources {
  const Phonetics* phonetics = nullptr;  // required
  const EnLexicon* lexicon = nullptr;    // required for English
  const Sentiment* sentiment = nullptr;  // required when the plan has a mood
  const NgramIndex* ngrams = nullptr;    // required when plan.originality
};

// Editing: the song as it is and which lines to write (the rest are kept and fed as context).
struct EditSpec {
  std::vector<std::string> lines;   // existing text, one per planned line (may be shorter for continue)
  std::vector<bool> write;          // per planned line
  std::string action;
};

// Writes (or rewrites) the song. The response is generate_lyrics's (docs/lyrics-controls.md).
nlohmann::json write_song(const GptModel& model, const LyricsParams& p, const SongPlan& plan,
                          const SongResources& res, const EditSpec* edit, const EventFn& on_event);

// Title candidates for lyrics, ranked by pointwise mutual information under the model.
nlohmann::json generate_titles(const GptModel& model, const std::string& lyrics, const std::string& style,
                               int count, uint64_t seed, const Phonetics& ph);

}  // namespace tunesmith
