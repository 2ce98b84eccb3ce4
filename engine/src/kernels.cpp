#include "tunesmith/kernels.h"

#include <cmath>

#include "simd.h"
#include "threadpool.h"
#include "tunesmith/detmath.h"

namespace tunesmith {

void kernels_set_threads(int n) { pool_set_threads(n); }
int kernels_threads() { return pool_threads(); }
bool kernels_threads_available() { return pool_available(); }
const char* kernels_simd_name() { return TS_SIMD_NAME; }

// Work below this many multiply-adds runs on one thread: waking workers costs more (measured
// by tools/bench.mjs: splitting the 0.1-0.8M-MAC decode matmuls of our lyrics models made decoding
// 2x slower on 2 cores). So threads pay for prompt prefill and larger models, not for decoding.
static constexpr long kParallelMacs = 1L << 20;

float dot(const float* a, const float* b, int n) noexcept {
  ts_f32x4 acc0 = TS_SPLAT(0.0f), acc1 = TS_SPLAT(0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = TS_ADD(acc0, TS_MUL(TS_LOAD(a + i), TS_LOAD(b + i)));
    acc1 = TS_ADD(acc1, TS_MUL(TS_LOAD(a + i + 4), TS_LOAD(b + i + 4)));
  }
  const ts_f32x4 acc = TS_ADD(acc0, acc1);
  float s = TS_HSUM(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Rows t0..t1 of Y, columns j0..j1. Register tiles: 4 tokens x 8 columns (prefill) and
// 1 token x 32 columns (decode: each W row is read as two whole cache lines). Every tile sums
// over i in increasing order from 0 and adds the bias last, so all paths give the same bits.
static void matmul_block(const float* X, const float* W, const float* bias, float* Y, int t0, int t1,
                         int in, int out, int j0, int j1) {
  const ts_f32x4 zero = TS_SPLAT(0.0f);
  auto finish = [&](float* y, const float* b, ts_f32x4 a) { TS_STORE(y, b ? TS_ADD(a, TS_LOAD(b)) : a); };
  auto scalar_col = [&](int t, int j) {
    float s = 0.0f;
    for (int i = 0; i < in; ++i) s += X[(size_t)t * in + i] * W[(size_t)i * out + j];
    Y[(size_t)t * out + j] = bias ? s + bias[j] : s;
  };
  int t = t0;
  for (; t + 4 <= t1; t += 4) {
    const float* x0 = X + (size_t)t * in;
    const float* x1 = x0 + in;
    const float* x2 = x1 + in;
    const float* x3 = x2 + in;
    int j = j0;
    for (; j + 8 <= j1; j += 8) {
      ts_f32x4 a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
      const float* w = W + j;
      for (int i = 0; i < in; ++i, w += out) {
        const ts_f32x4 wa = TS_LOAD(w), wb = TS_LOAD(w + 4);
        const ts_f32x4 s0 = TS_SPLAT(x0[i]), s1 = TS_SPLAT(x1[i]), s2 = TS_SPLAT(x2[i]), s3 = TS_SPLAT(x3[i]);
        a0 = TS_ADD(a0, TS_MUL(s0, wa)); b0 = TS_ADD(b0, TS_MUL(s0, wb));
        a1 = TS_ADD(a1, TS_MUL(s1, wa)); b1 = TS_ADD(b1, TS_MUL(s1, wb));
        a2 = TS_ADD(a2, TS_MUL(s2, wa)); b2 = TS_ADD(b2, TS_MUL(s2, wb));
        a3 = TS_ADD(a3, TS_MUL(s3, wa)); b3 = TS_ADD(b3, TS_MUL(s3, wb));
      }
      const float* bj = bias ? bias + j : nullptr;
      const float* bj4 = bias ? bias + j + 4 : nullptr;
      float* y = Y + (size_t)t * out + j;
      finish(y, bj, a0); finish(y + 4, bj4, b0); y += out;
      finish(y, bj, a1); finish(y + 4, bj4, b1); y += out;
      finish(y, bj, a2); finish(y + 4, bj4, b2); y += out;
      finish(y, bj, a3); finish(y + 4, bj4, b3);
    }
    for (; j < j1; ++j)
      for (int r = 0; r < 4; ++r) scalar_col(t + r, j);
  }
  for (; t < t1; ++t) {
    const float* x = X + (size_t)t * in;
    int j = j0;
    for (; j + 32 <= j1; j += 32) {
      ts_f32x4 a[8] = {zero, zero, zero, zero, zero, zero, zero, zero};
      const float* w = W + j;
      for (int i = 0; i < in; ++i, w += out) {
        const ts_f32x4 s = TS_SPLAT(x[i]);
        for (int k = 0; k < 8; ++k) a[k] = TS_ADD(a[k], TS_MUL(s, TS_LOAD(w + 4 * k)));
      }
      for (int k = 0; k < 8; ++k) finish(Y + (size_t)t * out + j + 4 * k, bias ? bias + j + 4 * k : nullptr, a[k]);
    }
    for (; j + 4 <= j1; j += 4) {
      ts_f32x4 a = zero;
      const float* w = W + j;
      for (int i = 0; i < in; ++i, w += out) a = TS_ADD(a, TS_MUL(TS_SPLAT(x[i]), TS_LOAD(w)));
      finish(Y + (size_t)t * out + j, bias ? bias + j : nullptr, a);
    }
    for (; j < j1; ++j) scalar_col(t, j);
  }
}

void matmul(const float* X, const float* W, const float* bias, float* Y, int T, int in, int out) {
  if ((long)T * in * out < kParallelMacs || kernels_threads() == 1) {
    matmul_block(X, W, bias, Y, 0, T, in, out, 0, out);
    return;
  }
  // Split columns (every Y element is still one thread's sequential sum: same bits).
  parallel_for(out, 32, [&](int j0, int j1) { matmul_block(X, W, bias, Y, 0, T, in, out, j0, j1); });
}

void matmul_transposed(const float* X, const float* E, float* Y, int T, int d, int V) {
  auto run = [&](int v0, int v1) {
    for (int t = 0; t < T; ++t)
      for (int v = v0; v < v1; ++v) Y[(size_t)t * V + v] = dot(X + (size_t)t * d, E + (size_t)v * d, d);
  };
  if ((long)T * d * V < kParallelMacs || kernels_threads() == 1) run(0, V);
  else parallel_for(V, 64, run);
}

void layernorm(const float* x, const float* g, const float* b, float* y, int n, float eps) noexcept {
  ts_f32x4 s0 = TS_SPLAT(0.0f), s1 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) { s0 = TS_ADD(s0, TS_LOAD(x + i)); s1 = TS_ADD(s1, TS_LOAD(x + i + 4)); }
  const ts_f32x4 s01 = TS_ADD(s0, s1);
  float sum = TS_HSUM(s01);
  for (; i < n; ++i) sum += x[i];
  const float mean = sum / (float)n;
  ts_f32x4 m = TS_SPLAT(mean), v0 = TS_SPLAT(0.0f), v1 = v0;
  for (i = 0; i + 8 <= n; i += 8) {
    const ts_f32x4 d0 = TS_ADD(TS_LOAD(x + i), TS_MUL(m, TS_SPLAT(-1.0f)));
    const ts_f32x4 d1 = TS_ADD(TS_LOAD(x + i + 4), TS_MUL(m, TS_SPLAT(-1.0f)));
    v0 = TS_ADD(v0, TS_MUL(d0, d0));
    v1 = TS_ADD(v1, TS_MUL(d1, d1));
  }
  const ts_f32x4 v01 = TS_ADD(v0, v1);
  float var = TS_HSUM(v01);
  for (; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(var / (float)n + eps);
  const ts_f32x4 iv = TS_SPLAT(inv);
  for (i = 0; i + 4 <= n; i += 4) {
    const ts_f32x4 d = TS_ADD(TS_LOAD(x + i), TS_MUL(m, TS_SPLAT(-1.0f)));
    TS_STORE(y + i, TS_ADD(TS_MUL(TS_MUL(d, iv), TS_LOAD(g + i)), TS_LOAD(b + i)));
  }
  for (; i < n; ++i) y[i] = ((x[i] - mean) * inv) * g[i] + b[i];
}

void gelu(float* x, int n) noexcept {
  for (int i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + det_erff(x[i] * 0.70710678118654752f));
}

void softmax(float* x, int n) noexcept {
  float mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) { x[i] = det_expf(x[i] - mx); sum += x[i]; }
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void axpy(float a, const float* x, float* y, int n) noexcept {
  const ts_f32x4 av = TS_SPLAT(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) TS_STORE(y + i, TS_ADD(TS_LOAD(y + i), TS_MUL(av, TS_LOAD(x + i))));
  for (; i < n; ++i) y[i] += a * x[i];
}

void add_inplace(float* y, const float* x, int n) noexcept {
  int i = 0;
  for (; i + 4 <= n; i += 4) TS_STORE(y + i, TS_ADD(TS_LOAD(y + i), TS_LOAD(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

// ------------------------------------------------------------------ scalar reference (oracle)
namespace ref {
float dot(const float* a, const float* b, int n) noexcept {
  double s = 0;  // the oracle sums in double: tests bound the SIMD kernels' rounding against it
  for (int i = 0; i < n; ++i) s += (double)a[i] * b[i];
  return (float)s;
}
void matmul(const float* X, const float* W, const float* bias, float* Y, int T, int in, int out) {
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < out; ++j) {
      double s = 0;
      for (int i = 0; i < in; ++i) s += (double)X[(size_t)t * in + i] * W[(size_t)i * out + j];
      Y[(size_t)t * out + j] = (float)(s + (bias ? bias[j] : 0.0));
    }
}
void matmul_transposed(const float* X, const float* E, float* Y, int T, int d, int V) {
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) Y[(size_t)t * V + v] = ref::dot(X + (size_t)t * d, E + (size_t)v * d, d);
}
void layernorm(const float* x, const float* g, const float* b, float* y, int n, float eps) noexcept {
  double mean = 0, var = 0;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;
  for (int i = 0; i < n; ++i) y[i] = (float)((x[i] - mean) / std::sqrt(var + eps) * g[i] + b[i]);
}
void gelu(float* x, int n) noexcept {
  for (int i = 0; i < n; ++i) x[i] = (float)(0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))));
}
void softmax(float* x, int n) noexcept {
  double mx = -INFINITY, sum = 0;
  for (int i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  for (int i = 0; i < n; ++i) x[i] = (float)(std::exp(x[i] - mx) / sum);
}
void axpy(float a, const float* x, float* y, int n) noexcept {
  for (int i = 0; i < n; ++i) y[i] = (float)(y[i] + (double)a * x[i]);
}
}  // namespace ref

}  // namespace tunesmith
