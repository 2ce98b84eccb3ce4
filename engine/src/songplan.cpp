// Reading a song plan from a request: sections, chorus repeats, rhyme classes, syllable targets,
// keywords, words to avoid, mood. Everything is checked here, before any model is needed.
#include <algorithm>
#include <cctype>
#include <map>

#include "tunesmith/error.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/sampling.h"
#include "tunesmith/songwriter.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

namespace {

constexpr int kMaxSectionLines = 32, kMaxSections = 24, kMaxLines = 200;
constexpr int kMinSyl = 2, kMaxSyl = 24;

Error invalid(const char* field, const std::string& msg) {
  return Error("invalid_field", std::string("'") + field + "' " + msg, {{"field", field}});
}

std::string lower(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

struct Kind { const char* name; int default_lines; std::vector<const char*> aliases; };
const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"intro", 2, {"intro", "i", "前奏", "引子"}},
      {"verse", 4, {"verse", "v", "主歌"}},
      {"pre-chorus", 2, {"pre-chorus", "prechorus", "pre", "p", "pc", "导歌", "预副歌"}},
      {"chorus", 4, {"chorus", "c", "副歌"}},
      {"bridge", 4, {"bridge", "b", "桥段"}},
      {"outro", 2, {"outro", "o", "尾声"}},
      {"hook", 2, {"hook", "h"}},
  };
  return k;
}

const Kind* find_kind(const std::string& name) {
  const std::string n = lower(name);
  for (const Kind& k : kinds())
    for (const char* a : k.aliases)
      if (n == a) return &k;
  return nullptr;
}

std::string kind_names() {
  std::string s;
  for (const Kind& k : kinds()) {
    s += s.empty() ? "" : ", ";
    s += k.name;
  }
  return s + " (or V, C, P, B, I, O, H; 主歌, 副歌, 导歌, 桥段, 前奏, 尾声)";
}

struct RawSection {
  const Kind* kind = nullptr;
  int lines = 0;
  std::string scheme;           // from the object form
  json syllables;               // from the object form (int or array), null if absent
};

// "V4", "verse:4", "chorus", "副歌2" -> kind + count (0 = default).
RawSection parse_token(const std::string& tok) {
  std::string name = tok, count;
  const size_t colon = tok.find(':');
  if (colon != std::string::npos) {
    name = tok.substr(0, colon);
    count = tok.substr(colon + 1);
  } else {
    size_t e = tok.size();
    while (e > 0 && std::isdigit((unsigned char)tok[e - 1])) --e;
    name = tok.substr(0, e);
    count = tok.substr(e);
  }
  RawSection r;
  r.kind = find_kind(name);
  if (!r.kind) throw invalid("structure", "has an unknown section '" + tok + "' (sections: " + kind_names() + ")");
  if (!count.empty()) {
    if (count.size() > 3 || count.find_first_not_of("0123456789") != std::string::npos)
      throw invalid("structure", "section '" + tok + "': the line count must be a number");
    r.lines = std::stoi(count);
    if (r.lines < 1 || r.lines > kMaxSectionLines)
      throw invalid("structure", "section '" + tok + "' has " + count + " lines; a section has 1 to " + std::to_string(kMaxSectionLines));
  }
  return r;
}

void split_structure_string(const std::string& s, std::vector<RawSection>& out) {
  std::vector<std::string> toks;
  std::string cur;
  auto flush = [&] { if (!cur.empty()) toks.push_back(cur); cur.clear(); };
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '|' || c == '/' || c == ';' || c == '\t') flush();
    else cur += c;
  }
  flush();
  for (const std::string& t : toks) {
    if (find_kind(t) || t.find('-') == std::string::npos) { out.push_back(parse_token(t)); continue; }
    // "V-C-V-C": dashes as separators when the token is not itself a name like pre-chorus
    std::string part;
    for (char c : t + "-") {
      if (c == '-') { if (!part.empty()) out.push_back(parse_token(part)); part.clear(); }
      else part += c;
    }
  }
}

