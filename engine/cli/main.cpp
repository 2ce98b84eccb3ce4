// Native CLI: a thin adapter that turns arguments into a request for tunesmith::Engine and prints
// the response. Same syntax and the same stdout as the npm package's bin (web/src/cli.mjs); the
// usage text below is the reference (kept identical in both).
// Exit status 0 on success, 1 with the error JSON on stderr otherwise, 2 for usage errors.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunesmith/api.h"

using nlohmann::json;

static const char* kUsage =
    "usage:\n"
    "  tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X]\n"
    "      [--top-k N] [--top-p X] [--repetition-penalty X]\n"
    "      [--structure \"V C V C B C\"] [--rhyme ABAB | --rhyme verse:ABAB,chorus:AABB]\n"
    "      [--syllables N | N,N,... (one per line) | verse:N,chorus:N] [--mood M]\n"
    "      [--keywords a,b] [--avoid a,b] [--chorus repeat|vary] [--no-originality] [--json]\n"
    "  tunesmith edit --song FILE.json (--regenerate-line I | --regenerate-unlocked [--lock I,J,...]\n"
    "      | --continue [--append \"C\"]) [--chorus repeat|vary] [--seed N] [--json]\n"
    "      FILE.json (- = stdin) is the output of \"lyrics --json\" or \"edit --json\". Its plan is sent\n"
    "      again with its lines: title, style, language, sampler settings, each section with its\n"
    "      rhyme scheme and line lengths, chorus mode, mood, keywords, avoid, originality.\n"
    "      Line indices start at 0.\n"
    "  tunesmith title (--lyrics-file F | --theme T) [--count N] [--lang zh|en] [--style S] [--seed N] [--json]\n"
    "  tunesmith analyze-lyrics FILE|- [--lang zh|en] [--json]\n"
    "  tunesmith melody [--lyrics FILE|-] [--key G] [--mode major] [--meter 6/8] [--tempo 120]\n"
    "      [--style jig] [--bars 16] [--seed N] [--temperature X] [--range N] [--chromatic] [--melisma]\n"
    "      [--accompaniment none|block|arpeggio|pattern] [--title T] [--out PREFIX]\n"
    "      --lyrics: a text file (one phrase a line) or the output of \"lyrics --json\" (its lines).\n"
    "      With --out: writes PREFIX.mid, PREFIX.musicxml and PREFIX.abc and prints their names;\n"
    "      otherwise prints the response JSON (docs/melody-api.md).\n"
    "  tunesmith melody-edit --melody FILE.json --action transpose --semitones 2 [--out PREFIX]\n"
    "      --action continue [--bars N] [--lyrics FILE] | regenerate_bars --from I --to J |\n"
    "      transpose (--semitones N | --key K) | change_mode --mode M |\n"
    "      restyle --style S [--meter M] [--tempo N] | accompany --accompaniment A;\n"
    "      any action also takes --seed --temperature --range --chromatic --accompaniment --title.\n"
    "      FILE.json (- = stdin) is the output of \"melody\" or \"melody-edit\" (without --out).\n"
    "  tunesmith analyze FILE.wav [--json]\n"
    "      Key, tempo, loudness and a timeline of one WAV file (docs/listen-api.md); --json prints\n"
    "      the whole response (beats, segments, pictures, evidence).\n"
    "  tunesmith request ['<json>']     (reads the request JSON from stdin when no argument is given)\n"
    "  tunesmith info\n"
    "  tunesmith serve [--port N] [--host H] [--workers N] [--queue N] [--timeout S] [--cors ORIGIN]\n"
    "      HTTP mode on http://127.0.0.1:8787/ (--port 0: any free port): POST /generate_lyrics (JSON\n"
    "      or form: song_title, song_style, lyrics_length), POST /TASK for every task, GET /health.\n"
    "options for all: --models DIR  --threads N|auto\n"
    "Output without --json: lyrics as they are written, with [Section] headers when --structure is\n"
    "given (edit: always); notes and relaxed constraints on stderr; title: one title a line;\n"
    "analyze-lyrics: mood, valence and text of each line, then the whole song's.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

