// SIMD kernels against the scalar reference (which sums in double), on awkward sizes that hit
// every tail path, plus the properties the rest of the engine relies on: results independent of
// the thread count, and one-token and batched matmuls giving the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tunesmith/detmath.h"
#include "tunesmith/kernels.h"

using namespace tunesmith;

namespace {
std::vector<float> randv(size_t n, uint32_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) { s = s * 1664525u + 1013904223u; x = scale * ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f); }
  return v;
}
float maxdiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}
}  // namespace

TEST(Kernels, DotMatchesReference) {
  for (int n : {1, 3, 4, 7, 8, 9, 31, 32, 33, 160, 1000}) {
    auto a = randv(n, 1), b = randv(n, 2);
    EXPECT_NEAR(dot(a.data(), b.data(), n), ref::dot(a.data(), b.data(), n), 1e-5 * std::sqrt((double)n)) << n;
  }
}

TEST(Kernels, MatmulMatchesReference) {
  for (int T : {1, 3, 4, 5, 9}) for (int in : {5, 16, 33}) for (int out : {3, 4, 12, 18, 64}) {
    auto X = randv((size_t)T * in, 3), W = randv((size_t)in * out, 4), b = randv(out, 5);
    std::vector<float> Y((size_t)T * out), R((size_t)T * out);
    matmul(X.data(), W.data(), b.data(), Y.data(), T, in, out);
    ref::matmul(X.data(), W.data(), b.data(), R.data(), T, in, out);
    EXPECT_LT(maxdiff(Y, R), 2e-5f) << T << "x" << in << "x" << out;
    matmul(X.data(), W.data(), nullptr, Y.data(), T, in, out);
    ref::matmul(X.data(), W.data(), nullptr, R.data(), T, in, out);
    EXPECT_LT(maxdiff(Y, R), 2e-5f);
  }
}

TEST(Kernels, BatchedAndSingleRowsAreBitIdentical) {
  // The lyrics generator prefills a prompt in one call and then feeds tokens one at a time; the
  // same row must give the same bits either way (so a context shift changes nothing).
  const int T = 7, in = 40, out = 36;
  auto X = randv((size_t)T * in, 6), W = randv((size_t)in * out, 7), b = randv(out, 8);
  std::vector<float> Y((size_t)T * out), y(out);
  matmul(X.data(), W.data(), b.data(), Y.data(), T, in, out);
  for (int t = 0; t < T; ++t) {
    matmul(X.data() + (size_t)t * in, W.data(), b.data(), y.data(), 1, in, out);
    for (int j = 0; j < out; ++j) ASSERT_EQ(Y[(size_t)t * out + j], y[j]);
  }
}

TEST(Kernels, ThreadCountDoesNotChangeResults) {
  const int T = 16, in = 160, out = 640, V = 3000;
  auto X = randv((size_t)T * in, 9), W = randv((size_t)in * out, 10), E = randv((size_t)V * in, 11);
  std::vector<float> Y1((size_t)T * out), Y2((size_t)T * out), L1((size_t)T * V), L2((size_t)T * V);
  kernels_set_threads(1);
  matmul(X.data(), W.data(), nullptr, Y1.data(), T, in, out);
  matmul_transposed(X.data(), E.data(), L1.data(), T, in, V);
  kernels_set_threads(kernels_threads_available() ? 3 : 1);
  matmul(X.data(), W.data(), nullptr, Y2.data(), T, in, out);
  matmul_transposed(X.data(), E.data(), L2.data(), T, in, V);
  kernels_set_threads(1);
  EXPECT_EQ(Y1, Y2);
  EXPECT_EQ(L1, L2);
}

TEST(Kernels, MatmulTransposedMatchesReference) {
  const int T = 3, d = 37, V = 101;
  auto X = randv((size_t)T * d, 12), E = randv((size_t)V * d, 13);
  std::vector<float> Y((size_t)T * V), R((size_t)T * V);
  matmul_transposed(X.data(), E.data(), Y.data(), T, d, V);
  ref::matmul_transposed(X.data(), E.data(), R.data(), T, d, V);
  EXPECT_LT(maxdiff(Y, R), 2e-5f);
}

TEST(Kernels, ElementwiseMatchReference) {
  for (int n : {1, 5, 8, 13, 160, 192}) {
    auto x = randv(n, 14, 3.0f), g = randv(n, 15), b = randv(n, 16);
    std::vector<float> y(n), r(n);
    layernorm(x.data(), g.data(), b.data(), y.data(), n, 1e-5f);
    ref::layernorm(x.data(), g.data(), b.data(), r.data(), n, 1e-5f);
    EXPECT_LT(maxdiff(y, r), 1e-5f) << n;

    auto a = randv(n, 17, 6.0f), ar = a;
    gelu(a.data(), n);
    ref::gelu(ar.data(), n);
    EXPECT_LT(maxdiff(a, ar), 1e-6f) << n;

    auto s = randv(n, 18, 20.0f), sr = s;
    softmax(s.data(), n);
    ref::softmax(sr.data(), n);
    EXPECT_LT(maxdiff(s, sr), 1e-6f) << n;

    auto yy = randv(n, 19), yr = yy;
    axpy(0.37f, x.data(), yy.data(), n);
    ref::axpy(0.37f, x.data(), yr.data(), n);
    EXPECT_LT(maxdiff(yy, yr), 1e-6f) << n;
  }
}

TEST(Kernels, SoftmaxIgnoresMinusInfinity) {
  std::vector<float> s = {1.0f, -INFINITY, 1.0f};
  softmax(s.data(), 3);
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_EQ(s[1], 0.0f);
}

TEST(DetMath, ExpAndErfAccuracy) {
  double worst_exp = 0, worst_erf = 0;
  for (double x = -87.0; x < 88.0; x += 0.0137) {
    const float f = (float)x;
    worst_exp = std::max(worst_exp, std::fabs(det_expf(f) - std::exp((double)f)) / std::exp((double)f));
  }
  for (double x = -6.0; x < 6.0; x += 0.00071) {
    const float f = (float)x;
    worst_erf = std::max(worst_erf, std::fabs(det_erff(f) - std::erf((double)f)));
  }
  EXPECT_LT(worst_exp, 2e-7);
  EXPECT_LT(worst_erf, 3e-7);
  EXPECT_EQ(det_expf(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isinf(det_expf(1000.0f)));
  EXPECT_TRUE(std::isnan(det_expf(NAN)));
  EXPECT_EQ(det_erff(10.0f), 1.0f);
  EXPECT_EQ(det_erff(-10.0f), -1.0f);
}

TEST(Kernels, ThreadCountCanChangeBackAndForth) {
  // Workers started after earlier jobs must not rerun a stale one (a crash seen in the pool).
  const int T = 8, in = 256, out = 1024;
  auto X = randv((size_t)T * in, 20), W = randv((size_t)in * out, 21);
  std::vector<float> ref1((size_t)T * out), y((size_t)T * out);
  kernels_set_threads(1);
  matmul(X.data(), W.data(), nullptr, ref1.data(), T, in, out);
  for (int round = 0; round < 200; ++round) {
    kernels_set_threads(1 + round % 3);
    matmul(X.data(), W.data(), nullptr, y.data(), T, in, out);
    ASSERT_EQ(y, ref1) << round;
  }
  kernels_set_threads(1);
}
