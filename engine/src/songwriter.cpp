// The constrained decoder behind generate_lyrics and edit_lyrics (see songwriter.h).
#include "tunesmith/songwriter.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include "tunesmith/en_lexicon.h"
#include "tunesmith/error.h"
#include "tunesmith/ngram_index.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/sampling.h"
#include "tunesmith/sentiment.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

namespace {

// The originality index hashes n-grams as FNV-1a 64 over each unit's UTF-8 followed by 0x1F
// (docs/originality.md); streaming it lets one prefix serve every candidate of a step.
constexpr uint64_t kFnvOffset = 14695981039346656037ULL, kFnvPrime = 1099511628211ULL;
inline uint64_t fnv(uint64_t h, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) { h ^= (uint8_t)s[i]; h *= kFnvPrime; }
  return h;
}
inline uint64_t fnv_unit(uint64_t h, const std::string& u) {
  h = fnv(h, u.data(), u.size());
  h ^= 0x1F;
  return h * kFnvPrime;
}

const char* const kZhGroupNames[14] = {"", "发花", "梭波", "乜斜", "一七", "姑苏", "怀来", "灰堆",
                                       "遥条", "油求", "言前", "人辰", "江阳", "中东"};

int mood_id(const std::string& name) {
  static const char* names[] = {"neutral", "happy", "sad", "tender", "defiant", "calm"};
  for (int i = 0; i < 6; ++i)
    if (name == names[i]) return i;
  return 0;
}

// The model's context over the whole song: the prompt plus every token since, with a window that
// shifts (keeping the prompt and the latest whole lines) when the model's context fills, and
// rollback to any earlier point.
class Ctx {
 public:
  Ctx(const GptModel& m, std::vector<int32_t> prompt) : st_(m), prompt_(std::move(prompt)), n_ctx_(m.config().n_ctx) {
    logits_ = st_.eval(prompt_.data(), (int)prompt_.size());
  }
  const float* logits() const { return logits_; }
  size_t size() const { return hist_.size(); }
  int shifts() const { return shifts_; }
  void begin_line() { line_starts_.push_back(hist_.size()); }
  // Room for `tokens` more without a shift inside the line, where possible.
  void ensure_room(int tokens) {
    if (st_.n_past() + tokens > n_ctx_) shift();
  }
  void feed(int32_t t) {
    if (st_.n_past() + 1 > n_ctx_) shift();
    hist_.push_back(t);
    logits_ = st_.eval(&t, 1);
  }
  void feed_many(const std::vector<int32_t>& ts) {
    size_t i = 0;
    while (i < ts.size()) {
      if (st_.n_past() >= n_ctx_) shift();
      const size_t n = std::min(ts.size() - i, (size_t)(n_ctx_ - st_.n_past()));
      hist_.insert(hist_.end(), ts.begin() + (long)i, ts.begin() + (long)(i + n));
      logits_ = st_.eval(ts.data() + i, (int)n);
      i += n;
    }
  }
  // Back to the state after the first len song tokens.
  void rollback(size_t len) {
    if (len >= hist_.size()) return;
    hist_.resize(len);
    while (!line_starts_.empty() && line_starts_.back() > len) line_starts_.pop_back();
    if (len >= kv_from_) {
      const int keep = (int)(prompt_.size() + (len - kv_from_));  // positions still valid
      st_.truncate(keep - 1);
      const int32_t last = len > kv_from_ ? hist_[len - 1] : prompt_.back();
      logits_ = st_.eval(&last, 1);
    } else {
      shift();
    }
  }

 private:
  void shift() {
    ++shifts_;
    // Keep half the context, so that several lines fit before the next shift (each one
    // re-evaluates the kept window).
    const size_t budget = (size_t)n_ctx_ / 2;
    size_t keep_from = line_starts_.empty() ? hist_.size() : line_starts_.back();
    if (keep_from > hist_.size()) keep_from = hist_.size();
    for (size_t k = line_starts_.size(); k-- > 0;) {
      if (line_starts_[k] > hist_.size()) continue;
      if (prompt_.size() + (hist_.size() - line_starts_[k]) > budget) break;
      keep_from = line_starts_[k];
    }
    const size_t max_keep = (size_t)n_ctx_ - 1 - prompt_.size();
    if (hist_.size() - keep_from > max_keep) keep_from = hist_.size() - max_keep;
    kv_from_ = keep_from;
    std::vector<int32_t> c = prompt_;
    c.insert(c.end(), hist_.begin() + (long)keep_from, hist_.end());
    st_.reset();
    logits_ = st_.eval(c.data(), (int)c.size());
  }

  GptState st_;
  std::vector<int32_t> prompt_, hist_;
  std::vector<size_t> line_starts_;
  size_t kv_from_ = 0;  // hist_[kv_from_..] follow the prompt in the cache
  int n_ctx_;
  int shifts_ = 0;
  const float* logits_ = nullptr;
};

enum class Phase { WordStart, InWord, AfterPunct, AfterFinalPunct, AfterKeyword };
enum class FinalKind { Any, Rhymable, Key };

bool is_punct(char c) { return c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '.'; }

// English words of a line as the lexicon spells them (lowercase, ’ as ').
std::vector<std::string> en_words(const std::string& text) {
  std::vector<std::string> out;
  NgramIndex::normalise_words(text, out);
  return out;
}

