// Title suggestions: phrases of the lyrics, ranked by how much each, used as the title in the
// model's prompt, raises the likelihood of the lyrics' opening (pointwise mutual information
// log p(lyrics | title) - log p(lyrics | no title)). The model was trained on title -> lyrics, so
// this asks it which phrase best "explains" the song.
#include <algorithm>
#include <cmath>
#include <map>

#include "tunesmith/detmath.h"
#include "tunesmith/error.h"
#include "tunesmith/ngram_index.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/songwriter.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

namespace {

struct Candidate {
  std::string text;
  int line = 0;
  int freq = 0;
  double score = 0.0;
};

const char* const kStop[] = {"a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
                             "from", "as", "is", "are", "was", "were", "be", "been", "am", "i", "you", "he", "she",
                             "it", "we", "they", "me", "him", "her", "us", "them", "my", "your", "his", "its", "our",
                             "their", "that", "this", "these", "those", "so", "if", "then", "than", "when", "while",
                             "o", "oh", "all", "not", "no", "do", "did", "does", "have", "has", "had", "will",
                             "shall", "would", "should", "can", "could", "may", "might", "must", "there", "here",
                             "where", "what", "who", "which", "how", "thy", "thee", "thou", "ye", "'tis", "nor"};

bool stopword(const std::string& w) {
  for (const char* s : kStop)
    if (w == s) return true;
  return false;
}

std::string title_case(const std::vector<std::string>& ws, size_t a, size_t b) {
  std::string out;
  for (size_t i = a; i < b; ++i) {
    std::string w = ws[i];
    if (w == "i") w = "I";
    if (!w.empty() && w[0] >= 'a' && w[0] <= 'z' && (i == a || !stopword(w))) w[0] = (char)(w[0] - 'a' + 'A');
    out += (i > a ? " " : "") + w;
  }
  return out;
}

// log p(target | prompt) summed over the target tokens, from one evaluation of prompt+target.
double log_likelihood(const GptModel& m, const std::vector<int32_t>& prompt, const std::vector<int32_t>& target) {
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), target.begin(), target.end());
  const int V = m.config().vocab_size;
  GptState st(m);
  const float* lg = st.eval(seq.data(), (int)seq.size(), true);
  double total = 0.0;
  for (size_t k = 0; k < target.size(); ++k) {
    const float* row = lg + (prompt.size() - 1 + k) * (size_t)V;
    float mx = row[0];
    for (int v = 1; v < V; ++v) mx = std::max(mx, row[v]);
    float sum = 0.0f;
    for (int v = 0; v < V; ++v) sum += det_expf(row[v] - mx);
    total += (double)(row[target[k]] - mx) - std::log((double)sum);
  }
  return total;
}

}  // namespace