std::vector<RawSection> parse_structure(const json& v) {
  std::vector<RawSection> out;
  if (v.is_string()) {
    split_structure_string(v.get<std::string>(), out);
  } else if (v.is_array()) {
    for (const json& item : v) {
      if (item.is_string()) { split_structure_string(item.get<std::string>(), out); continue; }
      if (!item.is_object()) throw invalid("structure", "items must be section names or objects {\"section\", \"lines\", \"rhyme_scheme\", \"syllables\"}");
      for (auto it = item.begin(); it != item.end(); ++it)
        if (it.key() != "section" && it.key() != "lines" && it.key() != "rhyme_scheme" && it.key() != "syllables")
          throw invalid("structure", "item has an unknown key '" + it.key() + "' (keys: section, lines, rhyme_scheme, syllables)");
      if (!item.contains("section") || !item["section"].is_string())
        throw invalid("structure", "items need a \"section\" name");
      RawSection r = parse_token(item["section"].get<std::string>());
      if (item.contains("lines")) {
        const json& l = item["lines"];
        if (!l.is_number_integer() || l.get<long long>() < 1 || l.get<long long>() > kMaxSectionLines)
          throw invalid("structure", "\"lines\" must be an integer from 1 to " + std::to_string(kMaxSectionLines));
        r.lines = l.get<int>();
      }
      if (item.contains("rhyme_scheme")) {
        if (!item["rhyme_scheme"].is_string()) throw invalid("structure", "\"rhyme_scheme\" must be a string such as \"ABAB\"");
        r.scheme = item["rhyme_scheme"].get<std::string>();
        if (r.scheme.empty()) r.scheme = " ";  // explicitly none
      }
      if (item.contains("syllables")) r.syllables = item["syllables"];
      out.push_back(r);
    }
  } else {
    throw invalid("structure", "must be a string such as \"V C V C B C\" or an array of sections");
  }
  if (out.empty()) throw invalid("structure", "names no section");
  if ((int)out.size() > kMaxSections) throw invalid("structure", "has " + std::to_string(out.size()) + " sections; the limit is " + std::to_string(kMaxSections));
  for (RawSection& r : out)
    if (!r.lines) r.lines = r.kind->default_lines;
  return out;
}

// "ABAB" -> normalised letters ('X' = unrhymed); throws on anything else.
std::string parse_scheme(const std::string& s, const char* field) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t') continue;
    if (c == '-' || c == 'x' || c == 'X' || c == '*') { out += 'X'; continue; }
    const char u = (char)std::toupper((unsigned char)c);
    if (u < 'A' || u > 'Z') throw invalid(field, "must be letters such as \"AABB\" or \"ABAB\" (X or - for an unrhymed line)");
    out += u;
  }
  if ((int)out.size() > kMaxSectionLines) throw invalid(field, "is longer than any section can be");
  return out;
}

int syl_value(const json& v, const char* field) {
  if (!v.is_number_integer()) throw invalid(field, "values must be integers from " + std::to_string(kMinSyl) + " to " + std::to_string(kMaxSyl));
  const long long n = v.get<long long>();
  if (n < kMinSyl || n > kMaxSyl)
    throw invalid(field, "value " + std::to_string(n) + " is out of range: a line has " + std::to_string(kMinSyl) + " to " + std::to_string(kMaxSyl) + " syllables");
  return (int)n;
}

// Section-level syllables (int or array of the section's length) into targets.
void section_syllables(const json& v, const SectionPlan& s, std::vector<int>& targets, const char* field) {
  if (v.is_array()) {
    if ((int)v.size() != s.lines)
      throw invalid(field, "for " + s.label + " must have " + std::to_string(s.lines) + " entries (one per line), not " + std::to_string(v.size()));
    for (int i = 0; i < s.lines; ++i) targets[s.start + i] = syl_value(v[i], field);
  } else {
    const int n = syl_value(v, field);
    for (int i = 0; i < s.lines; ++i) targets[s.start + i] = n;
  }
}

