// The listening front end (see tunesmith/dsp.h and docs/dsp.md): deterministic math helpers, the
// real FFT, the mel filterbank and the streaming Analyzer.
#include "tunesmith/dsp.h"

#include <algorithm>
#include <cmath>

#include "tunesmith/error.h"

namespace tunesmith {
namespace dsp {

namespace {
constexpr double kPi = 3.14159265358979311600;
constexpr double kLn2 = 0.69314718055994528623;
constexpr double kLn10 = 2.30258509299404590109;

// Taylor series on [0, pi/4]: terms up to x^20 (cos) / x^21 (sin) are below 1e-21.
double cos_series(double x) {
  const double z = x * x;
  double p = 0;
  for (int k = 10; k >= 1; --k) p = (1.0 - z * p / ((2.0 * k) * (2.0 * k - 1.0)));
  // p now holds 1 - z/2 (1 - z/12 (1 - ...)) evaluated innermost-first
  return p;
}
double sin_series(double x) {
  const double z = x * x;
  double p = 0;
  for (int k = 10; k >= 1; --k) p = (1.0 - z * p / ((2.0 * k) * (2.0 * k + 1.0)));
  return x * p;
}
}  // namespace

double det_cospi(double t) {
  t = t - 2.0 * std::floor(t * 0.5);  // [0, 2)
  if (t > 1.0) t = 2.0 - t;           // cos(pi t) = cos(pi (2 - t))
  double sign = 1.0;
  if (t > 0.5) { t = 1.0 - t; sign = -1.0; }
  if (t > 0.25) return sign * sin_series(kPi * (0.5 - t));
  return sign * cos_series(kPi * t);
}

double det_sinpi(double t) { return det_cospi(t - 0.5); }

double det_log(double x) {
  if (!(x > 0)) return -745.2;
  if (x > 1.7976931348623157e308) return x;  // inf
  int e = 0;
  double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1): exact
  if (m < 0.70710678118654752440) { m *= 2.0; e -= 1; }
  const double s = (m - 1.0) / (m + 1.0);  // |s| <= 0.1716
  const double z = s * s;
  double p = 1.0 / 23.0;
  for (int k = 10; k >= 0; --k) p = 1.0 / (2.0 * k + 1.0) + z * p;
  return static_cast<double>(e) * kLn2 + 2.0 * s * p;
}

double det_exp(double x) {
  if (x != x) return x;
  if (x > 709.78) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  const double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  const double k = std::floor(x * 1.44269504088896338700 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.35
  double p = 1.0;
  for (int i = 16; i >= 1; --i) p = 1.0 + r * p / i;
  return std::ldexp(p, static_cast<int>(k));
}

// ---------------------------------------------------------------------------------------- FFT

RealFFT::RealFFT(int n) : n_(n), h_(n / 2) {
  if (n < 4 || (n & (n - 1)) != 0) throw Error("invalid_field", "FFT size must be a power of two >= 4");
  int bits = 0;
  while ((1 << bits) < h_) ++bits;
  bitrev_.resize(h_);
  for (int i = 0; i < h_; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev_[i] = r;
  }
  cw_.resize(h_ / 2 + 1);
  sw_.resize(h_ / 2 + 1);
  for (int k = 0; k <= h_ / 2; ++k) {
    cw_[k] = det_cospi(2.0 * k / h_);
    sw_[k] = -det_sinpi(2.0 * k / h_);
  }
  cr_.resize(h_ + 1);
  sr_.resize(h_ + 1);
  for (int k = 0; k <= h_; ++k) {
    cr_[k] = det_cospi(2.0 * k / n_);
    sr_[k] = -det_sinpi(2.0 * k / n_);
  }
  zr_.resize(h_);
  zi_.resize(h_);
}

void RealFFT::forward(const double* in, double* re, double* im) const {
  double* zr = zr_.data();
  double* zi = zi_.data();
  for (int j = 0; j < h_; ++j) {
    const int r = bitrev_[j];
    zr[r] = in[2 * j];
    zi[r] = in[2 * j + 1];
  }
  for (int len = 2; len <= h_; len <<= 1) {
    const int half = len / 2, step = h_ / len;
    for (int i = 0; i < h_; i += len) {
      for (int j = 0; j < half; ++j) {
        const double wr = cw_[j * step], wi = sw_[j * step];
        const int a = i + j, b = a + half;
        const double tr = zr[b] * wr - zi[b] * wi;
        const double ti = zr[b] * wi + zi[b] * wr;
        zr[b] = zr[a] - tr;
        zi[b] = zi[a] - ti;
        zr[a] = zr[a] + tr;
        zi[a] = zi[a] + ti;
      }
    }
  }
  // Split: Z = FFT(even + i odd); X[k] = E[k] + W^k O[k].
  for (int k = 0; k <= h_; ++k) {
    const int a = k % h_, b = (h_ - k) % h_;
    const double er = 0.5 * (zr[a] + zr[b]), ei = 0.5 * (zi[a] - zi[b]);
    const double orr = 0.5 * (zi[a] + zi[b]), oi = -0.5 * (zr[a] - zr[b]);
    re[k] = er + (cr_[k] * orr - sr_[k] * oi);
    im[k] = ei + (cr_[k] * oi + sr_[k] * orr);
  }
}

// ---------------------------------------------------------------------------------------- mel

namespace {
const double kMelFsp = 200.0 / 3.0;
const double kMinLogHz = 1000.0;
const double kMinLogMel = kMinLogHz / kMelFsp;  // 15
double mel_logstep() { return det_log(6.4) / 27.0; }
}  // namespace

double hz_to_mel(double hz) {
  if (hz >= kMinLogHz) return kMinLogMel + det_log(hz / kMinLogHz) / mel_logstep();
  return hz / kMelFsp;
}

double mel_to_hz(double mel) {
  if (mel >= kMinLogMel) return kMinLogHz * det_exp(mel_logstep() * (mel - kMinLogMel));
  return kMelFsp * mel;
}

std::vector<float> mel_filterbank(int sample_rate, int n_fft, int n_mels, double fmin, double fmax) {
  if (sample_rate <= 0 || n_fft < 4 || n_mels < 1 || fmin < 0 || fmax <= fmin)
    throw Error("invalid_field", "bad mel filterbank parameters");
  const int bins = n_fft / 2 + 1;
  const double val = 1.0 / (n_fft * (1.0 / sample_rate));  // numpy.fft.rfftfreq
  std::vector<double> freqs(bins);
  for (int k = 0; k < bins; ++k) freqs[k] = k * val;
  const double lo = hz_to_mel(fmin), hi = hz_to_mel(fmax);
  const int n = n_mels + 2;
  const double step = (hi - lo) / (n - 1);  // numpy.linspace: i * step + start, last = stop
  std::vector<double> mf(n);
  for (int i = 0; i < n; ++i) mf[i] = mel_to_hz(i == n - 1 ? hi : i * step + lo);
  std::vector<float> w(static_cast<size_t>(n_mels) * bins, 0.0f);
  for (int i = 0; i < n_mels; ++i) {
    const double d0 = mf[i + 1] - mf[i], d1 = mf[i + 2] - mf[i + 1];
    const double enorm = 2.0 / (mf[i + 2] - mf[i]);
    for (int k = 0; k < bins; ++k) {
      const double lower = -(mf[i] - freqs[k]) / d0;
      const double upper = (mf[i + 2] - freqs[k]) / d1;
      const float tri = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      w[static_cast<size_t>(i) * bins + k] = static_cast<float>(static_cast<double>(tri) * enorm);
    }
  }
  return w;
}

// ----------------------------------------------------------------------------------- Analyzer

Analyzer::Analyzer(AnalyzerOptions o) : opt_(o), fft_(kFftSize) {
  if (opt_.sample_rate < 8000 || opt_.sample_rate > 96000)
    throw Error("invalid_field", "sample rate must be 8000..96000 Hz", {{"field", "sample_rate"}});
  if (!(opt_.segment_seconds > 0) || opt_.segment_seconds > 600)
    throw Error("invalid_field", "segment_seconds must be in (0, 600]", {{"field", "segment_seconds"}});
  if (opt_.picture_columns < 2 || opt_.picture_columns % 2 != 0 || opt_.picture_columns > 100000)
    throw Error("invalid_field", "picture_columns must be even and >= 2", {{"field", "picture_columns"}});
  const double sr = opt_.sample_rate;
  window_.resize(kFftSize);
  for (int i = 0; i < kFftSize; ++i) window_[i] = 0.5 - 0.5 * det_cospi(2.0 * i / kFftSize);
  melfb_ = mel_filterbank(opt_.sample_rate, kFftSize, kMelBands, 0.0, std::min(11025.0, sr / 2));
  mel_lo_.assign(kMelBands, 0);
  mel_hi_.assign(kMelBands, 0);
  for (int b = 0; b < kMelBands; ++b) {
    int lo = kBins, hi = 0;
    for (int k = 0; k < kBins; ++k)
      if (melfb_[static_cast<size_t>(b) * kBins + k] != 0.0f) { lo = std::min(lo, k); hi = k + 1; }
    if (hi <= lo) lo = hi = 0;
    mel_lo_[b] = lo;
    mel_hi_[b] = hi;
  }
  chroma_lo_ = std::max(1, static_cast<int>(std::ceil(kChromaMinHz * kFftSize / sr)));
  chroma_hi_ = std::min(kBins - 2, static_cast<int>(std::floor(kChromaMaxHz * kFftSize / sr)));
  seg_len_ = std::max(1, static_cast<int>(std::floor(opt_.segment_seconds * sr / kHop + 0.5)));
  frame_.resize(kFftSize);
  re_.resize(kBins);
  im_.resize(kBins);
  mag_.resize(kBins);
  spec_f_.resize(kBins);
  mel_db_.resize(kMelBands);
  prev_mel_db_.assign(kMelBands, static_cast<float>(kOnsetFloorDb));
  chroma_.resize(kChroma);
  fine_.resize(kFineChroma);
  mel_pic_.rows = kMelBands;
  chroma_pic_.rows = kChroma;
  mel_acc_.assign(kMelBands, 0.0);
  chroma_acc_.assign(kChroma, 0.0);
}

void Analyzer::push(const float* samples, size_t n) {
  if (finished_) throw Error("invalid_state", "Analyzer::push after finish");
  if (n == 0) return;
  if (!samples) throw Error("invalid_field", "null sample pointer");
  buf_.reserve(buf_.size() + n);
  for (size_t i = 0; i < n; ++i) {
    float x = samples[i];
    if (!std::isfinite(x)) { x = 0.0f; ++nonfinite_; }
    peak_ = std::max(peak_, std::fabs(x));
    buf_.push_back(x);
  }
  total_ += static_cast<int64_t>(n);
  while (next_frame_ * kHop + kFftSize / 2 <= total_) process_frame();
}

void Analyzer::finish() {
  if (finished_) return;
  finished_ = true;
  if (total_ > 0)
    while (next_frame_ * kHop <= total_) process_frame();
  if (!seg_rms_.empty()) close_segment();
  pic_flush(mel_pic_, mel_acc_, mel_cnt_);
  pic_flush(chroma_pic_, chroma_acc_, chroma_cnt_);
}

void Analyzer::process_frame() {
  const int64_t t = next_frame_;
  const int64_t start = t * kHop - kFftSize / 2;
  double ss = 0;
  for (int j = 0; j < kFftSize; ++j) {
    const int64_t idx = start + j;
    const double x = (idx < 0 || idx >= total_) ? 0.0 : buf_[static_cast<size_t>(idx - buf_start_)];
    ss += x * x;
    frame_[j] = x * window_[j];
  }
  // Drop samples no later frame needs (lazily, so a huge single push stays linear).
  const int64_t keep_from = (t + 1) * kHop - kFftSize / 2;
  if (keep_from - buf_start_ > static_cast<int64_t>(buf_.size() / 2) && keep_from > buf_start_) {
    const size_t drop = static_cast<size_t>(std::min<int64_t>(keep_from - buf_start_,
                                                               static_cast<int64_t>(buf_.size())));
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
    buf_start_ += static_cast<int64_t>(drop);
  }
  const float rms = static_cast<float>(std::sqrt(ss / kFftSize));

  fft_.forward(frame_.data(), re_.data(), im_.data());
  for (int k = 0; k < kBins; ++k) {
    const double p = re_[k] * re_[k] + im_[k] * im_[k];
    mag_[k] = std::sqrt(p);
    spec_f_[k] = static_cast<float>(mag_[k]);
  }
  // log-mel: Slaney filters on the power spectrum, 10 log10(max(., 1e-10)).
  for (int b = 0; b < kMelBands; ++b) {
    double acc = 0;
    const float* w = &melfb_[static_cast<size_t>(b) * kBins];
    for (int k = mel_lo_[b]; k < mel_hi_[b]; ++k) acc += static_cast<double>(w[k]) * (mag_[k] * mag_[k]);
    mel_db_[b] = static_cast<float>(10.0 * det_log(std::max(acc, kMelFloor)) / kLn10);
  }
  // onset: mean over bands of the rectified increase of max(log-mel, floor); 0 for frame 0.
  double flux = 0;
  for (int b = 0; b < kMelBands; ++b) {
    const double cur = std::max(static_cast<double>(mel_db_[b]), kOnsetFloorDb);
    const double prev = std::max(static_cast<double>(prev_mel_db_[b]), kOnsetFloorDb);
    flux += std::max(0.0, cur - prev);
  }
  const float onset = t == 0 ? 0.0f : static_cast<float>(flux / kMelBands);
  prev_mel_db_ = mel_db_;
  // chroma: interpolated spectral peaks in [55, 2000] Hz onto 1/3-semitone bins, folded to 12.
  double maxmag = 0;
  for (int k = chroma_lo_; k <= chroma_hi_; ++k) maxmag = std::max(maxmag, mag_[k]);
  const double thr = std::max(1e-3, 0.01 * maxmag);
  double fine[kFineChroma] = {0};
  const double sr = opt_.sample_rate;
  for (int k = chroma_lo_; k <= chroma_hi_; ++k) {
    const double m = mag_[k];
    if (!(m > mag_[k - 1] && m >= mag_[k + 1] && m >= thr)) continue;
    const double a = det_log(std::max(mag_[k - 1], 1e-300)), b = det_log(m),
                 c = det_log(std::max(mag_[k + 1], 1e-300));
    const double den = a - 2.0 * b + c;
    double delta = den < 0 ? 0.5 * (a - c) / den : 0.0;
    delta = std::max(-0.5, std::min(0.5, delta));
    const double f = (k + delta) * sr / kFftSize;
    double q = 3.0 * (12.0 * det_log(f / 440.0) / kLn2 + 9.0);
    q = q - 36.0 * std::floor(q / 36.0);
    int i0 = static_cast<int>(std::floor(q));
    const double frac = q - i0;
    i0 %= kFineChroma;
    fine[i0] += m * (1.0 - frac);
    fine[(i0 + 1) % kFineChroma] += m * frac;
  }
  double cmax = 0;
  double chroma[kChroma];
  for (int c = 0; c < kChroma; ++c) {
    chroma[c] = fine[(3 * c + kFineChroma - 1) % kFineChroma] + fine[3 * c] + fine[3 * c + 1];
    cmax = std::max(cmax, chroma[c]);
  }
  const double inv = cmax > 0 ? 1.0 / cmax : 0.0;
  for (int c = 0; c < kChroma; ++c) chroma_[c] = static_cast<float>(chroma[c] * inv);
  for (int i = 0; i < kFineChroma; ++i) fine_[i] = static_cast<float>(fine[i] * inv);

  onset_.push_back(onset);
  rms_.push_back(rms);
  if (callback_) {
    Frame fr;
    fr.index = t;
    fr.time = static_cast<double>(t) * kHop / sr;
    fr.spectrum = spec_f_.data();
    fr.mel_db = mel_db_.data();
    fr.chroma = chroma_.data();
    fr.fine_chroma = fine_.data();
    fr.onset = onset;
    fr.rms = rms;
    callback_(fr);
  }
  // summaries
  seg_mel_.insert(seg_mel_.end(), mel_db_.begin(), mel_db_.end());
  seg_chroma_.insert(seg_chroma_.end(), chroma_.begin(), chroma_.end());
  seg_rms_.push_back(rms);
  seg_onset_.push_back(onset);
  if (cmax > 0 && rms >= opt_.tonal_rms) {
    for (int i = 0; i < kFineChroma; ++i) {
      seg_fine_[i] += fine_[i];
      fine_total_[i] += fine_[i];
    }
    ++seg_tonal_;
    ++tonal_frames_;
  }
  pic_add(mel_pic_, mel_acc_, mel_cnt_, mel_db_.data());
  pic_add(chroma_pic_, chroma_acc_, chroma_cnt_, chroma_.data());
  ++next_frame_;
  if (static_cast<int>(seg_rms_.size()) >= seg_len_) close_segment();
}

namespace {
template <size_t N>
void mean_var(const std::vector<float>& v, size_t frames, std::array<float, N>& mean,
              std::array<float, N>& var) {
  for (size_t d = 0; d < N; ++d) {
    double s = 0;
    for (size_t f = 0; f < frames; ++f) s += v[f * N + d];
    const double m = s / frames;
    double q = 0;
    for (size_t f = 0; f < frames; ++f) {
      const double x = v[f * N + d] - m;
      q += x * x;
    }
    mean[d] = static_cast<float>(m);
    var[d] = static_cast<float>(q / frames);
  }
}
}  // namespace

void Analyzer::close_segment() {
  Segment s;
  const size_t n = seg_rms_.size();
  s.frames = static_cast<int64_t>(n);
  s.start_frame = next_frame_ - s.frames;
  s.start_time = static_cast<double>(s.start_frame) * kHop / opt_.sample_rate;
  s.end_time = static_cast<double>(next_frame_) * kHop / opt_.sample_rate;
  mean_var(seg_mel_, n, s.mel_mean, s.mel_var);
  mean_var(seg_chroma_, n, s.chroma_mean, s.chroma_var);
  for (int i = 0; i < kFineChroma; ++i) s.fine_chroma_sum[i] = static_cast<float>(seg_fine_[i]);
  s.tonal_frames = seg_tonal_;
  double rs = 0, os = 0;
  for (size_t i = 0; i < n; ++i) {
    rs += seg_rms_[i];
    os += seg_onset_[i];
    s.rms_max = std::max(s.rms_max, seg_rms_[i]);
  }
  s.rms_mean = static_cast<float>(rs / n);
  s.onset_mean = static_cast<float>(os / n);
  segments_.push_back(s);
  seg_mel_.clear();
  seg_chroma_.clear();
  seg_rms_.clear();
  seg_onset_.clear();
  seg_fine_.fill(0.0);
  seg_tonal_ = 0;
}

void Analyzer::pic_add(Picture& p, std::vector<double>& acc, int& count, const float* v) {
  for (int r = 0; r < p.rows; ++r) acc[r] += v[r];
  if (++count == p.frames_per_column) pic_flush(p, acc, count);
}

void Analyzer::pic_flush(Picture& p, std::vector<double>& acc, int& count) {
  if (count == 0) return;
  if (p.columns == opt_.picture_columns) {  // merge pairs, double the column width
    const int half = p.columns / 2;
    for (int c = 0; c < half; ++c)
      for (int r = 0; r < p.rows; ++r)
        p.values[static_cast<size_t>(c) * p.rows + r] =
            0.5f * (p.values[static_cast<size_t>(2 * c) * p.rows + r] +
                    p.values[static_cast<size_t>(2 * c + 1) * p.rows + r]);
    p.values.resize(static_cast<size_t>(half) * p.rows);
    p.columns = half;
    p.frames_per_column *= 2;
    if (count < p.frames_per_column && !finished_) return;  // keep filling the wider column
  }
  for (int r = 0; r < p.rows; ++r) p.values.push_back(static_cast<float>(acc[r] / count));
  ++p.columns;
  std::fill(acc.begin(), acc.end(), 0.0);
  count = 0;
}

int Analyzer::tuning_shift() const {
  int best = 0;
  double best_v = -1;
  for (int s : {0, -1, 1}) {
    double v = 0;
    for (int c = 0; c < kChroma; ++c) v += fine_total_[(3 * c + s + kFineChroma) % kFineChroma];
    if (v > best_v) { best_v = v; best = s; }
  }
  return best;
}

namespace {
std::array<float, kChroma> fold(const double* fine, int shift) {
  std::array<float, kChroma> out{};
  for (int c = 0; c < kChroma; ++c) {
    const int ctr = 3 * c + shift + kFineChroma;
    out[c] = static_cast<float>(fine[(ctr - 1) % kFineChroma] + fine[ctr % kFineChroma] +
                                fine[(ctr + 1) % kFineChroma]);
  }
  return out;
}
}  // namespace

std::array<float, kChroma> Analyzer::key_chroma() const { return fold(fine_total_.data(), tuning_shift()); }

std::array<float, kChroma> Analyzer::segment_key_chroma(size_t segment) const {
  if (segment >= segments_.size()) throw Error("invalid_field", "segment index out of range");
  double f[kFineChroma];
  for (int i = 0; i < kFineChroma; ++i) f[i] = segments_[segment].fine_chroma_sum[i];
  return fold(f, tuning_shift());
}

}  // namespace dsp
}  // namespace tunesmith
