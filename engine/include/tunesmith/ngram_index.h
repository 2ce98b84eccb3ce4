// The originality index: a Bloom filter of the hashed n-grams of a lyrics model's training and
// validation text (runs of 8 Chinese characters, or 6 English words), so that decoding can refuse
// any candidate token that would complete such a run: a songwriter is never handed a line copied
// from the corpus. Built by tools/lyrics/build_ngrams.mjs into models/lyrics-<lang>.ngrams, with
// its "originality" entry in the model's manifest; normalisation, hashing, file format and the
// measured false-positive rate (~5.6%): docs/originality.md. The exact (no false positive) checker
// for evaluation is tools/lyrics/copy_check.mjs.
//
//   tunesmith::NgramIndex idx;
//   idx.load(manifest["originality"], ngrams_file_bytes);    // checks size, sha256 and header
//   const char32_t run[] = U"床前看月光疑是地";                  // 静夜思 as the corpus has it
//   idx.contains_chars(run, 8);                               // true
//   // while decoding: hash the last n-1 units once, then extend by each candidate
//   uint64_t h = NgramIndex::hash_chars(run + 1, 7);          // 前看月光疑是地
//   idx.contains_hash(NgramIndex::extend_char(h, U'上'));     // true: block 上 here
//   idx.scan("Shall I compare thee to a summer's day?").longest_run;  // 8 (words), on the en index
//
// An n-gram in the corpus is always found; one that is not is found anyway with the false-positive
// probability (a blocked candidate that was in fact original: harmless, another token is chosen).
// Loading throws tunesmith::Error "model_invalid" on any mismatch; a loaded index is immutable and
// its const methods are safe from any thread. Lookups allocate nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunesmith {

class NgramIndex {
 public:
  // entry = the manifest's "originality" object; bytes = the .ngrams file. Checks its size and
  // sha256 against the entry, then the header fields (unit, n, k, m_bits, items) against the entry;
  // throws Error("model_invalid", ...) with {"file"} on any mismatch, truncation or tampering, and
  // then leaves *this as it was.
  void load(const nlohmann::json& entry, const std::string& bytes);

  bool loaded() const { return !bits_.empty(); }
  int n() const { return n_; }            // units per n-gram: 8 (zh), 6 (en); 0 before load
  bool words() const { return words_; }   // true: English word units; false: CJK code points
  int k() const { return k_; }
  uint64_t m_bits() const { return m_; }
  uint64_t items() const { return items_; }

  // 64-bit FNV-1a over each unit's UTF-8 bytes followed by the byte 0x1F. Hashing is incremental:
  // hash_units(u, c) == extend(... extend(kHashStart, u[0]) ..., u[c-1]).
  static constexpr uint64_t kHashStart = 0xcbf29ce484222325ull;  // FNV-1a offset basis: no units
  static uint64_t extend(uint64_t h, const char* unit, size_t size);
  static uint64_t extend(uint64_t h, const std::string& unit) { return extend(h, unit.data(), unit.size()); }
  static uint64_t extend_char(uint64_t h, char32_t cp);  // the code point's UTF-8 as one unit
  static uint64_t hash_units(const std::string* units, int count);
  static uint64_t hash_chars(const char32_t* cps, int count);

  // Whether the filter (probably) holds the n-gram of this hash; false when not loaded.
  bool contains_hash(uint64_t h) const;
  // count must equal n() (else false): the units are these code points / normalised words.
  bool contains_chars(const char32_t* cps, int count) const;
  bool contains_words(const std::string* words, int count) const;

  // English normalisation, appended to out: ASCII lowercased, ’ and ‘ read as ', words = maximal
  // runs of [a-z0-9'] with leading and trailing apostrophes stripped, empty ones dropped. Any other
  // byte (punctuation, space, line break, non-ASCII) separates words.
  static void normalise_words(const std::string& text, std::vector<std::string>& out);
  // Chinese normalisation, appended to out: the text's CJK code points (is_cjk, utf8.h) in order,
  // everything else dropped (so runs cross line ends); malformed UTF-8 bytes are skipped.
  static void normalise_chars(const std::string& text, std::u32string& out);

  // For reporting: normalises text as the index's language does and looks up every n-gram.
  // longest_run: the longest span, in units, covered by consecutive n-grams found (0: none);
  // hits: the number of n-grams found. False positives count too (an isolated one gives a run of n).
  struct Scan {
    int longest_run = 0;
    int hits = 0;
  };
  Scan scan(const std::string& text) const;

 private:
  int n_ = 0, k_ = 0;
  bool words_ = false;
  uint64_t m_ = 0, items_ = 0;
  std::vector<uint64_t> bits_;  // bit p = bits_[p / 64] >> (p % 64)
};

}  // namespace tunesmith
