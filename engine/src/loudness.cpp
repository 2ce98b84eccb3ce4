// EBU R128 / ITU-R BS.1770-4 loudness, EBU Tech 3342 loudness range, sample and true peak
// (audio.h).
//
// Per channel: K-weighting (high shelf + high pass, Direct Form I in double), squares summed per
// 100 ms sub-block (boundaries at floor(k * fs / 10), so any rate works). A momentary block is 4
// consecutive sub-blocks (400 ms, 75% overlap), a short-term block 30 (3 s); their mean square is
// sum_c G_c * energy_c / frames. L = -0.691 + 10 log10(mean square). Every accumulation runs in
// the same order however the input is split into calls, so results do not depend on block sizes.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kaiser.h"
#include "tunesmith/audio.h"
#include "tunesmith/error.h"

namespace tunesmith {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kTruePeakHalf = 16;     // interpolation taps each side (32 per phase)
constexpr double kTruePeakBeta = 7.0;  // flat (< 0.003 dB) to 0.43 fs, -0.4 dB at 0.45 fs

double lufs(double mean_square) { return mean_square > 0 ? -0.691 + 10.0 * std::log10(mean_square) : kNegInf; }
double db(double linear) { return linear > 0 ? 20.0 * std::log10(linear) : kNegInf; }

// Linear-interpolated percentile of sorted values (q in 0..1).
double percentile(const std::vector<double>& v, double q) {
  double pos = q * static_cast<double>(v.size() - 1);
  size_t i = static_cast<size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  double a = pos - static_cast<double>(i);
  return v[i] + a * (v[i + 1] - v[i]);
}

struct Interleaved {
  const float* x;
  size_t channels;
  const float* at(size_t c, size_t frame) const { return x + frame * channels + c; }
  size_t stride() const { return channels; }
};
struct Planar {
  const float* const* ch;
  const float* at(size_t c, size_t frame) const { return ch[c] + frame; }
  size_t stride() const { return 1; }
};

}  // namespace

void k_weighting(double fs, Biquad& shelf, Biquad& hp) {
  // Stage 1: the high shelf (+4 dB above ~1.7 kHz). Parameters that reproduce the 48 kHz
  // coefficients of BS.1770-4 Table 1 through the bilinear transform (as in libebur128).
  shelf = Biquad();
  {
    const double f0 = 1681.974450955533, G = 3.999843853973347, Q = 0.7071752369554196;
    if (f0 < 0.45 * fs) {  // below ~3.7 kHz the shelf lies above Nyquist: left out
      const double K = std::tan(kPi * f0 / fs);
      const double Vh = std::pow(10.0, G / 20.0);
      const double Vb = std::pow(Vh, 0.4996667741545416);
      const double a0 = 1.0 + K / Q + K * K;
      shelf.b0 = (Vh + Vb * K / Q + K * K) / a0;
      shelf.b1 = 2.0 * (K * K - Vh) / a0;
      shelf.b2 = (Vh - Vb * K / Q + K * K) / a0;
      shelf.a1 = 2.0 * (K * K - 1.0) / a0;
      shelf.a2 = (1.0 - K / Q + K * K) / a0;
    }
  }
  // Stage 2: the RLB high pass (~38 Hz), numerator 1, -2, 1 as printed in Table 2.
  {
    const double f0 = 38.13547087602444, Q = 0.5003270373238773;
    const double K = std::tan(kPi * f0 / fs);
    const double a0 = 1.0 + K / Q + K * K;
    hp.b0 = 1.0;
    hp.b1 = -2.0;
    hp.b2 = 1.0;
    hp.a1 = 2.0 * (K * K - 1.0) / a0;
    hp.a2 = (1.0 - K / Q + K * K) / a0;
  }
}

