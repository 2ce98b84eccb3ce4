#include "tunesmith/phonetics.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "tunesmith/error.h"
#include "tunesmith/text.h"
#include "tunesmith/sha256.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

namespace {

using sv = std::string_view;

// line 0: the table as a whole (empty, a duplicate); details then carry no "line".
[[noreturn]] void bad(const char* table, size_t line, const std::string& why) {
  const std::string where = std::string("phonetics-") + table + (line ? " line " + std::to_string(line) : std::string());
  nlohmann::json details = {{"table", table}};
  if (line) details["line"] = line;
  throw Error("model_invalid", where + ": " + why, details);
}

using tunesmith::split;  // text.h

bool parse_int(sv s, int lo, int hi, int& v) {
  if (s.empty() || s.size() > 3) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return v >= lo && v <= hi;
}

// Calls fn(line_number, line, offset_of_line) for each entry of a table whose first line is `magic`;
// '#' lines are comments, "\r\n" endings are accepted.
template <class F>
void for_entries(const std::string& text, const char* table, sv magic, F fn) {
  size_t no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t e = text.find('\n', at);
    if (e == std::string::npos) e = text.size();
    sv line(text.data() + at, e - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++no;
    if (no == 1 && line != magic) bad(table, 1, "not a tunesmith phonetics table (expected \"" + std::string(magic) + "\")");
    if (no > 1 && !line.empty() && line[0] != '#') fn(no, line, at);
    at = e + 1;
  }
  if (no == 0) bad(table, 0, "empty");
}

// ARPAbet vowels, with or without a stress digit; AX is the reduced vowel of rhyme keys.
bool is_vowel_phone(sv p) {
  if (p.size() < 2) return false;
  static const char* const vowels[] = {"AA", "AE", "AH", "AO", "AW", "AX", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"};
  for (const char* v : vowels)
    if (p[0] == v[0] && p[1] == v[1]) return p.size() == 2 || (p.size() == 3 && p[2] >= '0' && p[2] <= '2');
  return false;
}

int count_vowel_phones(sv key) {
  int n = 0;
  for (sv p : split(key, ' ')) n += is_vowel_phone(p);
  return n;
}

// ---- spelling rules (English fallback) ----

bool vowel_letter(sv w, size_t i) {
  const char c = w[i];
  if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') return true;
  // y is a consonant before a vowel (yes, beyond, player), a vowel elsewhere (my, happy, rhythm)
  return c == 'y' && !(i + 1 < w.size() && std::strchr("aeiou", w[i + 1]));
}

bool ends_with(sv s, sv suf) { return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf; }

// Start index of each sounding vowel group of a lowercase word. A vowel group is a run of vowel
// letters; rules then drop silent ones and split two-vowel groups spoken as two syllables.
std::vector<size_t> vowel_groups(sv w) {
  std::vector<size_t> g;  // start of each group
  std::vector<size_t> len;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!vowel_letter(w, i)) continue;
    size_t j = i;
    while (j < w.size() && vowel_letter(w, j)) ++j;
    // Hiatus: vowel pairs spoken as two syllables (li-on, pi-a-no, go-ing, cru-el), except where
    // the first vowel only softens a consonant (na-tion, re-gion, spe-cial) or follows q (quite).
    size_t start = i;
    for (size_t k = i; k + 1 < j; ++k) {
      const char a = w[k], b = w[k + 1];
      const char before = k > 0 ? w[k - 1] : ' ';
      bool split = false;
      const char after = k + 2 < w.size() ? w[k + 2] : ' ';
      if (a == 'i' && (b == 'a' || b == 'o' || b == 'u')) split = !std::strchr("tscgx", before);
      else if (b == 'i' && w.substr(k + 1) == "ing") split = true;  // going, being, doing
      else if (a == 'u' && (b == 'a' || b == 'o' || b == 'e') && before != 'q' && before != 'g' && after != ' ')
        split = b != 'e' || w.substr(k + 2) != "s";  // dual, duo, fluent; not blue, clues
      else if (a == 'e' && b == 'o' && k > 0 && !std::strchr("gc", before) && after != 'u' && after != 'p')
        split = true;  // video, neon; not pigeon, gorgeous, people
      if (split) { g.push_back(start); len.push_back(k + 1 - start); start = k + 1; }
    }
    g.push_back(start);
    len.push_back(j - start);
    i = j - 1;
  }
  const size_t n = w.size();
  auto consonant_at = [&](size_t i) { return i < n && !vowel_letter(w, i); };
  if (g.size() >= 2) {
    const size_t last = g.back();
    const bool lone_e = len.back() == 1 && w[last] == 'e';
    // silent final e (make, love), but not consonant + le (table, little)
    if (lone_e && last == n - 1 && !(n >= 3 && w[n - 2] == 'l' && consonant_at(n - 3))) g.pop_back();
    // -es silent unless after a sibilant (makes; wishes, places, pages, tables)
    else if (lone_e && last == n - 2 && w[n - 1] == 's') {
      const sv before = w.substr(0, n - 2);
      const bool spoken = ends_with(before, "s") || ends_with(before, "x") || ends_with(before, "z") || ends_with(before, "ch") ||
                          ends_with(before, "sh") || ends_with(before, "c") || ends_with(before, "g") ||
                          (ends_with(before, "l") && n >= 4 && consonant_at(n - 4));
      if (!spoken) g.pop_back();
    }
    // -ed silent unless after t or d (loved; wanted, needed, troubled)
    else if (lone_e && last == n - 2 && w[n - 1] == 'd') {
      const char c = w[n - 3];
      if (c != 't' && c != 'd' && !(c == 'l' && n >= 4 && consonant_at(n - 4))) g.pop_back();
    }
  }
  // silent e before -ly, -ful, -less, -ness, -ment (lovely, hopeful, homeless, statement)
  for (sv suf : {sv("ly"), sv("ful"), sv("fully"), sv("less"), sv("ness"), sv("ment"), sv("ments")}) {
    if (!ends_with(w, suf) || n < suf.size() + 3) continue;
    const size_t e = n - suf.size() - 1;
    if (w[e] != 'e' || !consonant_at(e - 1) || consonant_at(e - 2)) continue;
    auto it = std::find(g.begin(), g.end(), e);
    if (it != g.end() && g.size() >= 2) {
      const size_t k = (size_t)(it - g.begin());
      if (len[k] == 1) { g.erase(it); len.erase(len.begin() + (long)k); }
    }
    break;
  }
  // -ism, -thm: a syllabic m (ra-cism, rhy-thm)
  if ((ends_with(w, "sm") && n >= 3 && vowel_letter(w, n - 3)) || ends_with(w, "thm")) g.push_back(n - 1);
  return g;
}

