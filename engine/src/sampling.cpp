#include "tunesmith/sampling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <utility>

#include "tunesmith/detmath.h"

namespace tunesmith {

namespace {

// Total order (ids are unique and NaN never gets in), so every std::sort agrees on the result.
bool better(const TokenData& a, const TokenData& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Sorts, then sets p to the softmax of the logits; the sum runs in sorted order. All -inf: p = 0.
void sorted_softmax(Candidates& c) {
  if (!c.sorted) std::sort(c.data.begin(), c.data.end(), better);
  c.sorted = true;
  if (c.data.empty()) return;
  const float max = c.data[0].logit;
  if (max == -INFINITY) {
    for (auto& t : c.data) t.p = 0.0f;
    return;
  }
  float sum = 0.0f;
  for (auto& t : c.data) {
    const float d = t.logit - max;
    t.p = d == d ? det_expf(d) : 1.0f;  // NaN only from +inf - +inf: a forced token
    sum += t.p;
  }
  for (auto& t : c.data) t.p /= sum;
}

void drop_nan(Candidates& c) {
  for (auto& t : c.data)
    if (t.logit != t.logit) t.logit = -INFINITY;
}

std::string str(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

// Stages keep their label so name() can report parameters through a const char*.
template <class Derived>
struct Stage : SamplerStage {
  explicit Stage(std::string l) : label_(std::move(l)) {}
  const char* name() const override { return label_.c_str(); }
  std::unique_ptr<SamplerStage> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
  std::string label_;
};

struct Temperature : Stage<Temperature> {
  explicit Temperature(float t) : Stage("temperature(" + str(t) + ")"), t_(t) {}
  void apply(Candidates& c) override {
    if (t_ <= 0.0f) return;
    for (auto& d : c.data) d.logit /= t_;
    // Division by t > 0 keeps the order, but rounding may merge neighbours into ties that the
    // id rule then orders differently.
    c.sorted = c.sorted && std::is_sorted(c.data.begin(), c.data.end(), better);
  }
  float t_;
};

struct TopK : Stage<TopK> {
  explicit TopK(int32_t k) : Stage("top_k(" + std::to_string(k) + ")"), k_(k) {}
  void apply(Candidates& c) override {
    if (k_ <= 0 || static_cast<size_t>(k_) >= c.data.size()) return;
    if (!c.sorted) std::partial_sort(c.data.begin(), c.data.begin() + k_, c.data.end(), better);
    c.data.resize(k_);
    c.sorted = true;
  }
  int32_t k_;
};

struct TopP : Stage<TopP> {
  TopP(float p, size_t min_keep)
      : Stage("top_p(" + str(p) + ", " + std::to_string(min_keep) + ")"), p_(p), min_keep_(min_keep) {}
  void apply(Candidates& c) override {
    if (p_ >= 1.0f) return;
    sorted_softmax(c);
    float cum = 0.0f;
    for (size_t i = 0; i < c.data.size(); ++i) {
      cum += c.data[i].p;
      if (cum >= p_ && i + 1 >= min_keep_) {
        c.data.resize(i + 1);
        return;
      }
    }
  }
  float p_;
  size_t min_keep_;
};

struct RepetitionPenalty : Stage<RepetitionPenalty> {
  RepetitionPenalty(float penalty, int32_t last_n)
      : Stage("repetition_penalty(" + str(penalty) + ", " + std::to_string(last_n) + ")"), penalty_(penalty), last_n_(last_n) {
    if (!(penalty > 0.0f)) throw std::invalid_argument("repetition penalty must be > 0");
  }
  void apply(Candidates& c) override {
    if (penalty_ == 1.0f || recent_.empty()) return;
    // Distinct recent ids, so a token repeated in the window is penalised once.
    std::vector<int32_t> ids(recent_.begin(), recent_.end());
    std::sort(ids.begin(), ids.end());
    for (auto& d : c.data) {
      if (!std::binary_search(ids.begin(), ids.end(), d.id)) continue;
      d.logit = d.logit > 0.0f ? d.logit / penalty_ : d.logit * penalty_;
      c.sorted = false;
    }
  }
  void accept(int32_t token) override {
    if (last_n_ <= 0) return;
    recent_.push_back(token);
    if (recent_.size() > static_cast<size_t>(last_n_)) recent_.pop_front();
  }
  void reset() override { recent_.clear(); }
  float penalty_;
  int32_t last_n_;
  std::deque<int32_t> recent_;
};

struct LogitMask : Stage<LogitMask> {
  LogitMask(MaskFn fn, const char* name) : Stage(name), fn_(std::move(fn)) {}
  void apply(Candidates& c) override {
    if (!fn_) return;
    fn_(c);
    drop_nan(c);
    c.sorted = false;  // a bias may reorder anything
  }
  MaskFn fn_;
};

struct Greedy : Stage<Greedy> {
  Greedy() : Stage("greedy") {}
  void apply(Candidates& c) override {
    c.selected = -1;
    if (c.data.empty()) return;
    const auto best = c.sorted ? c.data.begin() : std::min_element(c.data.begin(), c.data.end(), better);
    if (best->logit != -INFINITY) c.selected = static_cast<int32_t>(best - c.data.begin());
  }
};

struct Dist : Stage<Dist> {
  explicit Dist(uint64_t seed) : Stage("dist(" + std::to_string(seed) + ")"), seed_(seed), rng_(seed) {}
  void apply(Candidates& c) override {
    c.selected = -1;
    sorted_softmax(c);
    float total = 0.0f;
    for (const auto& d : c.data) total += d.p;
    if (total == 0.0f) return;  // all masked: no draw, so the stream stays aligned with the steps
    const float target = rng_.uniform() * total;
    // Zero-probability (masked) tokens are skipped, so the fallback when rounding leaves target
    // at or above the final sum is the last pickable token.
    float cum = 0.0f;
    for (size_t i = 0; i < c.data.size(); ++i) {
      if (c.data[i].p <= 0.0f) continue;
      cum += c.data[i].p;
      c.selected = static_cast<int32_t>(i);
      if (target < cum) return;
    }
  }
  void reset() override { rng_ = Rng(seed_); }
  uint64_t seed_;
  Rng rng_;
};

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void Candidates::reset(const float* logits, int32_t n_vocab) {
  data.resize(n_vocab > 0 ? n_vocab : 0);
  for (int32_t i = 0; i < n_vocab; ++i) data[i] = {i, logits[i], 0.0f};
  drop_nan(*this);
  sorted = false;
  selected = -1;
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  state = splitmix64(x);
  inc = splitmix64(x) | 1u;  // the PCG increment must be odd
}

uint32_t Rng::next_u32() {
  const uint64_t old = state;
  state = old * 6364136223846793005ull + inc;
  const uint32_t xorshifted = static_cast<uint32_t>(((old >> 18) ^ old) >> 27);
  const uint32_t rot = static_cast<uint32_t>(old >> 59);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

std::unique_ptr<SamplerStage> make_temperature(float t) { return std::make_unique<Temperature>(t); }
std::unique_ptr<SamplerStage> make_top_k(int32_t k) { return std::make_unique<TopK>(k); }
std::unique_ptr<SamplerStage> make_top_p(float p, size_t min_keep) { return std::make_unique<TopP>(p, min_keep); }
std::unique_ptr<SamplerStage> make_repetition_penalty(float penalty, int32_t last_n) {
  return std::make_unique<RepetitionPenalty>(penalty, last_n);
}
std::unique_ptr<SamplerStage> make_logit_mask(MaskFn fn, const char* name) {
  return std::make_unique<LogitMask>(std::move(fn), name);
}
std::unique_ptr<SamplerStage> make_greedy() { return std::make_unique<Greedy>(); }
std::unique_ptr<SamplerStage> make_dist(uint64_t seed) { return std::make_unique<Dist>(seed); }

void SamplerChain::add(std::unique_ptr<SamplerStage> s) { stages_.push_back(std::move(s)); }

int32_t SamplerChain::sample(const float* logits, int32_t n_vocab) {
  cur_.reset(logits, n_vocab);
  for (auto& s : stages_) s->apply(cur_);
  if (cur_.selected < 0) return -1;
  const int32_t token = cur_.data[cur_.selected].id;
  accept(token);
  return token;
}

void SamplerChain::accept(int32_t token) {
  for (auto& s : stages_) s->accept(token);
}

void SamplerChain::reset() {
  for (auto& s : stages_) s->reset();
}

SamplerChain SamplerChain::clone() const {
  SamplerChain out;
  for (const auto& s : stages_) out.add(s->clone());
  out.cur_ = cur_;
  return out;
}

std::string SamplerChain::describe() const {
  std::string out;
  for (const auto& s : stages_) {
    if (!out.empty()) out += " -> ";
    out += s->name();
  }
  return out;
}

SamplerChain make_chain(const SamplingParams& p, MaskFn mask) {
  SamplerChain chain;
  if (p.repetition_penalty != 1.0f && p.repetition_last_n > 0)
    chain.add(make_repetition_penalty(p.repetition_penalty, p.repetition_last_n));
  if (mask) chain.add(make_logit_mask(std::move(mask)));
  if (p.temperature <= 0.0f) {
    chain.add(make_greedy());
    return chain;
  }
  if (p.top_k > 0) chain.add(make_top_k(p.top_k));
  if (p.temperature != 1.0f) chain.add(make_temperature(p.temperature));
  if (p.top_p < 1.0f) chain.add(make_top_p(p.top_p));
  chain.add(make_dist(p.seed));
  return chain;
}

}  // namespace tunesmith