std::string trim_ws(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

// Keywords and avoid lists: array of non-empty strings in the song's script.
std::vector<std::string> word_list(const json& req, const char* field, size_t max_items, size_t max_chars,
                                   const std::string& lang, bool strict_script, std::vector<std::string>& notes) {
  std::vector<std::string> out;
  if (!req.contains(field) || req[field].is_null()) return out;
  const json& v = req[field];
  if (!v.is_array()) throw invalid(field, "must be an array of strings");
  if (v.size() > max_items) throw invalid(field, "has " + std::to_string(v.size()) + " entries; the limit is " + std::to_string(max_items));
  for (const json& w : v) {
    if (!w.is_string()) throw invalid(field, "must be an array of strings");
    std::u32string cps;
    if (!utf8_decode(w.get<std::string>(), cps)) throw invalid(field, "has an entry that is not valid UTF-8");
    const std::string t = trim_ws(w.get<std::string>());
    utf8_decode(t, cps);
    if (cps.empty()) throw invalid(field, "has an empty entry");
    if (cps.size() > max_chars) throw invalid(field, "entry '" + t + "' is longer than " + std::to_string(max_chars) + " characters");
    bool ok = true;
    if (lang == "zh") {
      for (char32_t c : cps) ok = ok && is_cjk(c);
    } else {
      bool letter = false;
      for (char32_t c : cps) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letter = true;
        else if (c != ' ' && c != '\'' && c != 0x2019) ok = false;
      }
      ok = ok && letter;
    }
    if (!ok) {
      const std::string what = lang == "zh" ? "Chinese characters only (this song is in Chinese)"
                                            : "English letters, spaces and apostrophes only (this song is in English)";
      if (strict_script) throw invalid(field, "entry '" + t + "' must be " + what);
      notes.push_back(std::string(field) + " entry '" + t + "' cannot occur in a song in this language; ignored");
      continue;
    }
    std::string norm = t;
    if (lang == "en") {
      std::string tmp;
      for (char32_t c : cps) tmp += c == 0x2019 ? '\'' : (char)c;
      norm = tmp;
    }
    out.push_back(norm);
  }
  return out;
}

}  // namespace

bool canonical_mood(const std::string& requested, std::string& out) {
  static const std::vector<std::pair<const char*, std::vector<const char*>>> moods = {
      {"happy", {"happy", "joyful", "cheerful", "快乐", "欢快", "开心"}},
      {"sad", {"sad", "melancholy", "sorrowful", "悲伤", "伤感", "忧伤"}},
      {"tender", {"tender", "loving", "romantic", "温柔", "深情"}},
      {"defiant", {"defiant", "angry", "rebellious", "倔强", "反抗", "愤怒"}},
      {"calm", {"calm", "peaceful", "serene", "平静", "安静"}},
  };
  const std::string r = lower(trim_ws(requested));
  for (const auto& m : moods)
    for (const char* a : m.second)
      if (r == a) { out = m.first; return true; }
  return false;
}