// ---- text normalisation ----

using tunesmith::fold;  // text.h

bool has_letter(sv w) {
  for (char c : w)
    if (c >= 'a' && c <= 'z') return true;
  return false;
}

std::string letters_only(sv w) {
  std::string s;
  for (char c : w)
    if (c >= 'a' && c <= 'z') s += c;
  return s;
}


// Words of a line: runs of letters, apostrophes and hyphens; runs with no letter (a lone "--") dropped.
std::vector<std::string> words_of(const std::string& line) {
  const std::u32string cps = decode_lenient(line);
  std::vector<std::string> out;
  std::string cur;
  for (char32_t c : cps) {
    const char f = fold(c);
    if (f) { cur += f; continue; }
    if (has_letter(cur)) out.push_back(cur);
    cur.clear();
  }
  if (has_letter(cur)) out.push_back(cur);
  return out;
}

// Hyphens around a word are dashes. Apostrophes stay: whether one is a quote or an elision
// ('cause, lovin') is for the lookup rules to decide.
std::string trim_word(std::string w) {
  while (!w.empty() && w.back() == '-') w.pop_back();
  while (!w.empty() && w.front() == '-') w.erase(w.begin());
  return w;
}

// Poetic elisions that no spelling rule recovers.
struct Poetic { const char* word; int syllables; const char* key; const char* stress; };
const Poetic kPoetic[] = {
    {"o'er", 1, "AO1 R", "1"}, {"e'er", 1, "EH1 R", "1"}, {"ne'er", 1, "EH1 R", "1"}, {"e'en", 1, "IY1 N", "1"},
    {"whate'er", 2, "EH1 R", "21"}, {"where'er", 2, "EH1 R", "01"}, {"whene'er", 2, "EH1 R", "01"},
};

// ---- derived forms ----

