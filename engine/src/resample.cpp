// Streaming windowed-sinc resampler (audio.h).
//
// Kernel, in input-sample units x, with s = min(1, out_rate / in_rate) and W = 32 (half width in
// samples of the lower rate):  h(x) = 2 fc s sinc(2 fc s x) kaiser(s x / W),  fc = 0.46,
// Kaiser beta 7.857 (the 80 dB design point). Kaiser's estimate gives a transition from 0.42 to
// 0.50 of the lower rate for a 64-tap (lower-rate) window, so the stopband starts at the lower
// rate's Nyquist frequency: nothing folds back into the band kept. Every phase's taps are
// normalised to sum 1 (exact DC gain).
//
// Phases: output n sits at input time t = n in/out = i + frac/out (integers, exact). With g =
// gcd(in, out) there are L = out/g distinct fractions; when L * taps is small (all the usual rate
// pairs: 44100->22050 has L = 1, 48000->22050 L = 147, 8000->22050 L = 441) every phase is
// stored and used as is. Otherwise 512 phases are stored and the output interpolates linearly
// between the two nearest (kernel error ~1e-5 of its peak, far below the stopband).
#include <algorithm>
#include <cmath>

#include "kaiser.h"
#include "tunesmith/audio.h"
#include "tunesmith/error.h"

