#include "tunesmith/sentiment.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "tunesmith/error.h"
#include "tunesmith/text.h"
#include "tunesmith/sha256.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

namespace {

using sv = std::string_view;
using json = nlohmann::json;

const char* const kMoodNames[] = {"neutral", "happy", "sad", "tender", "defiant", "calm"};
constexpr int kHappy = 0, kSad = 1, kTender = 2, kDefiant = 3, kCalm = 4;  // indices into tags/mood

// ---- the rules (docs/sentiment.md states each one) ----
constexpr double kNegFlip = -0.5;      // a negated word's valence is multiplied by this
constexpr int kNegWindowEn = 3;        // a negator reaches the first scored word among the next 3
constexpr int kNegWindowZh = 2;        // ... among the next 2 units (characters or words)
constexpr double kIntensify = 1.3;     // very / so / 很 / 太 ... on the next word
constexpr double kDiminish = 0.5;      // barely / hardly / slightly ... on the next word
constexpr double kShrink = 0.5;        // line valence = sum / (scored words + kShrink)
constexpr double kMoodThreshold = 0.35;// a mood label needs at least this score, else neutral
// Mood scores of a line from its mood-list hits h and valence v (pos = max(v, 0), neg = max(-v, 0)).
constexpr double kValenceToHappy = 1.5, kValenceToSad = 1.5, kValenceToTender = 0.3, kValenceToDefiant = 0.3;
// Steering: mood(u) = tag + share * valence (calm: - share * |valence|) - other-list penalty.
constexpr double kSteerShare[kMoodCount] = {0.5, -0.5, 0.3, -0.3, 0.4};
constexpr double kSteerOther = 0.5;

[[noreturn]] void bad(const std::string& file, size_t line, const std::string& why) {
  json details = {{"file", file}};
  if (line) details["line"] = line;
  throw Error("model_invalid", file + (line ? " line " + std::to_string(line) : std::string()) + ": " + why, details);
}

using tunesmith::split;  // text.h

// A plain decimal: -?digits(.digits)?, no exponent, locale-free.
bool parse_decimal(sv s, double& v) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') { neg = true; s.remove_prefix(1); }
  if (s.empty() || s.size() > 12) return false;
  double x = 0, scale = 1;
  bool dot = false, digit = false;
  for (char c : s) {
    if (c == '.' && !dot && digit) { dot = true; continue; }
    if (c < '0' || c > '9') return false;
    digit = true;
    if (dot) { scale /= 10; x += (c - '0') * scale; }
    else x = x * 10 + (c - '0');
  }
  if (!digit || s.back() == '.') return false;
  v = neg ? -x : x;
  return true;
}

double r3(double x) {
  const double r = std::round(x * 1000.0) / 1000.0;
  return r == 0 ? 0.0 : r;  // no -0
}

double clamp1(double x) { return std::max(-1.0, std::min(1.0, x)); }

void finish_entry(Sentiment::Entry& e) {
  for (int m = 0; m < kMoodCount; ++m) {
    const double base = m == kCalm ? -kSteerShare[m] * std::fabs(e.valence) : kSteerShare[m] * e.valence;
    double other = 0;
    if (e.tags[m] == 0)
      for (int k = 0; k < kMoodCount; ++k) other = std::max(other, (double)e.tags[k]);
    e.mood[m] = (float)clamp1(e.tags[m] + base - kSteerOther * other);
  }
}

using tunesmith::fold;  // text.h

// Punctuation that ends a negation's reach (a clause break).
bool clause_break(char32_t c) {
  static const char32_t breaks[] = {',', '.', ';', ':', '!', '?', '(', ')', '"', 0x2014, 0x2013, 0x2026,
                                    0x201C, 0x201D, 0xFF0C, 0x3002, 0xFF1B, 0xFF1A, 0xFF01, 0xFF1F, 0x3001,
                                    0xFF08, 0xFF09, 0x300C, 0x300D, 0x300E, 0x300F, 0x300A, 0x300B};
  return std::find(std::begin(breaks), std::end(breaks), c) != std::end(breaks);
}


