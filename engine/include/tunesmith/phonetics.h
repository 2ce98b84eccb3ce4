// Phonetics for rhyme and syllable control: Chinese characters -> pinyin finals, tones and 十三辙
// rhyme groups; English words -> syllable counts, rhyme keys and lexical stress (CMUdict), with a
// spelling-based fallback for words the table lacks. Tables and rules: docs/phonetics.md; the tables are built by
// tools/lyrics/build_phonetics.mjs into models/phonetics-{zh,en}.tsv plus models/phonetics.json.
// generate_lyrics uses it for rhyme_scheme and syllables (songwriter.h).
//
//   tunesmith::Phonetics ph;
//   ph.load_dir("models");          // native; elsewhere load(manifest, zh, en) with the files' text
//   ph.zh_rhyme_group(U'光');       // 12 (江阳)
//   ph.zh_rhymes("月亮代表我的心", "你问我爱你有多深");  // true: 心 xin and 深 shen are both 人辰
//   ph.en_syllables_line("I will always love you");   // 6
//   ph.en_rhymes("Way up above", "all you need is love");  // true: both end in "AH1 V"
//   ph.en("beautiful").stress;                        // "100"
//   ph.en_stress_line("I love you");                  // "111"
//
// Loading checks every line and throws tunesmith::Error "model_invalid" (with {"table", "line"})
// on anything malformed. A loaded Phonetics is immutable: const methods are safe from any thread.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tunesmith {

// One Chinese character. Vectors run parallel, one entry per reading, the most common reading first
// (pinyin-pro's order; context is not considered: 行 is always xing2 first).
struct ZhInfo {
  bool found = false;
  std::vector<std::string> pinyin;  // "xing2": toneless syllable + tone digit
  std::vector<std::string> finals;  // "ing"; ü kept ("üe"), "-i" for zhi chi shi ri zi ci si
  std::vector<int> tones;           // 1-4, 0 = neutral (了 le0)
  std::vector<int> groups;          // 十三辙 id 1-13 (table in phonetics.json), 0 = none (嗯 ng)
};

// One English word. Every pronunciation the table lists, most common first; the scalar fields are
// the first one's.
struct EnInfo {
  bool found = false;            // the normalised word itself is in the table
  bool from_dictionary = false;  // the table, directly or by a rule (lovin' = loving with -in, heav'n,
                                 // love's, well-known); false: estimated from spelling
  int syllables = 0;             // 0 only for words with no vowel sound ("hmm", "shh") or no letters
  std::string rhyme_key;         // ARPAbet from the last stressed vowel (primary or secondary, marked 1;
                                 // 0: the word has none) to the end: "AH1 V", butterfly "AY1"; an
                                 // estimate borrows a dictionary word's key, else is lowercase spelling
                                 // ("orp"), which only matches the same spelling
  std::string stress;            // one digit a syllable (size() == syllables): 0 unstressed, 1 primary,
                                 // 2 secondary. beautiful "100", about "01", understand "201", hmm "".
                                 // Derived words: the base's digits + '0' per added syllable (-ism "20",
                                 // racism "120"); compounds: the parts' digits, the second part's 1s
                                 // made 2 (tunesmith "12", as CMUdict's blacksmith); hyphenated words:
                                 // the parts' digits as they are (well-known "11"); estimates: "1" then
                                 // '0's ("100")
  std::vector<int> syllable_options;    // "fire": {2, 1}
  std::vector<std::string> rhyme_keys;  // "fire": {"AY1 ER0", "AY1 R"}
  std::vector<std::string> stress_options;  // "fire": {"10", "1"}; parallel to syllable_options
};

class Phonetics {
 public:
  // Table text as built (UTF-8, one entry a line). Loading again replaces that table.
  void load_zh(const std::string& text);
  void load_en(const std::string& text);
  // Checks both tables' sha256 against the manifest (phonetics.json), then loads them; on any error
  // nothing is replaced.
  void load(const std::string& manifest_text, const std::string& zh_text, const std::string& en_text);
  // Native convenience: load() from dir/phonetics.json, phonetics-zh.tsv and phonetics-en.tsv;
  // a missing file throws "model_not_found".
  void load_dir(const std::string& dir);
  size_t zh_size() const { return zh_rows_.size(); }
  size_t en_size() const { return en_rows_.size(); }

  ZhInfo zh(char32_t c) const;
  int zh_rhyme_group(char32_t c) const;  // most common reading's group; 0: unknown or none
  // The last CJK characters of two lines (punctuation and other characters skipped) share the
  // rhyme group of their most common readings; false when either has no group.
  bool zh_rhymes(const std::string& a, const std::string& b) const;

  // The table's rows in byte order of their words: en_word(i) and what the table says of it.
  std::string_view en_word(size_t i) const { return {en_text_.data() + en_rows_[i].word, en_rows_[i].word_len}; }
  EnInfo en_info(size_t i) const { return en_row(en_rows_[i]); }

  EnInfo en(std::string_view word) const;  // any case; ’ and ' alike; surrounding punctuation ignored
  int en_syllables_line(const std::string& line) const;        // sum over words (first pronunciations)
  std::string en_rhyme_key_line(const std::string& line) const;  // last word's key; "" if no word
  // The words' stress digits run together (first pronunciations): "I will always love you" "111211"
  // (always AO1 L W EY2 Z); size() == en_syllables_line(line).
  std::string en_stress_line(const std::string& line) const;
  // The last words of two lines (or two words) share a rhyme key, any pronunciation of each.
  bool en_rhymes(const std::string& a, const std::string& b) const;

  // The fallbacks on their own, for words the table lacks (and for measuring them against it).
  static int estimate_syllables(std::string_view lowercase_letters);
  static std::string estimate_stress(int syllables);  // "1" then '0's: 3 -> "100"; 0 -> ""
  static std::string spelled_rhyme_key(std::string_view lowercase_letters);
  std::string guess_rhyme_key(std::string_view lowercase_letters) const;  // borrowed, else spelled

 private:
  struct ZhRow { char32_t cp; int group; uint32_t begin, end; };  // [begin, end): line after the char
  struct EnRow { uint32_t word, word_len, end; };                // offsets into en_text_
  struct Suffix { std::string rev; uint32_t row; };              // reversed word, for guess_rhyme_key
  const EnRow* find_en(std::string_view w) const;
  EnInfo en_row(const EnRow& r) const;
  EnInfo en_normalised(const std::string& w, int depth) const;
  EnInfo derive_suffix(const std::string& w, bool guess) const;  // syllables 0: no rule applied
  EnInfo derive_compound(const std::string& w) const;  // tune+smith; from_dictionary false: none

  std::string zh_text_, en_text_;
  std::vector<ZhRow> zh_rows_;  // sorted by code point
  std::vector<EnRow> en_rows_;  // sorted by word (bytes)
  std::vector<Suffix> suffixes_;  // letters-only words reversed, sorted
};

}  // namespace tunesmith
