#include "tunesmith/lyrics.h"

#include <algorithm>

#include "tunesmith/error.h"
#include "tunesmith/sampling.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

std::string detect_language(const std::string& title) {
  std::u32string cps;
  utf8_decode(title, cps);
  for (char32_t c : cps)
    if (is_cjk(c)) return "zh";
  return "en";
}

static std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
  return s;
}

StyleMatch resolve_style(const GptModel& model, const std::string& requested) {
  const json& man = model.manifest();
  const json& styles = man.at("styles");
  auto token_of = [&](const std::string& name) { return styles.at(name).at("token").get<int>(); };
  const std::string def = man.at("default_style").get<std::string>();
  const std::string req = lower_ascii(requested);
  if (req.empty()) return {def, token_of(def), "default"};
  // 1. the trained style's own name or one of its aliases, exactly
  for (auto it = styles.begin(); it != styles.end(); ++it) {
    if (req == it.key()) return {it.key(), token_of(it.key()), "exact"};
    for (const auto& a : it.value().at("aliases"))
      if (req == lower_ascii(a.get<std::string>())) return {it.key(), token_of(it.key()), "alias '" + a.get<std::string>() + "'"};
  }
  // 2. the longest alias contained in the request ("流行音乐" contains "流行"; "pop rock" -> "rock")
  std::string best_style, best_alias;
  for (auto it = styles.begin(); it != styles.end(); ++it)
    for (const auto& a : it.value().at("aliases")) {
      const std::string al = lower_ascii(a.get<std::string>());
      if (al.size() > best_alias.size() && req.find(al) != std::string::npos) { best_alias = al; best_style = it.key(); }
    }
  if (!best_style.empty()) return {best_style, token_of(best_style), "alias '" + best_alias + "'"};
  return {def, token_of(def), "unknown (default used)"};
}

namespace {

// What the line masks need to know about the line being written.
struct LineState {
  int chars = 0;        // characters in the current line so far
  bool last_space = false;
};

}  // namespace