static int usage(const std::string& why) {
  std::cerr << "tunesmith: " << why << "\n" << kUsage;
  return 2;
}

// ------------------------------------------------------------------------------ value parsing
// Kept in step with web/src/cli.mjs.

static std::string trim(const std::string& s) {  // spaces and tabs only
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

// Comma lists: ',' and the Chinese '，' and '、'; empty items are dropped.
static bool has_separator(const std::string& s) {
  return s.find(',') != std::string::npos || s.find("\xEF\xBC\x8C") != std::string::npos || s.find("\xE3\x80\x81") != std::string::npos;
}
static std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const std::string t = trim(cur);
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ',') { flush(); i += 1; }
    else if (s.compare(i, 3, "\xEF\xBC\x8C") == 0 || s.compare(i, 3, "\xE3\x80\x81") == 0) { flush(); i += 3; }
    else cur += s[i++];
  }
  flush();
  return out;
}

static json to_int(const std::string& flag, const std::string& s) {
  const std::string t = trim(s);
  size_t i = (!t.empty() && (t[0] == '+' || t[0] == '-')) ? 1 : 0;
  bool ok = i < t.size();
  for (size_t k = i; k < t.size(); ++k) ok = ok && t[k] >= '0' && t[k] <= '9';
  if (!ok) throw UsageError("--" + flag + " needs an integer, got \"" + s + "\"");
  // As Number() reads it in JS: sign, leading zeros dropped; big values become doubles.
  std::string digits = t.substr(i);
  while (digits.size() > 1 && digits[0] == '0') digits.erase(0, 1);
  json j = json::parse((t[0] == '-' ? "-" : "") + digits, nullptr, false);
  if (j.is_discarded()) throw UsageError("--" + flag + " needs an integer, got \"" + s + "\"");
  return j;
}

static json to_number(const std::string& flag, const std::string& s) {
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_number()) throw UsageError("--" + flag + " needs a number, got '" + s + "'");
  return j;
}

// --rhyme and --syllables: a value for every line, or section:value pairs.
static json by_section_or(const std::string& flag, const std::string& s, bool scheme) {
  const std::vector<std::string> items = split_list(s);
  bool named = false;
  for (const std::string& x : items) named = named || x.find(':') != std::string::npos;
  if (named) {
    json obj = json::object();
    for (const std::string& item : items) {
      const size_t at = item.find(':');
      if (at == std::string::npos || at == 0) throw UsageError("--" + flag + ": \"" + item + "\" is not section:value");
      const std::string name = trim(item.substr(0, at)), v = trim(item.substr(at + 1));
      obj[name] = scheme ? json(v) : to_int(flag, v);
    }
    return obj;
  }
  if (scheme) return s;
  if (items.empty()) throw UsageError("--" + flag + " needs an integer or a comma list of integers");
  json nums = json::array();
  for (const std::string& x : items) nums.push_back(to_int(flag, x));
  if (nums.size() == 1 && !has_separator(s)) return nums[0];
  return nums;
}

static json string_list(const std::string& s) {
  json a = json::array();
  for (const std::string& x : split_list(s)) a.push_back(x);
  return a;
}

static std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

static std::string read_text(const std::string& file, const std::string& what) {
  if (file == "-") return read_all(std::cin);
  std::ifstream f(file, std::ios::binary);
  if (!f) throw UsageError(what + ": cannot read " + file);
  return read_all(f);
}