SongPlan parse_song_plan(const json& req, const std::string& lang, uint64_t seed, const json* extra_structure) {
  SongPlan plan;
  // Sections.
  std::vector<RawSection> raw;
  const bool has_structure = req.contains("structure") && !req["structure"].is_null();
  if (has_structure) {
    raw = parse_structure(req["structure"]);
    plan.structured = true;
  } else {
    RawSection r;
    r.kind = find_kind("verse");
    r.lines = 8;
    if (req.contains("lyrics_length") && req["lyrics_length"].is_number_integer()) r.lines = req["lyrics_length"].get<int>();
    raw.push_back(r);
  }
  const size_t base_sections = raw.size();
  if (extra_structure) {
    std::vector<RawSection> more = parse_structure(*extra_structure);
    raw.insert(raw.end(), more.begin(), more.end());
    if ((int)raw.size() > kMaxSections) throw invalid("append", "makes the song longer than " + std::to_string(kMaxSections) + " sections");
  }
  int total = 0;
  for (const RawSection& r : raw) total += r.lines;
  if (total > kMaxLines) throw invalid(extra_structure ? "append" : "structure", "adds up to " + std::to_string(total) + " lines; the limit is " + std::to_string(kMaxLines));
  if (has_structure && req.contains("lyrics_length") && !req["lyrics_length"].is_null()) {
    int base = 0;
    for (size_t i = 0; i < base_sections; ++i) base += raw[i].lines;
    if (!req["lyrics_length"].is_number_integer() || req["lyrics_length"].get<long long>() != base)
      throw invalid("lyrics_length", "is " + req["lyrics_length"].dump() + " but the structure has " + std::to_string(base) + " lines; leave it out or make them agree");
  }
  const std::string chorus = req.contains("chorus") && !req["chorus"].is_null()
                                 ? (req["chorus"].is_string() ? req["chorus"].get<std::string>() : std::string("?"))
                                 : "repeat";
  if (chorus != "repeat" && chorus != "vary") throw invalid("chorus", "must be \"repeat\" or \"vary\"");
  plan.vary_chorus = chorus == "vary";

  std::map<std::string, int> count_by_kind, first_by_kind;
  int line = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    SectionPlan s;
    s.name = raw[i].kind->name;
    const int n = ++count_by_kind[s.name];
    std::string cap = s.name;
    cap[0] = (char)std::toupper((unsigned char)cap[0]);
    s.label = cap + " " + std::to_string(n);
    s.start = line;
    s.lines = raw[i].lines;
    if (s.name == "chorus" || s.name == "hook") {
      auto f = first_by_kind.find(s.name);
      if (f == first_by_kind.end()) first_by_kind[s.name] = (int)i;
      else if (plan.sections[f->second].lines == s.lines) s.repeat_of = f->second;
      else plan.notes.push_back(s.label + " has " + std::to_string(s.lines) + " lines and the first " + s.name + " " +
                                std::to_string(plan.sections[f->second].lines) + ", so it is written anew instead of repeated");
    }
    line += s.lines;
    plan.sections.push_back(s);
  }

  // Rhyme schemes: a global string, an object by section name, or per section in the structure.
  std::vector<std::string> scheme_of(plan.sections.size());
  std::vector<bool> explicit_scheme(plan.sections.size(), false);
  if (req.contains("rhyme_scheme") && !req["rhyme_scheme"].is_null()) {
    const json& rs = req["rhyme_scheme"];
    if (rs.is_string()) {
      const std::string sch = parse_scheme(rs.get<std::string>(), "rhyme_scheme");
      if (sch.empty()) throw invalid("rhyme_scheme", "must not be empty");
      for (auto& s : scheme_of) s = sch;
    } else if (rs.is_object()) {
      for (auto it = rs.begin(); it != rs.end(); ++it) {
        const Kind* k = find_kind(it.key());
        if (!k) throw invalid("rhyme_scheme", "names an unknown section '" + it.key() + "' (sections: " + kind_names() + ")");
        if (!it.value().is_string()) throw invalid("rhyme_scheme", "values must be strings such as \"ABAB\"");
        const std::string sch = parse_scheme(it.value().get<std::string>(), "rhyme_scheme");
        bool any = false;
        for (size_t i = 0; i < plan.sections.size(); ++i)
          if (plan.sections[i].name == k->name) { scheme_of[i] = sch; explicit_scheme[i] = true; any = true; }
        if (!any) throw invalid("rhyme_scheme", "names section '" + it.key() + "', which the structure does not have");
      }
    } else {
      throw invalid("rhyme_scheme", "must be a string such as \"ABAB\" or an object by section name");
    }
  }
  for (size_t i = 0; i < raw.size(); ++i)
    if (!raw[i].scheme.empty()) {
      scheme_of[i] = raw[i].scheme == " " ? "" : parse_scheme(raw[i].scheme, "structure");
      explicit_scheme[i] = true;
    }

  plan.lines.resize(line);
  for (size_t si = 0; si < plan.sections.size(); ++si) {
    SectionPlan& s = plan.sections[si];
    for (int k = 0; k < s.lines; ++k) { plan.lines[s.start + k].section = (int)si; plan.lines[s.start + k].in_section = k; }
    if (s.repeat_of >= 0) continue;  // takes its original's classes below
    std::string sch = scheme_of[si];
    if (sch.empty()) continue;
    const int len = (int)sch.size();
    if (len > s.lines) {
      if (explicit_scheme[si])
        throw invalid("rhyme_scheme", "'" + sch + "' has " + std::to_string(len) + " lines but " + s.label + " has " + std::to_string(s.lines));
      const std::string cut = sch.substr(0, s.lines);
      bool repeats = false;
      for (size_t a = 0; a < cut.size(); ++a)
        if (cut[a] != 'X' && cut.find(cut[a], a + 1) != std::string::npos) repeats = true;
      plan.notes.push_back("rhyme scheme '" + sch + "' is longer than " + s.label + " (" + std::to_string(s.lines) + " lines); it uses '" + cut + "'" +
                           (repeats ? "" : ", so its lines are unrhymed"));
      sch = cut;
    } else if (s.lines % len != 0) {
      if (explicit_scheme[si])
        throw invalid("rhyme_scheme", "'" + sch + "' (" + std::to_string(len) + " lines) does not divide " + s.label + " (" + std::to_string(s.lines) + " lines)");
      plan.notes.push_back("rhyme scheme '" + sch + "' repeats over " + s.label + " and is cut at its " + std::to_string(s.lines) + " lines");
    }
    std::string full;
    for (int k = 0; k < s.lines; ++k) full += sch[k % sch.size()];
    s.scheme = full;
    // Fresh classes for each repetition of the scheme; a letter used once in a block rhymes with
    // nothing and is left unrhymed.
    const int block = (int)sch.size();
    for (int b0 = 0; b0 < s.lines; b0 += block) {
      std::map<char, std::vector<int>> by_letter;
      for (int k = b0; k < std::min(s.lines, b0 + block); ++k)
        if (full[k] != 'X') by_letter[full[k]].push_back(k);
      for (auto& kv : by_letter) {
        if (kv.second.size() < 2) {
          for (int k : kv.second) plan.lines[s.start + k].letter = kv.first;
          continue;
        }
        const int cls = plan.classes++;
        for (int k : kv.second) { plan.lines[s.start + k].rhyme_class = cls; plan.lines[s.start + k].letter = kv.first; }
      }
    }
  }

  // Syllable targets.
  std::vector<int> targets(line, 0);
  if (req.contains("syllables") && !req["syllables"].is_null()) {
    const json& sy = req["syllables"];
    if (sy.is_number_integer()) {
      const int n = syl_value(sy, "syllables");
      std::fill(targets.begin(), targets.end(), n);
    } else if (sy.is_array()) {
      int base = 0;
      for (size_t i = 0; i < base_sections; ++i) base += plan.sections[i].lines;
      if ((int)sy.size() != base && (int)sy.size() != line)
        throw invalid("syllables", "has " + std::to_string(sy.size()) + " entries but the song has " + std::to_string(base) + " lines");
      for (size_t i = 0; i < sy.size(); ++i) targets[i] = syl_value(sy[i], "syllables");
    } else if (sy.is_object()) {
      for (auto it = sy.begin(); it != sy.end(); ++it) {
        const Kind* k = find_kind(it.key());
        if (!k) throw invalid("syllables", "names an unknown section '" + it.key() + "' (sections: " + kind_names() + ")");
        bool any = false;
        for (const SectionPlan& s : plan.sections)
          if (s.name == k->name) { section_syllables(it.value(), s, targets, "syllables"); any = true; }
        if (!any) throw invalid("syllables", "names section '" + it.key() + "', which the structure does not have");
      }
    } else {
      throw invalid("syllables", "must be an integer, an array with one entry per line, or an object by section name");
    }
  }
  for (size_t i = 0; i < raw.size(); ++i)
    if (!raw[i].syllables.is_null()) section_syllables(raw[i].syllables, plan.sections[i], targets, "structure");

  // A rhymed section without targets gets one line length, drawn from the seed, so rhymes can be
  // planned at a known position.
  Rng rng(seed ^ 0x5eed5eedULL);
  for (SectionPlan& s : plan.sections) {
    if (s.repeat_of >= 0 || s.scheme.empty()) continue;
    bool missing = false;
    for (int k = 0; k < s.lines; ++k) missing = missing || targets[s.start + k] == 0;
    if (!missing) continue;
    const int lo = lang == "zh" ? 5 : 6;
    const int n = lo + (int)(rng.next_u32() % 5);
    for (int k = 0; k < s.lines; ++k)
      if (!targets[s.start + k]) targets[s.start + k] = n;
    plan.notes.push_back(s.label + " is rhymed and had no syllable target: its lines get " + std::to_string(n) +
                         (lang == "zh" ? " characters" : " syllables"));
  }
  for (int i = 0; i < line; ++i) plan.lines[i].syllables = targets[i];

  // Repeated choruses copy their original's lines (all of them, or the first and last with
  // "vary"); varied lines keep the original's class and length.
  for (SectionPlan& s : plan.sections) {
    if (s.repeat_of < 0) continue;
    const SectionPlan& o = plan.sections[s.repeat_of];
    s.scheme = o.scheme;
    for (int k = 0; k < s.lines; ++k) {
      LinePlan& lp = plan.lines[s.start + k];
      const LinePlan& op = plan.lines[o.start + k];
      lp.rhyme_class = op.rhyme_class;
      lp.letter = op.letter;
      lp.syllables = op.syllables;
      if (!plan.vary_chorus || k == 0 || k == s.lines - 1 || s.lines <= 2) lp.repeat_of = o.start + k;
    }
  }

  // Mood, keywords, avoid, originality.
  if (req.contains("mood") && !req["mood"].is_null()) {
    if (!req["mood"].is_string()) throw invalid("mood", "must be a string");
    plan.mood_requested = req["mood"].get<std::string>();
    if (!canonical_mood(req["mood"].get<std::string>(), plan.mood))
      throw invalid("mood", "'" + req["mood"].get<std::string>() + "' is not a mood tunesmith knows (happy, sad, tender, defiant, calm; 快乐, 悲伤, 温柔, 倔强, 平静)");
  }
  plan.keywords = word_list(req, "keywords", 8, 24, lang, true, plan.notes);
  plan.avoid = word_list(req, "avoid", 64, 40, lang, false, plan.notes);
  for (const std::string& k : plan.keywords)
    for (const std::string& a : plan.avoid)
      if (lower(k).find(lower(a)) != std::string::npos)
        throw invalid("avoid", "'" + a + "' is part of keyword '" + k + "', which must appear");
  if (req.contains("originality") && !req["originality"].is_null()) {
    if (!req["originality"].is_boolean()) throw invalid("originality", "must be true or false");
    plan.originality = req["originality"].get<bool>();
  }
  return plan;
}