struct Writer {
  const GptModel& m;
  const CharTokenizer& tok;
  const LyricsParams& p;
  const SongPlan& plan;
  const SongResources& res;
  const EventFn& on_event;
  const bool zh;
  const EnLexicon* lex = nullptr;
  int NL = -1, SPACE = -1;
  std::vector<char32_t> tok_cp;  // zh: the CJK code point a token writes, else 0
  std::vector<int> tok_group;    // zh: its rhyme group
  std::vector<char> tok_ascii;   // en: the ASCII character a token writes, else 0
  std::vector<float> zh_bias;    // zh: mood bias per token
  std::vector<int> zh_uses;      // zh: times each token is in the song so far
  std::shared_ptr<const std::vector<float>> pot;  // en: mood potential per trie node
  float mood_strength = 0.0f;
  std::vector<std::u32string> avoid_zh;
  std::vector<std::vector<std::string>> avoid_en;
  std::unordered_set<int> avoided_words;
  std::vector<uint32_t> syl_mask;  // en: lexicon masks without avoided words
  SamplerChain chain;
  std::unique_ptr<Ctx> ctx;

  // Song state.
  size_t existing = 0;  // lines the request brought (edits); later ones are new
  std::vector<std::string> texts;
  std::vector<bool> written;
  std::vector<int> class_group;  // zh: 十三辙 group of each class, 0 unset
  std::vector<int> class_key;    // en: lexicon key id of each class, -1 unset
  std::vector<std::set<std::string>> class_finals;
  std::u32string zh_stream;
  std::vector<std::string> en_stream;
  int blocked = 0, backtracks = 0, restarts = 0;
  std::vector<std::string> relax;
  int tokens_generated = 0;

  // Line state, read by the mask.
  int lo = 0, hi = 0, count = 0;  // syllable (zh: character) bounds and count so far
  bool rhymed = false;
  int need_group = 0;          // zh: >0 group, -1 any group (opens a class)
  std::set<char32_t> banned_final_cp;
  FinalKind fin_kind = FinalKind::Any;
  int need_key = -1;
  int rhyme_tier = 0;      // en: how far the rhyme's word choice was widened (key_final_ok)
  bool tier_noted = false;
  std::unordered_map<int, uint32_t> fin_nodes;  // en, FinalKind::Key: node -> syllable mask of allowed finals
  std::unordered_set<int> banned_final_words;
  int min_final = 1;
  bool orig = true;
  Phase phase = Phase::WordStart;
  int node = 0;
  std::string word;
  std::set<std::string> banned_prefixes;
  bool last_final_ok = false;
  int last_word = -1;
  std::u32string line_cps;

  Writer(const GptModel& model, const LyricsParams& lp, const SongPlan& sp, const SongResources& r, const EventFn& ev)
      : m(model), tok(model.tokenizer()), p(lp), plan(sp), res(r), on_event(ev),
        zh(model.manifest().at("language").get<std::string>() == "zh") {}

  // ------------------------------------------------------------------ setup
  void setup(const std::vector<int32_t>& prompt) {
    const json& sp = m.manifest().at("special_tokens");
    NL = sp.at("newline").get<int>();
    SPACE = tok.id(U' ');
    const int V = m.config().vocab_size;
    tok_cp.assign(V, 0);
    tok_group.assign(V, 0);
    tok_ascii.assign(V, 0);
    for (int t = 0; t < V; ++t) {
      if (!tok.is_char(t)) continue;
      std::u32string c;
      utf8_decode(tok.text(t), c);
      if (c.size() != 1) continue;
      if (zh && is_cjk(c[0])) {
        tok_cp[t] = c[0];
        tok_group[t] = res.phonetics->zh_rhyme_group(c[0]);
      } else if (!zh && c[0] < 0x80) {
        tok_ascii[t] = (char)c[0];
      }
    }
    if (!zh) {
      lex = res.lexicon;
      syl_mask.resize(lex->nodes());
      for (int n = 0; n < lex->nodes(); ++n) syl_mask[n] = lex->syl_mask(n);
    }
    // Mood: a bias towards the mood's words (docs/lyrics-controls.md).
    if (!plan.mood.empty()) {
      const int mood = mood_id(plan.mood);
      if (zh) {
        mood_strength = 1.0f;
        zh_bias.assign(V, 0.0f);
        zh_uses.assign(V, 0);
        for (int t = 0; t < V; ++t)
          if (tok_cp[t]) zh_bias[t] = mood_strength * res.sentiment->zh_char_mood(tok_cp[t], static_cast<Mood>(mood));
      } else {
        mood_strength = 3.0f;
        pot = lex->mood_potential(*res.sentiment, mood);
      }
    }
    // Words to avoid.
    for (const std::string& a : plan.avoid) {
      if (zh) {
        std::u32string c;
        utf8_decode(a, c);
        avoid_zh.push_back(c);
      } else {
        std::vector<std::string> ws = en_words(a);
        if (ws.empty()) continue;
        if (ws.size() == 1) {
          const int w = lex->find(ws[0]);
          if (w >= 0) avoided_words.insert(w);
        }
        avoid_en.push_back(ws);
      }
    }
    if (!zh && !avoided_words.empty()) {
      // Masks without the avoided words, so no prefix leads only to them.
      std::vector<int> touched;
      for (int w : avoided_words)
        for (int n = lex->node_of(w); n >= 0; n = lex->parent(n)) touched.push_back(n);
      std::sort(touched.begin(), touched.end());
      touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
      for (size_t k = touched.size(); k-- > 0;) {  // children before parents
        const int n = touched[k];
        uint32_t mask = 0;
        const int w = lex->word_at(n);
        if (w >= 0 && !avoided_words.count(w)) mask |= 1u << lex->syllables(w);
        for (char c = 'a'; c <= 'z' + 1; ++c) {
          const int ch = lex->child(n, c == 'z' + 1 ? '\'' : c);
          if (ch >= 0) mask |= syl_mask[ch];
        }
        syl_mask[n] = mask;
      }
    }
    SamplingParams spar;
    spar.temperature = p.temperature;
    spar.top_k = p.top_k;
    spar.top_p = p.top_p;
    spar.repetition_penalty = p.repetition_penalty;
    spar.seed = p.seed;
    chain = make_chain(spar, [this](Candidates& c) { zh ? mask_zh(c) : mask_en(c); });
    ctx = std::make_unique<Ctx>(m, prompt);
    class_group.assign(plan.classes, 0);
    class_key.assign(plan.classes, -1);
    class_finals.assign(plan.classes, {});
  }

