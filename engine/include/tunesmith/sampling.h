// Token sampling as a chain of small stages (after llama.cpp's sampler chain).
//
// Why a chain: later constraints (rhyme, syllable counts, music theory) plug in as logit masks
// without touching the samplers, and describe() can report exactly what produced a token.
//
// Determinism: for the same seed a chain picks the same tokens natively (g++/glibc) and in wasm
// (clang/musl). Hence det_expf instead of libm, our own RNG instead of std:: distributions, sorts
// under a total order (logit descending, then id ascending) so libstdc++ and libc++ agree, and
// probability sums taken in that sorted order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tunesmith {

struct TokenData {
  int32_t id;
  float logit;
  float p;
};

// The working set a chain transforms during one step.
struct Candidates {
  std::vector<TokenData> data;
  bool sorted = false;    // data is in the total order (logit descending, then id ascending)
  int32_t selected = -1;  // index into data set by a picking stage; -1: nothing pickable
  // All tokens with p = 0; NaN logits become -inf so they can never be picked.
  void reset(const float* logits, int32_t n_vocab);
};

// PCG32 (XSH-RR), seeded through splitmix64. The state is public so a generation can be saved
// and resumed exactly.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint32_t next_u32();
  float uniform();  // [0,1) from the top 24 bits: every value is exact in float
  uint64_t state = 0, inc = 0;
};

struct SamplerStage {
  virtual ~SamplerStage() = default;
  virtual const char* name() const = 0;  // with parameters, e.g. "top_k(40)"
  virtual void apply(Candidates& c) = 0;
  virtual void accept(int32_t /*token*/) {}  // told each token actually emitted
  virtual void reset() {}
  virtual std::unique_ptr<SamplerStage> clone() const = 0;
};

std::unique_ptr<SamplerStage> make_temperature(float t);  // logits / t; t <= 0: no-op
std::unique_ptr<SamplerStage> make_top_k(int32_t k);      // keeps the k best; k <= 0: no-op
// Keeps the smallest best-first prefix whose softmax mass reaches p (at least min_keep tokens);
// p >= 1: no-op.
std::unique_ptr<SamplerStage> make_top_p(float p, size_t min_keep = 1);
// CTRL-style: logit > 0 ? logit / penalty : logit * penalty, once per distinct token among the
// last_n accepted. penalty == 1 or last_n <= 0: no-op; penalty <= 0 throws std::invalid_argument.
std::unique_ptr<SamplerStage> make_repetition_penalty(float penalty, int32_t last_n);

// The hook for constraints: set logit = -INFINITY to ban a token, or add a bias. The callback may
// read any state its owner keeps; clone() copies the std::function, so state captured by
// reference is shared between clones. NaN logits it leaves are treated as -inf.
using MaskFn = std::function<void(Candidates&)>;
std::unique_ptr<SamplerStage> make_logit_mask(MaskFn fn, const char* name = "mask");

// Picking stages. Neither ever picks a -inf token; both leave selected = -1 when all are -inf.
std::unique_ptr<SamplerStage> make_greedy();  // the best token in the total order
// Softmax (det_expf, max-subtracted) in sorted order, then an inverse-CDF draw with its own Rng.
// reset() re-seeds it.
std::unique_ptr<SamplerStage> make_dist(uint64_t seed);

class SamplerChain {
 public:
  void add(std::unique_ptr<SamplerStage> s);
  // Runs every stage on one step's logits and returns the picked token id, then tells every stage
  // about it. -1 when every token is masked out (or the chain has no picking stage): callers
  // report that as an error.
  int32_t sample(const float* logits, int32_t n_vocab);
  void accept(int32_t token);  // tokens forced by the caller (prompt tokens etc.)
  void reset();
  SamplerChain clone() const;
  std::string describe() const;  // "temperature(0.8) -> top_k(40) -> ..."
  const Candidates& last() const { return cur_; }  // after the last sample()

 private:
  std::vector<std::unique_ptr<SamplerStage>> stages_;
  Candidates cur_;
};

// Policy, separate from the mechanism above.
struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int32_t top_k = 40;
  float top_p = 0.95f;
  float repetition_penalty = 1.1f;
  int32_t repetition_last_n = 64;
  uint64_t seed = 0;
};
// repetition_penalty -> mask -> top_k -> temperature -> top_p -> dist. Stages that would be no-ops
// are left out so describe() shows what acts; greedy chains are repetition_penalty -> mask ->
// greedy, since top_k, temperature and top_p never change the best token.
SamplerChain make_chain(const SamplingParams& p, MaskFn mask = nullptr);

}  // namespace tunesmith