bool has_letter(sv w) {
  for (char c : w)
    if (c >= 'a' && c <= 'z') return true;
  return false;
}

bool ends_with(sv s, sv suf) { return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf; }

// Lowercase, folded, surrounding apostrophes and hyphens trimmed ("'Tears,'" -> "tears").
std::string normalise_en(sv word) {
  std::string w;
  for (char32_t c : decode_lenient(std::string(word)))
    if (const char f = fold(c)) w += f;
  size_t b = 0, e = w.size();
  while (b < e && (w[b] == '-' || w[b] == '\'')) ++b;
  while (e > b && (w[e - 1] == '-' || (w[e - 1] == '\'' && !ends_with(sv(w).substr(b, e - b), "in'")))) --e;
  return w.substr(b, e - b);
}

const std::set<std::string>& en_negators() {
  static const std::set<std::string> s = {"not", "no", "never", "nothing", "nobody", "nowhere", "neither", "nor",
                                          "without", "cannot", "none", "dont", "cant", "wont", "didnt", "doesnt",
                                          "isnt", "wasnt", "arent", "werent", "couldnt", "wouldnt", "shouldnt",
                                          "aint", "havent", "hasnt", "nothin'", "nothin"};
  return s;
}
const std::set<std::string>& en_intensifiers() {
  static const std::set<std::string> s = {"very", "so", "really", "too", "truly", "deeply", "completely", "totally",
                                          "absolutely", "extremely", "utterly", "such", "forever"};
  return s;
}
const std::set<std::string>& en_diminishers() {
  static const std::set<std::string> s = {"barely", "hardly", "slightly", "somewhat", "kinda", "almost"};
  return s;
}

bool is_en_negator(const std::string& w) {
  if (ends_with(w, "n't")) return true;
  std::string base = w;
  for (sv suf : {sv("'s"), sv("'ll"), sv("'re")})
    if (ends_with(base, suf)) { base.resize(base.size() - suf.size()); break; }  // nothing's, nobody'll
  return en_negators().count(base) > 0;
}

// Chinese function words: negators, intensifiers; they take part in segmentation too.
const char* const kZhNegators[] = {"不", "没", "无", "莫", "未", "别", "休", "勿", "非", "没有", "不要", "不会", "不能", "未曾"};
const char* const kZhIntensifiers[] = {"很", "太", "真", "最", "超", "极", "更", "非常", "特别", "十分", "多么", "那么", "这么", "如此"};
const char* const kZhDiminishers[] = {"有点", "有些", "稍", "略", "一点"};
template <size_t N>
bool in_list(const char* const (&list)[N], const std::string& s) {
  for (const char* x : list)
    if (s == x) return true;
  return false;
}

// ---- scoring (both languages) ----

enum class Kind { plain, negator, intensifier, diminisher };

struct Token {
  std::string word;              // as reported: lowercase English word or the Chinese unit
  const Sentiment::Entry* entry = nullptr;
  Kind kind = Kind::plain;
  bool break_before = false;     // a clause break precedes it
};

struct Hit {
  std::string word;
  double weight = 0;             // effective valence
  int mood = -1;                 // strongest mood tag that counted, -1 none
  bool negated = false;
};

struct LineScore {
  double valence = 0;
  double valence_sum = 0;
  int scored = 0;                // words with a nonzero valence
  double scores[kMoodCount] = {0, 0, 0, 0, 0};
  int label = -1;                // -1 neutral, else mood index
  double confidence = 0;
  std::vector<Hit> hits;
};