std::vector<double> bs1770_channel_weights(int channels, uint32_t mask) {
  if (channels < 1) return {};
  std::vector<double> w(static_cast<size_t>(channels), 1.0);
  if (mask == 0) {
    if (channels == 6) w = {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};  // 5.1: L R C LFE Ls Rs
    return w;
  }
  const uint32_t kLfe = 0x8, kBackLR = 0x10 | 0x20, kSideLR = 0x200 | 0x400;
  const bool has_side = (mask & kSideLR) != 0;
  int c = 0;
  for (int bit = 0; bit < 32 && c < channels; ++bit) {
    uint32_t b = 1u << bit;
    if (!(mask & b)) continue;
    if (b == kLfe) w[static_cast<size_t>(c)] = 0.0;
    else if (b & kSideLR) w[static_cast<size_t>(c)] = 1.41;
    else if ((b & kBackLR) && !has_side) w[static_cast<size_t>(c)] = 1.41;  // 5.1 "back" = surrounds
    ++c;
  }
  return w;
}

LoudnessMeter::LoudnessMeter(int sample_rate, int channels, uint32_t channel_mask, std::vector<double> weights)
    : rate_(sample_rate), channels_(channels), weights_(std::move(weights)) {
  if (sample_rate < 1000 || sample_rate > 384000)
    throw Error("invalid_field", "loudness: sample rate outside 1000..384000 Hz", {{"field", "sample_rate"}});
  if (channels < 1 || channels > 32)
    throw Error("invalid_field", "loudness: channels outside 1..32", {{"field", "channels"}});
  if (weights_.empty()) weights_ = bs1770_channel_weights(channels, channel_mask);
  if (weights_.size() != static_cast<size_t>(channels))
    throw Error("invalid_field", "loudness: one weight per channel", {{"field", "weights"}});
  for (double w : weights_)
    if (!(w >= 0 && w <= 100)) throw Error("invalid_field", "loudness: weights must be in 0..100", {{"field", "weights"}});
  k_weighting(rate_, shelf_, hp_);
  state_.assign(static_cast<size_t>(channels) * 6, 0.0);
  sub_ch_e_.assign(static_cast<size_t>(channels), 0.0);
  sub_e_.assign(30, 0.0);
  sub_n_.assign(30, 0.0);
  sub_end_ = static_cast<uint64_t>(rate_) / 10;

  os_factor_ = rate_ < 96000 ? 4 : rate_ < 192000 ? 2 : 1;
  os_half_ = kTruePeakHalf;
  const int taps = 2 * os_half_;
  os_bank_.assign(static_cast<size_t>(std::max(os_factor_ - 1, 0)) * static_cast<size_t>(taps), 0.0f);
  const double i0b = bessel_i0(kTruePeakBeta);
  for (int p = 1; p < os_factor_; ++p) {
    std::vector<double> row(static_cast<size_t>(taps));
    double sum = 0;
    for (int k = 0; k < taps; ++k) {
      const double d = os_half_ - 1 - k + static_cast<double>(p) / os_factor_;  // t - i
      const double u = d / os_half_;
      double h = std::sin(kPi * d) / (kPi * d);
      h *= std::fabs(u) < 1 ? bessel_i0(kTruePeakBeta * std::sqrt(1 - u * u)) / i0b : 0.0;
      row[static_cast<size_t>(k)] = h;
      sum += h;
    }
    for (int k = 0; k < taps; ++k)
      os_bank_[static_cast<size_t>(p - 1) * static_cast<size_t>(taps) + static_cast<size_t>(k)] =
          static_cast<float>(row[static_cast<size_t>(k)] / sum);
  }
  os_hist_.assign(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(taps - 1), 0.0f));
}