  // ------------------------------------------------------------------ Chinese
  bool zh_avoid_hit(char32_t cand) const {
    for (const std::u32string& a : avoid_zh) {
      const size_t L = a.size();
      if (a[L - 1] != cand) continue;
      if (L == 1) return true;
      const size_t need = L - 1;
      const std::u32string& s = line_cps;
      // the last need characters of the song (previous lines, then this line)
      bool match = true;
      for (size_t k = 0; k < need && match; ++k) {
        const size_t back = need - k;  // 1..need from the end
        char32_t c;
        if (back <= s.size()) c = s[s.size() - back];
        else if (back - s.size() <= zh_stream.size()) c = zh_stream[zh_stream.size() - (back - s.size())];
        else { match = false; break; }
        match = c == a[k];
      }
      if (match) return true;
    }
    return false;
  }

  void mask_zh(Candidates& c) {
    // FNV state of the last 7 characters, shared by every candidate.
    bool check = orig && res.ngrams && plan.originality;
    uint64_t h = kFnvOffset;
    if (check) {
      const int n = res.ngrams->n() - 1;
      if ((int)(zh_stream.size() + line_cps.size()) < n) check = false;
      else {
        std::string u;
        for (int k = n; k >= 1; --k) {
          const size_t back = (size_t)k;
          char32_t ch = back <= line_cps.size() ? line_cps[line_cps.size() - back]
                                                : zh_stream[zh_stream.size() - (back - line_cps.size())];
          u.clear();
          utf8_append(u, ch);
          h = fnv_unit(h, u);
        }
      }
    }
    const bool final_pos = rhymed && count == hi - 1;
    float top = -INFINITY;  // blocked candidates are counted when they were plausible (within 5 nats of the best)
    if (check)
      for (const TokenData& t : c.data) top = std::max(top, t.logit);
    for (TokenData& t : c.data) {
      bool ok;
      if (t.id == NL) {
        ok = count >= lo && count <= hi;
      } else if (tok_cp[t.id]) {
        ok = count < hi;
        if (ok && final_pos) {
          const int g = tok_group[t.id];
          ok = need_group > 0 ? g == need_group : g != 0;
          ok = ok && !banned_final_cp.count(tok_cp[t.id]);
        }
        if (ok && !avoid_zh.empty()) ok = !zh_avoid_hit(tok_cp[t.id]);
        if (ok && check && res.ngrams->contains_hash(fnv_unit(h, tok.text(t.id)))) {
          ok = false;
          blocked += t.logit > top - 5.0f;
        }
        // No character three times running (reduplication such as 依依 stays possible).
        if (ok && line_cps.size() >= 2 && line_cps.back() == tok_cp[t.id] && line_cps[line_cps.size() - 2] == tok_cp[t.id]) ok = false;
        // ...and no character more than twice in a line (no 兮之兮兮之 chant).
        if (ok && line_cps.size() >= 2 && std::count(line_cps.begin(), line_cps.end(), tok_cp[t.id]) >= 2) ok = false;
        // The mood bias fades for characters the song already has, so it colours word choice
        // instead of repeating one word.
        if (ok && !zh_bias.empty()) t.logit += zh_bias[t.id] / (1.0f + 2.0f * (float)zh_uses[t.id]);
      } else {
        ok = false;
      }
      if (!ok) t.logit = -INFINITY;
    }
  }

