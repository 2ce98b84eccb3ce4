// Sampler stages and chains on tiny distributions whose answers are worked out by hand (in the
// style of llama.cpp's tests/test-sampling.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tunesmith/sampling.h"

using namespace tunesmith;

namespace {

// logits = log(p) for p = 0.1, 0.2, 0.3, 0.4: softmax gives p back, best first is 3, 2, 1, 0.
const std::vector<float> kP = {0.1f, 0.2f, 0.3f, 0.4f};
std::vector<float> log_probs() {
  std::vector<float> l;
  for (float p : kP) l.push_back(std::log(p));
  return l;
}

template <class... S>
Candidates run(const std::vector<float>& logits, S... stages) {
  Candidates c;
  c.reset(logits.data(), static_cast<int32_t>(logits.size()));
  (stages->apply(c), ...);
  return c;
}

std::vector<int32_t> ids(const Candidates& c) {
  std::vector<int32_t> out;
  for (const auto& t : c.data) out.push_back(t.id);
  return out;
}

float logit_of(const Candidates& c, int32_t id) {
  for (const auto& t : c.data)
    if (t.id == id) return t.logit;
  ADD_FAILURE() << "token " << id << " not among the candidates";
  return NAN;
}

SamplerChain chain_of(std::unique_ptr<SamplerStage> a, std::unique_ptr<SamplerStage> b = nullptr,
                      std::unique_ptr<SamplerStage> c = nullptr) {
  SamplerChain ch;
  for (auto* s : {&a, &b, &c})
    if (*s) ch.add(std::move(*s));
  return ch;
}

MaskFn ban(std::vector<int32_t> banned) {
  return [banned](Candidates& c) {
    for (auto& t : c.data)
      for (int32_t b : banned)
        if (t.id == b) t.logit = -INFINITY;
  };
}

std::vector<int32_t> draw(SamplerChain& ch, const std::vector<float>& logits, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(ch.sample(logits.data(), static_cast<int32_t>(logits.size())));
  return out;
}

}  // namespace