// Suffixes with the phones they add ("S" and "D" are voiced or not by the stem's last phone). All
// leave the stem's stressed vowel where it is; -ism brings a stressed vowel of its own (CMUdict
// racism R EY1 S IH2 Z AH0 M, 210 of 271 -ism words), so the rhyme key restarts on it. Shortest
// first: the longest stem wins (closings = closing + s, not close + ings). `guess` marks those safe
// to strip from a stem the table lacks.
struct SuffixRule { const char* suffix; const char* phones; bool guess; };
const SuffixRule kSuffixes[] = {
    {"s", "S", false}, {"d", "D", false}, {"y", "IY", false}, {"es", "S", false}, {"ed", "D", true},
    {"er", "ER", false}, {"ly", "L IY", true}, {"ies", "S", false}, {"ied", "D", true}, {"ing", "AX NG", true},
    {"ers", "ER Z", false}, {"est", "AX S T", false}, {"ism", "IH1 Z AX M", true}, {"ist", "AX S T", false},
    {"ish", "AX SH", false}, {"ful", "F AX L", true}, {"ings", "AX NG Z", true}, {"ment", "M AX N T", true},
    {"ness", "N AX S", true}, {"less", "L AX S", true}, {"ably", "AX B L IY", true}, {"able", "AX B AX L", true},
    {"ments", "M AX N T S", true}, {"fully", "F AX L IY", true},
};

std::string last_phone(const std::string& k) {
  const size_t sp = k.rfind(' ');
  return k.substr(sp == std::string::npos ? 0 : sp + 1);
}

// Adds a suffix's phones to every pronunciation of e.
void append_phones(EnInfo& e, const char* phones) {
  for (size_t i = 0; i < e.rhyme_keys.size(); ++i) {
    std::string& k = e.rhyme_keys[i];
    const std::string lp = last_phone(k);
    std::string add = phones;
    if (add == "S") {
      if (lp == "S" || lp == "Z" || lp == "SH" || lp == "ZH" || lp == "CH" || lp == "JH") add = "AX Z";
      else if (!(lp == "P" || lp == "T" || lp == "K" || lp == "F" || lp == "TH")) add = "Z";
    } else if (add == "D") {
      if (lp == "T" || lp == "D") add = "AX D";
      else if (lp == "P" || lp == "K" || lp == "F" || lp == "S" || lp == "SH" || lp == "CH" || lp == "TH") add = "T";
    }
    if (add.find('1') != std::string::npos) k = add;  // the rhyme restarts on the suffix's stress
    else {
      if (add.compare(0, lp.size() + 1, lp + " ") == 0) add.erase(0, lp.size() + 1);  // annual-ly: one L
      k += " " + add;
    }
    e.syllable_options[i] += count_vowel_phones(add);
    // the stem keeps its stress; a suffix vowel is unstressed, or secondary where the suffix stresses
    // it (racism R EY1 S IH2 Z AH0 M: "120")
    for (sv p : split(add, ' '))
      if (is_vowel_phone(p)) e.stress_options[i] += p.size() == 3 && p[2] == '1' ? '2' : '0';
  }
  e.syllables = e.syllable_options[0];
  e.rhyme_key = e.rhyme_keys[0];
  e.stress = e.stress_options[0];
}

// Primary stress as secondary: the second part of a compound (blacksmith B L AE1 K S M IH2 TH).
std::string secondary(std::string s) {
  for (char& c : s)
    if (c == '1') c = '2';
  return s;
}

// The stems w may come from with rule r, most likely first; empty when r does not apply.
std::vector<std::string> stems_for(const std::string& w, const SuffixRule& r) {
  const sv suf(r.suffix);
  if (!ends_with(w, suf) || w.size() < suf.size() + 3) return {};
  const std::string base = w.substr(0, w.size() - suf.size());
  const size_t n = base.size();
  if (suf == "d" && base.back() != 'e') return {};      // fire-d only; hear-d is not hear + D
  if (suf[0] == 'e' && base.back() == 'e') return {};  // not che-er, fre-ed (cheer, freed)
  if (suf == "ies" || suf == "ied") return {base + "y"};
  std::vector<std::string> stems = {base};
  // hop-ing / hope: a single vowel + consonant before the suffix asks for a silent e first
  const bool cvc = !vowel_letter(base, n - 1) && vowel_letter(base, n - 2) && (n < 3 || !vowel_letter(base, n - 3)) &&
                   !std::strchr("wxy", base.back());
  if (suf != "s" && !std::strchr("lfmn", suf[0]) && base.back() != 'e')
    stems.insert(cvc ? stems.begin() : stems.end(), base + "e");  // making, lovable
  if (n >= 4 && base[n - 1] == base[n - 2] && !vowel_letter(base, n - 1)) stems.push_back(base.substr(0, n - 1));  // running
  if (base.back() == 'i') stems.push_back(base.substr(0, n - 1) + "y");  // happiness
  return stems;
}

}  // namespace