LineScore score_line(const std::vector<Token>& toks, int neg_window) {
  LineScore ls;
  double hits_by_mood[kMoodCount] = {0, 0, 0, 0, 0};
  int neg_left = 0;              // tokens the last negator still reaches
  const Sentiment::Entry* negator = nullptr;  // the last negator's own entry, if any
  const std::string* negator_word = nullptr;
  double mult = 1;               // intensifier on the next token
  for (const Token& t : toks) {
    if (t.break_before) { neg_left = 0; mult = 1; }
    const Sentiment::Entry* e = t.entry;
    if (t.kind == Kind::negator) {
      neg_left = neg_window;
      negator = e;
      negator_word = &t.word;
      mult = 1;
      continue;
    }
    if (t.kind == Kind::intensifier || t.kind == Kind::diminisher) {
      mult = t.kind == Kind::intensifier ? kIntensify : kDiminish;
      if (neg_left > 0) --neg_left;
      continue;
    }
    const bool scored = e && (e->valence != 0 || std::any_of(std::begin(e->tags), std::end(e->tags), [](float x) { return x > 0; }));
    if (!scored) {
      if (neg_left > 0) --neg_left;
      mult = 1;
      continue;
    }
    Hit h{t.word, e->valence * mult, -1, neg_left > 0};
    if (h.negated) {
      h.weight *= kNegFlip;
      // A negator's own mood tags ("never", 不: defiance) count when it negates a scored word
      // ("never kneel", 不放弃), not when it reaches nothing ("the phone won't ring").
      if (negator) {
        Hit nh{*negator_word, 0, -1, false};
        double best = 0;
        for (int m = 0; m < kMoodCount; ++m) {
          hits_by_mood[m] += negator->tags[m];
          if (negator->tags[m] > best) best = negator->tags[m], nh.mood = m;
        }
        if (nh.mood >= 0) ls.hits.push_back(nh);
      }
    }
    neg_left = 0;
    mult = 1;
    double best = 0;
    for (int m = 0; m < kMoodCount; ++m) {
      if (h.negated && m != kDefiant) continue;  // "not happy" is no happy word; "won't kneel" stays defiant
      hits_by_mood[m] += e->tags[m];
      if (e->tags[m] > best) best = e->tags[m], h.mood = m;
    }
    if (h.weight != 0) { ls.valence_sum += h.weight; ++ls.scored; }
    ls.hits.push_back(h);
  }
  ls.valence = ls.scored ? clamp1(ls.valence_sum / (ls.scored + kShrink)) : 0;
  const double pos = std::max(ls.valence, 0.0), neg = std::max(-ls.valence, 0.0);
  ls.scores[kHappy] = hits_by_mood[kHappy] + kValenceToHappy * pos;
  ls.scores[kSad] = hits_by_mood[kSad] + kValenceToSad * neg;
  ls.scores[kTender] = hits_by_mood[kTender] + kValenceToTender * pos;
  ls.scores[kDefiant] = hits_by_mood[kDefiant] + kValenceToDefiant * neg;
  ls.scores[kCalm] = hits_by_mood[kCalm];
  int top = 0;
  for (int m = 1; m < kMoodCount; ++m)
    if (ls.scores[m] > ls.scores[top]) top = m;
  double second = 0;
  for (int m = 0; m < kMoodCount; ++m)
    if (m != top) second = std::max(second, ls.scores[m]);
  if (ls.scores[top] >= kMoodThreshold) {
    ls.label = top;
    ls.confidence = (ls.scores[top] - second) / (ls.scores[top] + 0.25);
  } else {
    ls.label = -1;
    ls.confidence = 0.8 * (kMoodThreshold - ls.scores[top]) / kMoodThreshold;
  }
  return ls;
}

json words_json(const std::vector<Hit>& hits) {
  std::vector<const Hit*> order;
  for (const Hit& h : hits) order.push_back(&h);
  // strongest first: |weight|, then carrying a mood; stable for ties
  std::stable_sort(order.begin(), order.end(), [](const Hit* a, const Hit* b) {
    const double ka = std::fabs(a->weight) + (a->mood >= 0 ? 0.25 : 0), kb = std::fabs(b->weight) + (b->mood >= 0 ? 0.25 : 0);
    return ka > kb;
  });
  json out = json::array();
  for (size_t i = 0; i < order.size() && i < 8; ++i) {
    json w = {{"word", order[i]->word}, {"weight", r3(order[i]->weight)}};
    if (order[i]->mood >= 0) w["mood"] = kMoodNames[order[i]->mood + 1];
    if (order[i]->negated) w["negated"] = true;
    out.push_back(std::move(w));
  }
  return out;
}

