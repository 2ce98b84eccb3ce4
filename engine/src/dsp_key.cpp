// Key estimation from a 12-bin chroma: Pearson correlation with 24 rotated major/minor profiles
// (see tunesmith/dsp.h and docs/dsp.md).
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
}  // namespace

std::string key_name(int tonic, bool minor) {
  static const char* kMajorNames[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  static const char* kMinorNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"};
  if (tonic < 0 || tonic > 11) return "";
  return std::string(minor ? kMinorNames[tonic] : kMajorNames[tonic]) + (minor ? " minor" : " major");
}

KeyResult estimate_key(const float* chroma12, KeyProfile profile) {
  if (!chroma12) throw Error("invalid_field", "null chroma");
  KeyResult r;
  double x[12], sum = 0;
  for (int i = 0; i < 12; ++i) {
    const double v = chroma12[i];
    x[i] = std::isfinite(v) && v > 0 ? v : 0.0;
    sum += x[i];
  }
  if (!(sum > 0)) return r;
  for (int i = 0; i < 12; ++i) {
    x[i] /= sum;
    r.chroma[i] = static_cast<float>(x[i]);
  }
  double var = 0;
  for (int i = 0; i < 12; ++i) var += (x[i] - 1.0 / 12) * (x[i] - 1.0 / 12);
  r.contrast = std::sqrt(var / 12) * 12;  // std / mean, mean = 1/12
  const double* maj = profile == KeyProfile::kTemperley ? kTMajor : kKKMajor;
  const double* min = profile == KeyProfile::kTemperley ? kTMinor : kKKMinor;
  int best = -1, second = -1;
  for (int k = 0; k < 24; ++k) {
    const double* p = k < 12 ? maj : min;
    double rot[12];
    for (int c = 0; c < 12; ++c) rot[c] = p[(c - k % 12 + 12) % 12];
    r.correlations[k] = pearson(x, rot);
    if (best < 0 || r.correlations[k] > r.correlations[best]) { second = best; best = k; }
    else if (second < 0 || r.correlations[k] > r.correlations[second]) second = k;
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

}  // namespace dsp
}  // namespace tunesmith