// ---- loading ----

void Phonetics::load_zh(const std::string& text) {
  std::vector<ZhRow> rows;
  for_entries(text, "zh", "# tunesmith phonetics-zh v1", [&](size_t no, sv line, size_t off) {
    const auto f = split(line, '\t');
    if (f.size() != 4) bad("zh", no, "expected 4 tab-separated fields");
    std::u32string cp;
    if (!utf8_decode(std::string(f[0]), cp) || cp.size() != 1 || !(is_cjk(cp[0]) || cp[0] == 0x3007))
      bad("zh", no, "first field is not one CJK character");
    const auto py = split(f[1], ','), fin = split(f[2], ','), grp = split(f[3], ',');
    if (py.size() != fin.size() || py.size() != grp.size()) bad("zh", no, "readings, finals and groups differ in number");
    int group0 = 0;
    for (size_t i = 0; i < py.size(); ++i) {
      int tone, g;
      if (py[i].size() < 2 || !parse_int(py[i].substr(py[i].size() - 1), 0, 4, tone) ||
          py[i].find_first_of("0123456789 ") != py[i].size() - 1)
        bad("zh", no, "reading '" + std::string(py[i]) + "' is not pinyin + tone 0-4");
      if (fin[i].empty()) bad("zh", no, "empty final");
      if (!parse_int(grp[i], 0, 13, g)) bad("zh", no, "rhyme group '" + std::string(grp[i]) + "' is not 0-13");
      if (i == 0) group0 = g;
    }
    const uint32_t begin = (uint32_t)(off + f[0].size() + 1);
    rows.push_back({cp[0], group0, begin, (uint32_t)(begin + line.size() - f[0].size() - 1)});
  });
  if (rows.empty()) bad("zh", 0, "no entries");
  std::sort(rows.begin(), rows.end(), [](const ZhRow& a, const ZhRow& b) { return a.cp < b.cp; });
  for (size_t i = 1; i < rows.size(); ++i)
    if (rows[i].cp == rows[i - 1].cp) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", (unsigned)rows[i].cp);
      bad("zh", 0, std::string("character ") + hex + " listed twice");
    }
  zh_text_ = text;
  zh_rows_ = std::move(rows);
}