void LoudnessMeter::end_subblock() {
  double e = 0;
  for (size_t c = 0; c < sub_ch_e_.size(); ++c) {
    e += weights_[c] * sub_ch_e_[c];
    sub_ch_e_[c] = 0;
  }
  const size_t slot = static_cast<size_t>(sub_index_ % 30);
  sub_e_[slot] = e;
  sub_n_[slot] = static_cast<double>(sub_end_ - sub_start_);
  auto mean_over = [&](uint64_t count) {
    double se = 0, sn = 0;
    for (uint64_t k = sub_index_ + 1 - count; k <= sub_index_; ++k) {
      se += sub_e_[static_cast<size_t>(k % 30)];
      sn += sub_n_[static_cast<size_t>(k % 30)];
    }
    return sn > 0 ? se / sn : 0.0;
  };
  if (sub_index_ >= 3) momentary_.push_back(mean_over(4));
  if (sub_index_ >= 29) short_term_.push_back(mean_over(30));
  ++sub_index_;
  sub_start_ = sub_end_;
  sub_end_ = (sub_index_ + 1) * static_cast<uint64_t>(rate_) / 10;
}

template <class Src>
void LoudnessMeter::add_impl(const Src& src, size_t frames) {
  const int taps = 2 * os_half_;
  size_t done = 0;
  while (done < frames) {
    const size_t seg = static_cast<size_t>(std::min<uint64_t>(frames - done, sub_end_ - frames_));
    for (size_t c = 0; c < static_cast<size_t>(channels_); ++c) {
      const float* x = src.at(c, done);
      const size_t stride = src.stride();
      double* st = state_.data() + 6 * c;
      double x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3], z1 = st[4], z2 = st[5];
      double e = sub_ch_e_[c];
      float peak = sample_peak_;
      std::vector<float>& h = os_hist_[c];
      const size_t keep = h.size();
      h.resize(keep + seg);
      for (size_t i = 0; i < seg; ++i) {
        float v = x[i * stride];
        if (!std::isfinite(v)) v = 0;
        h[keep + i] = v;
        peak = std::max(peak, std::fabs(v));
        const double xd = v;
        const double y = shelf_.b0 * xd + shelf_.b1 * x1 + shelf_.b2 * x2 - shelf_.a1 * y1 - shelf_.a2 * y2;
        const double z = y - 2.0 * y1 + y2 - hp_.a1 * z1 - hp_.a2 * z2;  // hp_ b = 1, -2, 1
        x2 = x1;
        x1 = xd;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        e += z * z;
      }
      // Flush states that decayed into the denormal range (silence after a signal).
      auto tiny = [](double& s) { if (std::fabs(s) < 1e-30) s = 0; };
      tiny(x1); tiny(x2); tiny(y1); tiny(y2); tiny(z1); tiny(z2);
      st[0] = x1; st[1] = x2; st[2] = y1; st[3] = y2; st[4] = z1; st[5] = z2;
      sub_ch_e_[c] = e;
      sample_peak_ = peak;
      // True peak: for each new sample n, the values at n - half + p / F (p = 1..F-1).
      float tp = true_peak_;
      for (int p = 1; p < os_factor_; ++p) {
        const float* w = os_bank_.data() + static_cast<size_t>(p - 1) * static_cast<size_t>(taps);
        for (size_t i = 0; i < seg; ++i) {
          const float* win = h.data() + i;  // keep + i - (taps - 1) == i
          float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (int k = 0; k < taps; k += 4) {
            s0 += win[k] * w[k];
            s1 += win[k + 1] * w[k + 1];
            s2 += win[k + 2] * w[k + 2];
            s3 += win[k + 3] * w[k + 3];
          }
          tp = std::max(tp, std::fabs((s0 + s1) + (s2 + s3)));
        }
      }
      true_peak_ = tp;
      h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(seg));
    }
    frames_ += seg;
    done += seg;
    if (frames_ == sub_end_) end_subblock();
  }
}

void LoudnessMeter::add_interleaved(const float* x, size_t frames) {
  if (frames == 0) return;
  if (x == nullptr) throw Error("invalid_field", "loudness: null input", {{"field", "audio"}});
  add_impl(Interleaved{x, static_cast<size_t>(channels_)}, frames);
}

