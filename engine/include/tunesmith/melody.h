// Melodies: generate_melody, edit_melody and render_melody (contract: docs/melody-api.md; the
// rules the decoder enforces: docs/melody-rules.md).
//
// The melody model (models/melody.*, tokens from tools/melody/tokens.mjs) proposes each token; the
// decoder masks what music theory and the lyrics forbid, in the sampler chain:
//   - pitches in the key's mode (unless chromatic), inside a singable window, a range (default 16
//     semitones) and no leap above an octave;
//   - durations on the sixteenth grid, never across a bar line, and leaving room for every syllable
//     still to sing in the phrase (one note per syllable);
//   - English stressed syllables (CMUdict) on beats, Mandarin tone contours followed by the melody's
//     steps, phrase-final notes on degree 1, 3 or 5 (the last on the tonic).
// When a step has no token left, the softest rule is dropped for that step and reported in
// "relaxations".
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunesmith {

class Engine;
class Phonetics;

struct MeterSpec {
  int num = 4, den = 4;
  int bar12() const { return num * 48 / den; }  // bar length in twelfths of a quarter note
  bool compound() const { return den == 8 && num % 3 == 0 && num > 3; }
  int beat12() const;                            // 6/8: 18; 4/4: 12; 2/2: 24; 3/8: 6
  // Metric weight of a position inside the bar: 3 downbeat, 2 mid-bar strong beat, 1 other beat, 0.
  int weight(int pos12) const;
  std::string str() const { return std::to_string(num) + "/" + std::to_string(den); }
};

struct KeySpec {
  std::string tonic = "C";  // as written: "F#", "Bb"
  int pc = 0;               // tonic pitch class
  std::string mode = "major";
  int fifths = 0;           // key signature
  const int* scale() const;  // 7 semitone offsets from the tonic
  bool in_scale(int pitch) const;
};

// Throw Error("invalid_field") naming `field` on anything not understood.
MeterSpec parse_meter(const std::string& text, const char* field = "meter");
KeySpec parse_key(const std::string& tonic, const std::string& mode, const char* field = "key");

// One sung syllable.
struct Syllable {
  std::string text;       // "hal-" when the word continues
  int line = 0;
  int stress = -1;        // English: 1 primary stress of a longer word, 0 unstressed syllable of a
                          // longer word, 2 stressed one-syllable content word; -1 free (function
                          // words, Chinese)
  int tone = -1;          // Mandarin 0..4, -1 none
  bool line_end = false;  // last syllable of its line
};

// English word -> its syllables' texts (n parts, vowel-group rule; "-" not added).
std::vector<std::string> split_english_word(const std::string& word, int n);

// Tone rule between consecutive syllables: +1 the melody must step up, -1 down, 2 stay within two
// semitones, 0 no rule. docs/melody-rules.md.
int tone_rule(int tone_a, int tone_b);

nlohmann::json task_generate_melody(Engine& eng, const nlohmann::json& req);
nlohmann::json task_edit_melody(Engine& eng, const nlohmann::json& req);
nlohmann::json task_render_melody(Engine& eng, const nlohmann::json& req);

}  // namespace tunesmith
