#include "tunesmith/ngram_index.h"

#include <algorithm>

#include "tunesmith/error.h"
#include "tunesmith/sha256.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

namespace {

constexpr uint64_t kFnvPrime = 0x100000001b3ull;
constexpr size_t kHeader = 36;  // "TSNG", u32 version, unit, n, k, u64 m_bits, items
constexpr int kMaxN = 64;

uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// UTF-8 of one code point into buf (>= 4 bytes); returns the length.
size_t encode(char32_t c, char* buf) {
  if (c < 0x80) { buf[0] = char(c); return 1; }
  if (c < 0x800) { buf[0] = char(0xC0 | (c >> 6)); buf[1] = char(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    buf[0] = char(0xE0 | (c >> 12)); buf[1] = char(0x80 | ((c >> 6) & 0x3F)); buf[2] = char(0x80 | (c & 0x3F));
    return 3;
  }
  buf[0] = char(0xF0 | (c >> 18)); buf[1] = char(0x80 | ((c >> 12) & 0x3F));
  buf[2] = char(0x80 | ((c >> 6) & 0x3F)); buf[3] = char(0x80 | (c & 0x3F));
  return 4;
}

uint32_t u32le(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | uint8_t(b[at + i]);
  return v;
}

uint64_t u64le(const std::string& b, size_t at) { return uint64_t(u32le(b, at + 4)) << 32 | u32le(b, at); }

[[noreturn]] void bad(const std::string& file, const std::string& why) {
  throw Error("model_invalid", file + ": " + why, {{"file", file}});
}

}  // namespace

uint64_t NgramIndex::extend(uint64_t h, const char* unit, size_t size) {
  for (size_t i = 0; i < size; ++i) h = (h ^ uint8_t(unit[i])) * kFnvPrime;
  return (h ^ 0x1F) * kFnvPrime;
}

uint64_t NgramIndex::extend_char(uint64_t h, char32_t cp) {
  char buf[4];
  return extend(h, buf, encode(cp, buf));
}

uint64_t NgramIndex::hash_units(const std::string* units, int count) {
  uint64_t h = kHashStart;
  for (int i = 0; i < count; ++i) h = extend(h, units[i]);
  return h;
}

uint64_t NgramIndex::hash_chars(const char32_t* cps, int count) {
  uint64_t h = kHashStart;
  for (int i = 0; i < count; ++i) h = extend_char(h, cps[i]);
  return h;
}

void NgramIndex::load(const nlohmann::json& entry, const std::string& bytes) {
  const std::string file = entry.is_object() && entry.contains("file") && entry["file"].is_string()
                               ? entry["file"].get<std::string>() : std::string("originality index");
  if (!entry.is_object()) bad(file, "the manifest's \"originality\" entry is not an object");
  auto number = [&](const char* key) -> uint64_t {
    const bool ok = entry.contains(key) && (entry[key].is_number_unsigned() || (entry[key].is_number_integer() && entry[key].get<int64_t>() >= 0));
    if (!ok) bad(file, std::string("manifest field \"") + key + "\" is missing or not a non-negative integer");
    return entry[key].get<uint64_t>();
  };
  auto text = [&](const char* key) -> std::string {
    if (!entry.contains(key) || !entry[key].is_string()) bad(file, std::string("manifest field \"") + key + "\" is missing or not a string");
    return entry[key].get<std::string>();
  };
  const uint64_t size = number("bytes"), n = number("n"), k = number("k"), m = number("m_bits"), items = number("items");
  const std::string sha = text("sha256"), unit = text("unit");
  if (unit != "char" && unit != "word") bad(file, "unit \"" + unit + "\" is neither \"char\" nor \"word\"");
  if (n < 1 || n > kMaxN) bad(file, "n = " + std::to_string(n) + " is not 1-" + std::to_string(kMaxN));
  if (k < 1 || k > 32) bad(file, "k = " + std::to_string(k) + " is not 1-32");
  if (m == 0 || m > (uint64_t(1) << 40)) bad(file, "m_bits = " + std::to_string(m) + " is out of range");

  if (bytes.size() != size)
    bad(file, "size " + std::to_string(bytes.size()) + " bytes, the manifest says " + std::to_string(size) + " (truncated or replaced)");
  const std::string got = sha256_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (got != sha) bad(file, "sha256 " + got + " does not match the manifest");

  const uint64_t words = (m + 63) / 64;
  if (bytes.size() < kHeader || bytes.compare(0, 4, "TSNG") != 0) bad(file, "not a tunesmith n-gram index (no TSNG header)");
  if (u32le(bytes, 4) != 1) bad(file, "format version " + std::to_string(u32le(bytes, 4)) + " is not 1");
  if (u32le(bytes, 8) != (unit == "word" ? 1u : 0u)) bad(file, "the file's unit does not match the manifest's \"" + unit + "\"");
  if (u32le(bytes, 12) != n || u32le(bytes, 16) != k || u64le(bytes, 20) != m || u64le(bytes, 28) != items)
    bad(file, "header (n, k, m_bits, items) does not match the manifest");
  if (bytes.size() != kHeader + 8 * words)
    bad(file, "size " + std::to_string(bytes.size()) + " bytes does not fit m_bits = " + std::to_string(m));

  std::vector<uint64_t> bits(words);
  for (uint64_t i = 0; i < words; ++i) bits[i] = u64le(bytes, kHeader + 8 * i);
  n_ = int(n);
  k_ = int(k);
  words_ = unit == "word";
  m_ = m;
  items_ = items;
  bits_ = std::move(bits);
}

bool NgramIndex::contains_hash(uint64_t h) const {
  if (bits_.empty()) return false;
  uint64_t pos = h % m_;
  const uint64_t step = (splitmix64(h) | 1) % m_;
  for (int i = 0; i < k_; ++i) {
    if (!(bits_[pos >> 6] >> (pos & 63) & 1)) return false;
    pos += step;
    if (pos >= m_) pos -= m_;
  }
  return true;
}

bool NgramIndex::contains_chars(const char32_t* cps, int count) const {
  return count == n_ && !words_ && contains_hash(hash_chars(cps, count));
}

bool NgramIndex::contains_words(const std::string* words, int count) const {
  return count == n_ && words_ && contains_hash(hash_units(words, count));
}

void NgramIndex::normalise_words(const std::string& text, std::vector<std::string>& out) {
  std::string w;
  auto flush = [&] {
    size_t a = 0, b = w.size();
    while (a < b && w[a] == '\'') ++a;
    while (b > a && w[b - 1] == '\'') --b;
    if (b > a) out.emplace_back(w, a, b - a);
    w.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'') {
      w += char(c);
    } else if (c >= 'A' && c <= 'Z') {
      w += char(c + 32);
    } else if (c == 0xE2 && i + 2 < text.size() && uint8_t(text[i + 1]) == 0x80 &&
               (uint8_t(text[i + 2]) == 0x98 || uint8_t(text[i + 2]) == 0x99)) {  // ‘ ’
      w += '\'';
      i += 2;
    } else {
      flush();
    }
  }
  flush();
}

