// Deterministic elementary functions.
//
// Why: generation must give the same tokens for the same seed natively (glibc) and in wasm
// (Emscripten's musl). libm's expf/erff may differ in the last ulp between those libraries, and a
// one-ulp difference in a logit can flip a sampled token. These functions use only +, -, *, / and
// exact bit manipulation (IEEE-754 round-to-nearest everywhere), so they give bit-identical results
// on every platform as long as the compiler does not contract a*b+c into an FMA (we build with
// -ffp-contract=off). Accuracy: det_expf relative error < 2e-7 on [-87, 88]; det_erff absolute
// error < 3e-7. Both are well inside the 1e-4 logit agreement we test against ONNX Runtime.
#pragma once
#include <cstdint>
#include <cstring>

namespace tunesmith {

inline float det_bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// e^x. Range reduction x = k ln2 + r, |r| <= ln2/2, then a degree-7 Taylor polynomial for e^r
// (enough for float precision on that interval) scaled by 2^k through the exponent bits.
inline float det_expf(float x) {
  if (x != x) return x;                // NaN
  if (x > 88.3762626647949f) return det_bits_to_float(0x7f800000u);  // +inf
  if (x < -87.3365447504f) return 0.0f;  // flush what would be denormal
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f;     // ln2 split so k*kLn2Hi is exact
  const float kLn2Lo = -2.12194440e-4f;
  float kf = x * kLog2e;
  int k = static_cast<int>(kf >= 0.0f ? kf + 0.5f : kf - 0.5f);
  float r = (x - static_cast<float>(k) * kLn2Hi) - static_cast<float>(k) * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^k for k in [-126, 127]; the clamps above keep k inside it.
  if (k < -126) { p *= det_bits_to_float(static_cast<uint32_t>(k + 126 + 127) << 23); k = -126; }
  return p * det_bits_to_float(static_cast<uint32_t>(k + 127) << 23);
}

// erf(x) with fdlibm's (s_erf.c) piecewise rational approximations, evaluated in float:
// |x| < 0.84375: x + x R(x^2)/S(x^2); |x| < 1.25: erx + P(|x|-1)/Q(|x|-1);
// |x| < 4: 1 - erfc with erfc = exp(-x^2 - 0.5625 + R/S) / |x|; beyond: +-1.
inline float det_erff(float x) {
  if (x != x) return x;
  const float ax = x < 0 ? -x : x;
  float r;
  if (ax < 0.84375f) {
    // fdlibm erf on [0, 0.84375]: erf(x) = x + x*R(x^2)/S(x^2)
    const float z = x * x;
    const float pp0 = 1.28379166e-01f, pp1 = -3.25042099e-01f, pp2 = -2.84817495e-02f,
                pp3 = -5.77027029e-03f, pp4 = -2.37630166e-05f;
    const float qq1 = 3.97917223e-01f, qq2 = 6.50222499e-02f, qq3 = 5.08130628e-03f,
                qq4 = 1.32494738e-04f, qq5 = -3.96022827e-06f;
    const float rr = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    const float ss = 1.0f + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    return x + x * (rr / ss);
  }
  if (ax < 1.25f) {
    // erf(x) = erx + P(s)/Q(s), s = |x| - 1
    const float s = ax - 1.0f;
    const float erx = 8.45062911e-01f;
    const float pa0 = -2.36211856e-03f, pa1 = 4.14856118e-01f, pa2 = -3.72207877e-01f,
                pa3 = 3.18346617e-01f, pa4 = -1.10894692e-01f, pa5 = 3.54783043e-02f,
                pa6 = -2.16637559e-03f;
    const float qa1 = 1.06420882e-01f, qa2 = 5.40397918e-01f, qa3 = 7.18286551e-02f,
                qa4 = 1.26171216e-01f, qa5 = 1.36370836e-02f, qa6 = 1.19844998e-02f;
    const float P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
    const float Q = 1.0f + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
    r = erx + P / Q;
    return x < 0 ? -r : r;
  }
  if (ax >= 4.0f) return x < 0 ? -1.0f : 1.0f;  // 1 - erf(4) < 2e-8
  // erfc(x) = exp(-x^2 - 0.5625 + R/S) / x on [1.25, 4)
  const float s = 1.0f / (ax * ax);
  float R, S;
  if (ax < 2.857142857f) {
    const float ra0 = -9.86494403e-03f, ra1 = -6.93858123e-01f, ra2 = -1.05586262e+01f,
                ra3 = -6.23753357e+01f, ra4 = -1.62396667e+02f, ra5 = -1.84605087e+02f,
                ra6 = -8.12874374e+01f, ra7 = -9.81432915e+00f;
    const float sa1 = 1.96512718e+01f, sa2 = 1.37657761e+02f, sa3 = 4.34565887e+02f,
                sa4 = 6.45387268e+02f, sa5 = 4.29008148e+02f, sa6 = 1.08635002e+02f,
                sa7 = 6.57024956e+00f, sa8 = -6.04244135e-02f;
    R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
    S = 1.0f + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
  } else {
    const float rb0 = -9.86494310e-03f, rb1 = -7.99283242e-01f, rb2 = -1.77579546e+01f,
                rb3 = -1.60636383e+02f, rb4 = -6.37566406e+02f, rb5 = -1.02509509e+03f,
                rb6 = -4.83519202e+02f;
    const float sb1 = 3.03380623e+01f, sb2 = 3.25792511e+02f, sb3 = 1.53672961e+03f,
                sb4 = 3.19985840e+03f, sb5 = 2.55305054e+03f, sb6 = 4.74528534e+02f,
                sb7 = -2.24409522e+01f;
    R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
    S = 1.0f + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
  }
  // Split x^2 as fdlibm does: z = x with its low 12 mantissa bits cleared, so z*z is exact.
  uint32_t bits; std::memcpy(&bits, &ax, 4);
  const float z = det_bits_to_float(bits & 0xfffff000u);
  const float erfc = det_expf(-z * z - 0.5625f) * det_expf((z - ax) * (z + ax) + R / S) / ax;
  r = 1.0f - erfc;
  return x < 0 ? -r : r;
}

}  // namespace tunesmith
