// generate_melody / edit_melody / render_melody: see tunesmith/melody.h, docs/melody-api.md and
// docs/melody-rules.md.
#include "tunesmith/melody.h"

#include <algorithm>
#include <array>
#include <map>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>

#include "tunesmith/api.h"
#include "tunesmith/error.h"
#include "tunesmith/model.h"
#include "tunesmith/notation.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/request.h"
#include "tunesmith/sampling.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using json = nlohmann::json;

namespace {

const char* const kModes[7] = {"major", "minor", "dorian", "mixolydian", "lydian", "phrygian", "locrian"};
const int kScales[7][7] = {{0, 2, 4, 5, 7, 9, 11}, {0, 2, 3, 5, 7, 8, 10}, {0, 2, 3, 5, 7, 9, 10}, {0, 2, 4, 5, 7, 9, 10},
                           {0, 2, 4, 6, 7, 9, 11}, {0, 1, 3, 5, 7, 8, 10}, {0, 1, 3, 5, 6, 8, 10}};
const int kModeFifths[7] = {0, -3, -2, -1, 1, -4, -5};
const int kDurations[] = {1, 2, 3, 4, 6, 8, 9, 12, 15, 16, 18, 24, 30, 36, 48, 60, 72, 96};
constexpr int kNumDurations = sizeof(kDurations) / sizeof(kDurations[0]);
constexpr int kPitchMin = -17, kPitchMax = 31;  // model tokens: semitones from the tonic at 60 + pc
const char* const kMeters[] = {"2/4", "3/4", "4/4", "2/2", "3/8", "6/8", "9/8", "12/8", "6/4", "3/2"};

struct StyleInfo {
  const char* name;
  const char* meter;
  double tempo;      // quarter notes per minute
  double syl_q;      // quarters per sung syllable, for planning bars per line
  double note_q;     // typical instrumental note length (restyle planning)
};
const StyleInfo kStyles[] = {
    {"jig", "6/8", 180, 0.75, 0.5},   {"reel", "4/4", 200, 0.75, 0.5},  {"hornpipe", "4/4", 160, 0.75, 0.5},
    {"waltz", "3/4", 150, 1, 1},      {"polka", "2/4", 170, 0.5, 0.5},  {"march", "4/4", 120, 0.75, 0.5},
    {"slip_jig", "9/8", 180, 0.75, 0.5}, {"air", "4/4", 80, 0.75, 0.75}, {"hymn", "4/4", 84, 1, 1},
    {"song", "4/4", 96, 0.75, 0.75},
};

const StyleInfo& style_info(const std::string& s) {
  for (const auto& st : kStyles)
    if (s == st.name) return st;
  return kStyles[9];
}

std::string parse_style(const std::string& raw, const char* field) {
  std::string s;
  for (char c : raw) s += (c == ' ' || c == '-') ? '_' : (char)std::tolower((unsigned char)c);
  for (const auto& st : kStyles)
    if (s == st.name) return s;
  if (s == "chorale") return "hymn";
  if (s == "ballad") return "air";
  if (s == "pop" || s == "folk" || raw == "歌曲" || raw == "流行" || raw == "流行音乐" || raw == "民谣") return "song";
  std::string names;
  for (const auto& st : kStyles) names += (names.empty() ? "" : ", ") + std::string(st.name);
  throw Error("invalid_field", "unknown style '" + raw + "' (styles: " + names + ")", {{"field", field}});
}

int mode_index(const std::string& m) {
  for (int i = 0; i < 7; ++i)
    if (m == kModes[i]) return i;
  return -1;
}

int mod12(int x) { return ((x % 12) + 12) % 12; }

// Spelling of pitch classes: sharps for keys with sharps or none, flats for flat keys.
std::string pc_name(int pc, bool flats) {
  static const char* sharp[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  static const char* flat[12] = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
  return flats ? flat[mod12(pc)] : sharp[mod12(pc)];
}

std::string base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = ((uint8_t)in[i] << 16) | ((uint8_t)in[i + 1] << 8) | (uint8_t)in[i + 2];
    out += tbl[v >> 18]; out += tbl[(v >> 12) & 63]; out += tbl[(v >> 6) & 63]; out += tbl[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = (uint8_t)in[i] << 16;
    if (i + 1 < in.size()) v |= (uint8_t)in[i + 1] << 8;
    out += tbl[v >> 18]; out += tbl[(v >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool is_function_word(const std::string& w) {
  static const char* fw[] = {"a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "for", "with", "by",
                             "from", "as", "is", "am", "are", "was", "were", "be", "been", "it", "its", "it's", "i", "i'm",
                             "i'll", "i've", "i'd", "you", "he", "she", "we", "they", "me", "him", "her", "us", "them", "my",
                             "your", "his", "our", "their", "this", "that", "these", "those", "so", "if", "do", "does",
                             "did", "have", "has", "had", "will", "would", "can", "could", "shall", "should", "may",
                             "might", "must", "than", "then", "there", "what", "when", "where", "who", "how", "all", "some",
                             "up", "just", "oh", "ah", "o", "la", "not", "no", "thy", "thee", "thou", "ye", "yet", "till",
                             "'til", "let", "get", "got", "too", "own", "each", "such", "own", "we're", "you're", "they're"};
  for (const char* f : fw)
    if (w == f) return true;
  return false;
}

bool is_latin_letter(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}

}  // namespace

// ------------------------------------------------------------------------------------------ theory

int MeterSpec::beat12() const {
  if (compound()) return 18;
  return 48 / den;
}

int MeterSpec::weight(int pos) const {
  const int bar = bar12();
  pos = ((pos % bar) + bar) % bar;
  if (pos == 0) return 3;
  const int beat = beat12();
  if (pos % beat) return 0;
  const int beats = bar / beat;
  if (beats % 2 == 0 && beats >= 4 && pos == bar / 2) return 2;
  return 1;
}

MeterSpec parse_meter(const std::string& text, const char* field) {
  for (const char* m : kMeters)
    if (text == m) {
      MeterSpec s;
      s.num = std::atoi(m);
      s.den = std::atoi(std::strchr(m, '/') + 1);
      return s;
    }
  std::string list;
  for (const char* m : kMeters) list += (list.empty() ? "" : ", ") + std::string(m);
  throw Error("invalid_field", "unknown meter '" + text + "' (meters: " + list + ")", {{"field", field}});
}

const int* KeySpec::scale() const { return kScales[std::max(0, mode_index(mode))]; }

bool KeySpec::in_scale(int pitch) const {
  const int d = mod12(pitch - pc);
  const int* s = scale();
  for (int i = 0; i < 7; ++i)
    if (s[i] == d) return true;
  return false;
}

KeySpec parse_key(const std::string& tonic, const std::string& mode, const char* field) {
  static const int letter_pc[7] = {9, 11, 0, 2, 4, 5, 7};       // A..G
  static const int letter_fifths[7] = {3, 5, 0, 2, 4, -1, 1};   // A..G as major keys
  KeySpec k;
  std::string t = tonic;
  if (t.size() >= 1 && t.size() <= 2 && std::toupper((unsigned char)t[0]) >= 'A' && std::toupper((unsigned char)t[0]) <= 'G' &&
      (t.size() == 1 || t[1] == '#' || t[1] == 'b')) {
    const int li = std::toupper((unsigned char)t[0]) - 'A';
    const int acc = t.size() == 2 ? (t[1] == '#' ? 1 : -1) : 0;
    k.tonic = std::string(1, (char)std::toupper((unsigned char)t[0])) + (acc > 0 ? "#" : acc < 0 ? "b" : "");
    k.pc = mod12(letter_pc[li] + acc);
    const int mi = mode_index(mode);
    if (mi < 0) {
      std::string list;
      for (const char* m : kModes) list += (list.empty() ? "" : ", ") + std::string(m);
      throw Error("invalid_field", "unknown mode '" + mode + "' (modes: " + list + ")", {{"field", "mode"}});
    }
    k.mode = mode;
    k.fifths = letter_fifths[li] + 7 * acc + kModeFifths[mi];
    if (k.fifths > 7 || k.fifths < -7) {  // Db minor -> C# minor, Gb phrygian -> F# phrygian
      static const char* sharp[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
      static const char* flat[12] = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
      const std::string other = k.fifths > 7 ? flat[k.pc] : sharp[k.pc];
      if (other != k.tonic) return parse_key(other, mode, field);
    }
    if (k.fifths < -7 || k.fifths > 7)
      throw Error("invalid_field", k.tonic + " " + mode + " would need " + std::to_string(std::abs(k.fifths)) +
                                       (k.fifths > 0 ? " sharps" : " flats") + "; use its enharmonic tonic",
                  {{"field", field}});
    return k;
  }
  throw Error("invalid_field", "unknown key '" + tonic + "' (a tonic such as C, F#, Bb)", {{"field", field}});
}

int tone_rule(int a, int b) {
  // Chao-number heights: 1 high level 55, 2 rising 35, 3 low dipping 21(4), 4 falling 51; neutral: none.
  auto h = [](int t) { return t == 1 ? 5.0 : t == 2 ? 4.0 : t == 3 ? 1.5 : t == 4 ? 3.0 : -1.0; };
  if (h(a) < 0 || h(b) < 0) return 0;
  if (a == 1 && b == 1) return 2;
  const double d = h(b) - h(a);
  if (d >= 2) return 1;
  if (d <= -2) return -1;
  return 0;
}

static bool tone_ok(int rule, int from, int to) {
  switch (rule) {
    case 1: return to > from;
    case -1: return to < from;
    case 2: return std::abs(to - from) <= 2;
    default: return true;
  }
}

std::vector<std::string> split_english_word(const std::string& word, int n) {
  std::vector<std::string> out;
  if (n <= 1 || word.size() < 2) {
    out.push_back(word);
    return out;
  }
  auto vowel = [&](size_t i) {
    const char c = (char)std::tolower((unsigned char)word[i]);
    if (std::strchr("aeiou", c)) return true;
    return c == 'y' && i > 0;  // y after the start acts as a vowel
  };
  // vowel groups [start, end)
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = 0; i < word.size();) {
    if (vowel(i)) {
      size_t j = i;
      while (j < word.size() && vowel(j)) ++j;
      groups.push_back({i, j});
      i = j;
    } else {
      ++i;
    }
  }
  // a silent final e ("love", "hope") is not a syllable, but "-le" after a consonant is ("table")
  const size_t L = word.size();
  if ((int)groups.size() > n && groups.back().first == L - 1 && std::tolower((unsigned char)word[L - 1]) == 'e' &&
      !(L >= 3 && std::tolower((unsigned char)word[L - 2]) == 'l' && !vowel(L - 3)))
    groups.pop_back();
  // -ed after a consonant other than t/d is silent ("loved")
  if ((int)groups.size() > n && L >= 3 && groups.back().first == L - 2 && word.compare(L - 2, 2, "ed") == 0) groups.pop_back();
  while ((int)groups.size() > n) {  // merge the closest groups (diphthongs spelled apart)
    size_t best = 0, gap = SIZE_MAX;
    for (size_t g = 0; g + 1 < groups.size(); ++g)
      if (groups[g + 1].first - groups[g].second < gap) { gap = groups[g + 1].first - groups[g].second; best = g; }
    groups[best].second = groups[best + 1].second;
    groups.erase(groups.begin() + best + 1);
  }
  if ((int)groups.size() < n) {  // spelling hides syllables: cut evenly
    size_t at = 0;
    for (int k = 0; k < n; ++k) {
      const size_t end = k == n - 1 ? L : (L * (k + 1)) / n;
      out.push_back(word.substr(at, end - at));
      at = end;
    }
    return out;
  }
  std::vector<size_t> cuts;
  for (size_t g = 0; g + 1 < groups.size(); ++g) {
    const size_t a = groups[g].second, b = groups[g + 1].first;  // consonants in [a, b)
    size_t cut;
    if (b - a <= 1) cut = a;  // V-CV, or V-V
    else {
      cut = a + 1;            // VC-CV
      const std::string two = word.substr(a, 2);
      static const char* digraphs[] = {"th", "sh", "ch", "ph", "wh", "ck", "ng", "gh"};
      for (const char* d : digraphs)
        if (two == d) cut = (b - a == 2 && std::strcmp(d, "ck") && std::strcmp(d, "ng")) ? a : a + 2;
      if (cut > b) cut = b;
    }
    cuts.push_back(cut);
  }
  size_t at = 0;
  for (size_t c : cuts) {
    out.push_back(word.substr(at, c - at));
    at = c;
  }
  out.push_back(word.substr(at));
  for (auto& s : out)
    if (s.empty()) s = "-";  // cannot happen with the rules above; keep n parts regardless
  return out;
}

namespace {

// ------------------------------------------------------------------------------------------ lyrics

struct LyricLine {
  std::string text;
  int repeat_of = -1;
  std::vector<int> syl;  // indices into the syllable list
};

struct Lyrics {
  std::vector<Syllable> syl;
  std::vector<LyricLine> lines;
  std::vector<std::string> remarks;
};

Lyrics parse_lyrics(const json& v, const Phonetics& ph, const char* field) {
  std::vector<std::pair<std::string, int>> raw;  // text, repeat_of
  auto bad = [&](const std::string& why) { return Error("invalid_field", std::string("'") + field + "' " + why, {{"field", field}}); };
  if (v.is_string()) {
    std::string s = v.get<std::string>(), cur;
    for (char c : s) {
      if (c == '\n') { raw.push_back({cur, -1}); cur.clear(); }
      else if (c != '\r') cur += c;
    }
    raw.push_back({cur, -1});
  } else if (v.is_array()) {
    for (const json& l : v) {
      if (l.is_string()) raw.push_back({l.get<std::string>(), -1});
      else if (l.is_object() && l.contains("text") && l["text"].is_string()) {
        int rep = -1;
        if (l.contains("repeat_of") && l["repeat_of"].is_number_integer()) rep = l["repeat_of"].get<int>();
        raw.push_back({l["text"].get<std::string>(), rep});
      } else {
        throw bad("must hold strings or objects with a \"text\" string (the lines of a generate_lyrics response)");
      }
    }
  } else {
    throw bad("must be a string (lines separated by newlines) or an array of lines");
  }
  if (raw.size() > 400) throw bad("has more than 400 lines");
  Lyrics L;
  bool dropped_digits = false, dropped_other = false;
  std::vector<int> line_map(raw.size(), -1);
  for (size_t li = 0; li < raw.size(); ++li) {
    std::u32string cps;
    if (!utf8_decode(raw[li].first, cps)) throw bad("is not valid UTF-8");
    LyricLine line;
    std::string text;
    const int line_no = (int)L.lines.size();
    std::u32string word;
    auto flush_word = [&]() {
      if (word.empty()) return;
      const std::string w = utf8_encode(word);
      word.clear();
      std::string lower;
      for (char c : w) lower += (char)std::tolower((unsigned char)c);
      const EnInfo info = ph.en(w);
      int n = std::max(1, info.syllables);
      if (n > 12) n = 12;
      std::vector<std::string> parts = split_english_word(w, n);
      const std::string& stress = info.stress;
      for (int k = 0; k < n; ++k) {
        Syllable s;
        s.text = parts[k] + (k + 1 < n ? "-" : "");
        s.line = line_no;
        if (n == 1) s.stress = is_function_word(lower) ? -1 : 2;
        else {
          const char d = k < (int)stress.size() ? stress[k] : (k == 0 ? '1' : '0');
          s.stress = d == '1' ? 1 : d == '0' ? 0 : -1;
        }
        line.syl.push_back((int)L.syl.size());
        L.syl.push_back(s);
      }
    };
    for (char32_t c : cps) {
      if (is_cjk(c)) {
        flush_word();
        Syllable s;
        std::string t;
        utf8_append(t, c);
        s.text = t;
        s.line = line_no;
        const ZhInfo zi = ph.zh(c);
        s.tone = zi.found && !zi.tones.empty() ? zi.tones[0] : -1;
        line.syl.push_back((int)L.syl.size());
        L.syl.push_back(s);
      } else if (is_latin_letter(c) || ((c == '\'' || c == 0x2019) && !word.empty())) {
        word += c == 0x2019 ? U'\'' : c;
      } else {
        flush_word();
        if (c >= '0' && c <= '9') dropped_digits = true;
        else if (c >= 0x2000 && !(c >= 0x3000 && c <= 0x303F) && !(c >= 0xFF00 && c <= 0xFF65) && !(c >= 0x2010 && c <= 0x206F))
          dropped_other = true;
      }
    }
    flush_word();
    if (line.syl.empty()) {
      bool blank = true;
      for (char32_t c : cps) blank = blank && (c == ' ' || c == '\t');
      if (!blank) L.remarks.push_back("line " + std::to_string(li + 1) + " has no singable syllable and is skipped");
      continue;
    }
    L.syl[line.syl.back()].line_end = true;
    line.text = raw[li].first;
    const int rep = raw[li].second;
    if (rep >= 0 && rep < (int)li && line_map[rep] >= 0) line.repeat_of = line_map[rep];
    for (int p = 0; p < (int)L.lines.size() && line.repeat_of < 0; ++p)
      if (L.lines[p].text == line.text && L.lines[p].repeat_of < 0) line.repeat_of = p;
    line_map[li] = line_no;
    L.lines.push_back(line);
    if (L.syl.size() > 2000) throw bad("has more than 2,000 syllables");
  }
  if (L.syl.empty()) throw bad("has no singable syllable (Chinese characters or Latin-script words)");
  if (dropped_digits) L.remarks.push_back("digits are not sung: write numbers as words to set them");
  if (dropped_other) L.remarks.push_back("symbols and emoji are not sung and were left out");
  return L;
}

// ------------------------------------------------------------------------------------------ decoder

struct Event {          // one note the plan asks for
  int syl = -1;         // syllable index, -1 none
  int forced = INT_MIN; // forced model pitch (restyle), INT_MIN: free
  int cadence = 0;      // 0 none, 1 degree 1/3/5, 2 tonic
};

struct Segment {
  int first_bar = 0, bars = 1;
  int line = -1;             // lyric line, -1 none
  std::vector<Event> events; // empty: instrumental, the model chooses the notes
  int cadence = 1;           // instrumental segments: the final note's cadence (1 degree 1/3/5, 2 tonic, 3 half: 2/5/7)
  int copy_of = -1;          // segment whose notes to repeat (a repeated lyric line)
};

struct GenNote {
  int rel = 0;      // model pitch (semitones from 60 + pc)
  int start = 0, dur = 0;  // twelfths
  int syl = -1;
  bool melisma = false;
};

struct Relaxation {
  std::string rule;
  int note;
};

struct DecodeSpec {
  KeySpec key;
  MeterSpec meter;
  std::string style;
  float temperature = 0.9f;
  int range = 16;
  bool chromatic = false, melisma = false, vocal = false;
  uint64_t seed = 0;
};

class MelodyDecoder {
 public:
  MelodyDecoder(const GptModel& m, const DecodeSpec& spec, const std::vector<Syllable>& syl)
      : m_(m), st_(m), spec_(spec), syl_(syl), V_(m.config().vocab_size) {
    const CharTokenizer& tok = m.tokenizer();
    auto need = [&](const std::string& name) {
      const int id = tok.control(name.substr(1, name.size() - 2));  // control() takes the name inside <>
      if (id < 0) throw Error("model_invalid", "the melody model has no token " + name);
      return id;
    };
    bos_ = need("<bos>"); bar_ = need("<bar>"); syl_tok_ = need("<syl>"); rest_ = need("<r>");
    for (int p = kPitchMin; p <= kPitchMax; ++p) pitch_tok_.push_back(need(p >= 0 ? "<p+" + std::to_string(p) + ">" : "<p" + std::to_string(p) + ">"));
    for (int d : kDurations) dur_tok_.push_back(need("<d" + std::to_string(d) + ">"));
    // The data labels no polka: polkas use the untyped tunes' token (with their 2/4 meter).
    const std::string type = spec.style == "polka" ? "unknown" : spec.style;
    header_ = {bos_, need("<type:" + type + ">"), need("<meter:" + spec.meter.str() + ">"), need("<mode:" + spec.key.mode + ">")};
    allowed_.assign(V_, 0);
    bias_.assign(V_, 0.0f);
    SamplingParams sp;
    sp.temperature = spec.temperature;
    sp.top_k = 0;
    sp.top_p = 0.95f;
    sp.repetition_penalty = 1.0f;
    sp.seed = spec.seed;
    chain_ = make_chain(sp, [this](Candidates& c) {
      for (auto& t : c.data) {
        if (!allowed_[t.id]) t.logit = -INFINITY;
        else t.logit += bias_[t.id];
      }
    });
    const int base = 60 + spec.key.pc;
    lo_abs_ = spec.vocal ? 53 : 50;
    hi_abs_ = spec.vocal ? 81 : 93;
    lo_rel_ = std::max(kPitchMin, lo_abs_ - base);
    hi_rel_ = std::min(kPitchMax, hi_abs_ - base);
  }

  std::vector<GenNote> notes;
  std::vector<Relaxation> relaxations;

  // Conditions the model on notes already there (edits); pos must be a bar start afterwards.
  void prefix(const std::vector<GenNote>& ns, int end12) {
    std::vector<int32_t> toks = header_;
    int pos = 0, last_bar = -1;
    const int bar12 = spec_.meter.bar12();
    auto emit_span = [&](int rel, int dur, bool syl, bool first) {
      while (dur > 0) {
        const int b = pos / bar12;
        if (b != last_bar) { toks.push_back(bar_); last_bar = b; }
        const int brem = (b + 1) * bar12 - pos;
        int d = 0;
        for (int k = kNumDurations - 1; k >= 0; --k)
          if (kDurations[k] <= std::min(dur, brem)) { d = kDurations[k]; break; }
        if (rel == INT_MIN) toks.push_back(rest_);
        else {
          if (syl && first) toks.push_back(syl_tok_);
          toks.push_back(pitch_tok_[std::clamp(rel, kPitchMin, kPitchMax) - kPitchMin]);
        }
        toks.push_back(dur_tok_[std::find(kDurations, kDurations + kNumDurations, d) - kDurations]);
        pos += d; dur -= d; first = false;
      }
    };
    for (const GenNote& n : ns) {
      if (n.start >= end12) break;
      if (n.start > pos) emit_span(INT_MIN, n.start - pos, false, true);
      if (n.start < pos) continue;  // overlapping input: skip
      emit_span(n.rel, std::min(n.dur, end12 - n.start), n.syl >= 0 && !n.melisma, true);
      notes.push_back(n);
      if (notes.back().start + notes.back().dur > end12) notes.back().dur = end12 - notes.back().start;
      track(n.rel);
    }
    if (pos < end12) emit_span(INT_MIN, end12 - pos, false, true);
    pos_ = end12;
    if (pos_ % bar12 == 0) bar_done_ = pos_ / bar12 - 1;
    load(toks);
  }

  void start() { load(header_); }

  void run(const std::vector<Segment>& segs) {
    for (size_t si = 0; si < segs.size(); ++si) {
      const Segment& s = segs[si];
      const int bar12 = spec_.meter.bar12();
      const int seg_start = s.first_bar * bar12, seg_end = (s.first_bar + s.bars) * bar12;
      if (pos_ != seg_start) throw Error("internal", "melody plan out of step");
      if (s.copy_of >= 0 && copy_segment(segs[s.copy_of], s)) continue;
      if (s.events.empty()) run_free(s, seg_end);
      else run_events(s, seg_start, seg_end);
      seg_note_end_.push_back((int)notes.size());
    }
  }
  std::vector<int> seg_note_end_;

 private:
  const GptModel& m_;
  GptState st_;
  DecodeSpec spec_;
  const std::vector<Syllable>& syl_;
  int V_;
  int bos_, bar_, syl_tok_, rest_;
  std::vector<int> pitch_tok_, dur_tok_;
  std::vector<int32_t> header_, hist_;
  const float* logits_ = nullptr;
  std::vector<char> allowed_;
  std::vector<float> bias_;
  SamplerChain chain_;
  int pos_ = 0, bar_done_ = -1;
  int lo_ = INT_MAX, hi_ = INT_MIN, prev_ = INT_MIN, run_ = 0;
  float rest_bias_ = 0.0f;  // instrumental phrases: rests are rarer than the model's song habits
  int lo_abs_, hi_abs_, lo_rel_, hi_rel_;

  void track(int rel) {
    run_ = (rel == prev_) ? run_ + 1 : 1;
    lo_ = std::min(lo_, rel);
    hi_ = std::max(hi_, rel);
    prev_ = rel;
  }

  void load(const std::vector<int32_t>& toks) {
    const int n_ctx = m_.config().n_ctx;
    hist_.clear();
    if ((int)toks.size() <= n_ctx - 8) {
      hist_ = toks;
    } else {
      hist_ = header_;
      size_t from = toks.size() - (size_t)(n_ctx / 2);
      while (from < toks.size() && toks[from] != bar_) ++from;
      hist_.insert(hist_.end(), toks.begin() + (long)from, toks.end());
    }
    st_.reset();
    logits_ = st_.eval(hist_.data(), (int)hist_.size());
  }

  void push(int32_t t) {
    if (st_.n_past() >= m_.config().n_ctx) {
      std::vector<int32_t> h = hist_;
      load(h);
    }
    hist_.push_back(t);
    chain_.accept(t);
    logits_ = st_.eval(&t, 1);
  }

  void clear_mask() {
    std::fill(allowed_.begin(), allowed_.end(), 0);
    std::fill(bias_.begin(), bias_.end(), 0.0f);
  }

  int32_t pick() {
    return chain_.sample(logits_, V_);
  }

  void bar_check() {
    const int bar12 = spec_.meter.bar12();
    const int b = pos_ / bar12;
    if (pos_ % bar12 == 0 && b > bar_done_) {
      push(bar_);
      bar_done_ = b;
    }
  }

  // A note that starts off the beat ends by the next beat; one that starts off the eighth grid ends
  // by the next eighth (no syncopation across a beat, which the notation would tie).
  bool metric_ok(int pos, int d) const {
    const int beat = spec_.meter.beat12();
    const int p = pos_in_bar(pos);
    if (p % 6) return (p / 6 + 1) * 6 >= p + d;
    if (p % beat) return (p / beat + 1) * beat >= p + d;
    return true;
  }

  int bar_end() const { const int bar12 = spec_.meter.bar12(); return (pos_ / bar12 + 1) * bar12; }
  int pos_in_bar(int p) const { return p % spec_.meter.bar12(); }

  int largest_fit(int limit) const {
    for (int k = kNumDurations - 1; k >= 0; --k)
      if (kDurations[k] <= limit && kDurations[k] % 3 == 0) return k;
    return -1;
  }

  void emit_rest_fill(int until) {
    while (pos_ < until) {
      bar_check();
      const int k = largest_fit(std::min(until, bar_end()) - pos_);
      if (k < 0) throw Error("internal", "melody grid error");
      push(rest_);
      push(dur_tok_[k]);
      pos_ += kDurations[k];
    }
  }

  // Pitch mask for the next note; returns false when nothing is allowed at this relaxation level.
  // level: 0 all rules, 1 no tone rule, 2 no range, 3 no leap limit, 4 no window, 5 no scale.
  bool pitch_mask(int level, int cadence, int tone_rule_v, int tone_prev) {
    clear_mask();
    bool any = false;
    const int* sc = spec_.key.scale();
    const int third = sc[2];
    for (int r = kPitchMin; r <= kPitchMax; ++r) {
      if (level < 4 && (r < lo_rel_ || r > hi_rel_)) continue;
      if (level < 5 && !spec_.chromatic) {
        bool in = false;
        for (int i = 0; i < 7; ++i) in = in || sc[i] == mod12(r);
        if (!in) continue;
      }
      if (cadence == 2 && mod12(r) != 0) continue;
      if (cadence == 1 && mod12(r) != 0 && mod12(r) != third && mod12(r) != 7) continue;
      if (cadence == 3 && mod12(r) != sc[1] && mod12(r) != 7 && mod12(r) != sc[6]) continue;
      if (level < 2 && !range_ok(r)) continue;
      if (level < 3 && prev_ != INT_MIN && std::abs(r - prev_) > 12) continue;
      if (level < 1 && tone_prev != INT_MIN && !tone_ok(tone_rule_v, tone_prev, r)) continue;
      const int t = pitch_tok_[r - kPitchMin];
      allowed_[t] = 1;
      if (prev_ != INT_MIN && std::abs(r - prev_) > 7) bias_[t] = -0.4f * (float)(std::abs(r - prev_) - 7);
      if (r == prev_ && run_ >= 2) bias_[t] -= 0.7f * (float)(run_ - 1);  // a third repeat of a pitch is rarer
      any = true;
    }
    return any;
  }

  // The melody so far plus r stays within the range, and still leaves room for a tonic (every
  // melody ends on one), so the final cadence never has to break the range.
  bool range_ok(int r) const {
    const int lo = lo_ == INT_MAX ? r : std::min(lo_, r), hi = lo_ == INT_MAX ? r : std::max(hi_, r);
    if (hi - lo > spec_.range) return false;
    for (int t = (int)std::floor((hi - spec_.range) / 12.0) * 12; t <= lo + spec_.range; t += 12)
      if (std::max(hi, t) - std::min(lo, t) <= spec_.range && t >= lo_rel_ && t <= hi_rel_) return true;
    return false;
  }

  static const char* level_name(int level) {
    static const char* names[] = {"tone", "range", "leap", "register", "scale"};
    return names[std::clamp(level - 1, 0, 4)];
  }

  // Samples a pitch token with relaxation; returns the model pitch.
  int sample_pitch(int cadence, int tone_rule_v, int tone_prev, bool also_rest, bool* chose_rest) {
    for (int level = 0; level <= 5; ++level) {
      if (!pitch_mask(level, cadence, tone_rule_v, tone_prev)) continue;
      if (also_rest) { allowed_[rest_] = 1; bias_[rest_] = rest_bias_; }
      if (level > 0) relaxations.push_back({level_name(level), (int)notes.size()});
      const int t = pick();
      if (t == rest_) { *chose_rest = true; return INT_MIN; }
      return (int)(std::find(pitch_tok_.begin(), pitch_tok_.end(), t) - pitch_tok_.begin()) + kPitchMin;
    }
    throw Error("internal", "no pitch is possible");
  }

  // Duration mask: d fits the bar and [lo, hi]; with need_beat the note must end on a beat.
  // Duration mask. Hard: the sixteenth grid (the eighth grid in sung phrases), the bar, `hi` (room
  // for what is still to sing) and the syncopation rule. Soft, dropped in this order when nothing
  // is left: the shortest duration `lo` ("pace"), then landing on a beat before a stressed syllable
  // ("stress"). `lo` above what the rules allow at all is lowered silently.
  int sample_duration(int lo, int hi, bool need_beat, int next_stress, bool prefer_long, double ideal = 0, bool sung = false) {
    const int be = bar_end();
    hi = std::min(hi, be - pos_);
    int max_ok = 0;
    for (int d : kDurations)
      if (d % 3 == 0 && d <= hi && metric_ok(pos_, d)) max_ok = std::max(max_ok, d);
    lo = std::min(lo, max_ok);
    for (int pass = 0; pass < 3; ++pass) {
      const bool keep_pace = pass == 0, keep_beat = pass < 2;
      clear_mask();
      bool any = false;
      for (int k = 0; k < kNumDurations; ++k) {
        const int d = kDurations[k];
        if (d % 3 || d > hi || !metric_ok(pos_, d)) continue;
        const int end = pos_ + d;
        if (keep_pace && d < lo) continue;
        if (sung && end % 6 && end != be) continue;  // sung notes start on the eighth grid
        const int w = spec_.meter.weight(end);
        if (keep_beat && need_beat && end != be && w == 0) continue;
        const int t = dur_tok_[k];
        allowed_[t] = 1;
        if (next_stress == 0 && w >= 2) bias_[t] -= 1.0f;
        if (next_stress == 1 && w >= 2) bias_[t] += 0.8f;  // primary stress: prefer the strong beats
        if (next_stress == 2 && w == 0) bias_[t] -= 0.7f;
        if (prefer_long && d >= spec_.meter.beat12()) bias_[t] += 1.0f;
        if (ideal > 0) bias_[t] -= 2.0f * (float)std::fabs(std::log2(d / ideal));
        any = true;
      }
      if (!any) continue;
      if (pass >= 1) relaxations.push_back({"pace", (int)notes.size()});
      if (pass == 2 && need_beat) relaxations.push_back({"stress", (int)notes.size()});
      const int t = pick();
      return kDurations[std::find(dur_tok_.begin(), dur_tok_.end(), t) - dur_tok_.begin()];
    }
    throw Error("internal", "no duration is possible (pos " + std::to_string(pos_) + ", lo " + std::to_string(lo) + ", hi " + std::to_string(hi) + ")");
  }

  void run_free(const Segment& s, int seg_end) {
    const int bar12 = spec_.meter.bar12(), beat = spec_.meter.beat12();
    const int last_bar_start = seg_end - bar12;
    const int half = std::max(beat, (bar12 / 2) / beat * beat);
    const int cad_at = last_bar_start + (half >= bar12 ? 0 : half);
    rest_bias_ = -1.5f;
    bool cad_done = false, last_rest = false;  // free tunes: no two rests in a row, a rest at most a beat
    while (pos_ < seg_end) {
      bar_check();
      if (cad_done) { emit_rest_fill(seg_end); break; }
      const bool final_note = pos_ >= cad_at;
      bool rest = false;
      const int rel = sample_pitch(final_note ? s.cadence : 0, 0, INT_MIN, !final_note && prev_ != INT_MIN && !last_rest, &rest);
      int limit = std::min(bar_end(), pos_ < cad_at ? cad_at : seg_end) - pos_;
      if (rest) {
        push(rest_);
        const int d = sample_duration(3, std::min(limit, spec_.meter.beat12()), false, -1, false);
        push(dur_tok_[std::find(kDurations, kDurations + kNumDurations, d) - kDurations]);
        pos_ += d;
        last_rest = true;
        continue;
      }
      last_rest = false;
      push(pitch_tok_[rel - kPitchMin]);
      int d;
      if (final_note) {
        const int k = largest_fit(limit);
        d = kDurations[k];
        push(dur_tok_[k]);
        cad_done = true;
      } else {
        d = sample_duration(3, limit, false, -1, false);
        push(dur_tok_[std::find(kDurations, kDurations + kNumDurations, d) - kDurations]);
      }
      notes.push_back({rel, pos_, d, -1, false});
      track(rel);
      pos_ += d;
    }
  }

  // Time to keep for k notes still to sing: minD each, and a beat for the phrase's last one when
  // the phrase has room for it.
  static int reserve(int k, int minD, int beat, int seg_len, int n) {
    if (k <= 0) return 0;
    const bool roomy = seg_len >= (n - 1) * minD + 2 * beat;
    return (k - 1) * minD + (roomy ? std::max(minD, beat) : minD);
  }

  void run_events(const Segment& s, int seg_start, int seg_end) {
    rest_bias_ = 0.0f;
    const int n = (int)s.events.size();
    const int beat = spec_.meter.beat12();
    bool sung = false;
    for (const Event& ev : s.events) sung = sung || ev.syl >= 0;
    const int minD = sung ? 6 : 3;  // an eighth a syllable (plans give every line that much room)
    int e = 0;
    int prev_syl_rel = INT_MIN, prev_tone = -1;
    bool last_was_syllable_note = false;
    bool word_open = false;  // the previous syllable's word continues
    while (pos_ < seg_end) {
      bar_check();
      if (e >= n) { emit_rest_fill(seg_end); break; }
      const Event& ev = s.events[e];
      if (e == n - 1 && ev.cadence && pos_ < seg_end - spec_.meter.bar12() && s.bars >= 2 && !word_open) {
        // the phrase's last syllable starts in its last bar: rest until then
        const int until = std::min(bar_end(), seg_end - spec_.meter.bar12());
        int k = kNumDurations - 1;
        while (k >= 0 && (kDurations[k] % 3 || kDurations[k] > until - pos_ || !metric_ok(pos_, kDurations[k]))) --k;
        if (k >= 0) {
          push(rest_);
          push(dur_tok_[k]);
          pos_ += kDurations[k];
          last_was_syllable_note = false;
          continue;
        }
      }
      const Syllable* sy = ev.syl >= 0 ? &syl_[ev.syl] : nullptr;
      const int remaining_after = n - e - 1;
      const int next_stress = sy ? sy->stress : -1;
      const bool hard_beat = next_stress == 1;
      // rest allowed? time left after the shortest rest must hold every remaining note
      const int room = seg_end - pos_ - reserve(n - e, minD, beat, seg_end - seg_start, n);  // spare time
      const bool rest_ok = !word_open && room >= (sung ? 6 : 3) && !(e == 0 && pos_ == seg_start && ev.forced != INT_MIN);
      // melisma: another note for the previous syllable
      const bool melisma_ok = spec_.melisma && last_was_syllable_note && room >= minD;
      int rel;
      bool rest = false, melisma_note = false;
      if (ev.forced != INT_MIN) {
        clear_mask();
        // the forced pitch (restyle), announced by <syl> when it carries a syllable; or a rest first
        allowed_[sy ? syl_tok_ : pitch_tok_[std::clamp(ev.forced, kPitchMin, kPitchMax) - kPitchMin]] = 1;
        if (rest_ok) allowed_[rest_] = 1;
        const int t = pick();
        if (t == rest_) rest = true;
        else if (t == syl_tok_) push(syl_tok_);
        rel = std::clamp(ev.forced, kPitchMin, kPitchMax);
      } else if (sy) {
        // <syl> (the next syllable), <r>, or a melisma pitch
        clear_mask();
        allowed_[syl_tok_] = 1;
        if (rest_ok) allowed_[rest_] = 1;
        bool any_mel = false;
        if (melisma_ok && pitch_mask(0, 0, 0, INT_MIN)) any_mel = true;
        if (melisma_ok && !any_mel) clear_mask();
        allowed_[syl_tok_] = 1;
        if (rest_ok) allowed_[rest_] = 1;
        const int t = pick();
        if (t == rest_) rest = true;
        else if (t == syl_tok_) push(syl_tok_);
        else { melisma_note = true; rel = (int)(std::find(pitch_tok_.begin(), pitch_tok_.end(), t) - pitch_tok_.begin()) + kPitchMin; }
        if (!rest && !melisma_note) {
          const int rule = (sy->tone >= 0 && prev_tone >= 0) ? tone_rule(prev_tone, sy->tone) : 0;
          bool dummy = false;
          rel = sample_pitch(ev.cadence, rule, rule ? prev_syl_rel : INT_MIN, false, &dummy);
        }
      } else {
        bool r2 = false;
        rel = sample_pitch(ev.cadence, 0, INT_MIN, rest_ok, &r2);
        rest = r2;
      }
      if (rest) {
        push(rest_);
        const int hi = seg_end - pos_ - reserve(n - e, minD, beat, seg_end - seg_start, n);
        const int d = sample_duration(std::min(minD, std::max(3, hi)), std::max(3, hi), hard_beat, next_stress, false, 0, sung);
        push(dur_tok_[std::find(kDurations, kDurations + kNumDurations, d) - kDurations]);
        pos_ += d;
        last_was_syllable_note = false;
        continue;
      }
      push(pitch_tok_[rel - kPitchMin]);
      // duration
      const Event* nxt = melisma_note ? &ev : (e + 1 < n ? &s.events[e + 1] : nullptr);
      const int ns = nxt && nxt->syl >= 0 ? syl_[nxt->syl].stress : -1;
      const int after = melisma_note ? (n - e) : remaining_after;
      const int hi = seg_end - pos_ - reserve(after, minD, beat, seg_end - seg_start, n);
      const bool last = !melisma_note && remaining_after == 0 && ev.cadence;
      int lo = last ? std::min(beat, bar_end() - pos_) : minD;
      // pacing: spread what is left over the notes still to come, the last one counting double
      // (the phrase's last syllable aims at the downbeat of its last bar)
      const int last_bar = seg_end - spec_.meter.bar12();
      const bool phrase_end = s.events.back().cadence != 0;
      const double ideal = !phrase_end ? std::max(3.0, (double)(seg_end - pos_) / (after + 1))
                           : last ? 0.0
                           : (last_bar > pos_ && after > 0) ? std::max(3.0, (double)(last_bar - pos_) / after)
                                                            : std::max(3.0, (double)(seg_end - pos_ - beat) / (after + 2));
      const int d = sample_duration(std::min(lo, std::max(3, hi)), std::max(3, hi), ns == 1 || last, ns, last, ideal, sung);
      push(dur_tok_[std::find(kDurations, kDurations + kNumDurations, d) - kDurations]);
      notes.push_back({rel, pos_, d, melisma_note ? notes.back().syl : ev.syl, melisma_note});
      track(rel);
      pos_ += d;
      if (!melisma_note) {
        if (sy) {
          prev_syl_rel = rel;
          prev_tone = sy->tone;
          word_open = !sy->text.empty() && sy->text.back() == '-';
        }
        ++e;
        last_was_syllable_note = sy != nullptr;
      } else {
        prev_syl_rel = rel;
        last_was_syllable_note = false;
      }
    }
  }

  // A repeated lyric line sings the earlier line's notes again (same syllable count and bars).
  bool copy_segment(const Segment& src, const Segment& dst) {
    if (src.bars != dst.bars || src.events.size() != dst.events.size() || src.events.empty()) return false;
    const int bar12 = spec_.meter.bar12();
    const int shift = (dst.first_bar - src.first_bar) * bar12;
    const int s0 = src.first_bar * bar12, s1 = (src.first_bar + src.bars) * bar12;
    std::vector<GenNote> copy;
    for (const GenNote& n : notes)
      if (n.start >= s0 && n.start < s1) copy.push_back(n);
    std::vector<GenNote> syl_notes;
    for (const GenNote& n : copy)
      if (!n.melisma) syl_notes.push_back(n);
    if (syl_notes.size() != dst.events.size()) return false;
    const bool to_tonic = dst.events.back().cadence == 2 && mod12(syl_notes.back().rel) != 0;
    size_t e = 0;
    std::vector<GenNote> out;
    for (GenNote n : copy) {
      n.start += shift;
      if (!n.melisma) n.syl = dst.events[e++].syl;
      else n.syl = out.empty() ? -1 : out.back().syl;
      out.push_back(n);
    }
    if (to_tonic) {  // the song's last line: same notes, but its final note moves to the nearest tonic
      GenNote& last = out.back();
      const int prev_rel = out.size() >= 2 ? out[out.size() - 2].rel : last.rel;
      int best = INT_MIN;
      for (int r = kPitchMin; r <= kPitchMax; ++r)
        if (mod12(r) == 0 && r >= lo_rel_ && r <= hi_rel_ && std::abs(r - prev_rel) <= 12 &&
            (best == INT_MIN || std::abs(r - last.rel) < std::abs(best - last.rel)))
          best = r;
      if (best == INT_MIN) return false;
      last.rel = best;
    }
    // feed the copied notes to the model so later lines follow on from them
    for (const GenNote& n : out) {
      while (pos_ < n.start) emit_rest_fill(n.start);
      bar_check();
      if (!n.melisma) push(syl_tok_);
      push(pitch_tok_[n.rel - kPitchMin]);
      push(dur_tok_[std::find(kDurations, kDurations + kNumDurations, n.dur) - kDurations]);
      notes.push_back(n);
      track(n.rel);
      pos_ += n.dur;
    }
    emit_rest_fill((dst.first_bar + dst.bars) * bar12);
    seg_note_end_.push_back((int)notes.size());
    return true;
  }
};

// ------------------------------------------------------------------------------------------ chords

struct Chord {
  int start = 0, dur = 0;  // twelfths
  int degree = 0;          // scale degree 0..6
  int root_pc = 0;
  int quality = 0;         // 0 major, 1 minor, 2 diminished, 3 augmented
};

void triad(const KeySpec& k, int deg, int* root, int* third, int* fifth, int* quality) {
  const int* s = k.scale();
  *root = s[deg];
  *third = s[(deg + 2) % 7] + (deg + 2 >= 7 ? 12 : 0);
  *fifth = s[(deg + 4) % 7] + (deg + 4 >= 7 ? 12 : 0);
  const int i3 = *third - *root, i5 = *fifth - *root;
  *quality = (i3 == 4 && i5 == 7) ? 0 : (i3 == 3 && i5 == 7) ? 1 : (i3 == 3 && i5 == 6) ? 2 : 3;
}

std::vector<Chord> infer_chords(const std::vector<GenNote>& notes, const KeySpec& key, const MeterSpec& meter, int total12,
                                const std::vector<std::pair<int, int>>& cadence_times) {
  const int bar12 = meter.bar12();
  const int beats = bar12 / meter.beat12();
  const int win = (beats >= 4 && beats % 2 == 0) ? bar12 / 2 : bar12;
  const int W = std::max(1, (total12 + win - 1) / win);
  int pcs[7][3], qual[7];
  for (int d = 0; d < 7; ++d) {
    int r, t, f;
    triad(key, d, &r, &t, &f, &qual[d]);
    pcs[d][0] = mod12(key.pc + r); pcs[d][1] = mod12(key.pc + t); pcs[d][2] = mod12(key.pc + f);
  }
  static const float prior[7] = {0.4f, 0.05f, 0.0f, 0.25f, 0.3f, 0.15f, -0.2f};
  std::vector<std::array<float, 7>> score(W);
  for (int w = 0; w < W; ++w)
    for (int d = 0; d < 7; ++d) score[w][d] = prior[d] * 0.3f - (qual[d] >= 2 ? 1.5f : 0.0f);
  for (const GenNote& n : notes) {
    const int pc = mod12(60 + key.pc + n.rel);
    for (int w = n.start / win; w < W && w * win < n.start + n.dur; ++w) {
      const int ov = std::min(n.start + n.dur, (w + 1) * win) - std::max(n.start, w * win);
      if (ov <= 0) continue;
      const float wt = (float)ov / 12.0f * (n.start >= w * win && meter.weight(n.start) >= 1 ? 1.5f : 1.0f);
      for (int d = 0; d < 7; ++d) {
        const bool tone = pc == pcs[d][0] || pc == pcs[d][1] || pc == pcs[d][2];
        score[w][d] += tone ? wt : -0.7f * wt;
      }
    }
  }
  for (const auto& [t, kind] : cadence_times) {  // phrase ends pull to I (or V); half cadences to V
    const int w = std::min(W - 1, t / win);
    score[w][0] += kind == 3 ? 0.0f : 0.6f;
    score[w][4] += kind == 3 ? 0.8f : 0.3f;
  }
  auto trans = [&](int a, int b) {
    float v = 0;
    if (a == b) v += 0.25f;
    if (a == 4 && b == 0) v += 0.5f;
    if ((a == 3 || a == 1) && b == 4) v += 0.3f;
    if (a == 0 && (b == 3 || b == 4)) v += 0.15f;
    if (a == 5 && (b == 1 || b == 3)) v += 0.15f;
    if (a == 4 && b == 3) v -= 0.3f;
    return v;
  };
  std::vector<std::array<float, 7>> best(W);
  std::vector<std::array<int, 7>> from(W);
  for (int d = 0; d < 7; ++d) best[0][d] = score[0][d] + (d == 0 ? 0.5f : 0.0f);
  for (int w = 1; w < W; ++w)
    for (int d = 0; d < 7; ++d) {
      float bv = -1e30f;
      int bi = 0;
      for (int p = 0; p < 7; ++p) {
        const float v = best[w - 1][p] + trans(p, d);
        if (v > bv) { bv = v; bi = p; }
      }
      best[w][d] = bv + score[w][d];
      from[w][d] = bi;
    }
  int cur = 0;  // end on the tonic chord
  std::vector<int> path(W);
  for (int w = W - 1; w >= 0; --w) {
    path[w] = cur;
    if (w > 0) cur = from[w][cur];
  }
  std::vector<Chord> out;
  for (int w = 0; w < W; ++w) {
    Chord c;
    c.start = w * win;
    c.dur = std::min(win, total12 - c.start);
    c.degree = path[w];
    c.root_pc = pcs[path[w]][0];
    c.quality = qual[path[w]];
    if (!out.empty() && out.back().degree == c.degree && c.start % bar12 != 0) {
      out.back().dur += c.dur;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string chord_symbol(const Chord& c, bool flats) {
  static const char* q[] = {"", "m", "dim", "+"};
  return pc_name(c.root_pc, flats) + q[c.quality];
}

std::string chord_roman(const Chord& c, const KeySpec& k) {
  static const char* up[] = {"I", "II", "III", "IV", "V", "VI", "VII"};
  static const int major[] = {0, 2, 4, 5, 7, 9, 11};
  const int off = k.scale()[c.degree] - major[c.degree];
  std::string r = up[c.degree];
  if (c.quality == 1 || c.quality == 2)
    for (char& ch : r) ch = (char)std::tolower((unsigned char)ch);
  return (off < 0 ? "b" : off > 0 ? "#" : "") + r + (c.quality == 2 ? "o" : c.quality == 3 ? "+" : "");
}

// ------------------------------------------------------------------------------------------ accompaniment

std::vector<MelodyNote> accompany(const std::vector<Chord>& chords, const KeySpec& key, const MeterSpec& meter,
                                  const std::string& kind, const std::string& style) {
  std::vector<MelodyNote> out;
  const int beat = meter.beat12();
  auto voicing = [&](const Chord& c, int* bass, int tones[3]) {
    *bass = 36 + c.root_pc;  // C2..B2
    int r, t, f, q;
    triad(key, c.degree, &r, &t, &f, &q);
    const int root = 48 + c.root_pc;  // C3..B3
    tones[0] = root; tones[1] = root + (t - r); tones[2] = root + (f - r);
  };
  auto add = [&](int p, int start, int dur, int vel) {
    if (dur <= 0) return;
    MelodyNote n;
    n.pitch = p; n.start = start / 12.0; n.duration = dur / 12.0; n.velocity = vel;
    out.push_back(n);
  };
  std::string pattern = kind;
  for (const Chord& c : chords) {
    int bass, tones[3];
    voicing(c, &bass, tones);
    const int s0 = c.start, s1 = c.start + c.dur;
    if (pattern == "block") {
      add(bass, s0, c.dur, 58);
      for (int t : tones) add(t, s0, c.dur, 52);
    } else if (pattern == "arpeggio") {
      const int step = 6;
      const int seq[6] = {bass, tones[0] + 7 - (tones[2] - tones[0] == 7 ? 0 : 0), tones[1], tones[2], tones[1] + 12, tones[2]};
      int k = 0;
      for (int t = s0; t < s1; t += step, ++k) add(k == 0 ? bass : seq[k % 6 == 0 ? 1 : k % 6], t, std::min(step, s1 - t), k == 0 ? 60 : 50);
    } else {  // pattern: the style's
      const bool compound = meter.compound();
      if (style == "hymn") {
        for (int t = s0; t < s1; t += beat) {
          add(bass, t, std::min(beat, s1 - t), 58);
          for (int x : tones) add(x, t, std::min(beat, s1 - t), 50);
        }
      } else if (compound) {  // jig, slip jig: bass on the beat, chord on the third eighth
        for (int t = s0; t < s1; t += beat) {
          add(bass, t, std::min(12, s1 - t), 62);
          for (int x : tones) add(x, t + 12, std::min(6, s1 - t - 12), 48);
        }
      } else if (meter.num == 3) {  // waltz: oom-pah-pah
        for (int t = s0; t < s1; t += beat) {
          if ((t % meter.bar12()) == 0) add(bass, t, std::min(beat, s1 - t), 62);
          else for (int x : tones) add(x, t, std::min(beat, s1 - t), 48);
        }
      } else if (style == "song" || style == "air") {  // bass then broken chord in eighths
        int k = 0;
        for (int t = s0; t < s1; t += 6, ++k) add(k == 0 ? bass : tones[(k - 1) % 3] + ((k - 1) / 3 % 2) * 12 * 0, t, std::min(6, s1 - t), k == 0 ? 60 : 46);
      } else {  // reel, hornpipe, polka, march: oom-pah
        int k = 0;
        for (int t = s0; t < s1; t += beat, ++k) {
          if (k % 2 == 0) add(k % 4 == 2 ? bass + 7 - (bass + 7 > 47 ? 12 : 0) : bass, t, std::min(beat, s1 - t), 62);
          else for (int x : tones) add(x, t, std::min(beat, s1 - t), 48);
        }
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const MelodyNote& a, const MelodyNote& b) { return a.start < b.start; });
  return out;
}

// ------------------------------------------------------------------------------------------ assembly

struct Song {
  DecodeSpec spec;
  double tempo = 96;
  int bars = 0;
  std::string title;
  std::string accompaniment = "none";
  Lyrics lyrics;
  std::vector<GenNote> notes;
  std::vector<Segment> segments;
  std::vector<Relaxation> relaxations;
  std::vector<std::string> remarks;
};

int bars_for(int n_syl, const MeterSpec& m, const std::string& style) {
  // the syllables at the style's pace plus a beat for the held last note, rounded to 1, 2, 4, 6, ...
  const double x = (n_syl * style_info(style).syl_q * 12.0 + m.beat12()) / m.bar12();
  int bars = 1;
  while (bars < x - 0.35 || bars * m.bar12() < n_syl * 6 + 6) bars = bars == 1 ? 2 : bars + 2;  // an eighth a syllable at least
  return bars;
}

// Lines -> segments, spreading `total_bars` (0: natural) over them.
std::vector<Segment> plan_lyric_segments(const Lyrics& L, const MeterSpec& m, const std::string& style, int total_bars,
                                         int first_bar, int final_cadence, std::vector<std::string>& remarks) {
  std::vector<int> want;
  for (const LyricLine& l : L.lines) want.push_back(bars_for((int)l.syl.size(), m, style));
  int sum = 0;
  for (int w : want) sum += w;
  if (total_bars > 0 && total_bars != sum) {
    if (total_bars < (int)L.lines.size())
      throw Error("invalid_field", "'bars' must be at least the number of lyric lines (" + std::to_string(L.lines.size()) + ")", {{"field", "bars"}});
    // largest remainder over the natural lengths, at least one bar a line
    std::vector<int> got(want.size(), 1);
    int left = total_bars - (int)want.size();
    std::vector<double> ideal(want.size());
    for (size_t i = 0; i < want.size(); ++i) ideal[i] = (double)want[i] * total_bars / sum;
    for (size_t i = 0; i < want.size(); ++i) {
      const int extra = std::min(left, std::max(0, (int)std::floor(ideal[i]) - 1));
      got[i] += extra;
      left -= extra;
    }
    while (left > 0) {
      size_t bi = 0;
      double bv = -1e9;
      for (size_t i = 0; i < want.size(); ++i)
        if (ideal[i] - got[i] > bv) { bv = ideal[i] - got[i]; bi = i; }
      got[bi]++;
      left--;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const int n = (int)L.lines[i].syl.size();
      if (got[i] * m.bar12() < n * 6)
        throw Error("invalid_field", "'bars' is too few: line " + std::to_string(i + 1) + " has " + std::to_string(n) +
                                         " syllables for " + std::to_string(got[i]) + " bar(s)", {{"field", "bars"}});
    }
    want = got;
    remarks.push_back("bars spread over the lines: " + [&] { std::string s; for (int w : want) s += (s.empty() ? "" : " ") + std::to_string(w); return s; }());
  }
  std::vector<Segment> segs;
  int bar = first_bar;
  for (size_t i = 0; i < L.lines.size(); ++i) {
    Segment s;
    s.first_bar = bar;
    s.bars = want[i];
    s.line = (int)i;
    for (int si : L.lines[i].syl) s.events.push_back({si, INT_MIN, 0});
    s.events.back().cadence = (i + 1 == L.lines.size()) ? final_cadence : 1;
    if (L.lines[i].repeat_of >= 0) s.copy_of = L.lines[i].repeat_of;
    bar += want[i];
    segs.push_back(s);
  }
  // a copy is only possible for a line with the same bars (and, for the last line, one that ends on
  // the tonic: MelodyDecoder::copy_segment checks)
  for (Segment& s : segs)
    if (s.copy_of >= 0 && segs[s.copy_of].bars != s.bars) s.copy_of = -1;
  return segs;
}

std::vector<Segment> plan_free_segments(int first_bar, int bars, int phrase = 4) {
  std::vector<Segment> segs;
  for (int b = 0; b < bars; b += phrase) {
    Segment s;
    s.first_bar = first_bar + b;
    s.bars = std::min(phrase, bars - b);
    // periods of two phrases: the first ends on a half cadence (degree 2, 5 or 7), the second on 1, 3 or 5
    const bool last = b + phrase >= bars;
    s.cadence = last ? 2 : (segs.size() % 2 == 0) ? 3 : 1;
    segs.push_back(s);
  }
  return segs;
}


json song_json(const Song& s, uint64_t seed, const std::string& task) {
  const KeySpec& key = s.spec.key;
  const MeterSpec& meter = s.spec.meter;
  const int bar12 = meter.bar12();
  const int total12 = s.bars * bar12;
  const int base = 60 + key.pc;
  const bool flats = key.fifths < 0;
  // cadence times: the last note of each segment
  // Phrases as the response reports them: a lyric line each; instrumental periods of two four-bar
  // phrases, the first ending on a half cadence.
  struct PhraseOut { int first_bar, bars, line, first, last, half_note; bool open_half; };
  std::vector<PhraseOut> phr;
  for (const Segment& seg : s.segments) {
    const int a = seg.first_bar * bar12, b = (seg.first_bar + seg.bars) * bar12;
    int first = -1, last = -1;
    for (int i = 0; i < (int)s.notes.size(); ++i)
      if (s.notes[i].start >= a && s.notes[i].start < b) { if (first < 0) first = i; last = i; }
    if (!phr.empty() && phr.back().open_half && seg.line < 0 && phr.back().first_bar + phr.back().bars == seg.first_bar) {
      PhraseOut& p = phr.back();
      p.bars += seg.bars;
      if (first >= 0) { if (p.first < 0) p.first = first; p.last = last; }
      p.open_half = false;
      continue;
    }
    const bool half = seg.cadence == 3 && seg.events.empty() && seg.line < 0;
    phr.push_back({seg.first_bar, seg.bars, seg.line, first, last, half ? last : -1, half});
  }
  std::vector<std::pair<int, int>> cad_times;
  for (const PhraseOut& p : phr) {
    if (p.last >= 0) cad_times.push_back({s.notes[p.last].start, 1});
    if (p.half_note >= 0 && p.half_note != p.last) cad_times.push_back({s.notes[p.half_note].start, 3});
  }
  const std::vector<Chord> chords = infer_chords(s.notes, key, meter, total12, cad_times);
  json notes = json::array();
  Melody mel;
  mel.title = s.title;
  mel.key_fifths = key.fifths;
  mel.minor = key.mode == "minor";
  mel.meter_num = meter.num;
  mel.meter_den = meter.den;
  mel.tempo_qpm = s.tempo;
  int in_key = 0, pitched = 0, max_leap = 0, lo = INT_MAX, hi = INT_MIN;
  std::vector<int> syl_notes(s.lyrics.syl.size(), 0);
  int prev = INT_MIN;
  for (const GenNote& n : s.notes) {
    const int p = base + n.rel;
    const int w = meter.weight(n.start);
    const int vel = w == 3 ? 92 : w == 2 ? 84 : w == 1 ? 78 : 70;
    json jn = {{"pitch", p}, {"start", n.start / 12.0}, {"duration", n.dur / 12.0}, {"velocity", vel}, {"bar", n.start / bar12}};
    MelodyNote mn;
    mn.pitch = p; mn.start = n.start / 12.0; mn.duration = n.dur / 12.0; mn.velocity = vel;
    if (n.syl >= 0 && !n.melisma) {
      const Syllable& sy = s.lyrics.syl[n.syl];
      jn["syllable"] = sy.text;
      jn["line"] = sy.line;
      if (sy.stress >= 0) jn["stress"] = sy.stress == 1 ? 1 : sy.stress == 2 ? 1 : 0;
      if (sy.stress >= 0) jn["stress_kind"] = sy.stress == 1 ? "primary" : sy.stress == 2 ? "content word" : "unstressed";
      if (sy.tone >= 0) jn["tone"] = sy.tone;
      mn.syllable = sy.text;
      syl_notes[n.syl]++;
    } else if (n.melisma) {
      jn["melisma"] = true;
    }
    notes.push_back(jn);
    mel.notes.push_back(mn);
    pitched++;
    in_key += key.in_scale(p);
    if (prev != INT_MIN) max_leap = std::max(max_leap, std::abs(p - prev));
    prev = p;
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
  json jchords = json::array();
  for (const Chord& c : chords) {
    const std::string sym = chord_symbol(c, flats);
    jchords.push_back({{"start", c.start / 12.0}, {"duration", c.dur / 12.0}, {"symbol", sym}, {"roman", chord_roman(c, key)}});
    mel.chords.push_back({c.start / 12.0, sym});
  }
  json acc = json::array();
  if (s.accompaniment != "none") {
    mel.accompaniment = accompany(chords, key, meter, s.accompaniment, s.spec.style);
    for (const MelodyNote& n : mel.accompaniment)
      acc.push_back({{"pitch", n.pitch}, {"start", n.start}, {"duration", n.duration}, {"velocity", n.velocity}});
  }
  // checks
  int aligned = 0, stressed = 0, stressed_on_beat = 0, tone_pairs = 0, tone_held = 0, cad_ok = 0, cad_n = 0;
  for (size_t i = 0; i < syl_notes.size(); ++i) aligned += syl_notes[i] == 1;
  int prev_tone = -1, prev_pitch = INT_MIN, prev_line = -1;
  const int* sc = key.scale();
  for (const GenNote& n : s.notes) {
    if (n.syl < 0 || n.melisma) continue;
    const Syllable& sy = s.lyrics.syl[n.syl];
    if (sy.stress == 1) { stressed++; stressed_on_beat += meter.weight(n.start) >= 1; }
    if (sy.tone >= 0 && prev_tone >= 0 && sy.line == prev_line) {
      const int rule = tone_rule(prev_tone, sy.tone);
      if (rule) { tone_pairs++; tone_held += tone_ok(rule, prev_pitch, base + n.rel); }
    }
    prev_tone = sy.tone;
    prev_pitch = base + n.rel;
    prev_line = sy.line;
  }
  json phrases = json::array();
  for (const PhraseOut& p : phr) {
    json ph = {{"first_bar", p.first_bar}, {"bars", p.bars}};
    if (p.line >= 0 && p.line < (int)s.lyrics.lines.size()) {
      ph["line"] = p.line;
      ph["text"] = s.lyrics.lines[p.line].text;
    }
    if (p.first >= 0) ph["notes"] = {p.first, p.last};
    if (p.half_note >= 0 && p.half_note != p.last) ph["half_cadence_note"] = p.half_note;
    const int last = p.last;
    if (last >= 0) {
      const int d = mod12(s.notes[last].rel);
      const bool stable = d == 0 || d == sc[2] || d == 7;
      ph["cadence"] = d == 0 ? "tonic" : stable ? "stable" : "open";
      cad_n++;
      cad_ok += stable;
    }
    phrases.push_back(ph);
  }
  json checks = {{"in_key", pitched ? (double)in_key / pitched : 1.0},
                 {"alignment", s.lyrics.syl.empty() ? json(nullptr) : json((double)aligned / s.lyrics.syl.size())},
                 {"cadence", cad_n ? json((double)cad_ok / cad_n) : json(nullptr)},
                 {"stress", stressed ? json((double)stressed_on_beat / stressed) : json(nullptr)},
                 {"tones", tone_pairs ? json((double)tone_held / tone_pairs) : json(nullptr)},
                 {"range", pitched ? hi - lo : 0},
                 {"max_leap", max_leap}};
  json relax = json::array();
  for (const Relaxation& r : s.relaxations) relax.push_back({{"rule", r.rule}, {"note", r.note}});
  json remarks = s.remarks;
  for (const std::string& r : s.lyrics.remarks) remarks.push_back(r);
  json lyr = json::array();
  for (const LyricLine& l : s.lyrics.lines) {
    json syls = json::array();
    for (int si : l.syl) syls.push_back(s.lyrics.syl[si].text);
    json jl = {{"text", l.text}, {"syllables", syls}};
    if (l.repeat_of >= 0) jl["repeat_of"] = l.repeat_of;
    lyr.push_back(jl);
  }
  json out = {{"task", task},
              {"seed", seed},
              {"style", s.spec.style},
              {"key", {{"tonic", key.tonic}, {"mode", key.mode}, {"fifths", key.fifths}}},
              {"meter", meter.str()},
              {"tempo", s.tempo},
              {"bars", s.bars},
              {"beats_per_bar", bar12 / 12.0},
              {"title", s.title},
              {"range_limit", s.spec.range},
              {"chromatic", s.spec.chromatic},
              {"melisma", s.spec.melisma},
              {"notes", notes},
              {"chords", jchords},
              {"phrases", phrases},
              {"lyrics", lyr},
              {"accompaniment_kind", s.accompaniment},
              {"accompaniment", acc},
              {"checks", checks},
              {"relaxations", relax},
              {"remarks", remarks}};
  out["abc"] = write_abc(mel);
  out["musicxml"] = write_musicxml(mel);
  out["midi"] = base64(write_midi(mel));
  return out;
}

void read_common(const Fields& f, Song& s) {
  s.spec.temperature = (float)f.number("temperature", s.spec.temperature, 0.0, 2.0);
  s.spec.range = (int)f.integer("range", s.spec.range, 7, 24);
  if (f.has("chromatic")) {
    if (!f.raw()["chromatic"].is_boolean()) throw Error("invalid_field", "'chromatic' must be true or false", {{"field", "chromatic"}});
    s.spec.chromatic = f.raw()["chromatic"].get<bool>();
  }
  if (f.has("melisma")) {
    if (!f.raw()["melisma"].is_boolean()) throw Error("invalid_field", "'melisma' must be true or false", {{"field", "melisma"}});
    s.spec.melisma = f.raw()["melisma"].get<bool>();
  }
  s.accompaniment = f.choice("accompaniment", {"none", "block", "arpeggio", "pattern"}, s.accompaniment);
  if (f.has("title")) s.title = f.text("title", false, 200);
}

std::shared_ptr<const GptModel> melody_model(Engine& eng) { return eng.model("melody"); }

void decode(Engine& eng, Song& s, const std::vector<GenNote>* prefix, int prefix_end12) {
  auto model = melody_model(eng);
  MelodyDecoder dec(*model, s.spec, s.lyrics.syl);
  if (prefix) dec.prefix(*prefix, prefix_end12);
  else dec.start();
  std::vector<Segment> todo;
  for (const Segment& seg : s.segments)
    if (seg.first_bar * s.spec.meter.bar12() >= prefix_end12) todo.push_back(seg);
  // copy_of indices refer to s.segments; keep them only if the source is in todo
  const size_t offset = s.segments.size() - todo.size();
  for (Segment& seg : todo) {
    if (seg.copy_of >= 0 && seg.copy_of >= (int)offset) seg.copy_of -= (int)offset;
    else seg.copy_of = -1;
  }
  dec.run(todo);
  s.notes = dec.notes;
  for (const Relaxation& r : dec.relaxations) s.relaxations.push_back(r);
}

}  // namespace

// ------------------------------------------------------------------------------------------ tasks

json task_generate_melody(Engine& eng, const json& req) {
  Fields f(req, {"task", "lyrics", "key", "mode", "meter", "tempo", "style", "bars", "seed", "temperature", "range",
                 "chromatic", "melisma", "accompaniment", "title"});
  Song s;
  s.spec.style = f.has("style") ? parse_style(f.text("style", true, 40), "style") : "song";
  const StyleInfo& si = style_info(s.spec.style);
  s.spec.key = parse_key(f.text("key", false, 4, "C"), f.text("mode", false, 20, "major"));
  s.spec.meter = parse_meter(f.text("meter", false, 8, si.meter));
  s.tempo = f.number("tempo", si.tempo, 30, 300);
  const uint64_t seed = f.seed("seed");
  s.spec.seed = seed;
  read_common(f, s);
  const int bars_req = (int)f.integer("bars", 0, 1, 256);
  if (f.has("bars") && bars_req == 0) throw Error("invalid_field", "'bars' must be 1..256", {{"field", "bars"}});
  if (f.has("lyrics") && !f.raw()["lyrics"].is_null()) {
    s.lyrics = parse_lyrics(f.raw()["lyrics"], *eng.phonetics(), "lyrics");
    s.spec.vocal = true;
    s.segments = plan_lyric_segments(s.lyrics, s.spec.meter, s.spec.style, bars_req, 0, 2, s.remarks);
    if (s.title.empty()) s.title = s.lyrics.lines[0].text.substr(0, 120);
  } else {
    s.segments = plan_free_segments(0, bars_req ? bars_req : 16);
    if (!f.has("range")) s.spec.range = 19;  // instruments: an octave and a fifth (real tunes' median is 17)
  }
  s.bars = 0;
  for (const Segment& seg : s.segments) s.bars = std::max(s.bars, seg.first_bar + seg.bars);
  if (s.bars > 256) throw Error("invalid_field", "the lyrics need " + std::to_string(s.bars) + " bars; at most 256 are written (give fewer lines)", {{"field", "lyrics"}});
  if (s.title.empty()) s.title = "Melody";
  decode(eng, s, nullptr, 0);
  return song_json(s, seed, "generate_melody");
}

namespace {

// Reads a melody object (a generate_melody response, or notes/key/meter/...) back into a Song.
Song read_melody(const json& m) {
  if (!m.is_object()) throw Error("invalid_field", "'melody' must be an object (a generate_melody response)", {{"field", "melody"}});
  auto str = [&](const char* k, const std::string& def) {
    if (!m.contains(k)) return def;
    if (!m[k].is_string()) throw Error("invalid_field", std::string("'melody.") + k + "' must be a string", {{"field", std::string("melody.") + k}});
    return m[k].get<std::string>();
  };
  Song s;
  std::string tonic = "C", mode = "major";
  if (m.contains("key")) {
    const json& k = m["key"];
    if (k.is_string()) tonic = k.get<std::string>();
    else if (k.is_object()) {
      if (k.contains("tonic") && k["tonic"].is_string()) tonic = k["tonic"].get<std::string>();
      if (k.contains("mode") && k["mode"].is_string()) mode = k["mode"].get<std::string>();
    } else throw Error("invalid_field", "'melody.key' must be a string or {tonic, mode}", {{"field", "melody.key"}});
  }
  mode = str("mode", mode);
  s.spec.key = parse_key(tonic, mode, "melody.key");
  s.spec.style = m.contains("style") ? parse_style(str("style", "song"), "melody.style") : "song";
  s.spec.meter = parse_meter(str("meter", style_info(s.spec.style).meter), "melody.meter");
  s.tempo = style_info(s.spec.style).tempo;
  if (m.contains("tempo")) {
    if (!m["tempo"].is_number() || m["tempo"].get<double>() < 30 || m["tempo"].get<double>() > 300)
      throw Error("invalid_field", "'melody.tempo' must be a number 30..300", {{"field", "melody.tempo"}});
    s.tempo = m["tempo"].get<double>();
  }
  s.title = str("title", "Melody");
  if (m.contains("range_limit") && m["range_limit"].is_number_integer()) s.spec.range = std::clamp(m["range_limit"].get<int>(), 7, 24);
  if (m.contains("chromatic") && m["chromatic"].is_boolean()) s.spec.chromatic = m["chromatic"].get<bool>();
  if (m.contains("melisma") && m["melisma"].is_boolean()) s.spec.melisma = m["melisma"].get<bool>();
  if (m.contains("accompaniment_kind") && m["accompaniment_kind"].is_string()) {
    const std::string a = m["accompaniment_kind"].get<std::string>();
    if (a == "none" || a == "block" || a == "arpeggio" || a == "pattern") s.accompaniment = a;
  }
  if (!m.contains("notes") || !m["notes"].is_array()) throw Error("invalid_field", "'melody.notes' must be an array", {{"field", "melody.notes"}});
  const json& ns = m["notes"];
  if (ns.size() > 20000) throw Error("invalid_field", "'melody.notes' has more than 20,000 notes", {{"field", "melody.notes"}});
  const int bar12 = s.spec.meter.bar12();
  const int base = 60 + s.spec.key.pc;
  int end12 = 0, prev_end = 0;
  std::map<int, int> line_of;  // line number -> lyric line index
  for (size_t i = 0; i < ns.size(); ++i) {
    const json& n = ns[i];
    const std::string fld = "melody.notes[" + std::to_string(i) + "]";
    if (!n.is_object() || !n.contains("pitch") || !n["pitch"].is_number_integer() || !n.contains("start") ||
        !n["start"].is_number() || !n.contains("duration") || !n["duration"].is_number())
      throw Error("invalid_field", fld + " needs integer pitch and numeric start, duration", {{"field", fld}});
    const int p = n["pitch"].get<int>();
    const double st = n["start"].get<double>(), du = n["duration"].get<double>();
    const int s12 = (int)std::lround(st * 12), d12 = (int)std::lround(du * 12);
    if (p < 0 || p > 127 || !(st >= 0) || !(du > 0) || st > 256 * 16 || du > 64 || std::fabs(st * 12 - s12) > 1e-6 || std::fabs(du * 12 - d12) > 1e-6)
      throw Error("invalid_field", fld + ": pitch 0..127, start >= 0 and duration > 0 on the 1/12-beat grid", {{"field", fld}});
    if (s12 < prev_end) throw Error("invalid_field", fld + " overlaps the previous note (melodies are monophonic, sorted by start)", {{"field", fld}});
    prev_end = s12 + d12;
    GenNote g;
    g.rel = p - base;
    if (g.rel < kPitchMin || g.rel > kPitchMax) throw Error("invalid_field", fld + ": pitch too far from the key's tonic for the model", {{"field", fld}});
    g.start = s12;
    g.dur = d12;
    if (n.contains("syllable") && n["syllable"].is_string()) {
      Syllable sy;
      sy.text = n["syllable"].get<std::string>();
      sy.line = n.contains("line") && n["line"].is_number_integer() ? n["line"].get<int>() : 0;
      if (n.contains("tone") && n["tone"].is_number_integer()) sy.tone = n["tone"].get<int>();
      if (n.contains("stress_kind") && n["stress_kind"].is_string()) {
        const std::string k = n["stress_kind"].get<std::string>();
        sy.stress = k == "primary" ? 1 : k == "content word" ? 2 : k == "unstressed" ? 0 : -1;
      }
      if (!line_of.count(sy.line)) {
        line_of[sy.line] = (int)s.lyrics.lines.size();
        s.lyrics.lines.push_back({});
      }
      const int li = line_of[sy.line];
      sy.line = li;
      s.lyrics.lines[li].syl.push_back((int)s.lyrics.syl.size());
      g.syl = (int)s.lyrics.syl.size();
      s.lyrics.syl.push_back(sy);
    } else if (n.contains("melisma") && n["melisma"] == true && !s.notes.empty()) {
      g.melisma = true;
      g.syl = s.notes.back().syl;
    }
    s.notes.push_back(g);
    end12 = std::max(end12, s12 + d12);
  }
  for (LyricLine& l : s.lyrics.lines)
    if (!l.syl.empty()) s.lyrics.syl[l.syl.back()].line_end = true;
  if (m.contains("lyrics") && m["lyrics"].is_array())
    for (size_t i = 0; i < m["lyrics"].size() && i < s.lyrics.lines.size(); ++i)
      if (m["lyrics"][i].is_object() && m["lyrics"][i].contains("text") && m["lyrics"][i]["text"].is_string())
        s.lyrics.lines[i].text = m["lyrics"][i]["text"].get<std::string>();
  s.spec.vocal = !s.lyrics.syl.empty();
  s.bars = std::max(1, (end12 + bar12 - 1) / bar12);
  if (m.contains("bars") && m["bars"].is_number_integer()) s.bars = std::clamp(m["bars"].get<int>(), s.bars, 256);
  if (s.bars > 256) throw Error("invalid_field", "'melody' is longer than 256 bars", {{"field", "melody.notes"}});
  // phrases: from the response when present, else one per lyric line or per 4 bars
  if (m.contains("phrases") && m["phrases"].is_array()) {
    for (const json& p : m["phrases"]) {
      if (!p.is_object() || !p.contains("first_bar") || !p["first_bar"].is_number_integer() || !p.contains("bars") || !p["bars"].is_number_integer()) continue;
      Segment seg;
      seg.first_bar = p["first_bar"].get<int>();
      seg.bars = p["bars"].get<int>();
      if (p.contains("line") && p["line"].is_number_integer()) seg.line = p["line"].get<int>();
      if (seg.first_bar < 0 || seg.bars < 1 || seg.first_bar + seg.bars > s.bars) continue;
      s.segments.push_back(seg);
    }
  }
  if (s.segments.empty()) s.segments = plan_free_segments(0, s.bars);
  return s;
}

// Notes of bars [a, b] as events (their syllables, with cadences where a line ends).
std::vector<Event> events_of(const Song& s, int a12, int b12, bool last_is_final) {
  std::vector<Event> ev;
  for (const GenNote& n : s.notes) {
    if (n.start < a12 || n.start >= b12 || n.melisma) continue;
    Event e;
    e.syl = n.syl;
    if (n.syl >= 0 && s.lyrics.syl[n.syl].line_end) e.cadence = 1;
    ev.push_back(e);
  }
  if (!ev.empty() && last_is_final && ev.back().cadence) ev.back().cadence = 2;
  return ev;
}

void rebuild_segments_after_edit(Song& s) {
  // keep segments within the song; add a free segment for uncovered bars at the end
  int covered = 0;
  for (const Segment& seg : s.segments) covered = std::max(covered, seg.first_bar + seg.bars);
  if (covered < s.bars) {
    auto more = plan_free_segments(covered, s.bars - covered);
    s.segments.insert(s.segments.end(), more.begin(), more.end());
  }
}

}  // namespace

json task_edit_melody(Engine& eng, const json& req) {
  Fields f(req, {"task", "melody", "action", "from", "to", "bars", "lyrics", "semitones", "key", "mode", "style", "meter",
                 "tempo", "seed", "temperature", "range", "chromatic", "melisma", "accompaniment", "title"});
  if (!f.has("melody")) throw Error("missing_field", "'melody' is required (a generate_melody response)", {{"field", "melody"}});
  const std::string action = f.choice("action", {"continue", "regenerate_bars", "transpose", "change_mode", "restyle", "accompany"}, "");
  if (action.empty()) throw Error("missing_field", "'action' is required: continue, regenerate_bars, transpose, change_mode, restyle or accompany", {{"field", "action"}});
  Song s = read_melody(f.raw()["melody"]);
  const uint64_t seed = f.seed("seed");
  s.spec.seed = seed;
  read_common(f, s);
  if (f.has("tempo")) s.tempo = f.number("tempo", s.tempo, 30, 300);
  const int bar12 = s.spec.meter.bar12();
  const int base_old = 60 + s.spec.key.pc;
  if (action == "transpose") {
    int semis;
    if (f.has("key")) {
      KeySpec nk = parse_key(f.text("key", true, 4), s.spec.key.mode);
      semis = mod12(nk.pc - s.spec.key.pc);
      if (semis > 6) semis -= 12;
      if (f.has("semitones")) throw Error("invalid_field", "give either 'key' or 'semitones', not both", {{"field", "semitones"}});
      s.spec.key = nk;
    } else {
      semis = (int)f.required_integer("semitones", -24, 24);
      static const char* sharp_names[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
      KeySpec nk;
      const int pc = mod12(s.spec.key.pc + semis);
      try { nk = parse_key(sharp_names[pc], s.spec.key.mode); }
      catch (const Error&) { nk = parse_key(pc_name(pc, true), s.spec.key.mode); }
      s.spec.key = nk;
    }
    // model pitches are relative to the tonic; absolute pitch moves by semis
    const int base_new = 60 + s.spec.key.pc;
    for (GenNote& n : s.notes) {
      const int p = base_old + n.rel + semis;
      if (p < 0 || p > 127) throw Error("invalid_field", "transposing moves a note outside MIDI's range", {{"field", "semitones"}});
      n.rel = p - base_new;
    }
    s.remarks.push_back("transposed by " + std::to_string(semis) + " semitones");
  } else if (action == "change_mode") {
    const std::string mode = f.text("mode", true, 20);
    KeySpec nk = parse_key(s.spec.key.tonic, mode, "mode");
    const int* a = s.spec.key.scale();
    const int* b = nk.scale();
    for (GenNote& n : s.notes) {
      const int oct = (int)std::floor(n.rel / 12.0), d = mod12(n.rel);
      int best = 0, bd = 99;
      for (int i = 0; i < 7; ++i)
        if (std::abs(a[i] - d) < bd) { bd = std::abs(a[i] - d); best = i; }
      n.rel = oct * 12 + b[best] + (d - a[best]);
    }
    s.spec.key = nk;
  } else if (action == "accompany") {
    if (!f.has("accompaniment")) throw Error("missing_field", "'accompaniment' is required: none, block, arpeggio or pattern", {{"field", "accompaniment"}});
  } else if (action == "regenerate_bars") {
    const int from = (int)f.required_integer("from", 0, s.bars - 1);
    const int to = (int)f.integer("to", from, from, s.bars - 1);
    const int a12 = from * bar12, b12 = (to + 1) * bar12;
    std::vector<GenNote> keep_after;
    for (const GenNote& n : s.notes)
      if (n.start >= b12) keep_after.push_back(n);
    // the region's events; a region holding syllables keeps them, one new note each
    const bool final_region = to == s.bars - 1;
    Segment seg;
    seg.first_bar = from;
    seg.bars = to - from + 1;
    seg.events = events_of(s, a12, b12, final_region);
    seg.cadence = final_region ? 2 : 1;
    std::vector<GenNote> before;
    for (const GenNote& n : s.notes)
      if (n.start < a12) {
        GenNote c = n;
        if (c.start + c.dur > a12) c.dur = a12 - c.start;
        before.push_back(c);
      }
    auto model = melody_model(eng);
    MelodyDecoder dec(*model, s.spec, s.lyrics.syl);
    dec.prefix(before, a12);
    dec.run({seg});
    s.notes = dec.notes;
    s.notes.insert(s.notes.end(), keep_after.begin(), keep_after.end());
    for (const Relaxation& r : dec.relaxations) s.relaxations.push_back(r);
    s.remarks.push_back("regenerated bars " + std::to_string(from) + ".." + std::to_string(to));
  } else if (action == "continue") {
    const int old_bars = s.bars;
    std::vector<Segment> more;
    if (f.has("lyrics")) {
      Lyrics L = parse_lyrics(f.raw()["lyrics"], *eng.phonetics(), "lyrics");
      // append the new lines' syllables after the old ones
      const int off_syl = (int)s.lyrics.syl.size(), off_line = (int)s.lyrics.lines.size();
      for (Syllable sy : L.syl) { sy.line += off_line; s.lyrics.syl.push_back(sy); }
      for (LyricLine l : L.lines) {
        for (int& x : l.syl) x += off_syl;
        if (l.repeat_of >= 0) l.repeat_of = -1;
        s.lyrics.lines.push_back(l);
      }
      for (const std::string& r : L.remarks) s.remarks.push_back(r);
      Lyrics tail;
      tail.syl = s.lyrics.syl;
      tail.lines.assign(s.lyrics.lines.begin() + off_line, s.lyrics.lines.end());
      const int nb = f.has("bars") ? (int)f.integer("bars", 0, 1, 256) : 0;
      more = plan_lyric_segments(tail, s.spec.meter, s.spec.style, nb, old_bars, 2, s.remarks);
      for (Segment& seg : more) { seg.line += off_line; seg.copy_of = -1; }
      s.spec.vocal = true;
    } else {
      const int nb = (int)f.integer("bars", 4, 1, 256);
      more = plan_free_segments(old_bars, nb);
    }
    int nb_total = old_bars;
    for (const Segment& seg : more) nb_total = std::max(nb_total, seg.first_bar + seg.bars);
    if (nb_total > 256) throw Error("invalid_field", "the melody would be longer than 256 bars", {{"field", "bars"}});
    auto model = melody_model(eng);
    MelodyDecoder dec(*model, s.spec, s.lyrics.syl);
    dec.prefix(s.notes, old_bars * bar12);
    dec.run(more);
    s.notes = dec.notes;
    for (const Relaxation& r : dec.relaxations) s.relaxations.push_back(r);
    s.segments.insert(s.segments.end(), more.begin(), more.end());
    s.bars = nb_total;
  } else if (action == "restyle") {
    const std::string style = parse_style(f.text("style", true, 40), "style");
    const StyleInfo& si = style_info(style);
    MeterSpec nm = parse_meter(f.text("meter", false, 8, si.meter));
    if (!f.has("tempo")) s.tempo = si.tempo;
    // events: every note keeps its pitch (and syllable); phrases keep their notes
    std::vector<Segment> segs;
    int bar = 0;
    std::vector<Segment> old = s.segments;
    if (old.empty()) old = plan_free_segments(0, s.bars);
    for (size_t k = 0; k < old.size(); ++k) {
      const int a12 = old[k].first_bar * bar12, b12 = (old[k].first_bar + old[k].bars) * bar12;
      Segment seg;
      seg.line = old[k].line;
      for (const GenNote& n : s.notes)
        if (n.start >= a12 && n.start < b12 && !n.melisma) {
          Event e;
          e.syl = n.syl;
          e.forced = n.rel;
          seg.events.push_back(e);
        }
      if (seg.events.empty()) continue;
      const double per = s.lyrics.syl.empty() ? si.note_q : si.syl_q;
      int nbars = std::max(1, (int)std::ceil((seg.events.size() + 1) * per * 12.0 / nm.bar12() - 1e-9));
      if (nbars > 1 && nbars % 2) ++nbars;
      const int per_note = s.lyrics.syl.empty() ? 3 : 6;  // sung notes get at least an eighth
      while (nbars * nm.bar12() < (int)seg.events.size() * per_note + per_note) ++nbars;
      seg.first_bar = bar;
      seg.bars = nbars;
      bar += nbars;
      segs.push_back(seg);
    }
    if (bar > 256) throw Error("invalid_field", "the restyled melody would be longer than 256 bars", {{"field", "style"}});
    s.spec.style = style;
    s.spec.meter = nm;
    auto model = melody_model(eng);
    MelodyDecoder dec(*model, s.spec, s.lyrics.syl);
    dec.start();
    dec.run(segs);
    s.notes = dec.notes;
    for (const Relaxation& r : dec.relaxations) s.relaxations.push_back(r);
    s.segments = segs;
    s.bars = bar;
    s.remarks.push_back("restyled as " + style + " in " + nm.str() + ": same pitches, new rhythm");
  }
  rebuild_segments_after_edit(s);
  json out = song_json(s, seed, "edit_melody");
  out["action"] = action;
  return out;
}

json task_render_melody(Engine& eng, const json& req) {
  Fields f(req, {"task", "notes", "key", "mode", "meter", "tempo", "chords", "accompaniment", "title"});
  (void)eng;
  std::string tonic = "C", mode = f.text("mode", false, 20, "major");
  if (f.has("key")) {
    const json& k = f.raw()["key"];
    if (k.is_string()) tonic = k.get<std::string>();
    else if (k.is_object() && k.contains("tonic") && k["tonic"].is_string()) {
      tonic = k["tonic"].get<std::string>();
      if (k.contains("mode") && k["mode"].is_string()) mode = k["mode"].get<std::string>();
    } else throw Error("invalid_field", "'key' must be a tonic or {tonic, mode}", {{"field", "key"}});
  }
  const KeySpec key = parse_key(tonic, mode);
  const MeterSpec meter = parse_meter(f.text("meter", false, 8, "4/4"));
  Melody mel;
  mel.title = f.text("title", false, 200, "Melody");
  mel.key_fifths = key.fifths;
  mel.minor = key.mode == "minor";
  mel.meter_num = meter.num;
  mel.meter_den = meter.den;
  mel.tempo_qpm = f.number("tempo", 120, 30, 300);
  auto read_notes = [&](const char* field, std::vector<MelodyNote>& out) {
    if (!f.has(field)) return;
    const json& ns = f.raw()[field];
    if (!ns.is_array() || ns.size() > 20000) throw Error("invalid_field", std::string("'") + field + "' must be an array of at most 20,000 notes", {{"field", field}});
    for (size_t i = 0; i < ns.size(); ++i) {
      const json& n = ns[i];
      const std::string fld = std::string(field) + "[" + std::to_string(i) + "]";
      if (!n.is_object() || !n.contains("pitch") || !n["pitch"].is_number_integer() || !n.contains("start") || !n["start"].is_number() ||
          !n.contains("duration") || !n["duration"].is_number())
        throw Error("invalid_field", fld + " needs integer pitch and numeric start, duration", {{"field", fld}});
      MelodyNote mn;
      mn.pitch = n["pitch"].get<int>();
      mn.start = n["start"].get<double>();
      mn.duration = n["duration"].get<double>();
      if (!(mn.start >= 0 && mn.start < 1e5 && mn.duration > 0 && mn.duration < 1e3))
        throw Error("invalid_field", fld + ": start and duration out of range", {{"field", fld}});
      if (n.contains("velocity") && n["velocity"].is_number_integer()) mn.velocity = n["velocity"].get<int>();
      if (n.contains("syllable") && n["syllable"].is_string()) mn.syllable = n["syllable"].get<std::string>();
      out.push_back(mn);
    }
  };
  if (!f.has("notes")) throw Error("missing_field", "'notes' is required", {{"field", "notes"}});
  read_notes("notes", mel.notes);
  read_notes("accompaniment", mel.accompaniment);
  if (f.has("chords")) {
    const json& cs = f.raw()["chords"];
    if (!cs.is_array()) throw Error("invalid_field", "'chords' must be an array of {start, symbol}", {{"field", "chords"}});
    for (const json& c : cs) {
      if (!c.is_object() || !c.contains("start") || !c["start"].is_number() || !c.contains("symbol") || !c["symbol"].is_string())
        throw Error("invalid_field", "'chords' entries need numeric start and string symbol", {{"field", "chords"}});
      mel.chords.push_back({c["start"].get<double>(), c["symbol"].get<std::string>()});
    }
  }
  return {{"task", "render_melody"}, {"abc", write_abc(mel)}, {"musicxml", write_musicxml(mel)}, {"midi", base64(write_midi(mel))}};
}

}  // namespace tunesmith