TEST(Sampling, TopK) {
  EXPECT_EQ(ids(run(log_probs(), make_top_k(1))), (std::vector<int32_t>{3}));
  EXPECT_EQ(ids(run(log_probs(), make_top_k(3))), (std::vector<int32_t>{3, 2, 1}));
  // k <= 0 and k >= n leave all four in input order.
  EXPECT_EQ(ids(run(log_probs(), make_top_k(0))), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(ids(run(log_probs(), make_top_k(9))), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Sampling, TopP) {
  // Best-first mass: 0.4, 0.7, 0.9, 1.0.
  EXPECT_EQ(ids(run(log_probs(), make_top_p(0.6f))), (std::vector<int32_t>{3, 2}));  // 0.7 >= 0.6
  EXPECT_EQ(ids(run(log_probs(), make_top_p(0.8f))), (std::vector<int32_t>{3, 2, 1}));  // 0.9 >= 0.8
  EXPECT_EQ(ids(run(log_probs(), make_top_p(0.0f))), (std::vector<int32_t>{3}));
  EXPECT_EQ(ids(run(log_probs(), make_top_p(0.0f, 2))), (std::vector<int32_t>{3, 2}));  // min_keep
  EXPECT_EQ(run(log_probs(), make_top_p(1.0f)).data.size(), 4u);
  // top_p sees only what is left: after top_k(2) the mass is 0.4/0.7 = 0.571 >= 0.5 at once,
  // whereas over all four 0.4 < 0.5 needs token 2 as well.
  EXPECT_EQ(ids(run(log_probs(), make_top_k(2), make_top_p(0.5f))), (std::vector<int32_t>{3}));
  EXPECT_EQ(ids(run(log_probs(), make_top_p(0.5f))), (std::vector<int32_t>{3, 2}));
}

TEST(Sampling, TemperatureReshapesProbabilities) {
  // logits / 0.5 = 2 log p: p^2 renormalised = (0.01, 0.04, 0.09, 0.16) / 0.30.
  Candidates c = run(log_probs(), make_temperature(0.5f), make_dist(1));
  EXPECT_EQ(ids(c), (std::vector<int32_t>{3, 2, 1, 0}));
  EXPECT_NEAR(c.data[0].p, 0.16f / 0.30f, 1e-5);
  EXPECT_NEAR(c.data[1].p, 0.09f / 0.30f, 1e-5);
  EXPECT_NEAR(c.data[2].p, 0.04f / 0.30f, 1e-5);
  EXPECT_NEAR(c.data[3].p, 0.01f / 0.30f, 1e-5);
  // logits / 2: sqrt(p) renormalised = (0.316228, 0.447214, 0.547723, 0.632456) / 1.943621.
  c = run(log_probs(), make_temperature(2.0f), make_dist(1));
  EXPECT_NEAR(c.data[0].p, 0.325401f, 1e-5);
  EXPECT_NEAR(c.data[1].p, 0.281805f, 1e-5);
  EXPECT_NEAR(c.data[2].p, 0.230093f, 1e-5);
  EXPECT_NEAR(c.data[3].p, 0.162700f, 1e-5);
  // t <= 0 leaves the logits alone (greedy is the policy's choice, not this stage's).
  c = run(log_probs(), make_temperature(0.0f));
  EXPECT_EQ(c.data[3].logit, std::log(0.4f));
}

TEST(Sampling, RepetitionPenalty) {
  const std::vector<float> l = {2.0f, -1.0f, 0.5f, 1.0f, 0.0f};
  auto rp = make_repetition_penalty(2.0f, 8);
  for (int32_t t : {0, 1, 0, 4}) rp->accept(t);
  Candidates c = run(l, rp.get());
  EXPECT_EQ(logit_of(c, 0), 1.0f);   // positive: 2 / 2, once although seen twice
  EXPECT_EQ(logit_of(c, 1), -2.0f);  // negative: -1 * 2
  EXPECT_EQ(logit_of(c, 2), 0.5f);   // never seen
  EXPECT_EQ(logit_of(c, 3), 1.0f);
  EXPECT_EQ(logit_of(c, 4), 0.0f);   // zero stays zero
  // Window of 2 after 0, 1, 2 holds {1, 2}.
  auto win = make_repetition_penalty(2.0f, 2);
  for (int32_t t : {0, 1, 2}) win->accept(t);
  c = run(l, win.get());
  EXPECT_EQ(logit_of(c, 0), 2.0f);
  EXPECT_EQ(logit_of(c, 1), -2.0f);
  EXPECT_EQ(logit_of(c, 2), 0.25f);
  win->reset();
  EXPECT_EQ(logit_of(run(l, win.get()), 1), -1.0f);
  EXPECT_EQ(logit_of(run(l, make_repetition_penalty(1.0f, 8)), 0), 2.0f);
  EXPECT_THROW(make_repetition_penalty(0.0f, 8), std::invalid_argument);
}

TEST(Sampling, ChainTellsStagesWhatWasPicked) {
  // {1.0, 0.9}, penalty 2, window 1: pick 0; 0 -> 0.5 so pick 1; 1 -> 0.45 so pick 0; ...
  SamplerChain ch = chain_of(make_repetition_penalty(2.0f, 1), make_greedy());
  const std::vector<float> l = {1.0f, 0.9f};
  EXPECT_EQ(draw(ch, l, 4), (std::vector<int32_t>{0, 1, 0, 1}));
  // A forced token (e.g. from the prompt) counts too.
  ch.reset();
  ch.accept(0);
  EXPECT_EQ(ch.sample(l.data(), 2), 1);
}

TEST(Sampling, GreedyAndTies) {
  SamplerChain g = chain_of(make_greedy());
  const std::vector<float> lp = log_probs();
  EXPECT_EQ(g.sample(lp.data(), 4), 3);
  // Equal logits: the lower id wins, in greedy, top_k and the sorted order alike.
  const std::vector<float> flat = {0.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(g.sample(flat.data(), 4), 0);
  EXPECT_EQ(ids(run(flat, make_top_k(2))), (std::vector<int32_t>{0, 1}));
  const std::vector<float> tie = {1.0f, 2.0f, 2.0f, 0.0f};
  EXPECT_EQ(g.sample(tie.data(), 4), 1);
  EXPECT_EQ(ids(run(tie, make_top_k(4), make_dist(1))), (std::vector<int32_t>{1, 2, 0, 3}));
}

TEST(Sampling, MasksAndBias) {
  const std::vector<float> lp = log_probs();
  SamplerChain g = chain_of(make_logit_mask(ban({3})), make_greedy());
  EXPECT_EQ(g.sample(lp.data(), 4), 2);
  // The mask runs before top_k, so top_k(1) keeps the best unbanned token.
  SamplerChain k1 = chain_of(make_logit_mask(ban({3})), make_top_k(1), make_dist(5));
  EXPECT_EQ(k1.sample(lp.data(), 4), 2);
  // A bias: log 0.1 + 2 = -0.30 beats log 0.4 = -0.92.
  SamplerChain b = chain_of(make_logit_mask([](Candidates& c) { c.data[0].logit += 2.0f; }), make_greedy());
  EXPECT_EQ(b.sample(lp.data(), 4), 0);
  // top_k(3) and top_p's min_keep keep banned token 2 around (p = 0), yet it is never drawn.
  SamplerChain d = chain_of(make_logit_mask(ban({2, 3})), make_top_k(3), make_top_p(0.99f, 3));
  d.add(make_dist(9));
  for (int32_t t : draw(d, lp, 2000)) EXPECT_TRUE(t == 0 || t == 1) << t;
  // A mask that leaves exactly one token: the full default chain must pick it every time.
  SamplingParams sp;
  sp.seed = 3;
  SamplerChain one = make_chain(sp, ban({0, 2, 3}));
  for (int32_t t : draw(one, lp, 200)) EXPECT_EQ(t, 1);
  // A +inf bias forces its token.
  SamplerChain f = chain_of(make_logit_mask([](Candidates& c) { c.data[1].logit = INFINITY; }), make_dist(2));
  for (int32_t t : draw(f, lp, 100)) EXPECT_EQ(t, 1);
  EXPECT_EQ(f.last().data[0].p, 1.0f);
}

TEST(Sampling, NanIsMaskedAndAllMaskedIsMinusOne) {
  const std::vector<float> l = {NAN, 0.5f, NAN, 0.1f};
  SamplerChain g = chain_of(make_greedy());
  EXPECT_EQ(g.sample(l.data(), 4), 1);
  SamplerChain d = chain_of(make_top_p(0.99f), make_dist(4));
  for (int32_t t : draw(d, l, 500)) EXPECT_TRUE(t == 1 || t == 3) << t;
  SamplerChain m = chain_of(make_logit_mask([](Candidates& c) { c.data[1].logit = NAN; }), make_greedy());
  EXPECT_EQ(m.sample(l.data(), 4), 3);

  const std::vector<float> lp = log_probs();
  SamplingParams sp;
  SamplerChain all = make_chain(sp, ban({0, 1, 2, 3}));
  EXPECT_EQ(all.sample(lp.data(), 4), -1);
  sp.temperature = 0.0f;
  SamplerChain all_greedy = make_chain(sp, ban({0, 1, 2, 3}));
  EXPECT_EQ(all_greedy.sample(lp.data(), 4), -1);
  const std::vector<float> nans = {NAN, NAN};
  EXPECT_EQ(chain_of(make_dist(1)).sample(nans.data(), 2), -1);
}

TEST(Sampling, DistFrequenciesMatchProbabilities) {
  SamplerChain d = chain_of(make_dist(12345));
  const int n = 20000;
  std::vector<int> count(4, 0);
  for (int32_t t : draw(d, log_probs(), n)) ++count[t];
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / double(n), kP[i], 0.01) << "token " << i;
}

TEST(Sampling, SeedsCloneAndReset) {
  const std::vector<float> lp = log_probs();
  SamplingParams sp;
  sp.seed = 7;
  SamplerChain a = make_chain(sp), b = make_chain(sp);
  const std::vector<int32_t> first = draw(a, lp, 200);
  EXPECT_EQ(first, draw(b, lp, 200));
  sp.seed = 8;
  SamplerChain c = make_chain(sp);
  EXPECT_NE(first, draw(c, lp, 200));
  // A clone carries the RNG state and the penalty window and continues identically.
  SamplerChain k = a.clone();
  EXPECT_EQ(draw(a, lp, 300), draw(k, lp, 300));
  // reset() re-seeds and forgets the window: the sequence starts over.
  a.reset();
  EXPECT_EQ(draw(a, lp, 200), first);
}

TEST(Sampling, Rng) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint32_t x = a.next_u32();
    EXPECT_EQ(x, b.next_u32());
    differs |= x != c.next_u32();
    const float u = a.uniform();
    b.uniform();
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
  }
  EXPECT_TRUE(differs);
}