namespace tunesmith {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kCutoff = 0.46;    // of the lower rate
constexpr double kHalfWidth = 32;   // lower-rate samples each side
constexpr double kBeta = 7.857;
constexpr int kInterpPhases = 512;
constexpr size_t kMaxExactBank = 1u << 20;  // floats

double sinc(double x) {
  if (std::fabs(x) < 1e-12) return 1;
  return std::sin(kPi * x) / (kPi * x);
}

uint64_t gcd64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Dot product with four partial sums in a fixed order (deterministic, vectoriser friendly).
inline float dot(const float* a, const float* b, int n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

Resampler::Resampler(int in_rate, int out_rate) : in_rate_(in_rate), out_rate_(out_rate) {
  if (in_rate < 1000 || in_rate > 384000)
    throw Error("invalid_field", "resample: input rate outside 1000..384000 Hz", {{"field", "in_rate"}});
  if (out_rate < 1000 || out_rate > 384000)
    throw Error("invalid_field", "resample: output rate outside 1000..384000 Hz", {{"field", "out_rate"}});
  if (in_rate > 48 * static_cast<int64_t>(out_rate) || out_rate > 48 * static_cast<int64_t>(in_rate))
    throw Error("invalid_field", "resample: rate ratio above 48", {{"field", "out_rate"}});
  passthrough_ = in_rate == out_rate;
  gcd_ = static_cast<uint32_t>(gcd64(static_cast<uint64_t>(in_rate), static_cast<uint64_t>(out_rate)));
  step_int_ = static_cast<uint64_t>(in_rate) / static_cast<uint64_t>(out_rate);
  step_frac_ = static_cast<uint64_t>(in_rate) % static_cast<uint64_t>(out_rate);
  if (!passthrough_) {
    const double s = std::min(1.0, static_cast<double>(out_rate) / in_rate);
    half_ = static_cast<int>(std::ceil(kHalfWidth / s - 1e-9));
    taps_ = 2 * half_;
    const uint64_t L = static_cast<uint64_t>(out_rate) / gcd_;
    exact_ = L * static_cast<uint64_t>(taps_) <= kMaxExactBank;
    phases_ = exact_ ? static_cast<int>(L) : kInterpPhases;
    const int rows = exact_ ? phases_ : phases_ + 1;
    bank_.assign(static_cast<size_t>(rows) * static_cast<size_t>(taps_), 0.0f);
    const double i0b = bessel_i0(kBeta);
    std::vector<double> row(static_cast<size_t>(taps_));
    for (int j = 0; j < rows; ++j) {
      const double phase = static_cast<double>(j) / phases_;  // fraction of an input sample
      double sum = 0;
      for (int k = 0; k < taps_; ++k) {
        const double d = phase - (k - half_ + 1);  // t - i, input samples
        const double u = s * d / kHalfWidth;       // -1..1 inside the window
        double h = 0;
        if (std::fabs(u) < 1) h = 2 * kCutoff * s * sinc(2 * kCutoff * s * d) * bessel_i0(kBeta * std::sqrt(1 - u * u)) / i0b;
        row[static_cast<size_t>(k)] = h;
        sum += h;
      }
      for (int k = 0; k < taps_; ++k)
        bank_[static_cast<size_t>(j) * static_cast<size_t>(taps_) + static_cast<size_t>(k)] =
            static_cast<float>(row[static_cast<size_t>(k)] / sum);
    }
  }
  reset();
}

void Resampler::reset() {
  hist_.assign(passthrough_ ? 0 : static_cast<size_t>(half_ - 1), 0.0f);  // input indices -(half-1)..-1
  base_ = 0;
  pos_int_ = 0;
  pos_frac_ = 0;
  in_total_ = 0;
  out_total_ = 0;
}

// hist_[k] holds input index base_ + k - (half_ - 1) (indices below 0 are the zero padding).
void Resampler::run(std::vector<float>& out, bool final) {
  const uint64_t out_rate = static_cast<uint64_t>(out_rate_);
  const size_t taps = static_cast<size_t>(taps_);
  for (;;) {
    // Needs input indices pos - half + 1 .. pos + half, i.e. hist_ offsets pos - base .. + taps.
    const uint64_t first = pos_int_ - base_;  // hist_ offset of index pos - half + 1
    if (final) {
      if (pos_int_ >= in_total_) break;
    } else if (first + taps > hist_.size()) {
      break;
    }
    const float* x = hist_.data() + first;
    float y;
    if (exact_) {
      y = dot(x, bank_.data() + static_cast<size_t>(pos_frac_ / gcd_) * taps, taps_);
    } else {
      const double p = static_cast<double>(pos_frac_) * kInterpPhases / static_cast<double>(out_rate);
      size_t j = static_cast<size_t>(p);
      if (j >= static_cast<size_t>(kInterpPhases)) j = kInterpPhases - 1;
      const float a = static_cast<float>(p - static_cast<double>(j));
      const float y0 = dot(x, bank_.data() + j * taps, taps_);
      const float y1 = dot(x, bank_.data() + (j + 1) * taps, taps_);
      y = y0 + a * (y1 - y0);
    }
    out.push_back(y);
    ++out_total_;
    pos_int_ += step_int_;
    pos_frac_ += step_frac_;
    if (pos_frac_ >= out_rate) {
      pos_frac_ -= out_rate;
      ++pos_int_;
    }
  }
  // Drop the history no later output needs (amortised: only when a good part is dead).
  const uint64_t dead = std::min<uint64_t>(pos_int_ - base_, hist_.size());
  if (dead > 4096 && dead * 2 > hist_.size()) {
    hist_.erase(hist_.begin(), hist_.begin() + static_cast<std::ptrdiff_t>(dead));
    base_ += dead;
  }
}

void Resampler::process(const float* in, size_t n, std::vector<float>& out) {
  if (n == 0) return;
  if (in == nullptr) throw Error("invalid_field", "resample: null input", {{"field", "audio"}});
  in_total_ += n;
  if (passthrough_) {
    out.insert(out.end(), in, in + n);
    out_total_ += n;
    return;
  }
  hist_.insert(hist_.end(), in, in + n);
  run(out, false);
}

void Resampler::flush(std::vector<float>& out) {
  if (passthrough_) return;
  hist_.insert(hist_.end(), static_cast<size_t>(taps_), 0.0f);
  run(out, true);
}

std::vector<float> resample(const float* in, size_t n, int in_rate, int out_rate) {
  Resampler r(in_rate, out_rate);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(static_cast<uint64_t>(n) * static_cast<uint64_t>(out_rate) /
                                  static_cast<uint64_t>(in_rate)) + 2);
  r.process(in, n, out);
  r.flush(out);
  return out;
}

}  // namespace tunesmith