void Phonetics::load_en(const std::string& text) {
  std::vector<EnRow> rows;
  for_entries(text, "en", "# tunesmith phonetics-en v1", [&](size_t no, sv line, size_t off) {
    const auto f = split(line, '\t');
    if (f.size() != 4) bad("en", no, "expected 4 tab-separated fields");
    if (f[0].empty() || f[0].find_first_not_of("abcdefghijklmnopqrstuvwxyz'") != sv::npos || !has_letter(f[0]))
      bad("en", no, "word '" + std::string(f[0]) + "' is not lowercase letters and apostrophes");
    const auto syl = split(f[1], ','), keys = split(f[2], ','), stress = split(f[3], ',');
    if (syl.size() != keys.size()) bad("en", no, "syllable counts and rhyme keys differ in number");
    if (syl.size() != stress.size()) bad("en", no, "syllable counts and stress patterns differ in number");
    for (size_t i = 0; i < syl.size(); ++i) {
      int s;
      if (!parse_int(syl[i], 0, 30, s)) bad("en", no, "syllable count '" + std::string(syl[i]) + "' is not 0-30");
      if (keys[i].empty() || keys[i].find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ012 ") != sv::npos)
        bad("en", no, "rhyme key '" + std::string(keys[i]) + "' is not ARPAbet");
      if (count_vowel_phones(keys[i]) > s) bad("en", no, "rhyme key has more vowels than the word has syllables");
      if (stress[i].find_first_not_of("012") != sv::npos || stress[i].size() != (size_t)s)
        bad("en", no, "stress '" + std::string(stress[i]) + "' is not one digit 0-2 per syllable");
    }
    rows.push_back({(uint32_t)off, (uint32_t)f[0].size(), (uint32_t)(off + line.size())});
  });
  if (rows.empty()) bad("en", 0, "no entries");
  auto word = [&](const EnRow& r) { return sv(text.data() + r.word, r.word_len); };
  std::sort(rows.begin(), rows.end(), [&](const EnRow& a, const EnRow& b) { return word(a) < word(b); });
  for (size_t i = 1; i < rows.size(); ++i)
    if (word(rows[i]) == word(rows[i - 1])) bad("en", 0, "word '" + std::string(word(rows[i])) + "' listed twice");
  std::vector<Suffix> suf;
  for (size_t i = 0; i < rows.size(); ++i) {
    const sv w = word(rows[i]);
    if (w.find('\'') == sv::npos) suf.push_back({std::string(w.rbegin(), w.rend()), (uint32_t)i});
  }
  std::sort(suf.begin(), suf.end(), [](const Suffix& a, const Suffix& b) { return a.rev < b.rev; });
  en_text_ = text;
  en_rows_ = std::move(rows);
  suffixes_ = std::move(suf);
}

void Phonetics::load(const std::string& manifest_text, const std::string& zh_text, const std::string& en_text) {
  nlohmann::json man;
  try {
    man = nlohmann::json::parse(manifest_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("model_invalid", std::string("phonetics.json: ") + e.what());
  }
  if (!man.is_object() || man.value("format", nlohmann::json()) != "tunesmith-phonetics/1")
    throw Error("model_invalid", "phonetics.json: format is not tunesmith-phonetics/1");
  auto check = [&](const char* part, const std::string& text) {
    const auto& m = man.contains(part) ? man[part] : nlohmann::json();
    const std::string want = m.is_object() && m.contains("sha256") && m["sha256"].is_string() ? m["sha256"].get<std::string>() : "";
    const std::string got = sha256_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    if (got != want)
      throw Error("model_invalid", std::string("phonetics-") + part + ".tsv: sha256 " + got + " does not match phonetics.json",
                  {{"table", part}});
  };
  check("zh", zh_text);
  check("en", en_text);
  Phonetics next;  // all or nothing: a bad table leaves *this as it was
  next.load_zh(zh_text);
  next.load_en(en_text);
  *this = std::move(next);
}

void Phonetics::load_dir(const std::string& dir) {
  auto read = [&](const std::string& name) {
    std::ifstream f(dir + "/" + name, std::ios::binary);
    if (!f) throw Error("model_not_found", "cannot read " + dir + "/" + name, {{"file", name}});
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  load(read("phonetics.json"), read("phonetics-zh.tsv"), read("phonetics-en.tsv"));
}

// ---- Chinese ----

ZhInfo Phonetics::zh(char32_t c) const {
  ZhInfo out;
  auto it = std::lower_bound(zh_rows_.begin(), zh_rows_.end(), c, [](const ZhRow& r, char32_t v) { return r.cp < v; });
  if (it == zh_rows_.end() || it->cp != c) return out;
  const auto f = split(sv(zh_text_.data() + it->begin, it->end - it->begin), '\t');  // validated at load
  out.found = true;
  for (sv p : split(f[0], ',')) { out.pinyin.emplace_back(p); out.tones.push_back(p.back() - '0'); }
  for (sv p : split(f[1], ',')) out.finals.emplace_back(p);
  for (sv p : split(f[2], ',')) { int g = 0; parse_int(p, 0, 13, g); out.groups.push_back(g); }
  return out;
}

int Phonetics::zh_rhyme_group(char32_t c) const {
  auto it = std::lower_bound(zh_rows_.begin(), zh_rows_.end(), c, [](const ZhRow& r, char32_t v) { return r.cp < v; });
  return it != zh_rows_.end() && it->cp == c ? it->group : 0;
}

bool Phonetics::zh_rhymes(const std::string& a, const std::string& b) const {
  auto last_group = [&](const std::string& s) {
    std::u32string cps;
    if (!utf8_decode(s, cps)) return 0;
    for (auto it = cps.rbegin(); it != cps.rend(); ++it)
      if (is_cjk(*it) || *it == 0x3007) return zh_rhyme_group(*it);
    return 0;
  };
  const int ga = last_group(a);
  return ga > 0 && ga == last_group(b);
}

// ---- English ----

const Phonetics::EnRow* Phonetics::find_en(sv w) const {
  auto word = [&](const EnRow& r) { return sv(en_text_.data() + r.word, r.word_len); };
  auto it = std::lower_bound(en_rows_.begin(), en_rows_.end(), w, [&](const EnRow& r, sv v) { return word(r) < v; });
  return it != en_rows_.end() && word(*it) == w ? &*it : nullptr;
}

EnInfo Phonetics::en_row(const EnRow& r) const {
  EnInfo out;
  const size_t begin = r.word + r.word_len + 1;
  const auto f = split(sv(en_text_.data() + begin, r.end - begin), '\t');  // validated at load
  for (sv s : split(f[0], ',')) { int v = 0; parse_int(s, 0, 30, v); out.syllable_options.push_back(v); }
  for (sv k : split(f[1], ',')) out.rhyme_keys.emplace_back(k);
  for (sv k : split(f[2], ',')) out.stress_options.emplace_back(k);
  out.found = out.from_dictionary = true;
  out.syllables = out.syllable_options[0];
  out.rhyme_key = out.rhyme_keys[0];
  out.stress = out.stress_options[0];
  return out;
}

int Phonetics::estimate_syllables(sv w) {
  if (!has_letter(w)) return 0;
  return std::max<int>(1, (int)vowel_groups(w).size());
}

std::string Phonetics::estimate_stress(int syllables) {
  return syllables > 0 ? "1" + std::string((size_t)syllables - 1, '0') : std::string();
}

std::string Phonetics::spelled_rhyme_key(sv w) {
  const auto g = vowel_groups(w);
  return std::string(g.empty() ? w : w.substr(g.back()));
}

// Rhyme by analogy: the table words sharing the longest ending with w (at least its spelled rhyme,
// the last vowel group on) vote with their first rhyme key, counting only keys with no more vowels
// than that shared ending spells: "glorp" borrows "AO1 R P" from the words ending in "orp", while
// "tunesmithing" does not borrow "nothing"'s AH1 TH AX NG through the shared "thing".
std::string Phonetics::guess_rhyme_key(sv w) const {
  const auto g = vowel_groups(w);
  const size_t need = g.empty() ? w.size() : w.size() - g.back();
  const std::string q(w.rbegin(), w.rend());
  auto cmp = [](const Suffix& s, const std::string& v) { return s.rev < v; };
  auto it = std::lower_bound(suffixes_.begin(), suffixes_.end(), q, cmp);
  auto lcp = [&](const std::string& r) {
    size_t k = 0;
    while (k < r.size() && k < q.size() && r[k] == q[k]) ++k;
    return k;
  };
  size_t best = 0;
  if (it != suffixes_.end()) best = lcp(it->rev);
  if (it != suffixes_.begin()) best = std::max(best, lcp(std::prev(it)->rev));
  for (size_t len = best; len >= need && len > 0; --len) {
    const std::string pre = q.substr(0, len);
    auto lo = std::lower_bound(suffixes_.begin(), suffixes_.end(), pre, cmp);
    int spelled = 0;  // sounding vowel groups inside the shared ending
    for (size_t s : g) spelled += s >= w.size() - len;
    std::map<std::string, int> votes;
    int seen = 0, fit = 0;
    for (auto p = lo; p != suffixes_.end() && p->rev.compare(0, len, pre) == 0 && seen < 400; ++p, ++seen) {
      const EnRow& r = en_rows_[p->row];
      const size_t begin = r.word + r.word_len + 1;
      const sv rest(en_text_.data() + begin, r.end - begin);
      sv keys = rest.substr(rest.find('\t') + 1);
      keys = keys.substr(0, keys.find('\t'));  // the stress column follows
      const sv key = keys.substr(0, keys.find(','));
      const int v = count_vowel_phones(key);
      if (v >= 1 && v <= spelled) ++votes[std::string(key)], ++fit;
    }
    // Most words with this ending stress a vowel before it, and w has one there: its key would reach
    // further back than any fitting donor's, so no donor fits; shorter endings only say so louder.
    if ((int)g.size() > spelled && 2 * fit < seen) break;
    if (votes.empty()) continue;
    auto top = votes.begin();
    for (auto v = votes.begin(); v != votes.end(); ++v)
      if (v->second > top->second) top = v;
    return top->first;
  }
  return spelled_rhyme_key(w);
}

EnInfo Phonetics::en(sv word) const {
  std::string w;
  for (char32_t c : decode_lenient(std::string(word)))
    if (const char f = fold(c)) w += f;
  return en_normalised(trim_word(w), 0);
}

EnInfo Phonetics::en_normalised(const std::string& w, int depth) const {
  EnInfo out;
  if (!has_letter(w)) return out;
  if (const EnRow* r = find_en(w)) return en_row(*r);
  auto one = [](int s, std::string k, bool dict, std::string stress) {
    EnInfo e;
    e.from_dictionary = dict;
    e.syllables = s;
    e.rhyme_key = k;
    e.stress = stress;
    e.syllable_options = {s};
    e.rhyme_keys = {std::move(k)};
    e.stress_options = {std::move(stress)};
    return e;
  };
  if (depth < 4) {
    for (const Poetic& p : kPoetic)
      if (w == p.word) return one(p.syllables, p.key, true, p.stress);
    // well-known: syllables add up, the last part rhymes
    if (w.find('-') != std::string::npos) {
      int syl = 0;
      bool dict = true;
      EnInfo last;
      std::string stress;  // every part keeps its stress (well-known "11")
      for (sv part : split(w, '-')) {
        if (!has_letter(part)) continue;
        last = en_normalised(std::string(part), depth + 1);
        syl += last.syllables;
        stress += last.stress;
        dict = dict && last.from_dictionary;
      }
      EnInfo e = last;  // every pronunciation of the last part, the others' first ones before it
      e.found = false;
      e.from_dictionary = dict;
      for (int& s : e.syllable_options) s += syl - last.syllables;
      const std::string before = stress.substr(0, stress.size() - last.stress.size());
      for (std::string& s : e.stress_options) s = before + s;
      e.syllables = syl;
      e.stress = stress;
      return e;
    }
    // lovin' = loving with the final NG sung as N
    if (ends_with(w, "in'")) {
      EnInfo e = en_normalised(w.substr(0, w.size() - 1) + "g", depth + 1);
      if (e.from_dictionary) {
        for (auto& k : e.rhyme_keys)
          if (ends_with(k, "NG")) k.pop_back();
        e.found = false;
        e.rhyme_key = e.rhyme_keys[0];
        return e;
      }
    }
    // love's, kiss's: the possessive adds S, Z or (after a sibilant) a syllable AX Z; boys' nothing
    if (ends_with(w, "'s") || ends_with(w, "s'")) {
      const bool plural = w.back() == '\'';
      EnInfo e = en_normalised(w.substr(0, w.size() - (plural ? 1 : 2)), depth + 1);
      if (e.from_dictionary) {
        if (!plural) append_phones(e, "S");
        e.found = false;
        return e;
      }
    }
    // quotation marks: 'love' -> love
    if (w.front() == '\'' || w.back() == '\'') {
      std::string t = w;
      while (!t.empty() && t.front() == '\'') t.erase(t.begin());
      while (!t.empty() && t.back() == '\'') t.pop_back();
      if (t != w) return en_normalised(t, depth + 1);
    }
    // heav'n, pow'r, wand'ring, belov'd: the apostrophe stands for an e that is not sung
    if (const size_t ap = w.find('\''); ap != std::string::npos) {
      std::string restored = w;
      for (char& c : restored) if (c == '\'') c = 'e';
      if (const EnRow* r = find_en(restored)) {
        EnInfo e = en_row(*r);
        const int sung = estimate_syllables(letters_only(w));
        for (size_t i = 0; i < e.syllable_options.size(); ++i)
          if (e.syllable_options[i] <= sung) return one(e.syllable_options[i], e.rhyme_keys[i], true, e.stress_options[i]);
        // drop the elided vowel: the restored e is the k-th sounding vowel of the restored word
        const auto groups = vowel_groups(restored);
        const int k = (int)std::count_if(groups.begin(), groups.end(), [&](size_t s) { return s < ap; });
        std::string key = e.rhyme_key;
        const int first_in_key = e.syllables - count_vowel_phones(key);
        if (k > first_in_key && k < e.syllables) {  // never the stressed vowel the key starts with
          std::string nk;
          int v = first_in_key;
          for (sv p : split(key, ' ')) {
            if (is_vowel_phone(p) && v++ == k) {
              if (p.substr(0, 2) != "ER") continue;
              p = "R";  // pow'r: ER0 -> R
            }
            nk += (nk.empty() ? "" : " ") + std::string(p);
          }
          key = nk;
        }
        // the elided vowel's digit goes too (heaven "10" -> heav'n "1"); should k miss the word's
        // vowels, an unstressed one (the last) goes instead
        std::string stress = e.stress;
        if (k >= 0 && k < (int)stress.size() && stress[(size_t)k] == '0') stress.erase((size_t)k, 1);
        else if (const size_t z = stress.rfind('0'); z != std::string::npos) stress.erase(z, 1);
        else if (!stress.empty()) stress.pop_back();
        return one(std::max(0, e.syllables - 1), key, true, stress);
      }
    }
  }
  if (w.find('\'') == std::string::npos) {  // filming = film + -ing; tunesmith = tune + smith
    EnInfo e = derive_suffix(w, false);
    if (e.from_dictionary) return e;
    e = derive_compound(w);
    if (e.from_dictionary) return e;
  }
  // Not in the table: estimate from spelling.
  const std::string l = letters_only(w);
  EnInfo e = derive_suffix(l, true);
  if (e.syllables > 0) return e;
  const int syl = estimate_syllables(l);
  return one(syl, guess_rhyme_key(l), false, estimate_stress(syl));
}


// Unstressed suffixes leave the stem's stress where it is, so the stem's rhyme key plus the
// suffix's phones is the word's (filming = film IH1 L M + AX NG). Stress-moving suffixes (-ity,
// -ation, -ic) are left to the spelling rules. With guess, a stem the table lacks is estimated
// (glorping = glorp, guessed AO1 R P, + AX NG); the result then has from_dictionary false.
EnInfo Phonetics::derive_suffix(const std::string& w, bool guess) const {
  for (const SuffixRule& r : kSuffixes) {
    if (guess && !r.guess) continue;
    for (const std::string& stem : stems_for(w, r)) {
      EnInfo e;
      if (!guess) {
        const EnRow* row = stem.size() >= 3 ? find_en(stem) : nullptr;
        if (!row) continue;
        e = en_row(*row);
        e.found = false;
      } else {
        const std::string key = guess_rhyme_key(stem);
        if (key.empty() || key[0] < 'A' || key[0] > 'Z') break;  // only a spelled guess: no phones to add to
        e.syllables = estimate_syllables(stem);
        e.syllable_options = {e.syllables};
        e.rhyme_keys = {key};
        e.stress_options = {estimate_stress(e.syllables)};
      }
      append_phones(e, r.phones);
      return e;
    }
    if (guess && !stems_for(w, r).empty()) break;  // the suffix fits but its stem gave no key
  }
  return EnInfo();
}

// Compounds the table lacks (tunesmith = tune + smith): the second part keeps a secondary stress, as
// in CMUdict's own compounds (blacksmith B L AE1 K S M IH2 TH), and the rhyme starts there, so the
// compound is the second part with the first part's syllables added (as for well-known).
EnInfo Phonetics::derive_compound(const std::string& w) const {
  // Parts of four letters or more (three-letter "words" such as com-, per-, dam- make false
  // compounds), the longest second part first (red-skin, not reds-kin).
  for (size_t a = 4; a + 4 <= w.size(); ++a) {
    const EnRow* first = find_en(sv(w).substr(0, a));
    if (!first) continue;
    const std::string second = w.substr(a);
    // glor + ping is glorp + -ing: the second part must keep 3 letters before a suffix of the word
    if (std::any_of(std::begin(kSuffixes), std::end(kSuffixes), [&](const SuffixRule& r) {
          return r.guess && ends_with(second, r.suffix) && second.size() < std::strlen(r.suffix) + 3;
        }))
      continue;
    const EnRow* row = find_en(second);
    EnInfo e = row ? en_row(*row) : derive_suffix(second, false);  // smith-ing
    // the second part must have a stressed vowel to carry the rhyme (not -ness, -ful: suffix rules)
    if (!e.from_dictionary || e.syllables < 1 || e.rhyme_key.find('1') == std::string::npos) continue;
    const EnInfo head = en_row(*first);
    for (int& s : e.syllable_options) s += head.syllables;
    for (std::string& s : e.stress_options) s = head.stress + secondary(s);  // tune + smith: "12"
    e.syllables = e.syllable_options[0];
    e.stress = e.stress_options[0];
    e.found = false;
    return e;
  }
  return EnInfo();
}

int Phonetics::en_syllables_line(const std::string& line) const {
  int n = 0;
  for (const auto& w : words_of(line)) n += en(w).syllables;
  return n;
}

std::string Phonetics::en_stress_line(const std::string& line) const {
  std::string s;
  for (const auto& w : words_of(line)) s += en(w).stress;
  return s;
}

std::string Phonetics::en_rhyme_key_line(const std::string& line) const {
  const auto ws = words_of(line);
  return ws.empty() ? "" : en(ws.back()).rhyme_key;
}

bool Phonetics::en_rhymes(const std::string& a, const std::string& b) const {
  const auto wa = words_of(a), wb = words_of(b);
  if (wa.empty() || wb.empty()) return false;
  const EnInfo ea = en(wa.back()), eb = en(wb.back());
  for (const auto& ka : ea.rhyme_keys)
    for (const auto& kb : eb.rhyme_keys)
      if (!ka.empty() && ka == kb) return true;
  return false;
}

}  // namespace tunesmith