TEST(Sampling, Describe) {
  SamplingParams sp;
  EXPECT_EQ(make_chain(sp).describe(),
            "repetition_penalty(1.1, 64) -> top_k(40) -> temperature(0.8) -> top_p(0.95, 1) -> dist(0)");
  sp.temperature = 0.0f;
  sp.seed = 42;
  EXPECT_EQ(make_chain(sp, ban({1})).describe(), "repetition_penalty(1.1, 64) -> mask -> greedy");
  sp = SamplingParams{1.0f, 0, 1.0f, 1.0f, 64, 5};
  EXPECT_EQ(make_chain(sp).describe(), "dist(5)");
}

// Guards cross-platform determinism: these exact numbers must come out of the wasm build too
// (checked once with em++/node against g++; any drift in det_expf, the RNG, the sort order or a
// summation order shows up here).
TEST(SamplingGolden, DefaultChainSeed42) {
  const std::vector<float> l = {1.25f, -0.5f,  0.75f, 2.0f,  0.0f, 1.5f,  -1.0f, 0.5f,
                                1.75f, 0.25f, -0.25f, 1.0f, -2.0f, 0.875f, 1.125f, 0.625f};
  SamplingParams sp;
  sp.seed = 42;
  SamplerChain ch = make_chain(sp);
  EXPECT_EQ(draw(ch, l, 20),
            (std::vector<int32_t>{11, 3, 11, 11, 0, 14, 8, 5, 2, 8, 3, 4, 3, 3, 3, 11, 5, 3, 0, 3}));
  Rng r(42);
  for (uint32_t want : {3344234869u, 784068600u, 3015419514u, 3010714124u}) EXPECT_EQ(r.next_u32(), want);
}