json assemble(const std::vector<std::string>& texts, const std::vector<LineScore>& scores, const char* language,
              const char* method) {
  json lines = json::array();
  double total[kMoodCount] = {0, 0, 0, 0, 0};
  double vsum = 0;
  int scored = 0, neutral_lines = 0;
  std::vector<std::pair<std::string, std::pair<double, int>>> agg;  // word -> (weight sum, count), first-seen order
  for (size_t i = 0; i < scores.size(); ++i) {
    const LineScore& ls = scores[i];
    lines.push_back({{"index", i}, {"text", texts[i]}, {"valence", r3(ls.valence)},
                     {"label", kMoodNames[ls.label + 1]}, {"confidence", r3(ls.confidence)}, {"words", words_json(ls.hits)}});
    if (ls.label < 0) ++neutral_lines;
    for (int m = 0; m < kMoodCount; ++m) total[m] += ls.scores[m];
    vsum += ls.valence_sum;
    scored += ls.scored;
    for (const Hit& h : ls.hits) {
      auto it = std::find_if(agg.begin(), agg.end(), [&](const auto& p) { return p.first == h.word; });
      if (it == agg.end()) agg.push_back({h.word, {h.weight, 1}});
      else it->second.first += h.weight, ++it->second.second;
    }
  }
  // Song scores: each mood's summed line scores, against kMoodThreshold for each neutral line.
  const double neutral_mass = kMoodThreshold * neutral_lines;
  double sum = neutral_mass;
  for (double t : total) sum += t;
  json sc = json::object();
  double shares[kMoodCount + 1];
  shares[0] = sum > 0 ? neutral_mass / sum : 1.0;
  for (int m = 0; m < kMoodCount; ++m) shares[m + 1] = sum > 0 ? total[m] / sum : 0.0;
  int top = 0;
  for (int k = 1; k <= kMoodCount; ++k)
    if (shares[k] > shares[top]) top = k;
  double second = 0;
  for (int k = 0; k <= kMoodCount; ++k)
    if (k != top) second = std::max(second, shares[k]);
  for (int k = 0; k <= kMoodCount; ++k) sc[kMoodNames[k]] = r3(shares[k]);
  std::stable_sort(agg.begin(), agg.end(), [](const auto& a, const auto& b) { return std::fabs(a.second.first) > std::fabs(b.second.first); });
  json words = json::array();
  for (size_t i = 0; i < agg.size() && i < 8; ++i)
    words.push_back({{"word", agg[i].first}, {"weight", r3(agg[i].second.first)}, {"count", agg[i].second.second}});
  json overall = {{"valence", r3(scored ? clamp1(vsum / (scored + kShrink)) : 0)}, {"label", kMoodNames[top]},
                  {"confidence", r3(shares[top] - second)}, {"scores", sc}, {"words", words}};
  return {{"language", language}, {"overall", overall}, {"lines", lines}, {"method", method}};
}

}  // namespace

const char* mood_name(Mood m) {
  const int i = (int)m;
  return i >= 0 && i <= kMoodCount ? kMoodNames[i] : "neutral";
}

