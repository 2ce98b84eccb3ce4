// Internal: the Kaiser window's Bessel function, shared by the resampler and the true-peak
// oversampler (engine/src/resample.cpp, engine/src/loudness.cpp).
#pragma once

namespace tunesmith {

// Modified Bessel function of the first kind, order 0 (power series to double precision).
inline double bessel_i0(double x) {
  double sum = 1, term = 1, q = x * x / 4;
  for (int k = 1; k < 200; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

}  // namespace tunesmith