  // ------------------------------------------------------------------ English
  uint32_t bits(int a, int b) const {  // syllable counts a..b
    uint32_t r = 0;
    for (int s = std::max(1, a); s <= std::min(b, EnLexicon::kMaxSyllables); ++s) r |= 1u << s;
    return r;
  }
  uint32_t fin_mask(int n) const {
    switch (fin_kind) {
      case FinalKind::Any: return lex->final_mask(n);
      case FinalKind::Rhymable: return lex->rhymable_mask(n);
      case FinalKind::Key: {
        auto it = fin_nodes.find(n);
        return it == fin_nodes.end() ? 0u : it->second;
      }
    }
    return 0;
  }
  bool final_allowed(int w) const {
    if (avoided_words.count(w) || !lex->can_end_line(w)) return false;
    switch (fin_kind) {
      case FinalKind::Any: return lex->common(w);
      case FinalKind::Rhymable: return lex->rhymable(w) && !banned_final_words.count(w);
      case FinalKind::Key: return key_final_ok(w);
    }
    return false;
  }
  // The answer to a rhyme, by tier: 0 a common word not yet used in the class; 1 any such word;
  // 2 a used one again (only when nothing else fits the syllables).
  bool key_final_ok(int w) const {
    if (lex->key_id(w) != need_key || avoided_words.count(w) || !lex->can_end_line(w)) return false;
    if (rhyme_tier < 2 && banned_final_words.count(w)) return false;
    return rhyme_tier > 0 || lex->common(w);
  }
  // Would completing word w make a copied 6-word run or an avoided phrase?
  bool word_blocked(int w) {
    const std::string& s = lex->word(w);
    for (const auto& a : avoid_en) {
      if (a.back() != s) continue;
      const size_t k = a.size() - 1;
      if (en_stream.size() < k) continue;
      bool match = true;
      for (size_t i = 0; i < k && match; ++i) match = en_stream[en_stream.size() - k + i] == a[i];
      if (match) return true;
    }
    if (orig && plan.originality && res.ngrams) {
      const int n = res.ngrams->n();
      if ((int)en_stream.size() >= n - 1) {
        uint64_t h = kFnvOffset;
        for (int i = n - 1; i >= 1; --i) h = fnv_unit(h, en_stream[en_stream.size() - i]);
        h = fnv_unit(h, s);
        if (res.ngrams->contains_hash(h)) { ++blocked; return true; }
      }
    }
    return false;
  }

  void mask_en(Candidates& c) {
    const int r_hi = hi - count, r_lo = std::max(1, lo - count);
    const uint32_t nonfinal_bits = bits(1, r_hi - min_final);
    const uint32_t final_bits = bits(r_lo, r_hi);
    auto feasible = [&](int n) { return (syl_mask[n] & nonfinal_bits) || (fin_mask(n) & final_bits); };
    // Separator verdicts for the word in progress (the same for every separator token).
    bool sep_nonfinal = false, sep_final = false;
    if (phase == Phase::InWord) {
      const int w = lex->word_at(node);
      if (w >= 0) {
        const uint32_t b = 1u << lex->syllables(w);
        sep_nonfinal = (b & nonfinal_bits) && !avoided_words.count(w);
        sep_final = (b & final_bits) && final_allowed(w);
        if ((sep_nonfinal || sep_final) && word_blocked(w)) sep_nonfinal = sep_final = false;
      }
    }
    const bool can_continue = r_hi - min_final >= 0 && (nonfinal_bits || final_bits);
    const std::vector<float>* pv = pot.get();
    for (TokenData& t : c.data) {
      const char ch = tok_ascii[t.id];
      bool ok = false;
      float bias = 0.0f;
      const bool letter = (ch >= 'a' && ch <= 'z') || ch == '\'';
      const bool upper = ch >= 'A' && ch <= 'Z';
      switch (phase) {
        case Phase::WordStart:
          if (letter || upper) {
            const char lc = upper ? (char)(ch - 'A' + 'a') : ch;
            const int n2 = lex->child(0, lc);
            ok = n2 >= 0 && feasible(n2) && !banned_prefixes.count(std::string(1, lc));
            if (ok && pv) bias = mood_strength * ((*pv)[n2] - (*pv)[0]);
          }
          break;
        case Phase::InWord:
          if (letter) {
            const int n2 = lex->child(node, ch);
            ok = n2 >= 0 && feasible(n2) && (banned_prefixes.empty() || !banned_prefixes.count(word + ch));
            if (ok && pv) bias = mood_strength * ((*pv)[n2] - (*pv)[node]);
          } else if (t.id == SPACE) {
            ok = sep_nonfinal;
          } else if (is_punct(ch)) {
            ok = sep_nonfinal || sep_final;
          } else if (t.id == NL) {
            ok = sep_final;
          }
          break;
        case Phase::AfterPunct:
          ok = t.id == SPACE || (t.id == NL && last_final_ok);
          break;
        case Phase::AfterFinalPunct:
          ok = t.id == NL;
          break;
        case Phase::AfterKeyword:
          ok = (t.id == SPACE && can_continue) || (ch == ',' && can_continue) || (t.id == NL && last_final_ok);
          break;
      }
      if (!ok) t.logit = -INFINITY;
      else t.logit += bias;
    }
  }