// analyze FILE: the file goes to the engine in 1 MiB pieces over an analyze_audio session
// ({"session", "final"}: docs/listen-api.md), so neither this process nor the engine's WAV decoder
// ever holds the whole file (a 2-hour WAV: ~20 MB of memory instead of twice the file). A file that
// fits in one piece goes in one plain request, as before. The answer is the one-shot request's:
// the session's "session" field is dropped.
static std::string analyze_file(tunesmith::Engine& engine, const json& req, std::istream& in) {
  constexpr size_t kPiece = 1 << 20;
  std::string cur, next;
  auto fill = [&](std::string& buf) {
    buf.resize(kPiece);
    in.read(&buf[0], static_cast<std::streamsize>(kPiece));
    buf.resize(static_cast<size_t>(in.gcount()));
  };
  fill(cur);
  fill(next);
  if (next.empty()) return engine.request(req.dump(), nullptr, cur);
  const std::string session = "cli";
  for (bool first = true;; first = false) {
    const bool last = next.empty();
    json r = first ? req : json{{"task", "analyze_audio"}};  // the options go with the first piece
    r["session"] = session;
    r["final"] = last;
    const std::string out = engine.request(r.dump(), nullptr, cur);
    json resp = json::parse(out);
    if (resp.contains("error")) return out;  // the engine has ended the session
    if (last) {
      resp.erase("session");
      return resp.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    std::swap(cur, next);
    fill(next);
  }
}

// ------------------------------------------------------------------------------ edit requests

// The plan of a song the engine wrote, as request fields (same as songPlan() in web/src/index.mjs).
static json song_plan(const json& song) {
  json plan = json::object();
  if (song.contains("title") && song["title"].is_string()) plan["song_title"] = song["title"];
  if (song.contains("style") && song["style"].is_object()) {
    const json& r = song["style"].value("requested", json());
    if (r.is_string() && !r.get<std::string>().empty()) plan["song_style"] = r;
  }
  if (song.contains("language") && song["language"].is_string() && !song["language"].get<std::string>().empty()) plan["language"] = song["language"];
  if (song.contains("temperature") && song["temperature"].is_number()) plan["temperature"] = song["temperature"];
  for (const char* k : {"top_k", "top_p", "repetition_penalty"})
    if (song.contains(k) && song[k].is_number()) plan[k] = song[k];
  const json sections = song.contains("sections") && song["sections"].is_array() ? song["sections"] : json::array();
  const json lines = song.contains("lines") && song["lines"].is_array() ? song["lines"] : json::array();
  if (!sections.empty()) {
    json structure = json::array();
    bool vary = false;
    for (const json& s : sections) {
      if (!s.is_object()) continue;
      json item = {{"section", s.value("section", json())}, {"lines", s.value("lines", json())}};
      const json rs = s.value("rhyme_scheme", json());
      if (rs.is_string() && !rs.get<std::string>().empty()) item["rhyme_scheme"] = rs;
      const json sy = s.value("syllables", json());
      if (sy.is_array() && s.value("lines", json()).is_number() && (double)sy.size() == s["lines"].get<double>()) {
        bool all = true;
        for (const json& n : sy) all = all && n.is_number_integer() && n.get<long long>() > 0;
        if (all) item["syllables"] = sy;
      }
      structure.push_back(item);
      if (s.contains("repeats") && !s["repeats"].is_null() && !(s["repeats"].is_string() && s["repeats"].get<std::string>().empty()) &&
          s.value("start", json()).is_number_integer() && s.value("lines", json()).is_number_integer()) {
        const long long a = s["start"].get<long long>(), n = s["lines"].get<long long>();
        for (long long i = std::max(0LL, a); i < a + n && i < (long long)lines.size(); ++i) {
          const json& l = lines[(size_t)i];
          if (l.is_object() && (!l.contains("repeat_of") || l["repeat_of"].is_null())) vary = true;
        }
      }
    }
    plan["structure"] = structure;
    if (vary || song.value("chorus", json()) == "vary") plan["chorus"] = "vary";
  } else if (!lines.empty()) {
    plan["lyrics_length"] = lines.size();
  }
  if (song.contains("mood") && song["mood"].is_object()) {
    json m = song["mood"].value("requested", json());
    if (!m.is_string() || m.get<std::string>().empty()) m = song["mood"].value("used", json());
    if (m.is_string() && !m.get<std::string>().empty()) plan["mood"] = m;
  }
  if (song.contains("constraints") && song["constraints"].is_object()) {
    const json& c = song["constraints"];
    if (c.contains("keywords") && c["keywords"].is_object()) {
      const json kw = c["keywords"].value("required", json());
      if (kw.is_array() && !kw.empty()) plan["keywords"] = kw;
    }
    if (c.contains("avoid") && c["avoid"].is_object()) {
      const json av = c["avoid"].value("words", json());
      if (av.is_array() && !av.empty()) plan["avoid"] = av;
    }
  }
  if (song.contains("originality") && song["originality"].is_object() && song["originality"].value("enabled", json()) == json(false))
    plan["originality"] = false;
  return plan;
}

// ------------------------------------------------------------------------------ human output
// Kept identical to web/src/cli.mjs.

struct SongPrinter {
  bool headers = false;
  long long next = 0;
  std::string label;
  bool have_label = false, any = false;
  void print(const json& l) {
    const std::string lab = l.contains("label") && l["label"].is_string() ? l["label"].get<std::string>() : "";
    if (headers && !lab.empty() && (!have_label || lab != label)) {
      std::cout << (any ? "\n" : "") << "[" << lab << "]\n";
      label = lab;
      have_label = true;
    }
    std::cout << (l.contains("text") && l["text"].is_string() ? l["text"].get<std::string>() : "") << "\n";
    std::cout.flush();
    any = true;
    next = l.value("index", next) + 1;
  }
  void on_event(const json& ev) {
    if (ev.value("event", "") == "line" && ev.value("index", -1LL) == next) print(ev);
  }
  void finish(const json& res) {
    if (!res.contains("lines") || !res["lines"].is_array()) return;
    for (const json& l : res["lines"])
      if (l.value("index", -1LL) >= next) print(l);
  }
};

static void print_remarks(const json& res) {
  for (const char* key : {"notes", "relaxations"}) {
    if (!res.contains(key) || !res[key].is_array()) continue;
    for (const json& n : res[key])
      std::cerr << (std::string(key) == "notes" ? "note: " : "relaxed: ") << (n.is_string() ? n.get<std::string>() : n.dump()) << "\n";
  }
}

// x with two decimals, rounded half up: floor(x * 100 + 0.5), as the JS CLI does.
static std::string fixed2(const json& v, bool is_signed) {
  const double x = v.is_number() ? v.get<double>() : NAN;
  const double r = std::floor(x * 100 + 0.5);
  if (!std::isfinite(r)) return "NaN";
  const long long a = (long long)std::fabs(r);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", r < 0 ? "-" : (is_signed ? "+" : ""), a / 100, a % 100);
  return buf;
}

static std::string str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "undefined";
  return v.dump();
}