json generate_lyrics(const GptModel& model, const LyricsParams& p, const EventFn& on_event) {
  const json& man = model.manifest();
  const CharTokenizer& tok = model.tokenizer();
  const GptConfig& cfg = model.config();
  const json& sp = man.at("special_tokens");
  const int BOS = sp.at("bos").get<int>(), SEP = sp.at("sep").get<int>(), NL = sp.at("newline").get<int>();
  const std::string lang = man.at("language").get<std::string>();
  const bool zh = lang == "zh";
  const int max_line = man.at("generation").value("max_line_chars", zh ? 24 : 64);
  const int min_line = zh ? 3 : 8;
  const int space = tok.id(U' ');

  const StyleMatch style = resolve_style(model, p.style);

  // Prompt: <bos> <style:S> title <sep>. Title characters outside the vocabulary are left out
  // (reported), and the title is cut to what the model saw in training.
  std::u32string title_cps;
  utf8_decode(p.title, title_cps);
  std::vector<int32_t> prompt = {BOS, style.token};
  int unknown_title_chars = 0;
  const size_t max_title = zh ? 24 : 48;
  for (char32_t c : title_cps) {
    const int id = tok.id(c);
    if (id < 0) { ++unknown_title_chars; continue; }
    if (prompt.size() - 2 < max_title) prompt.push_back(id);
  }
  prompt.push_back(SEP);

  LineState ls;
  // The mask keeps every line well-formed: only characters and the line break, no empty or
  // overlong lines, no leading or doubled spaces.
  MaskFn mask = [&](Candidates& c) {
    for (TokenData& t : c.data) {
      const int id = t.id;
      bool ok;
      if (id == NL) ok = ls.chars >= min_line && !ls.last_space;
      else ok = tok.is_char(id) && ls.chars < max_line &&
                !(id == space && (ls.chars == 0 || ls.last_space || ls.chars + 1 >= max_line));
      if (!ok) t.logit = -INFINITY;
    }
  };
  SamplingParams spar;
  spar.temperature = p.temperature;
  spar.top_k = p.top_k;
  spar.top_p = p.top_p;
  spar.repetition_penalty = p.repetition_penalty;
  spar.seed = p.seed;
  SamplerChain chain = make_chain(spar, mask);

  GptState st(model);
  std::vector<int32_t> history = prompt;  // every token fed, for rebuilding after a context shift
  std::vector<size_t> line_starts;        // index in history where each finished line starts
  const float* logits = st.eval(prompt.data(), (int)prompt.size());
  std::vector<std::string> lines;
  std::u32string cur;
  int generated = 0, shifts = 0;

  // Hard bound: every line ends by max_line characters, so this loop cannot run away.
  const long max_steps = (long)p.lines * (max_line + 1) + 1;
  size_t cur_start = history.size();
  for (long step = 0; step < max_steps && (int)lines.size() < p.lines; ++step) {
    const int32_t id = chain.sample(logits, cfg.vocab_size);
    if (id < 0) throw Error("internal", "sampler: every token was masked");
    ++generated;
    history.push_back(id);
    if (id == NL) {
      lines.push_back(utf8_encode(cur));
      if (on_event) on_event({{"event", "line"}, {"index", (int)lines.size() - 1}, {"text", lines.back()}});
      cur.clear();
      ls = LineState{};
      line_starts.push_back(cur_start);
      cur_start = history.size();
      if ((int)lines.size() == p.lines) break;
    } else {
      const std::string& text = tok.text(id);
      std::u32string c32;
      utf8_decode(text, c32);
      cur += c32;
      ls.chars += 1;
      ls.last_space = id == space;
      if (on_event) on_event({{"event", "token"}, {"text", text}});
    }
    if (st.n_past() + 1 > cfg.n_ctx) {
      // Context shift: keep the prompt and as many of the latest whole lines as fit in 3/4 of the
      // context, plus the line being written; re-evaluate from scratch.
      ++shifts;
      const size_t budget = (size_t)cfg.n_ctx * 3 / 4;
      size_t keep_from = cur_start;
      for (size_t k = line_starts.size(); k-- > 0;) {
        if (prompt.size() + (history.size() - line_starts[k]) > budget) break;
        keep_from = line_starts[k];
      }
      std::vector<int32_t> ctx = prompt;
      ctx.insert(ctx.end(), history.begin() + (long)keep_from, history.end());
      if ((int)ctx.size() > cfg.n_ctx) ctx.erase(ctx.begin() + (long)prompt.size(), ctx.end() - (cfg.n_ctx - (long)prompt.size()));
      st.reset();
      logits = st.eval(ctx.data(), (int)ctx.size());
    } else {
      logits = st.eval(&id, 1);
    }
  }
  if ((int)lines.size() != p.lines) throw Error("internal", "lyrics: generation ended early");

  json out_lines = json::array();
  std::string all;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::u32string c32;
    utf8_decode(lines[i], c32);
    out_lines.push_back({{"index", (int)i}, {"text", lines[i]}, {"chars", (int)c32.size()}});
    all += (i ? "\n" : "") + lines[i];
  }
  const json& sj = man.at("styles").at(style.name);
  json style_j = {{"requested", p.style}, {"used", style.name}, {"label", sj.value("label", "")}, {"matched_by", style.how}};
  json notes = json::array();
  if (style.how == "unknown (default used)")
    notes.push_back("style '" + p.style + "' is not one this model was trained on; it wrote in its default style '" + style.name + "'");
  if (unknown_title_chars)
    notes.push_back(std::to_string(unknown_title_chars) + " title character(s) are not in the model's vocabulary and were left out of the prompt");
  return {
      {"task", "generate_lyrics"},
      {"title", p.title},
      {"lyrics", all},
      {"lines", out_lines},
      {"language", lang},
      {"style", style_j},
      {"model", {{"name", model.name()}, {"version", man.value("version", "")}, {"sha256", man.value("sha256", "")}}},
      {"seed", p.seed},
      {"temperature", p.temperature},
      {"sampler", chain.describe()},
      {"tokens_generated", generated},
      {"context_shifts", shifts},
      {"notes", notes},
  };
}

}  // namespace tunesmith