void place_keywords(SongPlan& plan, const std::string& lang, const Phonetics& ph) {
  if (plan.keywords.empty()) return;
  // Candidate lines: the opening line of the first chorus, then the other section openings, then
  // every other line that is written (not a repeat).
  std::vector<int> order;
  auto push = [&](int i) {
    if (plan.lines[i].repeat_of < 0 && plan.lines[i].keyword < 0 && std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  };
  for (const SectionPlan& s : plan.sections)
    if (s.name == "chorus" && s.repeat_of < 0) { push(s.start); break; }
  for (const SectionPlan& s : plan.sections) push(s.start);
  for (int i = 0; i < (int)plan.lines.size(); ++i) push(i);
  std::vector<bool> used(plan.lines.size(), false);
  for (size_t k = 0; k < plan.keywords.size(); ++k) {
    const std::string& kw = plan.keywords[k];
    int need;
    if (lang == "zh") {
      std::u32string c;
      utf8_decode(kw, c);
      need = (int)c.size();
    } else {
      need = ph.en_syllables_line(kw);
    }
    int chosen = -1;
    for (int i : order) {
      if (used[i]) continue;
      const LinePlan& lp = plan.lines[i];
      const int room = lp.syllables ? lp.syllables - (lp.rhyme_class >= 0 ? 1 : 0) : (lang == "zh" ? 20 : 12);
      if (need <= room) { chosen = i; break; }
    }
    if (chosen < 0)
      throw invalid("keywords", "'" + kw + "' (" + std::to_string(need) + (lang == "zh" ? " characters" : " syllables") +
                                    ") does not fit in any line of this plan (a rhymed line keeps its last syllable for the rhyme)");
    used[chosen] = true;
    plan.lines[chosen].keyword = (int)k;
  }
}

json SongPlan::describe() const {
  json out = json::array();
  for (const SectionPlan& s : sections) {
    json syl = json::array();
    for (int k = 0; k < s.lines; ++k) syl.push_back(lines[s.start + k].syllables);
    json j = {{"section", s.name}, {"label", s.label}, {"start", s.start}, {"lines", s.lines},
              {"rhyme_scheme", s.scheme.empty() ? json(nullptr) : json(s.scheme)}, {"syllables", syl}};
    if (s.repeat_of >= 0) j["repeats"] = sections[s.repeat_of].label;
    out.push_back(j);
  }
  return out;
}

}  // namespace tunesmith