static void print_analysis(const json& res) {
  if (res.contains("lines") && res["lines"].is_array())
    for (const json& l : res["lines"]) {
      std::string label = str(l.value("label", json()));
      while (label.size() < 8) label += ' ';
      std::cout << label << " " << fixed2(l.value("valence", json()), true) << "  " << str(l.value("text", json())) << "\n";
    }
  const json o = res.value("overall", json::object());
  std::cout << "overall: " << str(o.value("label", json())) << " (valence " << fixed2(o.value("valence", json()), true)
            << ", confidence " << fixed2(o.value("confidence", json()), false) << ")\n";
}

// analyze without --json: one line per answer, then the warnings.
static void print_audio(const json& r) {
  auto num = [](const json& v, int digits) {
    if (!v.is_number()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v.get<double>());
    return std::string(buf);
  };
  const json& k = r["key"];
  std::cout << "key: " << (k["name"].is_string() ? k["name"].get<std::string>() : std::string("none")) << " (confidence "
            << num(k["confidence"], 2) << ")\n";
  const json& t = r["tempo"];
  std::cout << "tempo: " << num(t["bpm"], 1) << " BPM (confidence " << num(t["confidence"], 2) << ", " << t.value("beat_count", 0)
            << " beats)\n";
  const json& l = r["loudness"];
  std::cout << "loudness: " << num(l["integrated_lufs"], 1) << " LUFS integrated, range " << num(l["loudness_range_lu"], 1)
            << " LU, true peak " << num(l["true_peak_dbtp"], 1) << " dBTP\n";
  if (r.contains("style"))
    std::cout << "style: " << str(r["style"]["label"]) << " (confidence " << num(r["style"]["confidence"], 2) << ")\n";
  if (r.contains("instruments")) {
    const json& in = r["instruments"];
    // an unsure lead (under 0.5) names its runner-up; the held-out accuracy of answers as sure follows
    const json& lead = in["lead"];
    std::cout << "lead instrument: " << str(lead["label"]);
    if (lead.contains("runner_up")) std::cout << " or " << str(lead["runner_up"]);
    std::cout << " (confidence " << num(lead["confidence"], 2);
    const json ev = in.value("evidence", json::object());
    if (ev.contains("held_out") && ev["held_out"].contains("lead_at_this_confidence"))
      std::cout << "; held-out accuracy at this confidence " << num(ev["held_out"]["lead_at_this_confidence"]["accuracy"], 2);
    std::cout << "); heard:";
    int heard = 0;
    for (const json& f : in["families"])
      if (f.value("present", false)) std::cout << (heard++ ? ", " : " ") << str(f["label"]);
    std::cout << (heard ? "" : " -") << "\n";
  }
  if (r.contains("mood"))
    std::cout << "mood: " << str(r["mood"]["label"]) << " (valence " << num(r["mood"]["valence"], 2) << ", arousal "
              << num(r["mood"]["arousal"], 2) << "; rule-based)\n";
  std::cout << "duration: " << num(r["duration"], 1) << " s, " << r["sample_rate"].get<int>() << " Hz, " << r["channels"].get<int>()
            << (r["channels"].get<int>() == 1 ? " channel" : " channels") << "\n";
  for (const json& s : r["segments"])
    std::cout << "  " << num(s["start"], 1) << "-" << num(s["end"], 1) << " s: "
              << (s["key"]["name"].is_string() ? s["key"]["name"].get<std::string>() : std::string("-")) << ", max "
              << num(s["loudness_max_lufs"], 1) << " LUFS"
              << (s.contains("style") ? ", " + str(s["style"]["label"]) : std::string())
              << (s.contains("mood") ? ", " + str(s["mood"]["label"]) : std::string()) << "\n";
  for (const json& w : r["warnings"]) std::cerr << "warning: " << str(w) << "\n";
}