bool parse_mood(const std::string& s, Mood& out) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace((unsigned char)s[b])) ++b;
  while (e > b && std::isspace((unsigned char)s[e - 1])) --e;
  std::string t = s.substr(b, e - b);
  for (char& c : t)
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
  struct Name { const char* name; Mood mood; };
  static const Name names[] = {
      {"neutral", Mood::neutral}, {"中性", Mood::neutral},
      {"happy", Mood::happy},     {"快乐", Mood::happy},     {"欢快", Mood::happy},  {"开心", Mood::happy},
      {"sad", Mood::sad},         {"悲伤", Mood::sad},       {"伤感", Mood::sad},    {"忧伤", Mood::sad},
      {"tender", Mood::tender},   {"温柔", Mood::tender},    {"深情", Mood::tender},
      {"defiant", Mood::defiant}, {"倔强", Mood::defiant},   {"反抗", Mood::defiant}, {"愤怒", Mood::defiant},
      {"calm", Mood::calm},       {"平静", Mood::calm},      {"安静", Mood::calm},
  };
  for (const Name& n : names)
    if (t == n.name) { out = n.mood; return true; }
  return false;
}

// ---- loading ----

namespace {

struct Table {
  std::string language;  // "en" or "zh"
  std::unordered_map<std::string, Sentiment::Entry> words;  // en: words; zh: words of 2-3 characters
  std::unordered_map<char32_t, Sentiment::Entry> chars;     // zh only
};

Table parse_table(const std::string& file, const std::string& text) {
  Table t;
  size_t no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t e = text.find('\n', at);
    if (e == std::string::npos) e = text.size();
    sv line(text.data() + at, e - at);
    at = e + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++no;
    if (no == 1) {
      if (line == "# tunesmith sentiment-en v1") t.language = "en";
      else if (line == "# tunesmith sentiment-zh v1") t.language = "zh";
      else bad(file, 1, "not a tunesmith sentiment table (expected \"# tunesmith sentiment-en v1\" or \"-zh v1\")");
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    if (f.size() != 4) bad(file, no, "expected 4 tab-separated fields");
    const std::string unit(f[0]);
    Sentiment::Entry entry;
    double v = 0;
    if (!parse_decimal(f[1], v) || v < -1 || v > 1) bad(file, no, "valence '" + std::string(f[1]) + "' is not a decimal in [-1, 1]");
    entry.valence = (float)v;
    if (f[2] != "-") {
      for (sv item : split(f[2], ',')) {
        const size_t colon = item.find(':');
        const sv name = item.substr(0, colon);
        double w = 1;
        if (colon != sv::npos && (!parse_decimal(item.substr(colon + 1), w) || w <= 0 || w > 1))
          bad(file, no, "mood weight in '" + std::string(item) + "' is not in (0, 1]");
        int m = -1;
        for (int k = 0; k < kMoodCount; ++k)
          if (name == kMoodNames[k + 1]) m = k;
        if (m < 0) bad(file, no, "unknown mood '" + std::string(name) + "'");
        if (entry.tags[m] != 0) bad(file, no, "mood '" + std::string(name) + "' given twice");
        entry.tags[m] = (float)w;
      }
    }
    if (f[3].size() != 1 || std::strchr(t.language == "en" ? "alom" : "pscm", f[3][0]) == nullptr)
      bad(file, no, "unknown source '" + std::string(f[3]) + "'");
    finish_entry(entry);
    if (t.language == "en") {
      if (unit.empty() || unit.find_first_not_of("abcdefghijklmnopqrstuvwxyz'-") != std::string::npos || !has_letter(unit))
        bad(file, no, "word '" + unit + "' is not lowercase letters, apostrophes and hyphens");
      if (!t.words.emplace(unit, entry).second) bad(file, no, "word '" + unit + "' listed twice");
    } else {
      std::u32string cps;
      if (!utf8_decode(unit, cps) || cps.empty() || cps.size() > 3 || !std::all_of(cps.begin(), cps.end(), is_cjk))
        bad(file, no, "unit '" + unit + "' is not 1-3 CJK characters");
      const bool fresh = cps.size() == 1 ? t.chars.emplace(cps[0], entry).second : t.words.emplace(unit, entry).second;
      if (!fresh) bad(file, no, "unit '" + unit + "' listed twice");
    }
  }
  if (no == 0) bad(file, 0, "empty");
  if (t.words.empty() && t.chars.empty()) bad(file, 0, "no entries");
  return t;
}

// The manifest's file list: name -> (bytes, sha256).
std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> manifest_files(const std::string& manifest_text) {
  json man;
  try {
    man = json::parse(manifest_text);
  } catch (const json::exception& e) {
    throw Error("model_invalid", std::string("sentiment.json: ") + e.what(), {{"file", "sentiment.json"}});
  }
  auto invalid = [](const std::string& why) { throw Error("model_invalid", "sentiment.json: " + why, {{"file", "sentiment.json"}}); };
  if (!man.is_object() || man.value("format", json()) != "tunesmith-sentiment/1") invalid("format is not tunesmith-sentiment/1");
  if (!man.contains("files") || !man["files"].is_array() || man["files"].empty()) invalid("no \"files\" list");
  std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> out;
  for (const json& f : man["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("bytes") ||
        !f["bytes"].is_number_unsigned() || !f.contains("sha256") || !f["sha256"].is_string())
      invalid("each file needs \"name\", \"bytes\" and \"sha256\"");
    const std::string name = f["name"].get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name[0] == '.')
      invalid("file name '" + name + "' is not a plain file name");
    for (const auto& o : out)
      if (o.first == name) invalid("file '" + name + "' listed twice");
    out.push_back({name, {f["bytes"].get<uint64_t>(), f["sha256"].get<std::string>()}});
  }
  return out;
}

}  // namespace