json generate_titles(const GptModel& model, const std::string& lyrics, const std::string& style, int count, uint64_t seed,
                     const Phonetics& /*ph*/) {
  const json& man = model.manifest();
  const CharTokenizer& tok = model.tokenizer();
  const bool zh = man.at("language").get<std::string>() == "zh";
  const json& sp = man.at("special_tokens");
  const int BOS = sp.at("bos").get<int>(), SEP = sp.at("sep").get<int>(), NL = sp.at("newline").get<int>();
  const StyleMatch st = resolve_style(model, style);

  // Lines of the lyrics.
  std::vector<std::string> lines;
  {
    std::string cur;
    for (char c : lyrics + "\n") {
      if (c == '\n' || c == '\r') {
        size_t a = 0, b = cur.size();
        while (a < b && (cur[a] == ' ' || cur[a] == '\t')) ++a;
        while (b > a && (cur[b - 1] == ' ' || cur[b - 1] == '\t')) --b;
        if (b > a) lines.push_back(cur.substr(a, b - a));
        cur.clear();
      } else {
        cur += c;
      }
    }
  }
  if (lines.empty()) throw Error("invalid_field", "'lyrics' has no line to take a title from", {{"field", "lyrics"}});

  // Candidates: line openings and endings of 2-4 characters / 1-4 words, short whole lines, and
  // any phrase that recurs (hooks).
  std::map<std::string, Candidate> cands;
  auto add = [&](const std::string& t, int line) {
    auto it = cands.find(t);
    if (it == cands.end()) cands[t] = {t, line, 1, 0.0};
    else ++it->second.freq;
  };
  for (int li = 0; li < (int)lines.size(); ++li) {
    if (zh) {
      std::u32string c, cjk;
      utf8_decode(lines[li], c);
      for (char32_t ch : c)
        if (is_cjk(ch)) cjk += ch;
      const int n = (int)cjk.size();
      if (n >= 2 && n <= 6) add(utf8_encode(cjk), li);
      for (int len = 2; len <= 4 && len < n; ++len) {
        add(utf8_encode(cjk.substr(0, len)), li);
        add(utf8_encode(cjk.substr(n - len)), li);
      }
    } else {
      std::vector<std::string> ws;
      NgramIndex::normalise_words(lines[li], ws);
      const size_t n = ws.size();
      if (n >= 2 && n <= 5) add(title_case(ws, 0, n), li);
      for (size_t a = 0; a < n; ++a)
        for (size_t len = 1; len <= 4 && a + len <= n; ++len) {
          if (stopword(ws[a]) || stopword(ws[a + len - 1])) continue;
          if (len == 1 && ws[a].size() < 4) continue;
          add(title_case(ws, a, a + len), li);
        }
    }
  }
  std::vector<Candidate> pool;
  for (auto& kv : cands) pool.push_back(kv.second);
  // Cheap ranking first (recurring, then earlier, then longer), so the model scores at most 24.
  std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
    if (a.freq != b.freq) return a.freq > b.freq;
    if (a.line != b.line) return a.line < b.line;
    if (a.text.size() != b.text.size()) return a.text.size() > b.text.size();
    return a.text < b.text;
  });
  if (pool.size() > 24) pool.resize(24);

  // The lyrics' opening as the target the titles must explain.
  std::vector<int32_t> target;
  const size_t max_target = zh ? 64 : 160;
  for (const std::string& l : lines) {
    std::u32string c;
    utf8_decode(l, c);
    for (char32_t ch : c) {
      const int id = tok.id(ch);
      if (id >= 0 && target.size() < max_target) target.push_back(id);
    }
    if (target.size() < max_target) target.push_back(NL);
  }
  const size_t max_title = zh ? 24 : 48;
  auto prompt_for = [&](const std::string& title) {
    std::vector<int32_t> p = {BOS, st.token};
    std::u32string c;
    utf8_decode(title, c);
    for (char32_t ch : c) {
      const int id = tok.id(ch);
      if (id >= 0 && p.size() - 2 < max_title) p.push_back(id);
    }
    p.push_back(SEP);
    return p;
  };
  const double base = log_likelihood(model, prompt_for(""), target);
  for (Candidate& c : pool) c.score = log_likelihood(model, prompt_for(c.text), target) - base;
  std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.text < b.text;
  });
  // Distinct suggestions: skip one contained in (or containing) a title already chosen.
  json titles = json::array();
  std::vector<std::string> chosen;
  auto lower = [](std::string s) { for (char& c : s) if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a'); return s; };
  for (const Candidate& c : pool) {
    if ((int)chosen.size() >= count) break;
    bool dup = false;
    for (const std::string& t : chosen) {
      const std::string a = lower(t), b = lower(c.text);
      dup = dup || a.find(b) != std::string::npos || b.find(a) != std::string::npos;
    }
    if (dup) continue;
    chosen.push_back(c.text);
    titles.push_back({{"title", c.text}, {"score", std::round(c.score * 1000.0) / 1000.0}, {"source_line", c.line}});
  }
  return {{"task", "generate_title"},
          {"titles", titles},
          {"language", man.at("language")},
          {"style", st.name},
          {"candidates_scored", (int)pool.size()},
          {"method", "phrases of the lyrics ranked by log p(lyrics | phrase as title) - log p(lyrics | no title) under " + model.name() + " (nats)"},
          {"seed", seed}};
}

}  // namespace tunesmith
