// SIMD mapping layer: one 4-lane float vector type and the handful of operations the kernels use,
// mapped onto wasm_simd128 (browser), SSE2 (x86-64) or plain scalar code. The kernels are written
// once against these macros (the ggml approach), so every platform runs the same arithmetic in
// the same order.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define TS_SIMD_NAME "wasm_simd128"
typedef v128_t ts_f32x4;
#define TS_LOAD(p) wasm_v128_load(p)
#define TS_STORE(p, v) wasm_v128_store((p), (v))
#define TS_SPLAT(x) wasm_f32x4_splat(x)
#define TS_ADD(a, b) wasm_f32x4_add((a), (b))
#define TS_MUL(a, b) wasm_f32x4_mul((a), (b))
#define TS_LANE0(v) wasm_f32x4_extract_lane((v), 0)
#define TS_LANE1(v) wasm_f32x4_extract_lane((v), 1)
#define TS_LANE2(v) wasm_f32x4_extract_lane((v), 2)
#define TS_LANE3(v) wasm_f32x4_extract_lane((v), 3)
#elif defined(__SSE2__)
#include <emmintrin.h>
#define TS_SIMD_NAME "sse2"
typedef __m128 ts_f32x4;
#define TS_LOAD(p) _mm_loadu_ps(p)
#define TS_STORE(p, v) _mm_storeu_ps((p), (v))
#define TS_SPLAT(x) _mm_set1_ps(x)
#define TS_ADD(a, b) _mm_add_ps((a), (b))
#define TS_MUL(a, b) _mm_mul_ps((a), (b))
#define TS_LANE0(v) _mm_cvtss_f32(v)
#define TS_LANE1(v) _mm_cvtss_f32(_mm_shuffle_ps((v), (v), 1))
#define TS_LANE2(v) _mm_cvtss_f32(_mm_shuffle_ps((v), (v), 2))
#define TS_LANE3(v) _mm_cvtss_f32(_mm_shuffle_ps((v), (v), 3))
#else
#define TS_SIMD_NAME "scalar"
struct ts_f32x4 { float v[4]; };
static inline ts_f32x4 ts_load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
static inline void ts_store(float* p, ts_f32x4 a) { for (int i = 0; i < 4; ++i) p[i] = a.v[i]; }
static inline ts_f32x4 ts_splat(float x) { return {{x, x, x, x}}; }
static inline ts_f32x4 ts_add(ts_f32x4 a, ts_f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] += b.v[i]; return a; }
static inline ts_f32x4 ts_mul(ts_f32x4 a, ts_f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i]; return a; }
#define TS_LOAD(p) ts_load(p)
#define TS_STORE(p, v) ts_store((p), (v))
#define TS_SPLAT(x) ts_splat(x)
#define TS_ADD(a, b) ts_add((a), (b))
#define TS_MUL(a, b) ts_mul((a), (b))
#define TS_LANE0(v) (v).v[0]
#define TS_LANE1(v) (v).v[1]
#define TS_LANE2(v) (v).v[2]
#define TS_LANE3(v) (v).v[3]
#endif

// Horizontal sum in a fixed order: (l0 + l1) + (l2 + l3).
#define TS_HSUM(v) ((TS_LANE0(v) + TS_LANE1(v)) + (TS_LANE2(v) + TS_LANE3(v)))