// --lyrics FILE for melody: the output of "lyrics --json" (its lines) or plain text.
static json melody_lyrics(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  if (i < text.size() && text[i] == '{') {
    const json song = json::parse(text, nullptr, false);
    if (!song.is_discarded() && song.is_object()) {
      if (song.contains("lines") && song["lines"].is_array()) {
        json lines = json::array();
        for (const json& l : song["lines"]) {
          if (!l.is_object()) { lines.push_back(l); continue; }
          json o = {{"text", l.value("text", json())}};
          if (l.contains("repeat_of") && !l["repeat_of"].is_null()) o["repeat_of"] = l["repeat_of"];
          if (l.contains("section") && !l["section"].is_null()) o["section"] = l["section"];
          lines.push_back(o);
        }
        return lines;
      }
      if (song.contains("lyrics") && song["lyrics"].is_string()) return song["lyrics"];
    }
  }
  return text;
}

static std::string unbase64(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else continue;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out += (char)((acc >> bits) & 0xFF); }
  }
  return out;
}

// ------------------------------------------------------------------------------------ main

int main(int argc, char** argv) {
  if (argc < 2) return usage("missing command");
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "serve") {  // HTTP mode lives in the npm package (web/src/serve.mjs)
    std::cerr << "tunesmith: serve runs in the npm package's CLI: npx tunesmith serve [--port N] (README \"HTTP mode\")\n";
    return 2;
  }
  const char* env_models = std::getenv("TUNESMITH_MODELS");
  std::string models = env_models ? env_models : "models";
  int threads = 1;
  bool as_json = false, structure_given = false;
  enum class Out { Json, Song, Titles, Analysis, Audio } output = Out::Json;
  bool headers = false;
  json req = json::object();
  std::map<std::string, std::string> ed;  // edit / title flags, checked after parsing
  std::vector<std::string> positional;

  const bool lyrics = cmd == "lyrics", edit = cmd == "edit", title = cmd == "title", analyze = cmd == "analyze-lyrics";
  const bool melody = cmd == "melody", melody_edit = cmd == "melody-edit", analyze_audio = cmd == "analyze";
  std::ifstream audio_file;  // analyze FILE (read in pieces when the request is sent); "-" = stdin
  std::string audio_path;
  std::string out_prefix;
  try {
    if (!(lyrics || edit || title || analyze || melody || melody_edit || analyze_audio || cmd == "request" || cmd == "info")) throw UsageError("unknown command \"" + cmd + "\"");
    std::map<std::string, bool> seen;
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i], inline_value;
      bool has_inline = false;
      if (a == "--") {
        for (++i; i < argc; ++i) positional.push_back(argv[i]);
        break;
      }
      if (a.rfind("--", 0) != 0) { positional.push_back(a); continue; }
      const size_t eq = a.find('=');
      if (eq != std::string::npos) { inline_value = a.substr(eq + 1); a = a.substr(0, eq); has_inline = true; }
      const std::string name = a.substr(2);
      auto flag_bool = [&]() {
        if (has_inline) throw UsageError("--" + name + " takes no value");
      };
      auto value = [&]() -> std::string {
        if (seen[name]) throw UsageError("--" + name + " given twice");
        seen[name] = true;
        if (has_inline) return inline_value;
        if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
        return argv[++i];
      };
      if (name == "models") models = value();
      else if (name == "threads") {
        const std::string v = value();
        threads = v == "auto" ? 1 : to_int("threads", v).get<int>();
      } else if (name == "json" && cmd != "request" && cmd != "info") { flag_bool(); as_json = true; }
      else if (lyrics && name == "title") req["song_title"] = value();
      else if (lyrics && name == "style") req["song_style"] = value();
      else if (lyrics && name == "lines") req["lyrics_length"] = to_int(name, value());
      else if (lyrics && (name == "lang" || name == "language")) req["language"] = value();
      else if (lyrics && name == "seed") req["seed"] = to_int(name, value());
      else if (lyrics && name == "temperature") req["temperature"] = to_number(name, value());
      else if (lyrics && name == "top-k") req["top_k"] = to_int(name, value());
      else if (lyrics && name == "top-p") req["top_p"] = to_number(name, value());
      else if (lyrics && name == "repetition-penalty") req["repetition_penalty"] = to_number(name, value());
      else if (lyrics && name == "structure") { req["structure"] = value(); structure_given = true; }
      else if (lyrics && name == "rhyme") req["rhyme_scheme"] = by_section_or(name, value(), true);
      else if (lyrics && name == "syllables") req["syllables"] = by_section_or(name, value(), false);
      else if (lyrics && name == "mood") req["mood"] = value();
      else if (lyrics && name == "keywords") req["keywords"] = string_list(value());
      else if (lyrics && name == "avoid") req["avoid"] = string_list(value());
      else if (lyrics && name == "chorus") req["chorus"] = value();
      else if (lyrics && name == "no-originality") { flag_bool(); req["originality"] = false; }
      else if (edit && (name == "regenerate-unlocked" || name == "continue")) { flag_bool(); ed[name] = ""; }
      else if (edit && (name == "song" || name == "regenerate-line" || name == "lock" || name == "append" || name == "chorus" || name == "seed"))
        ed[name] = value();
      else if (title && (name == "lyrics-file" || name == "theme" || name == "count" || name == "lang" || name == "language" ||
                         name == "style" || name == "seed"))
        ed[name == "language" ? "lang" : name] = value();
      else if (analyze && (name == "lang" || name == "language")) ed["lang"] = value();
      else if ((melody || melody_edit) && (name == "chromatic" || name == "melisma")) { flag_bool(); req[name] = true; }
      else if ((melody || melody_edit) && (name == "key" || name == "mode" || name == "meter" || name == "style" ||
                                           name == "accompaniment" || name == "title"))
        req[name] = value();
      else if ((melody || melody_edit) && (name == "tempo" || name == "temperature")) req[name] = to_number(name, value());
      else if ((melody || melody_edit) && (name == "bars" || name == "seed" || name == "range")) req[name] = to_int(name, value());
      else if (melody_edit && (name == "from" || name == "to" || name == "semitones")) req[name] = to_int(name, value());
      else if ((melody || melody_edit) && (name == "lyrics" || name == "out")) ed[name] = value();
      else if (melody_edit && (name == "melody" || name == "action")) ed[name] = value();
      else throw UsageError("unknown option --" + name);
    }

    if (lyrics) {
      if (!positional.empty()) throw UsageError("unexpected argument \"" + positional[0] + "\"");
      req["task"] = "generate_lyrics";
      if (!as_json) { output = Out::Song; headers = structure_given; }
    } else if (edit) {
      if (!positional.empty()) throw UsageError("unexpected argument \"" + positional[0] + "\"");
      if (!ed.count("song")) throw UsageError("edit needs --song FILE.json (the output of \"tunesmith lyrics --json\")");
      const int actions = (int)ed.count("regenerate-line") + (int)ed.count("regenerate-unlocked") + (int)ed.count("continue");
      if (actions != 1) throw UsageError("edit needs exactly one of --regenerate-line I, --regenerate-unlocked, --continue");
      if (ed.count("lock") && !ed.count("regenerate-unlocked")) throw UsageError("--lock goes with --regenerate-unlocked");
      if (ed.count("append") && !ed.count("continue")) throw UsageError("--append goes with --continue");
      const json song = json::parse(read_text(ed["song"], "--song"), nullptr, false);
      if (song.is_discarded() || !song.is_object() || !song.contains("lines") || !song["lines"].is_array())
        throw UsageError("--song " + ed["song"] + " is not a song: give the output of \"tunesmith lyrics --json\"");
      req = song_plan(song);
      json lines = json::array();
      for (const json& l : song["lines"]) lines.push_back(l.is_object() ? l.value("text", json()) : l);
      req["lines"] = lines;
      if (ed.count("regenerate-line")) {
        req["action"] = "regenerate_line";
        req["line"] = to_int("regenerate-line", ed["regenerate-line"]);
      } else if (ed.count("regenerate-unlocked")) {
        req["action"] = "regenerate_unlocked";
        if (ed.count("lock")) {
          json locked = json::array();
          for (const std::string& x : split_list(ed["lock"])) locked.push_back(to_int("lock", x));
          req["locked"] = locked;
        }
      } else {
        req["action"] = "continue";
        if (ed.count("append")) req["append"] = ed["append"];
      }
      if (ed.count("chorus")) req["chorus"] = ed["chorus"];
      if (ed.count("seed")) req["seed"] = to_int("seed", ed["seed"]);
      req["task"] = "edit_lyrics";
      if (!as_json) { output = Out::Song; headers = true; }
    } else if (title) {
      if (!positional.empty()) throw UsageError("unexpected argument \"" + positional[0] + "\"");
      if (ed.count("lyrics-file") == ed.count("theme")) throw UsageError("title needs either --lyrics-file F or --theme T");
      req["task"] = "generate_title";
      if (ed.count("lyrics-file")) req["lyrics"] = read_text(ed["lyrics-file"], "--lyrics-file");
      else req["theme"] = ed["theme"];
      if (ed.count("count")) req["count"] = to_int("count", ed["count"]);
      if (ed.count("lang")) req["language"] = ed["lang"];
      if (ed.count("style")) req["song_style"] = ed["style"];
      if (ed.count("seed")) req["seed"] = to_int("seed", ed["seed"]);
      if (!as_json) output = Out::Titles;
    } else if (analyze) {
      if (positional.size() != 1) throw UsageError("analyze-lyrics takes one FILE (- = stdin)");
      req["task"] = "analyze_lyrics";
      req["lyrics"] = read_text(positional[0], "analyze-lyrics");
      if (ed.count("lang")) req["language"] = ed["lang"];
      if (!as_json) output = Out::Analysis;
    } else if (analyze_audio) {
      if (positional.size() != 1) throw UsageError("analyze takes one FILE.wav");
      audio_path = positional[0];
      if (audio_path != "-") {
        audio_file.open(audio_path, std::ios::binary);
        if (!audio_file) throw UsageError("analyze: cannot read " + audio_path);
      }
      req["task"] = "analyze_audio";
      std::string base = positional[0];
      const size_t slash = base.find_last_of('/');
      if (slash != std::string::npos) base = base.substr(slash + 1);
      req["name"] = base;
      if (!as_json) output = Out::Audio;
    } else if (melody || melody_edit) {
      if (!positional.empty()) throw UsageError("unexpected argument \"" + positional[0] + "\"");
      json fields = req;
      req = json::object();
      if (melody_edit) {
        if (!ed.count("melody")) throw UsageError("melody-edit needs --melody FILE.json (the output of \"tunesmith melody\")");
        if (!ed.count("action")) throw UsageError("melody-edit needs --action continue|regenerate_bars|transpose|change_mode|restyle|accompany");
        json m = json::parse(read_text(ed["melody"], "--melody"), nullptr, false);
        if (m.is_discarded() || !m.is_object() || !m.contains("notes") || !m["notes"].is_array())
          throw UsageError("--melody " + ed["melody"] + " is not a melody: give the output of \"tunesmith melody\"");
        for (const char* k : {"abc", "musicxml", "midi"}) m.erase(k);
        req["task"] = "edit_melody";
        req["melody"] = m;
        std::string action = ed["action"];
        for (char& c : action) if (c == '-') c = '_';
        req["action"] = action;
      } else {
        req["task"] = "generate_melody";
      }
      for (auto it = fields.begin(); it != fields.end(); ++it) req[it.key()] = it.value();
      if (ed.count("lyrics")) req["lyrics"] = melody_lyrics(read_text(ed["lyrics"], "--lyrics"));
      if (ed.count("out")) out_prefix = ed["out"];
    } else if (cmd == "request") {
      if (positional.size() > 1) throw UsageError("request takes one JSON argument");
    } else if (!positional.empty()) {
      throw UsageError("unexpected argument \"" + positional[0] + "\"");
    }
  } catch (const UsageError& e) {
    return usage(e.what());
  } catch (const std::exception& e) {  // e.g. a number out of int range
    return usage(e.what());
  }

  tunesmith::Engine engine;
  engine.set_model_dir(models);
  engine.set_threads(threads < 1 ? 1 : threads);

  std::string text;
  if (cmd == "request") text = positional.empty() ? read_all(std::cin) : positional[0];  // sent verbatim: the engine parses it
  else if (cmd == "info") text = R"({"task":"info"})";
  else text = req.dump();

  SongPrinter printer;
  printer.headers = headers;
  tunesmith::EventFn on_event;
  if (output == Out::Song && lyrics)  // stream lines as they are written; edits print the final song
    on_event = [&printer](const json& ev) { printer.on_event(ev); };

  const std::string out = analyze_audio ? analyze_file(engine, req, audio_path == "-" ? static_cast<std::istream&>(std::cin) : audio_file)
                                        : engine.request(text, on_event);
  const json resp = json::parse(out);
  if (resp.contains("error")) {
    std::cerr << out << "\n";
    return 1;
  }
  if (!out_prefix.empty()) {
    const std::pair<std::string, std::string> files[] = {{out_prefix + ".mid", unbase64(str(resp.value("midi", json())))},
                                                         {out_prefix + ".musicxml", str(resp.value("musicxml", json()))},
                                                         {out_prefix + ".abc", str(resp.value("abc", json()))}};
    for (const auto& f : files) {
      std::ofstream o(f.first, std::ios::binary);
      if (!(o << f.second)) return usage("--out: cannot write " + f.first);
    }
    for (const auto& f : files) std::cout << f.first << "\n";
    if (resp.contains("remarks")) for (const json& r : resp["remarks"]) std::cerr << "note: " << str(r) << "\n";
    if (resp.contains("relaxations"))
      for (const json& r : resp["relaxations"]) std::cerr << "relaxed: " << str(r.value("rule", json())) << " (note " << r.value("note", 0) << ")\n";
    return 0;
  }
  switch (output) {
    case Out::Json: std::cout << out << "\n"; break;
    case Out::Song: printer.finish(resp); print_remarks(resp); break;
    case Out::Titles:
      if (resp.contains("titles") && resp["titles"].is_array())
        for (const json& t : resp["titles"]) std::cout << str(t.value("title", json())) << "\n";
      break;
    case Out::Analysis: print_analysis(resp); break;
    case Out::Audio: print_audio(resp); break;
  }
  return 0;
}
