// Numeric kernels for transformer inference.
//
// Two implementations of every kernel: `ref::` (plain scalar C++, the oracle tests compare
// against) and the default SIMD one (SSE2 natively, wasm_simd128 in the browser, through the
// small mapping layer in engine/src/simd.h). The SIMD kernels use 128-bit vectors with the same
// lane structure and summation order on every platform, so native and wasm results are
// bit-identical (we deliberately do not use 256-bit AVX paths: a different reduction order would
// change the last bits of logits, and with them sampled tokens).
//
// Layout conventions: matrices are row-major; a weight W used as y = x W + b has shape [in, out].
#pragma once
#include <cstddef>
#include <cstdint>

namespace tunesmith {

// Number of worker threads the kernels may use (1 = run on the calling thread only).
// Results do not depend on it: work is split by output element, never inside a sum.
void kernels_set_threads(int n);
int kernels_threads();
// True when this build has thread support compiled in (native, wasm "mt").
bool kernels_threads_available();
// "sse2", "wasm_simd128" or "scalar".
const char* kernels_simd_name();

// Dot product of a[0..n) and b[0..n). Sum order: 8-wide blocks into two 4-lane accumulators,
// lanes combined as ((l0+l1)+(l2+l3)) after acc0+acc1, then the tail added left to right.
float dot(const float* a, const float* b, int n) noexcept;

// Y[t, :] = X[t, :] W + bias for t in [0, T); X [T, in], W [in, out], Y [T, out]; bias may be null.
// Each Y element is summed over i in increasing order starting from 0, then the bias is added.
void matmul(const float* X, const float* W, const float* bias, float* Y, int T, int in, int out);

// logits[t, v] = dot(X[t, :], E[v, :]) for v in [0, V): the tied output head, E [V, d].
void matmul_transposed(const float* X, const float* E, float* Y, int T, int d, int V);

// y = LayerNorm(x) * g + b over n elements (biased variance, eps inside the sqrt).
void layernorm(const float* x, const float* g, const float* b, float* y, int n, float eps) noexcept;

// In place: x = 0.5 x (1 + erf(x / sqrt 2)), erf from det_erff.
void gelu(float* x, int n) noexcept;

// In place softmax over n elements (max-subtracted, det_expf).
void softmax(float* x, int n) noexcept;

// y += a * x over n elements.
void axpy(float a, const float* x, float* y, int n) noexcept;

// y += x over n elements.
void add_inplace(float* y, const float* x, int n) noexcept;

namespace ref {
float dot(const float* a, const float* b, int n) noexcept;
void matmul(const float* X, const float* W, const float* bias, float* Y, int T, int in, int out);
void matmul_transposed(const float* X, const float* E, float* Y, int T, int d, int V);
void layernorm(const float* x, const float* g, const float* b, float* y, int n, float eps) noexcept;
void gelu(float* x, int n) noexcept;
void softmax(float* x, int n) noexcept;
void axpy(float a, const float* x, float* y, int n) noexcept;
}  // namespace ref

}  // namespace tunesmith