void Sentiment::load(const std::string& manifest_text, const std::map<std::string, std::string>& files) {
  const auto listed = manifest_files(manifest_text);
  for (const auto& file : files) {
    const std::string& name = file.first;
    if (std::none_of(listed.begin(), listed.end(), [&](const auto& l) { return l.first == name; }))
      throw Error("model_invalid", name + ": not listed in sentiment.json", {{"file", name}});
  }
  Sentiment next;  // all or nothing
  bool have_en = false, have_zh = false;
  for (const auto& [name, want] : listed) {
    auto it = files.find(name);
    if (it == files.end()) throw Error("model_invalid", name + ": listed in sentiment.json but not given", {{"file", name}});
    const std::string& text = it->second;
    if (text.size() != want.first)
      throw Error("model_invalid", name + ": " + std::to_string(text.size()) + " bytes, sentiment.json says " + std::to_string(want.first),
                  {{"file", name}});
    const std::string got = sha256_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    if (got != want.second) throw Error("model_invalid", name + ": sha256 " + got + " does not match sentiment.json", {{"file", name}});
    Table t = parse_table(name, text);
    if (t.language == "en") {
      if (have_en) bad(name, 0, "a second English table");
      have_en = true;
      next.en_ = std::move(t.words);
    } else {
      if (have_zh) bad(name, 0, "a second Chinese table");
      have_zh = true;
      next.zh_words_ = std::move(t.words);
      next.zh_chars_ = std::move(t.chars);
    }
  }
  if (!have_en || !have_zh)
    throw Error("model_invalid", std::string("sentiment.json: no ") + (have_en ? "Chinese" : "English") + " table listed",
                {{"file", "sentiment.json"}});
  next.loaded_ = true;
  *this = std::move(next);
}

