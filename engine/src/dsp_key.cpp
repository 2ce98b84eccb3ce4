// Key estimation from 12-bin chroma: Pearson correlation with 24 rotated major/minor profiles, for
// the whole file and (optionally) its ending, combined (see tunesmith/dsp.h and docs/dsp.md).
#include <algorithm>
#include <cmath>

#include "tunesmith/dsp.h"
#include "tunesmith/error.h"

namespace tunesmith {
namespace dsp {

namespace {
// Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
const double kKKMajor[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
const double kKKMinor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
// Temperley (1999/2001, "What's key for key?" revised Kostka-Payne profiles).
const double kTMajor[12] = {5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0};
const double kTMinor[12] = {5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0};

// BEGIN FITTED PROFILES (written by tools/audio/fit_key_profiles.mjs --write; do not edit by hand)
// Per mode, the mean tonic-rotated key chroma (kFit*) and ending chroma (kFitEnd*) of the 800
// train clips (FluidR3_GM, MuseScore_General), scaled to mean 1; the ending weight chosen by
// cross-validation inside train (mean leave-one-soundfont/style-out MIREX 0.9857).
const double kFitMajor[12] = {1.9250, 0.2736, 1.4183, 0.2913, 1.4881, 1.0868, 0.4602, 1.9315, 0.2771, 1.3054, 0.2810, 1.2617};
const double kFitMinor[12] = {1.9485, 0.2229, 1.3389, 1.4895, 0.3229, 1.2721, 0.3226, 1.8936, 0.9202, 0.4939, 1.2709, 0.5041};
const double kFitEndMajor[12] = {2.9496, 0.2146, 1.2173, 0.2514, 1.5406, 0.6431, 0.4035, 2.4572, 0.2875, 0.6086, 0.2743, 1.1522};
const double kFitEndMinor[12] = {3.1242, 0.2244, 1.0960, 1.3650, 0.4217, 0.7221, 0.2924, 2.6061, 0.4153, 0.3580, 0.8177, 0.5570};
const double kEndingWeight = 0.45;
// END FITTED PROFILES

double pearson(const double* x, const double* y) {
  double mx = 0, my = 0;
  for (int i = 0; i < 12; ++i) { mx += x[i]; my += y[i]; }
  mx /= 12;
  my /= 12;
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 12; ++i) {
    const double a = x[i] - mx, b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (!(sxx > 0) || !(syy > 0)) return 0;
  return sxy / std::sqrt(sxx * syy);
}

// Non-negative finite part of a chroma, normalised to sum 1; false when it sums to 0.
bool normalise(const float* in, double* out) {
  double sum = 0;
  for (int i = 0; i < 12; ++i) {
    const double v = in[i];
    out[i] = std::isfinite(v) && v > 0 ? v : 0.0;
    sum += out[i];
  }
  if (!(sum > 0)) return false;
  for (int i = 0; i < 12; ++i) out[i] /= sum;
  return true;
}

// Pearson r of x with the profile p rotated to tonic k % 12 (major for k < 12, minor above).
double key_r(const double* x, const double* maj, const double* min, int k) {
  const double* p = k < 12 ? maj : min;
  double rot[12];
  for (int c = 0; c < 12; ++c) rot[c] = p[(c - k % 12 + 12) % 12];
  return pearson(x, rot);
}
}  // namespace

std::string key_name(int tonic, bool minor) {
  static const char* kMajorNames[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  static const char* kMinorNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"};
  if (tonic < 0 || tonic > 11) return "";
  return std::string(minor ? kMinorNames[tonic] : kMajorNames[tonic]) + (minor ? " minor" : " major");
}

KeyResult estimate_key(const float* chroma12, KeyProfile profile) { return estimate_key(chroma12, nullptr, profile); }

KeyResult estimate_key(const float* chroma12, const float* ending12, KeyProfile profile) {
  if (!chroma12) throw Error("invalid_field", "null chroma");
  KeyResult r;
  double x[12], e[12];
  if (!normalise(chroma12, x)) return r;
  const bool has_end = ending12 && normalise(ending12, e);
  for (int i = 0; i < 12; ++i) {
    r.chroma[i] = static_cast<float>(x[i]);
    if (has_end) r.ending[i] = static_cast<float>(e[i]);
  }
  double var = 0;
  for (int i = 0; i < 12; ++i) var += (x[i] - 1.0 / 12) * (x[i] - 1.0 / 12);
  r.contrast = std::sqrt(var / 12) * 12;  // std / mean, mean = 1/12
  const double *maj = kFitMajor, *min = kFitMinor, *end_maj = kFitEndMajor, *end_min = kFitEndMinor;
  if (profile == KeyProfile::kKrumhanslKessler) {
    maj = end_maj = kKKMajor;
    min = end_min = kKKMinor;
  } else if (profile == KeyProfile::kTemperley) {
    maj = end_maj = kTMajor;
    min = end_min = kTMinor;
  }
  r.ending_weight = has_end ? kEndingWeight : 0.0;
  int best = -1, second = -1;
  for (int k = 0; k < 24; ++k) {
    double s = key_r(x, maj, min, k);
    if (has_end) s = (s + kEndingWeight * key_r(e, end_maj, end_min, k)) / (1 + kEndingWeight);
    r.correlations[k] = s;
    if (best < 0 || s > r.correlations[best]) { second = best; best = k; }
    else if (second < 0 || s > r.correlations[second]) second = k;
  }
  r.tonic = best % 12;
  r.minor = best >= 12;
  r.name = key_name(r.tonic, r.minor);
  r.correlation = r.correlations[best];
  r.margin = r.correlation - r.correlations[second];
  // A nearly flat chroma (noise, drums) correlates by chance: scale by its contrast, which is
  // about 0.1-0.3 for noise and 0.8-1.5 for tonal music.
  const double c = std::max(0.0, std::min(1.0, (r.contrast - 0.3) / 0.4));
  r.confidence = std::max(0.0, std::min(1.0, r.correlation)) * c;
  return r;
}

std::array<float, kChroma> ending_key_chroma(const Analyzer& an, double min_seconds) {
  double acc[kChroma] = {};
  int64_t tonal = 0;
  const double need = min_seconds * an.frame_rate();
  for (size_t i = an.segments().size(); i-- > 0;) {
    if (an.segments()[i].tonal_frames == 0) continue;
    const auto c = an.segment_key_chroma(i);
    for (int j = 0; j < kChroma; ++j) acc[j] += c[j];
    tonal += an.segments()[i].tonal_frames;
    if (static_cast<double>(tonal) >= need) break;
  }
  std::array<float, kChroma> out{};
  for (int j = 0; j < kChroma; ++j) out[j] = static_cast<float>(acc[j]);
  return out;
}

KeyResult estimate_key(const Analyzer& an, KeyProfile profile) {
  const auto kc = an.key_chroma();
  const auto end = ending_key_chroma(an);
  return estimate_key(kc.data(), end.data(), profile);
}

}  // namespace dsp
}  // namespace tunesmith