void LoudnessMeter::add_planar(const float* const* ch, size_t frames) {
  if (frames == 0) return;
  if (ch == nullptr) throw Error("invalid_field", "loudness: null input", {{"field", "audio"}});
  for (int c = 0; c < channels_; ++c)
    if (ch[c] == nullptr) throw Error("invalid_field", "loudness: null channel", {{"field", "audio"}});
  add_impl(Planar{ch}, frames);
}

std::vector<double> LoudnessMeter::momentary_lufs() const {
  std::vector<double> out;
  out.reserve(momentary_.size());
  for (double z : momentary_) out.push_back(lufs(z));
  return out;
}

LoudnessResult LoudnessMeter::result() const {
  LoudnessResult r;
  r.frames = frames_;
  r.blocks = momentary_.size();
  r.integrated_lufs = kNegInf;
  r.relative_gate_lufs = kNegInf;
  r.momentary_max_lufs = kNegInf;
  r.short_term_max_lufs = kNegInf;

  // Integrated: absolute gate, then the relative gate 10 LU under the absolute-gated loudness.
  double sum = 0;
  size_t n = 0;
  for (double z : momentary_) {
    r.momentary_max_lufs = std::max(r.momentary_max_lufs, lufs(z));
    if (lufs(z) > -70.0) {
      sum += z;
      ++n;
    }
  }
  if (n > 0) {
    const double gate = lufs(sum / static_cast<double>(n)) - 10.0;
    double sum2 = 0;
    size_t n2 = 0;
    for (double z : momentary_) {
      const double l = lufs(z);
      if (l > -70.0 && l > gate) {
        sum2 += z;
        ++n2;
      }
    }
    if (n2 > 0) {
      r.has_loudness = true;
      r.integrated_lufs = lufs(sum2 / static_cast<double>(n2));
      r.relative_gate_lufs = gate;
      r.gated_blocks = n2;
    }
  }

  // Loudness range (EBU Tech 3342): short-term blocks, gates -70 LUFS and -20 LU, P95 - P10.
  sum = 0;
  n = 0;
  for (double z : short_term_) {
    r.short_term_max_lufs = std::max(r.short_term_max_lufs, lufs(z));
    if (lufs(z) > -70.0) {
      sum += z;
      ++n;
    }
  }
  if (n > 0) {
    const double gate = lufs(sum / static_cast<double>(n)) - 20.0;
    std::vector<double> kept;
    for (double z : short_term_) {
      const double l = lufs(z);
      if (l > -70.0 && l > gate) kept.push_back(l);
    }
    if (kept.size() >= 2) {
      std::sort(kept.begin(), kept.end());
      r.has_range = true;
      r.loudness_range_lu = percentile(kept, 0.95) - percentile(kept, 0.10);
    }
  }

  // Peaks; the true peak also covers the last half-window (zeros assumed after the end).
  float tp = std::max(true_peak_, sample_peak_);
  const int taps = 2 * os_half_;
  if (frames_ > 0) {
    for (const std::vector<float>& hist : os_hist_) {
      std::vector<float> h(hist);
      h.resize(h.size() + static_cast<size_t>(os_half_), 0.0f);
      for (int p = 1; p < os_factor_; ++p) {
        const float* w = os_bank_.data() + static_cast<size_t>(p - 1) * static_cast<size_t>(taps);
        for (size_t i = 0; i + static_cast<size_t>(taps) <= h.size(); ++i) {
          float s = 0;
          for (int k = 0; k < taps; ++k) s += h[i + static_cast<size_t>(k)] * w[k];
          tp = std::max(tp, std::fabs(s));
        }
      }
    }
  }
  r.sample_peak = sample_peak_;
  r.true_peak = tp;
  r.sample_peak_dbfs = db(r.sample_peak);
  r.true_peak_dbtp = db(r.true_peak);
  return r;
}

LoudnessResult measure_loudness(const float* interleaved, size_t frames, int channels, int sample_rate,
                                uint32_t channel_mask) {
  LoudnessMeter m(sample_rate, channels, channel_mask);
  m.add_interleaved(interleaved, frames);
  return m.result();
}

}  // namespace tunesmith