void NgramIndex::normalise_chars(const std::string& text, std::u32string& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  for (size_t i = 0; i < size;) {
    const unsigned char c = s[i];
    // Only 3- and 4-byte sequences can be CJK; anything else (ASCII, 2-byte, stray bytes) is skipped.
    const size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : 1;
    if (len == 1 || i + len > size) { ++i; continue; }
    char32_t cp = c & (len == 3 ? 0x0F : 0x07);
    bool ok = true;
    for (size_t j = 1; j < len; ++j) {
      if ((s[i + j] & 0xC0) != 0x80) { ok = false; break; }
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (!ok) { ++i; continue; }
    if (is_cjk(cp)) out.push_back(cp);  // the CJK ranges exclude overlongs and surrogates
    i += len;
  }
}

NgramIndex::Scan NgramIndex::scan(const std::string& text) const {
  Scan out;
  if (!loaded()) return out;
  std::vector<std::string> words;
  std::u32string cps;
  size_t count;
  if (words_) {
    normalise_words(text, words);
    count = words.size();
  } else {
    normalise_chars(text, cps);
    count = cps.size();
  }
  const size_t n = size_t(n_);
  int run = 0;  // consecutive n-grams found, ending at the previous start
  for (size_t i = 0; i + n <= count; ++i) {
    const uint64_t h = words_ ? hash_units(words.data() + i, n_) : hash_chars(cps.data() + i, n_);
    if (contains_hash(h)) {
      ++out.hits;
      ++run;
      out.longest_run = std::max(out.longest_run, run - 1 + n_);
    } else {
      run = 0;
    }
  }
  return out;
}

}  // namespace tunesmith