void Sentiment::load_dir(const std::string& dir) {
  auto read = [&](const std::string& name) {
    std::ifstream f(dir + "/" + name, std::ios::binary);
    if (!f) throw Error("model_not_found", "cannot read " + dir + "/" + name, {{"file", name}});
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  const std::string manifest = read("sentiment.json");
  std::map<std::string, std::string> files;
  for (const auto& [name, want] : manifest_files(manifest)) {
    (void)want;
    files[name] = read(name);
  }
  load(manifest, files);
}

// ---- lookups ----

const Sentiment::Entry* Sentiment::en_lookup(const std::string& w) const {
  auto find = [&](const std::string& s) -> const Entry* {
    if (s.size() < 2) return nullptr;
    auto it = en_.find(s);
    return it == en_.end() ? nullptr : &it->second;
  };
  if (w.empty()) return nullptr;
  if (const Entry* e = find(w)) return e;
  // contractions and elisions: love's, we're, lovin'
  for (sv suf : {sv("'s"), sv("'re"), sv("'ll"), sv("'ve"), sv("'d"), sv("'m"), sv("s'")})
    if (ends_with(w, suf) && w.size() > suf.size() + 1) {
      const std::string base = w.substr(0, w.size() - suf.size()) + (suf == "s'" ? "s" : "");
      if (const Entry* e = find(base)) return e;
      if (suf == "s'") break;
    }
  if (ends_with(w, "in'")) return en_lookup(w.substr(0, w.size() - 1) + "g");
  if (w.find('\'') != std::string::npos || w.size() < 4) return nullptr;
  // inflections of words the table lacks: -ies/-ied -> y, -es, -s, -ed (stem, stem+e, doubled
  // consonant), -ing (same), -ly, -ily, -ier/-iest
  struct Rule { const char* suf; const char* add; };
  static const Rule rules[] = {{"ies", "y"}, {"ied", "y"}, {"ier", "y"}, {"iest", "y"}, {"ily", "y"}, {"es", ""}, {"s", ""},
                               {"ed", ""},   {"ed", "e"},  {"ing", ""}, {"ing", "e"},   {"ly", ""},  {"d", ""}};
  for (const Rule& r : rules) {
    if (!ends_with(w, r.suf)) continue;
    const std::string stem = w.substr(0, w.size() - std::strlen(r.suf));
    if (stem.size() < 3) continue;
    if (const Entry* e = find(stem + r.add)) return e;
    if (*r.add == 0 && stem.size() >= 4 && stem.back() == stem[stem.size() - 2] && (r.suf[0] == 'e' || r.suf[0] == 'i'))
      if (const Entry* e = find(stem.substr(0, stem.size() - 1))) return e;  // stopped, running
  }
  return nullptr;
}

const Sentiment::Entry* Sentiment::en_entry(std::string_view word) const { return en_lookup(normalise_en(word)); }

const Sentiment::Entry* Sentiment::zh_entry(const std::string& unit) const {
  std::u32string cps;
  if (!utf8_decode(unit, cps) || cps.empty()) return nullptr;
  if (cps.size() == 1) {
    auto it = zh_chars_.find(cps[0]);
    return it == zh_chars_.end() ? nullptr : &it->second;
  }
  auto it = zh_words_.find(unit);
  return it == zh_words_.end() ? nullptr : &it->second;
}

float Sentiment::zh_char_valence(char32_t c) const {
  auto it = zh_chars_.find(c);
  return it == zh_chars_.end() ? 0.f : it->second.valence;
}

float Sentiment::zh_char_mood(char32_t c, Mood m) const {
  if (m == Mood::neutral) return 0;
  auto it = zh_chars_.find(c);
  return it == zh_chars_.end() ? 0.f : it->second.mood[(int)m - 1];
}

float Sentiment::en_word_valence(std::string_view word) const {
  const Entry* e = en_entry(word);
  return e ? e->valence : 0.f;
}

float Sentiment::en_word_mood(std::string_view word, Mood m) const {
  if (m == Mood::neutral) return 0;
  const Entry* e = en_entry(word);
  return e ? e->mood[(int)m - 1] : 0.f;
}

// ---- analysis ----

nlohmann::json Sentiment::analyze(const std::string& lyrics, const std::string& language) const {
  if (!loaded_) throw Error("model_not_loaded", "the sentiment lexicon is not loaded", {{"model", "sentiment"}});
  std::string lang = language;
  if (lang.empty()) {
    const std::u32string cps = decode_lenient(lyrics);
    lang = std::any_of(cps.begin(), cps.end(), is_cjk) ? "zh" : "en";
  }
  if (lang != "zh" && lang != "en")
    throw Error("invalid_field", "language must be \"zh\" or \"en\"", {{"field", "language"}});
  std::vector<std::string> lines;
  for (size_t at = 0; at <= lyrics.size();) {
    size_t e = lyrics.find('\n', at);
    if (e == std::string::npos) e = lyrics.size();
    std::string line = lyrics.substr(at, e - at);
    at = e + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\v\f") != std::string::npos) lines.push_back(line);
    if (e == lyrics.size()) break;
  }
  return lang == "en" ? analyze_en(lines) : analyze_zh(lines);
}

nlohmann::json Sentiment::analyze_en(const std::vector<std::string>& lines) const {
  std::vector<LineScore> scores;
  for (const std::string& line : lines) {
    std::vector<Token> toks;
    bool pending_break = false;
    std::string cur;
    auto flush = [&]() {
      const std::string w = normalise_en(cur);
      cur.clear();
      if (!has_letter(w)) return;
      auto push = [&](const std::string& word, const Entry* e) {
        Token t;
        t.word = word;
        t.entry = e;
        t.break_before = pending_break;
        pending_break = false;
        if (is_en_negator(word)) t.kind = Kind::negator;
        else if (en_intensifiers().count(word)) t.kind = Kind::intensifier;
        else if (en_diminishers().count(word)) t.kind = Kind::diminisher;
        toks.push_back(std::move(t));
      };
      const Entry* e = en_lookup(w);
      if (e || w.find('-') == std::string::npos) { push(w, e); return; }
      for (sv part : split(w, '-'))  // heart-broken: the parts, when the whole is unknown
        if (has_letter(part)) push(std::string(part), en_lookup(std::string(part)));
    };
    for (char32_t c : decode_lenient(line)) {
      if (const char f = fold(c)) { cur += f; continue; }
      flush();
      if (clause_break(c)) pending_break = true;
    }
    flush();
    scores.push_back(score_line(toks, kNegWindowEn));
  }
  return assemble(lines, scores, "en",
                  "lexicon: AFINN-111 valence (else the Liu opinion lexicon), hand-curated mood word lists, negation and "
                  "intensifier rules; see docs/sentiment.md");
}

nlohmann::json Sentiment::analyze_zh(const std::vector<std::string>& lines) const {
  std::vector<LineScore> scores;
  for (const std::string& line : lines) {
    const std::u32string cps = decode_lenient(line);
    std::vector<Token> toks;
    bool pending_break = false;
    for (size_t i = 0; i < cps.size();) {
      if (!is_cjk(cps[i])) {
        if (clause_break(cps[i]) || cps[i] == ' ' || cps[i] == 0x3000) pending_break = true;
        ++i;
        continue;
      }
      // longest match: a table word, or a function word (没有, 非常), of 3 then 2 characters
      size_t len = 1;
      std::string unit;
      for (size_t n = 3; n >= 2; --n) {
        if (i + n > cps.size() || !std::all_of(cps.begin() + (long)i, cps.begin() + (long)(i + n), is_cjk)) continue;
        std::string u = utf8_encode(cps.substr(i, n));
        if (zh_words_.count(u) || in_list(kZhNegators, u) || in_list(kZhIntensifiers, u) || in_list(kZhDiminishers, u)) {
          len = n;
          unit = std::move(u);
          break;
        }
      }
      if (len == 1) unit = utf8_encode(cps.substr(i, 1));
      Token t;
      t.word = unit;
      t.entry = zh_entry(unit);
      t.break_before = pending_break;
      pending_break = false;
      if (in_list(kZhNegators, unit)) t.kind = Kind::negator;
      else if (in_list(kZhIntensifiers, unit)) t.kind = Kind::intensifier;
      else if (in_list(kZhDiminishers, unit)) t.kind = Kind::diminisher;
      toks.push_back(std::move(t));
      i += len;
    }
    scores.push_back(score_line(toks, kNegWindowZh));
  }
  return assemble(lines, scores, "zh",
                  "lexicon: SO-PMI character valence from the classical training corpus plus curated modern words, "
                  "hand-curated mood lists, negation (不 没 无 莫 未 别) and intensifier rules; see docs/sentiment.md");
}

}  // namespace tunesmith
