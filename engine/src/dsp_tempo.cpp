// Tempo (comb-filtered autocorrelation of the onset envelope under a log-normal prior) and beats
// (Ellis 2007 dynamic programming); see tunesmith/dsp.h and docs/dsp.md.
#include <algorithm>
#include <cmath>

#include "tunesmith/dsp.h"
#include "tunesmith/error.h"

namespace tunesmith {
namespace dsp {

namespace {
constexpr double kLn2 = 0.69314718055994528623;
constexpr int kCombTerms = 4;
constexpr int kStepsPerOctave = 240;

struct Acf {
  std::vector<double> r;  // normalised by r[0]
  double at(double lag) const {
    if (lag < 0 || lag > static_cast<double>(r.size() - 1)) return 0;
    const size_t i = static_cast<size_t>(std::floor(lag));
    if (i + 1 >= r.size()) return r[i];
    const double f = lag - static_cast<double>(i);
    return r[i] * (1.0 - f) + r[i + 1] * f;
  }
};

// Mean of the normalised autocorrelation at the first kCombTerms multiples of the beat period.
double salience(const Acf& acf, double frame_rate, double bpm) {
  const double tau = 60.0 * frame_rate / bpm;
  double s = 0;
  int n = 0;
  for (int m = 1; m <= kCombTerms; ++m) {
    if (m * tau > static_cast<double>(acf.r.size() - 1)) break;
    s += acf.at(m * tau);
    ++n;
  }
  return n ? s / n : 0.0;
}

double prior(double bpm, const TempoOptions& o) {
  const double l = det_log(bpm / o.prior_bpm) / kLn2 / o.prior_octaves;
  return det_exp(-0.5 * l * l);
}

TempoCandidate candidate(const Acf& acf, double fr, double bpm, const TempoOptions& o) {
  TempoCandidate c;
  c.bpm = bpm;
  c.salience = salience(acf, fr, bpm);
  c.score = c.salience * prior(bpm, o);
  return c;
}

// Onset envelope minus its moving average over +-1 s (a high-pass that removes loudness trends).
std::vector<double> highpass(const std::vector<float>& o, double frame_rate) {
  const int n = static_cast<int>(o.size());
  const int w = std::max(1, static_cast<int>(std::floor(frame_rate + 0.5)));
  std::vector<double> prefix(n + 1, 0.0);
  for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + (std::isfinite(o[i]) ? o[i] : 0.0f);
  std::vector<double> e(n);
  for (int i = 0; i < n; ++i) {
    const int a = std::max(0, i - w), b = std::min(n, i + w + 1);
    const double x = std::isfinite(o[i]) ? o[i] : 0.0;
    e[i] = x - (prefix[b] - prefix[a]) / (b - a);
  }
  return e;
}
}  // namespace

TempoResult estimate_tempo(const std::vector<float>& onset, double frame_rate, const TempoOptions& o) {
  if (!(frame_rate > 0) || !(o.min_bpm > 0) || !(o.max_bpm > o.min_bpm) || !(o.prior_bpm > 0) ||
      !(o.prior_octaves > 0))
    throw Error("invalid_field", "bad tempo options");
  TempoResult res;
  const std::vector<double> e = highpass(onset, frame_rate);
  const int n = static_cast<int>(e.size());
  const int max_lag = std::min(n - 1, static_cast<int>(std::ceil(kCombTerms * 60.0 * frame_rate / o.min_bpm)) + 2);
  if (max_lag < 2) return res;
  Acf acf;
  acf.r.assign(max_lag + 1, 0.0);
  for (int l = 0; l <= max_lag; ++l) {
    double s = 0;
    for (int t = 0; t + l < n; ++t) s += e[t] * e[t + l];
    acf.r[l] = s;
  }
  double energy = 0;
  for (int t = 0; t < n; ++t) energy += std::fabs(e[t]);
  if (!(acf.r[0] > 1e-12) || !(energy > 1e-6 * n)) return res;  // flat envelope: silence
  const double r0 = acf.r[0];
  for (double& v : acf.r) v /= r0;

  // Score a log-spaced grid, then refine each local maximum by a parabola in log-bpm.
  const int steps = static_cast<int>(std::floor(kStepsPerOctave * det_log(o.max_bpm / o.min_bpm) / kLn2));
  std::vector<double> grid(steps + 1), score(steps + 1);
  for (int i = 0; i <= steps; ++i) {
    grid[i] = o.min_bpm * det_exp(kLn2 * i / kStepsPerOctave);
    score[i] = candidate(acf, frame_rate, grid[i], o).score;
  }
  std::vector<TempoCandidate> cands;
  for (int i = 0; i <= steps; ++i) {
    const double l = i > 0 ? score[i - 1] : -1e300, r = i < steps ? score[i + 1] : -1e300;
    if (!(score[i] > l && score[i] >= r) || !(score[i] > 0)) continue;
    double bpm = grid[i];
    if (i > 0 && i < steps) {
      const double den = l - 2.0 * score[i] + r;
      if (den < 0) {
        const double d = std::max(-0.5, std::min(0.5, 0.5 * (l - r) / den));
        bpm = o.min_bpm * det_exp(kLn2 * (i + d) / kStepsPerOctave);
      }
    }
    cands.push_back(candidate(acf, frame_rate, bpm, o));
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const TempoCandidate& a, const TempoCandidate& b) { return a.score > b.score; });
  if (cands.size() > 8) cands.resize(8);
  if (cands.empty()) return res;
  res.candidates = cands;
  res.bpm = cands[0].bpm;
  res.confidence = std::max(0.0, std::min(1.0, cands[0].salience));
  res.half = candidate(acf, frame_rate, res.bpm / 2, o);
  res.twice = candidate(acf, frame_rate, res.bpm * 2, o);
  for (double r : kTempoRatios) res.related.push_back(candidate(acf, frame_rate, res.bpm * r, o));
  if (o.beats) res.beats = track_beats(onset, frame_rate, res.bpm, o.tightness, o.beat_offset_frames);
  return res;
}

std::vector<double> track_beats(const std::vector<float>& onset, double frame_rate, double bpm,
                                double tightness, double offset_frames) {
  std::vector<double> beats;
  const int n = static_cast<int>(onset.size());
  if (!(bpm > 0) || !(frame_rate > 0) || n < 3) return beats;
  const double period = 60.0 * frame_rate / bpm;
  if (!(period >= 2) || period * 2 >= n) return beats;
  // Normalise by the standard deviation (ddof 1).
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += std::isfinite(onset[i]) ? onset[i] : 0.0f;
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) {
    const double d = (std::isfinite(onset[i]) ? onset[i] : 0.0f) - mean;
    var += d * d;
  }
  const double sd = std::sqrt(var / (n - 1));
  if (!(sd > 1e-9)) return beats;
  // Local score: the envelope smoothed by a Gaussian of std period/32 (librosa).
  const int hw = static_cast<int>(std::floor(period + 0.5));
  std::vector<double> g(2 * hw + 1);
  for (int k = -hw; k <= hw; ++k) {
    const double z = k * 32.0 / period;
    g[k + hw] = det_exp(-0.5 * z * z);
  }
  std::vector<double> local(n, 0.0);
  for (int t = 0; t < n; ++t) {
    double s = 0;
    for (int k = -hw; k <= hw; ++k) {
      const int i = t + k;
      if (i < 0 || i >= n) continue;
      s += g[k + hw] * ((std::isfinite(onset[i]) ? onset[i] : 0.0f) / sd);
    }
    local[t] = s;
  }
  // DP: cum[t] = local[t] + max over predecessors t-d, d in [P/2, 2P], of cum[t-d] - a log(d/P)^2.
  const int dmin = std::max(1, static_cast<int>(std::floor(period / 2 + 0.5)));
  const int dmax = static_cast<int>(std::floor(2 * period + 0.5));
  std::vector<double> pen(dmax + 1, 0.0);
  for (int d = dmin; d <= dmax; ++d) {
    const double l = det_log(d / period);
    pen[d] = -tightness * l * l;
  }
  double maxlocal = 0;
  for (double v : local) maxlocal = std::max(maxlocal, v);
  std::vector<double> cum(n);
  std::vector<int> back(n, -1);
  bool started = false;
  for (int t = 0; t < n; ++t) {
    double best = -1e300;
    int arg = -1;
    for (int d = dmin; d <= dmax && t - d >= 0; ++d) {
      const double v = cum[t - d] + pen[d];
      if (v > best) { best = v; arg = t - d; }
    }
    if (!started && local[t] < 0.01 * maxlocal) arg = -1;  // nothing to chain to yet
    else started = true;
    cum[t] = local[t] + (arg >= 0 ? best : 0.0);
    back[t] = arg;
  }
  // Last beat: the last local maximum of cum above half the median of the local maxima.
  std::vector<double> peaks;
  for (int t = 1; t + 1 < n; ++t)
    if (cum[t] > cum[t - 1] && cum[t] >= cum[t + 1]) peaks.push_back(cum[t]);
  if (peaks.empty()) return beats;
  std::vector<double> sorted = peaks;
  std::sort(sorted.begin(), sorted.end());
  const double med = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                       : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
  int last = -1;
  for (int t = n - 2; t >= 1; --t)
    if (cum[t] > cum[t - 1] && cum[t] >= cum[t + 1] && cum[t] >= 0.5 * med) { last = t; break; }
  if (last < 0) return beats;
  std::vector<int> idx;
  for (int t = last; t >= 0; t = back[t]) idx.push_back(t);
  std::reverse(idx.begin(), idx.end());
  // Trim weak beats at both ends (below half the RMS local score of the beats).
  double ms = 0;
  for (int t : idx) ms += local[t] * local[t];
  const double thr = 0.5 * std::sqrt(ms / idx.size());
  size_t a = 0, b = idx.size();
  while (a < b && local[idx[a]] < thr) ++a;
  while (b > a && local[idx[b - 1]] < thr) --b;
  for (size_t i = a; i < b; ++i) beats.push_back((idx[i] + offset_frames) / frame_rate);
  return beats;
}

}  // namespace dsp
}  // namespace tunesmith