  // After token id is emitted in an English line. Returns true when the line ended.
  bool advance_en(int32_t id) {
    const char ch = tok_ascii[id];
    switch (phase) {
      case Phase::WordStart: {
        const char lc = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        node = lex->child(0, lc);
        word = std::string(1, lc);
        phase = Phase::InWord;
        return false;
      }
      case Phase::InWord: {
        if ((ch >= 'a' && ch <= 'z') || ch == '\'') {
          node = lex->child(node, ch);
          word += ch;
          return false;
        }
        const int w = lex->word_at(node);
        const uint32_t b = 1u << lex->syllables(w);
        const int r_hi = hi - count, r_lo = std::max(1, lo - count);
        const bool nonfinal = (b & bits(1, r_hi - min_final)) && !avoided_words.count(w);
        const bool fin = (b & bits(r_lo, r_hi)) && final_allowed(w);
        count += lex->syllables(w);
        en_stream.push_back(lex->word(w));
        last_word = w;
        banned_prefixes.clear();
        if (id == SPACE) { phase = Phase::WordStart; node = 0; word.clear(); return false; }
        if (id == NL) return true;
        // punctuation
        if (nonfinal) { phase = Phase::AfterPunct; last_final_ok = fin; }
        else phase = Phase::AfterFinalPunct;
        return false;
      }
      case Phase::AfterPunct:
      case Phase::AfterKeyword:
        if (id == NL) return true;
        if (id == SPACE) { phase = Phase::WordStart; node = 0; word.clear(); }
        else phase = Phase::AfterPunct;  // the keyword's comma
        return false;
      case Phase::AfterFinalPunct:
        return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ lines
  // Tokens of a text the model can read (characters outside its vocabulary are skipped).
  std::vector<int32_t> tokens_of(const std::string& text) const {
    std::u32string c;
    utf8_decode(text, c);
    std::vector<int32_t> out;
    for (char32_t ch : c) {
      const int id = tok.id(ch);
      if (id >= 0) out.push_back(id);
    }
    return out;
  }

  void count_use(char32_t ch) {
    if (zh_uses.empty()) return;
    const int id = tok.id(ch);
    if (id >= 0) ++zh_uses[id];
  }

  void append_streams(const std::string& text) {
    if (zh) {
      std::u32string c;
      utf8_decode(text, c);
      for (char32_t ch : c)
        if (is_cjk(ch)) { zh_stream += ch; count_use(ch); }
    } else {
      for (std::string& w : en_words(text)) en_stream.push_back(std::move(w));
    }
  }

  // A kept line (existing or a chorus repeat): the model reads it.
  void feed_line(const std::string& text) {
    ctx->begin_line();
    std::vector<int32_t> ts = tokens_of(text);
    ts.push_back(NL);
    ctx->feed_many(ts);
    for (int32_t t : ts) chain.accept(t);
    append_streams(text);
  }

  // The end of a line for its rhyme class: zh group, en key id; the final unit's text.
  void line_end(const std::string& text, int& group, int& key, std::string& final_unit) const {
    group = 0;
    key = -1;
    final_unit.clear();
    if (zh) {
      std::u32string c;
      utf8_decode(text, c);
      for (size_t k = c.size(); k-- > 0;)
        if (is_cjk(c[k])) {
          group = res.phonetics->zh_rhyme_group(c[k]);
          utf8_append(final_unit, c[k]);
          return;
        }
    } else {
      std::vector<std::string> ws = en_words(text);
      if (ws.empty()) return;
      final_unit = ws.back();
      const int w = lex->find(final_unit);
      if (w >= 0) key = lex->key_id(w);
      else {
        const std::string k = res.phonetics->en(final_unit).rhyme_key;
        key = lex->find_key(k);
      }
    }
  }

  void note_class(int cls, const std::string& text) {
    if (cls < 0) return;
    int g, k;
    std::string fu;
    line_end(text, g, k, fu);
    if (zh && !class_group[cls] && g) class_group[cls] = g;
    if (!zh && class_key[cls] < 0 && k >= 0) class_key[cls] = k;
    if (!fu.empty()) class_finals[cls].insert(fu);
  }

  // Prepares the line state for writing line i.
  void start_line(int i, bool with_rhyme, bool with_orig) {
    const LinePlan& lp = plan.lines[i];
    count = 0;
    line_cps.clear();
    orig = with_orig;
    rhymed = with_rhyme && lp.rhyme_class >= 0;
    if (lp.syllables) lo = hi = lp.syllables;
    else if (zh) { lo = 3; hi = m.manifest().at("generation").value("max_line_chars", 24); }
    else { lo = 3; hi = 14; }
    banned_final_cp.clear();
    need_group = 0;
    if (zh && rhymed) {
      need_group = class_group[lp.rhyme_class] ? class_group[lp.rhyme_class] : -1;
      for (const std::string& f : class_finals[lp.rhyme_class]) {
        std::u32string c;
        utf8_decode(f, c);
        if (!c.empty()) banned_final_cp.insert(c[0]);
      }
    }
    if (!zh) {
      phase = Phase::WordStart;
      node = 0;
      word.clear();
      banned_prefixes.clear();
      last_final_ok = false;
      last_word = -1;
      banned_final_words.clear();
      fin_nodes.clear();
      fin_kind = FinalKind::Any;
      need_key = -1;
      if (rhymed) {
        for (const std::string& f : class_finals[lp.rhyme_class]) {
          const int w = lex->find(f);
          if (w >= 0) banned_final_words.insert(w);
        }
        need_key = class_key[lp.rhyme_class];
        if (need_key < 0) {
          fin_kind = FinalKind::Rhymable;
        } else {
          fin_kind = FinalKind::Key;
          const uint32_t fits = bits(1, hi - (lp.keyword >= 0 ? 1 : 0));
          for (rhyme_tier = 0; rhyme_tier <= 2; ++rhyme_tier) {
            fin_nodes.clear();
            for (int w : lex->words_with_key(need_key)) {
              if (!key_final_ok(w)) continue;
              const uint32_t b = 1u << lex->syllables(w);
              for (int n = lex->node_of(w); n >= 0; n = lex->parent(n)) fin_nodes[n] |= b;
            }
            if (fin_mask(0) & fits) break;
          }
          if (rhyme_tier > 2) rhyme_tier = 2;
          if (rhyme_tier == 2 && (fin_mask(0) & fits) && !tier_noted) {
            tier_noted = true;
            relax.push_back(plan.sections[lp.section].label + " line " + std::to_string(lp.in_section + 1) +
                            ": no unused word of this rhyme fits the syllable target; its rhyme word repeats one already used");
          }
        }
      }
      // The fewest syllables a final word can have (1 when any word may end the line).
      min_final = 1;
      if (fin_kind != FinalKind::Any) {
        const uint32_t f = fin_mask(0);
        min_final = 0;
        for (int s = 1; s <= EnLexicon::kMaxSyllables; ++s)
          if (f & (1u << s)) { min_final = s; break; }
        if (!min_final) min_final = 99;  // no word can answer this rhyme: feasible() fails, relaxed below
      }
    }
  }

  // Writes line i into texts[i]. Bounded: every attempt ends by its step limit, and after a few
  // failed attempts the originality check, then the rhyme, is relaxed for this line (reported).
  void write_line(int i) {
    const LinePlan& lp = plan.lines[i];
    tier_noted = false;
    const std::string label = plan.sections[lp.section].label + " line " + std::to_string(lp.in_section + 1);
    // Room for a typical line; a longer one shifts inside the line (Ctx keeps it whole).
    const int room = zh ? (lp.syllables ? lp.syllables : 12) + 2 : std::min(m.config().n_ctx / 4, 4 * (lp.syllables ? lp.syllables : 10) + 8);
    ctx->ensure_room(room);
    ctx->begin_line();
    const size_t line_start = ctx->size();
    const size_t stream_start = zh ? zh_stream.size() : en_stream.size();
    bool with_rhyme = true, with_orig = true;
    for (int attempt = 0;; ++attempt) {
      if (attempt == 3 && with_orig && plan.originality) {
        with_orig = false;
        relax.push_back(label + ": the originality check left no way to finish the line; it was relaxed for this line");
      } else if (attempt == 5 && with_rhyme && lp.rhyme_class >= 0) {
        with_rhyme = false;
        relax.push_back(label + ": no word could complete the rhyme within the syllable target; the line is unrhymed");
      } else if (attempt >= 8) {
        throw Error("internal", "lyrics: could not write " + label + " under its constraints");
      }
      if (attempt > 0) {
        ++restarts;
        ctx->rollback(line_start);
        if (zh) zh_stream.resize(stream_start);
        else en_stream.resize(stream_start);
        if (on_event) on_event({{"event", "line_reset"}, {"index", i}});
      }
      start_line(i, with_rhyme, with_orig);
      if (!zh && rhymed && min_final > hi) continue;  // nothing can rhyme in this length: next attempt relaxes
      std::string text;
      // A keyword opens the line, as written.
      if (lp.keyword >= 0) {
        std::string kw = plan.keywords[lp.keyword];
        if (!zh && !kw.empty() && kw[0] >= 'a' && kw[0] <= 'z') kw[0] = (char)(kw[0] - 'a' + 'A');
        for (int32_t t : tokens_of(kw)) { ctx->feed(t); chain.accept(t); }
        text = kw;
        if (on_event) on_event({{"event", "token"}, {"text", kw}});
        if (zh) {
          std::u32string c;
          utf8_decode(kw, c);
          line_cps += c;
          count += (int)c.size();
        } else {
          for (std::string& w : en_words(kw)) en_stream.push_back(std::move(w));
          count += res.phonetics->en_syllables_line(kw);
          phase = Phase::AfterKeyword;
          last_final_ok = !rhymed && count >= lo && count <= hi;
        }
      }
      const int max_steps = zh ? hi + 2 : 12 * hi + 40;
      bool done = false, failed = false;
      std::string pending;  // en: text of the word being written, streamed when it completes
      size_t word_start = ctx->size(), word_text_start = text.size();
      int word_count_start = count;
      int word_backtracks = 0;
      for (int step = 0; step < max_steps && !done; ++step) {
        int32_t id = chain.sample(ctx->logits(), m.config().vocab_size);
        if (id < 0 && zh && orig && plan.originality) {
          // Every candidate would copy the corpus: relax for this one character and say so.
          orig = false;
          relax.push_back(label + ": the originality check blocked every character at one position; relaxed there");
          id = chain.sample(ctx->logits(), m.config().vocab_size);
          orig = with_orig;
        }
        if (id < 0 && !zh && phase == Phase::InWord && word_backtracks < 12) {
          // Dead end inside a word (its completions are copied or avoided): back to its start.
          ++backtracks;
          ++word_backtracks;
          banned_prefixes.insert(word);
          ctx->rollback(word_start);
          text.resize(word_text_start);
          count = word_count_start;
          phase = Phase::WordStart;
          node = 0;
          word.clear();
          pending.clear();
          continue;
        }
        if (id < 0) { failed = true; break; }
        ++tokens_generated;
        if (!zh && phase == Phase::WordStart) { word_start = ctx->size(); word_text_start = text.size(); word_count_start = count; }
        ctx->feed(id);
        if (id == NL) {
          if (!zh && phase == Phase::InWord) advance_en(id);
          done = true;
          break;
        }
        const std::string& piece = tok.text(id);
        text += piece;
        if (zh) {
          line_cps += tok_cp[id];
          count_use(tok_cp[id]);
          ++count;
          if (on_event) on_event({{"event", "token"}, {"text", piece}});
        } else {
          const bool was_in_word = phase == Phase::InWord || phase == Phase::WordStart;
          done = advance_en(id);
          pending += piece;
          if (!was_in_word || phase != Phase::InWord) {  // a word (or a separator) completed
            if (on_event) on_event({{"event", "token"}, {"text", pending}});
            pending.clear();
          }
        }
      }
      if (failed || !done) continue;
      // Trailing space or punctuation never ends a line badly: the masks only allow NL after a word.
      if (!zh && !pending.empty() && on_event) on_event({{"event", "token"}, {"text", pending}});
      if (zh) zh_stream += line_cps;
      texts[i] = text;
      written[i] = true;
      if (lp.rhyme_class >= 0) note_class(lp.rhyme_class, text);
      return;
    }
  }
};

// Rhyme key of a line for the response: 十三辙 group name or CMUdict key.
json rhyme_json(const Writer& w, const LinePlan& lp, const std::string& text) {
  if (lp.rhyme_class < 0) return nullptr;
  std::string key;
  if (w.zh) {
    int g, k;
    std::string fu;
    w.line_end(text, g, k, fu);
    key = g > 0 && g < 14 ? kZhGroupNames[g] : "";
  } else {
    key = w.res.phonetics->en_rhyme_key_line(text);
  }
  return {{"class", std::string(1, lp.letter)}, {"key", key}};
}

bool contains_word_seq(const std::vector<std::string>& hay, const std::vector<std::string>& needle) {
  if (needle.empty() || needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (std::equal(needle.begin(), needle.end(), hay.begin() + (long)i)) return true;
  return false;
}

}  // namespace

json write_song(const GptModel& model, const LyricsParams& p, const SongPlan& plan, const SongResources& res,
                const EditSpec* edit, const EventFn& on_event) {
  const json& man = model.manifest();
  const CharTokenizer& tok = model.tokenizer();
  const json& sp = man.at("special_tokens");
  const int BOS = sp.at("bos").get<int>(), SEP = sp.at("sep").get<int>();
  const std::string lang = man.at("language").get<std::string>();
  const bool zh = lang == "zh";
  if (!res.phonetics) throw Error("internal", "songwriter: phonetics not given");
  if (!zh && !res.lexicon) throw Error("internal", "songwriter: lexicon not given");
  if (!plan.mood.empty() && !res.sentiment) throw Error("internal", "songwriter: sentiment not given");

  const StyleMatch style = resolve_style(model, p.style);
  // Prompt: <bos> <style:S> title <sep>; title characters outside the vocabulary are left out.
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

  // Keywords must be writable by this model.
  for (const std::string& kw : plan.keywords) {
    std::u32string c;
    utf8_decode(kw, c);
    for (char32_t ch : c)
      if (tok.id(ch) < 0) {
        std::string s;
        utf8_append(s, ch);
        throw Error("invalid_field", "'keywords' entry '" + kw + "' has a character the model cannot write ('" + s + "')", {{"field", "keywords"}});
      }
  }

  Writer w(model, p, plan, res, on_event);
  w.setup(prompt);
  const int N = (int)plan.lines.size();
  w.texts.assign(N, "");
  w.written.assign(N, false);
  std::vector<bool> to_write(N, true);
  if (edit) {
    w.existing = edit->lines.size();
    to_write = edit->write;
    for (int i = 0; i < N; ++i)
      if (!to_write[i]) w.texts[i] = i < (int)edit->lines.size() ? edit->lines[i] : "";
    // Kept lines fix their classes' rhymes first, wherever they are in the song.
    for (int i = 0; i < N; ++i)
      if (!to_write[i] && plan.lines[i].repeat_of < 0) w.note_class(plan.lines[i].rhyme_class, w.texts[i]);
  }
  int last_to_write = -1;
  for (int i = 0; i < N; ++i)
    if (to_write[i] && plan.lines[i].repeat_of < 0) last_to_write = i;

  for (int i = 0; i <= last_to_write; ++i) {
    const LinePlan& lp = plan.lines[i];
    if (lp.repeat_of >= 0) {
      w.texts[i] = w.texts[lp.repeat_of];
      w.feed_line(w.texts[i]);
      if (!to_write[lp.repeat_of] && i < (int)w.existing) continue;  // a kept repeat of a kept line is not news
    } else if (to_write[i]) {
      w.write_line(i);
    } else {
      w.feed_line(w.texts[i]);
      continue;
    }
    if (on_event) {
      const SectionPlan& s = plan.sections[lp.section];
      on_event({{"event", "line"}, {"index", i}, {"text", w.texts[i]}, {"section", s.name}, {"label", s.label},
                {"repeat_of", lp.repeat_of >= 0 ? json(lp.repeat_of) : json(nullptr)}});
    }
  }
  // Repeats after the last written line copy their (possibly new) originals, with their line
  // events; kept lines after it stay as they are.
  for (int i = last_to_write + 1; i < N; ++i) {
    const LinePlan& lp = plan.lines[i];
    if (lp.repeat_of < 0 || (!to_write[lp.repeat_of] && i < (int)w.existing)) continue;  // kept lines are not news
    w.texts[i] = w.texts[lp.repeat_of];
    if (on_event) {
      const SectionPlan& s = plan.sections[lp.section];
      on_event({{"event", "line"}, {"index", i}, {"text", w.texts[i]}, {"section", s.name}, {"label", s.label},
                {"repeat_of", lp.repeat_of >= 0 ? json(lp.repeat_of) : json(nullptr)}});
    }
  }

  // ------------------------------------------------------------------ response
  const Phonetics& ph = *res.phonetics;
  json out_lines = json::array();
  std::string all;
  int syl_required = 0, syl_met = 0;
  std::vector<std::vector<int>> class_lines(plan.classes);
  json edited = json::array();
  for (int i = 0; i < N; ++i) {
    const LinePlan& lp = plan.lines[i];
    const SectionPlan& s = plan.sections[lp.section];
    const std::string& text = w.texts[i];
    std::u32string c32;
    utf8_decode(text, c32);
    int syl = 0;
    if (zh) { for (char32_t c : c32) syl += is_cjk(c); }
    else syl = ph.en_syllables_line(text);
    if (lp.syllables) { ++syl_required; syl_met += syl == lp.syllables; }
    if (lp.rhyme_class >= 0) class_lines[lp.rhyme_class].push_back(i);
    json jl = {{"index", i}, {"text", text}, {"chars", (int)c32.size()}, {"section", s.name}, {"section_index", lp.section},
               {"label", s.label}, {"line_in_section", lp.in_section}, {"syllables", syl},
               {"target_syllables", lp.syllables ? json(lp.syllables) : json(nullptr)}, {"rhyme", rhyme_json(w, lp, text)},
               {"repeat_of", lp.repeat_of >= 0 ? json(lp.repeat_of) : json(nullptr)}};
    if (edit && (to_write[i] || (lp.repeat_of >= 0 && (to_write[lp.repeat_of] || i >= (int)w.existing)))) edited.push_back(i);
    out_lines.push_back(jl);
    all += (i ? "\n" : "") + text;
  }
  int pairs = 0, pairs_met = 0;
  for (const auto& cl : class_lines)
    for (size_t k = 1; k < cl.size(); ++k) {
      ++pairs;
      const std::string &a = w.texts[cl[0]], &b = w.texts[cl[k]];
      pairs_met += zh ? ph.zh_rhymes(a, b) : ph.en_rhymes(a, b);
    }
  // Keywords and avoided words, checked on the final text.
  json placed = json::array(), missing = json::array(), present_avoided = json::array();
  std::vector<std::string> song_words = zh ? std::vector<std::string>{} : en_words(all);
  for (size_t k = 0; k < plan.keywords.size(); ++k) {
    const std::string& kw = plan.keywords[k];
    int at = -1;
    for (int i = 0; i < N && at < 0; ++i) {
      if (zh ? w.texts[i].find(kw) != std::string::npos : contains_word_seq(en_words(w.texts[i]), en_words(kw))) at = i;
    }
    if (at >= 0) placed.push_back({{"keyword", kw}, {"line", at}});
    else missing.push_back(kw);
  }
  for (const std::string& a : plan.avoid) {
    bool hit;
    if (zh) {
      // across line breaks, as the decoder checks it
      std::u32string fa, fc;
      utf8_decode(a, fa);
      for (int i = 0; i < N; ++i) { std::u32string c; utf8_decode(w.texts[i], c); for (char32_t ch : c) if (is_cjk(ch)) fc += ch; }
      hit = fc.find(fa) != std::u32string::npos;
    } else {
      hit = contains_word_seq(song_words, en_words(a));
    }
    if (hit) present_avoided.push_back(a);
  }
  const bool all_met = pairs_met == pairs && syl_met == syl_required && missing.empty() && present_avoided.empty();
  json constraints = {{"rhyme_pairs", {{"required", pairs}, {"met", pairs_met}}},
                      {"syllables", {{"required", syl_required}, {"met", syl_met}}},
                      {"keywords", {{"required", plan.keywords}, {"placed", placed}, {"missing", missing}}},
                      {"avoid", {{"words", plan.avoid}, {"present", present_avoided}}},
                      {"all_met", all_met}};

  const json& sj = man.at("styles").at(style.name);
  json style_j = {{"requested", p.style}, {"used", style.name}, {"label", sj.value("label", "")}, {"matched_by", style.how}};
  json notes = json::array();
  if (style.how == "unknown (default used)")
    notes.push_back("style '" + p.style + "' is not one this model was trained on; it wrote in its default style '" + style.name + "'");
  if (unknown_title_chars)
    notes.push_back(std::to_string(unknown_title_chars) + " title character(s) are not in the model's vocabulary and were left out of the prompt");
  for (const std::string& n : plan.notes) notes.push_back(n);
  json relaxations = json::array();
  for (const std::string& r : w.relax) relaxations.push_back(r);
  json orig = {{"enabled", plan.originality && res.ngrams != nullptr}, {"unit", zh ? "char" : "word"},
               {"n", res.ngrams ? res.ngrams->n() : (zh ? 8 : 6)}, {"blocked_candidates", w.blocked}};
  json out = {
      {"task", edit ? "edit_lyrics" : "generate_lyrics"},
      {"title", p.title},
      {"lyrics", all},
      {"lines", out_lines},
      {"sections", plan.describe()},
      {"language", lang},
      {"style", style_j},
      {"mood", plan.mood.empty() ? json(nullptr) : json{{"requested", plan.mood_requested}, {"used", plan.mood}}},
      {"chorus", plan.vary_chorus ? "vary" : "repeat"},
      {"constraints", constraints},
      {"relaxations", relaxations},
      {"originality", orig},
      {"model", {{"name", model.name()}, {"version", man.value("version", "")}, {"sha256", man.value("sha256", "")}}},
      {"seed", p.seed},
      {"temperature", p.temperature},
      {"top_k", p.top_k},
      {"top_p", p.top_p},
      {"repetition_penalty", p.repetition_penalty},
      {"sampler", w.chain.describe()},
      {"tokens_generated", w.tokens_generated},
      {"backtracks", w.backtracks},
      {"line_restarts", w.restarts},
      {"context_shifts", w.ctx->shifts()},
      {"notes", notes},
  };
  if (edit) {
    out["action"] = edit->action;
    out["edited"] = edited;
  }
  return out;
}

}  // namespace tunesmith
