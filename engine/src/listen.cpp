// analyze_audio: see tunesmith/listen.h and docs/listen-api.md.
#include "tunesmith/listen.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

#include "tunesmith/audio.h"
#include "tunesmith/classifier.h"
#include "tunesmith/dsp.h"
#include "tunesmith/error.h"
#include "tunesmith/request.h"

namespace tunesmith {

using json = nlohmann::json;

namespace {

double r3(double x) { return std::round(x * 1000.0) / 1000.0; }
double r2(double x) { return std::round(x * 100.0) / 100.0; }
json finite_or_null(double x, int digits = 2) {
  if (!std::isfinite(x)) return nullptr;
  const double s = std::pow(10.0, digits);
  return std::round(x * s) / s;
}

const char* encoding_name(SampleEncoding e) {
  switch (e) {
    case SampleEncoding::PcmU8: return "pcm_u8";
    case SampleEncoding::PcmS16: return "pcm_s16";
    case SampleEncoding::PcmS24: return "pcm_s24";
    case SampleEncoding::PcmS32: return "pcm_s32";
    case SampleEncoding::Float32: return "float32";
    case SampleEncoding::Float64: return "float64";
  }
  return "?";
}

json picture_json(const dsp::Picture& p, double frame_rate, double lo, double hi) {
  // values scaled to 0..255 between lo and hi (a picture, not a measurement)
  json v = json::array();
  for (float x : p.values) {
    const double t = (std::clamp((double)x, lo, hi) - lo) / (hi - lo);
    v.push_back((int)std::lround(t * 255.0));
  }
  return {{"rows", p.rows}, {"columns", p.columns}, {"seconds_per_column", r3(p.frames_per_column / frame_rate)},
          {"range", {lo, hi}}, {"values", v}};
}

json key_json(const dsp::KeyResult& k, bool detail) {
  if (k.tonic < 0) return {{"name", nullptr}, {"confidence", 0}};
  static const char* names[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  json j = {{"tonic", names[k.tonic]}, {"mode", k.minor ? "minor" : "major"}, {"name", k.name}, {"confidence", r3(k.confidence)}};
  if (detail) {
    // evidence: the chroma profile and how well each key's profile correlates with it
    std::vector<std::pair<double, int>> order;
    for (int i = 0; i < 24; ++i) order.push_back({k.correlations[i], i});
    std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    json top = json::array();
    for (int i = 0; i < 5; ++i)
      top.push_back({{"key", dsp::key_name(order[i].second % 12, order[i].second >= 12)}, {"correlation", r3(order[i].first)}});
    json chroma = json::array();
    for (float c : k.chroma) chroma.push_back(r3(c));
    j["correlation"] = r3(k.correlation);
    j["margin"] = r3(k.margin);
    json ending = json::array();
    for (float c : k.ending) ending.push_back(r3(c));
    j["evidence"] = {{"method", "chroma profile of the whole file and of its ending (the last segments, at least 1 s of tonal frames), "
                                "correlated with major/minor key profiles fitted to rendered clips (24 keys); score = (r + 0.45 r_ending) / 1.45"},
                     {"chroma", chroma},
                     {"ending_chroma", ending},
                     {"ending_weight", r3(k.ending_weight)},
                     {"chroma_order", {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}},
                     {"best_keys", top}};
  }
  return j;
}

}  // namespace

// The clip's summary vector (docs/listen-api.md): what the style and instrument classifiers read.
// Over the segments: mean and spread of the per-segment log-mel means (64 + 64), mean of the
// per-segment log-mel standard deviations (64), mean and spread of the chroma (12 + 12), onset
// strength mean and spread, RMS level and spread (dB), tempo (log2 of BPM / 120) and its confidence.
static std::vector<float> clip_features(const dsp::Analyzer& an, const dsp::TempoResult& tr) {
  const auto& ss = an.segments();
  std::vector<double> f(64 * 3 + 12 * 2 + 6, 0.0);
  const double n = (double)std::max<size_t>(1, ss.size());
  for (const auto& s : ss) {
    for (int b = 0; b < 64; ++b) {
      f[b] += s.mel_mean[b] / n;
      f[128 + b] += std::sqrt(std::max(0.0f, s.mel_var[b])) / n;
    }
    for (int c = 0; c < 12; ++c) f[192 + c] += s.chroma_mean[c] / n;
  }
  for (const auto& s : ss) {
    for (int b = 0; b < 64; ++b) f[64 + b] += (s.mel_mean[b] - f[b]) * (s.mel_mean[b] - f[b]) / n;
    for (int c = 0; c < 12; ++c) f[204 + c] += (s.chroma_mean[c] - f[192 + c]) * (s.chroma_mean[c] - f[192 + c]) / n;
  }
  for (int b = 0; b < 64; ++b) f[64 + b] = std::sqrt(f[64 + b]);
  for (int c = 0; c < 12; ++c) f[204 + c] = std::sqrt(f[204 + c]);
  const auto& on = an.onset();
  const auto& rms = an.rms();
  double om = 0, ov = 0, rm = 0, rv = 0;
  for (float x : on) om += x;
  om /= std::max<size_t>(1, on.size());
  for (float x : on) ov += (x - om) * (x - om);
  ov = std::sqrt(ov / std::max<size_t>(1, on.size()));
  // deterministic logs (dsp::det_log): the same bits natively and in wasm
  const double ln10 = dsp::det_log(10.0);
  auto db = [&](float x) { return 20.0 * dsp::det_log(std::max(1e-6f, x)) / ln10; };
  for (float x : rms) rm += db(x);
  rm /= std::max<size_t>(1, rms.size());
  for (float x : rms) { const double d = db(x) - rm; rv += d * d; }
  rv = std::sqrt(rv / std::max<size_t>(1, rms.size()));
  f[216] = om; f[217] = ov; f[218] = rm; f[219] = rv;
  f[220] = tr.bpm > 0 ? dsp::det_log(tr.bpm / 120.0) / dsp::det_log(2.0) : 0.0;
  f[221] = tr.confidence;
  return std::vector<float>(f.begin(), f.end());
}

// A descriptor embedding for "similar tracks" (not learned; docs/listen-api.md): spectral shape (the
// mean log-mel curve minus its own mean, so level does not count), its movement over the segments,
// the chroma profile rotated to the estimated tonic (so transposition does not count), rhythm (onset
// strength, log tempo). Each group is scaled to unit length and weighted, then the whole to unit
// length: similarity is the dot product.
static std::vector<float> descriptor_embedding(const std::vector<float>& f, const dsp::KeyResult& key) {
  std::vector<double> e;
  auto group = [&](std::vector<double> g, double w) {
    double n = 0;
    for (double x : g) n += x * x;
    n = std::sqrt(n);
    for (double x : g) e.push_back(n > 0 ? w * x / n : 0.0);
  };
  std::vector<double> shape(16), motion(16), spread(16), chroma(12);
  double mean = 0;
  for (int b = 0; b < 64; ++b) mean += f[b] / 64.0;
  for (int b = 0; b < 64; ++b) {  // 64 bands pooled to 16
    shape[b / 4] += (f[b] - mean) / 4.0;
    motion[b / 4] += f[64 + b] / 4.0;
    spread[b / 4] += f[128 + b] / 4.0;
  }
  const int t = key.tonic < 0 ? 0 : key.tonic;
  for (int c = 0; c < 12; ++c) chroma[c] = f[192 + (c + t) % 12];
  group(shape, 1.0);
  group(motion, 0.5);
  group(spread, 0.7);
  group(chroma, 0.6);
  group({f[216], f[217], f[220] * 4.0, key.minor ? 1.0 : -1.0}, 0.6);
  double n = 0;
  for (double x : e) n += x * x;
  n = std::sqrt(n);
  std::vector<float> out;
  for (double x : e) out.push_back(n > 0 ? (float)(std::round(x / n * 1e4) / 1e4) : 0.0f);
  return out;
}

json task_similar_tracks(Engine& eng, const json& req, const EventFn&) {
  (void)eng;
  Fields f(req, {"task", "query", "tracks", "count"});
  auto read = [](const json& v, const std::string& field) {
    if (!v.is_array() || v.empty() || v.size() > 4096) throw Error("invalid_field", "'" + field + "' must be an embedding (an array of numbers)", {{"field", field}});
    std::vector<double> e;
    for (const json& x : v) {
      if (!x.is_number()) throw Error("invalid_field", "'" + field + "' must hold numbers", {{"field", field}});
      e.push_back(x.get<double>());
    }
    return e;
  };
  if (!f.has("query")) throw Error("missing_field", "'query' is required: the embedding of the track to match", {{"field", "query"}});
  const std::vector<double> q = read(req["query"], "query");
  if (!f.has("tracks") || !req["tracks"].is_array()) throw Error("missing_field", "'tracks' is required: [{id, embedding}]", {{"field", "tracks"}});
  if (req["tracks"].size() > 100000) throw Error("invalid_field", "'tracks' holds more than 100,000 tracks", {{"field", "tracks"}});
  const int count = (int)f.integer("count", 10, 1, 1000);
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < req["tracks"].size(); ++i) {
    const json& t = req["tracks"][i];
    const std::string field = "tracks[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("embedding")) throw Error("invalid_field", field + " needs an embedding", {{"field", field}});
    const std::vector<double> e = read(t["embedding"], field + ".embedding");
    if (e.size() != q.size()) throw Error("invalid_field", field + ".embedding has " + std::to_string(e.size()) + " numbers, the query " + std::to_string(q.size()), {{"field", field}});
    double dot = 0, nq = 0, ne = 0;
    for (size_t k = 0; k < q.size(); ++k) { dot += q[k] * e[k]; nq += q[k] * q[k]; ne += e[k] * e[k]; }
    scored.push_back({nq > 0 && ne > 0 ? dot / std::sqrt(nq * ne) : 0.0, i});
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  json out = json::array();
  for (size_t k = 0; k < scored.size() && (int)k < count; ++k) {
    const json& t = req["tracks"][scored[k].second];
    out.push_back({{"index", scored[k].second}, {"id", t.value("id", json(nullptr))}, {"similarity", r3(scored[k].first)}});
  }
  return {{"task", "similar_tracks"}, {"similar", out},
          {"method", "cosine similarity of descriptor embeddings (spectral shape and movement, tonic-rotated chroma, rhythm)"}};
}

// ---------------------------------------------------------------------------------------------
// analyze_audio: one AudioSession per file. A one-shot request feeds the whole file and finishes;
// a session request ({"session": id, "final": false}) feeds one chunk and keeps the state in the
// engine until the chunk with "final": true (docs/listen-api.md).

constexpr int kFluxBands = 4;

// Beat-synchronous rhythm patterns (docs/listen-api.md, "Style"): each band's flux sampled at 12
// points per beat (linear interpolation between frames) and scaled by the band's mean; then the
// mean one-beat pattern (48), the mean two-beat pattern (96), the autocorrelation of per-beat
// energy at lags 1..8 beats per band (32: meter and bar length), the spread of three-beat patterns
// (144) and log2(tempo / 120): 321 numbers. Empty with fewer than 4 beats.
std::vector<float> rhythm_features(const std::vector<float>& flux, double frame_rate, const std::vector<double>& beats) {
  constexpr int S = 12, K = kFluxBands;
  const int64_t T = (int64_t)(flux.size() / K);
  if (beats.size() < 4 || T < 2) return {};
  const size_t nb = beats.size() - 1;
  auto at = [&](double sec, int k) {  // np.interp over frame times i / frame_rate
    const double x = sec * frame_rate;
    if (x <= 0) return (double)flux[k];
    if (x >= T - 1) return (double)flux[(size_t)(T - 1) * K + k];
    const int64_t i = (int64_t)x;
    const double f = x - (double)i;
    return flux[(size_t)i * K + k] * (1.0 - f) + flux[(size_t)(i + 1) * K + k] * f;
  };
  // The patterns P[beat][sub][band] are recomputed where they are needed rather than stored: at a
  // fast candidate tempo of a 2-hour file they would take 17 MB (the tempo chooser asks for up to
  // seven candidates). The sums run in the same order as over a stored array, so the numbers are
  // the same to the bit.
  const auto raw = [&](size_t i, int s, int k) { return at(beats[i] + (beats[i + 1] - beats[i]) * s / S, k); };
  double scale[K];
  for (int k = 0; k < K; ++k) {  // each band's mean over all samples
    double m = 0;
    for (size_t i = 0; i < nb; ++i)
      for (int s = 0; s < S; ++s) m += raw(i, s, k);
    scale[k] = m / (double)(nb * S) + 1e-6;
  }
  const auto P = [&](size_t i, int s, int k) { return raw(i, s, k) / scale[k]; };  // scaled by the band's mean
  std::vector<float> out;
  for (int s = 0; s < S; ++s)  // f1: mean one-beat pattern, [sub][band]
    for (int k = 0; k < K; ++k) {
      double m = 0;
      for (size_t i = 0; i < nb; ++i) m += P(i, s, k);
      out.push_back((float)(m / nb));
    }
  const size_t n2 = nb / 2;
  for (int s = 0; s < 2 * S; ++s)  // f2: mean two-beat pattern
    for (int k = 0; k < K; ++k) {
      double m = 0;
      for (size_t i = 0; i < n2; ++i) m += P(2 * i + s / S, s % S, k);
      out.push_back(n2 ? (float)(m / n2) : 0.0f);
    }
  std::vector<double> e(nb * K);  // per-beat energy
  for (size_t i = 0; i < nb; ++i)
    for (int k = 0; k < K; ++k) {
      double m = 0;
      for (int s = 0; s < S; ++s) m += P(i, s, k);
      e[i * K + k] = m / S;
    }
  for (int k = 0; k < K; ++k) {  // autocorrelation of the per-beat energy, lags 1..8
    double mean = 0;
    for (size_t i = 0; i < nb; ++i) mean += e[i * K + k];
    mean /= nb;
    double d = 0;
    for (size_t i = 0; i < nb; ++i) d += (e[i * K + k] - mean) * (e[i * K + k] - mean);
    d += 1e-9;
    for (size_t L = 1; L <= 8; ++L) {
      double c = 0;
      if (L < nb)
        for (size_t i = 0; i + L < nb; ++i) c += (e[i * K + k] - mean) * (e[(i + L) * K + k] - mean);
      out.push_back((float)(c / d));
    }
  }
  const size_t n3 = nb / 3;
  for (int s = 0; s < 3 * S; ++s)  // f3: spread of the three-beat patterns
    for (int k = 0; k < K; ++k) {
      if (!n3) { out.push_back(0.0f); continue; }
      double m = 0, v = 0;
      for (size_t i = 0; i < n3; ++i) m += P(3 * i + s / S, s % S, k);
      m /= n3;
      for (size_t i = 0; i < n3; ++i) { const double d = P(3 * i + s / S, s % S, k) - m; v += d * d; }
      out.push_back((float)std::sqrt(v / n3));
    }
  std::vector<double> ibi;
  for (size_t i = 0; i < nb; ++i) ibi.push_back(beats[i + 1] - beats[i]);
  std::sort(ibi.begin(), ibi.end());
  const double med = ibi.size() % 2 ? ibi[ibi.size() / 2] : 0.5 * (ibi[ibi.size() / 2 - 1] + ibi[ibi.size() / 2]);
  out.push_back((float)(dsp::det_log(60.0 / med / 120.0) / dsp::det_log(2.0)));
  return out;
}

struct AudioOptions {
  std::string format = "wav";
  double seg_seconds = 4.0;
  int max_beats = 2000;
  bool pictures = true, want_features = false, classify = true;
  int f32_rate = 0, f32_channels = 1;
  std::string name;
  bool has_name = false;
};

static bool bool_field(const Fields& f, const json& req, const char* name, bool def) {
  if (!f.has(name)) return def;
  if (!req[name].is_boolean()) throw Error("invalid_field", std::string("'") + name + "' must be true or false", {{"field", name}});
  return req[name].get<bool>();
}

class AudioSession {
 public:
  static constexpr double kMaxSeconds = 3 * 3600.0;

  AudioSession(const AudioOptions& o, std::shared_ptr<const AudioClassifier> cls) : opt_(o), cls_(std::move(cls)) {
    if (opt_.format == "wav") {
      wav_ = std::make_unique<WavDecoder>();
    } else {
      source_ = {{"container", "pcm"}, {"encoding", "float32"}, {"bits", 32}};
      start(opt_.f32_rate, opt_.f32_channels, 0, 0);
    }
  }

  // Feeds bytes: WAV file bytes (any slices, in order) or whole float32 frames.
  void feed(std::string_view data, const EventFn& on_event, uint64_t f32_total_frames) {
    on_event_ = &on_event;
    if (wav_) {
      // In pieces, drained after each: WavDecoder::feed copies what it has not decoded, so feeding a
      // whole file at once would hold a second copy of it.
      constexpr size_t kPiece = 256 * 1024;
      for (size_t at = 0; at < data.size(); at += kPiece) {
        wav_->feed(reinterpret_cast<const uint8_t*>(data.data()) + at, std::min(kPiece, data.size() - at));
        if (!started_ && wav_->ready()) {
          const AudioFormat& af = wav_->format();
          source_ = {{"container", af.container}, {"encoding", encoding_name(af.encoding)}, {"bits", af.bits_per_sample}};
          start(af.sample_rate, af.channels, af.channel_mask, af.size_known ? af.declared_frames : 0);
        }
        drain();
      }
    } else {
      if (f32_total_frames) total_frames_ = f32_total_frames;
      const size_t fb = 4 * (size_t)channels_;
      if (data.size() % fb)
        throw Error("invalid_audio", "float32 PCM must be a whole number of frames (" + std::to_string(fb) + " bytes each)", {{"reason", "partial_frame"}});
      const size_t frames = data.size() / fb;
      for (size_t at = 0; at < frames; at += kBlock) {
        const size_t n = std::min(kBlock, frames - at);
        std::memcpy(tmp_.data(), data.data() + at * fb, n * fb);
        push(tmp_.data(), n);
      }
    }
    on_event_ = nullptr;
  }

  double seconds() const { return rate_ ? frames_done_ / (double)rate_ : 0.0; }

  json finish(const EventFn& on_event);

 private:
  static constexpr size_t kBlock = 8192;

  void start(int rate, int channels, uint32_t mask, uint64_t total_frames) {
    rate_ = rate;
    channels_ = channels;
    total_frames_ = total_frames;
    meter_ = std::make_unique<LoudnessMeter>(rate, channels, mask);
    rs_ = std::make_unique<Resampler>(rate, dsp::kAnalysisRate);
    dsp::AnalyzerOptions ao;
    ao.segment_seconds = opt_.seg_seconds;
    an_ = std::make_unique<dsp::Analyzer>(ao);
    inter_.resize(kBlock * (size_t)channels);
    mono_.resize(kBlock);
    tmp_.resize(kBlock * (size_t)channels);
    if (cls_) {
      // Patches every hop frames: the model's hop for files up to ~7 minutes, then spaced out so
      // that a file never costs more than ~600 patches (a 1-hour file: one 3 s patch every ~6 s).
      const double analysis_frames = total_frames ? total_frames * (double)dsp::kAnalysisRate / rate / dsp::kHop : 0.0;
      const int hop = std::max(cls_->hop_frames(), (int)std::ceil(analysis_frames / 600.0));
      patches_ = std::make_unique<PatchStream>(*cls_, hop);
    }
    prev_mel_.assign(dsp::kMelBands, kFluxFloorDb);
    an_->set_frame_callback([this](const dsp::Frame& fr) {
      if (patches_) patches_->push(fr.mel_db);
      add_band_flux(fr.mel_db);
    });
    started_ = true;
  }

  // Rhythm: per frame, the positive log-mel change averaged over four band groups (bass, low-mid,
  // high-mid, treble): 16 bytes a frame, the input of the beat-synchronous rhythm patterns.
  static constexpr float kFluxFloorDb = -60.0f;
  void add_band_flux(const float* mel) {
    static const int edges[kFluxBands + 1] = {0, 8, 24, 44, 64};
    for (int k = 0; k < kFluxBands; ++k) {
      double s = 0;
      for (int b = edges[k]; b < edges[k + 1]; ++b) {
        const float x = std::max(mel[b], kFluxFloorDb);
        s += std::max(0.0f, x - prev_mel_[b]);
      }
      band_flux_.push_back(frames_seen_ ? (float)(s / (edges[k + 1] - edges[k])) : 0.0f);
    }
    for (int b = 0; b < dsp::kMelBands; ++b) prev_mel_[b] = std::max(mel[b], kFluxFloorDb);
    ++frames_seen_;
  }

  void drain() {
    if (!started_) return;
    for (;;) {
      const size_t got = wav_->read_interleaved(tmp_.data(), kBlock);
      if (!got) break;
      push(tmp_.data(), got);
    }
  }

  void push(const float* x, size_t n) {
    if ((frames_done_ + n) / (double)rate_ > kMaxSeconds)
      throw Error("invalid_audio", "the audio is longer than 3 hours", {{"reason", "too_long"}});
    for (size_t i = 0; i < n * (size_t)channels_; ++i) {
      float v = x[i];
      if (!std::isfinite(v)) { ++nonfinite_; v = 0; }
      else if (!wav_ && (v >= 1.0f || v <= -1.0f)) ++clipped_;  // WAV: the decoder counts (both integer extremes)
      inter_[i] = v;
    }
    meter_->add_interleaved(inter_.data(), n);
    mix_to_mono(inter_.data(), n, channels_, mono_.data());
    res_.clear();
    rs_->process(mono_.data(), n, res_);
    an_->push(res_.data(), res_.size());
    frames_done_ += n;
    if (on_event_ && *on_event_ && total_frames_) {
      const int pct = (int)(100.0 * (double)frames_done_ / (double)total_frames_);
      if (pct / 5 != last_pct_ / 5) {
        last_pct_ = pct;
        (*on_event_)({{"event", "progress"}, {"fraction", std::min(1.0, r3(frames_done_ / (double)total_frames_))}});
      }
    }
  }

  AudioOptions opt_;
  std::shared_ptr<const AudioClassifier> cls_;
  std::unique_ptr<WavDecoder> wav_;
  bool started_ = false;
  int rate_ = 0, channels_ = 0;
  uint64_t total_frames_ = 0, frames_done_ = 0, nonfinite_ = 0, clipped_ = 0;
  int last_pct_ = -1;
  json source_;
  std::unique_ptr<LoudnessMeter> meter_;
  std::unique_ptr<Resampler> rs_;
  std::unique_ptr<dsp::Analyzer> an_;
  std::unique_ptr<PatchStream> patches_;
  std::vector<float> inter_, mono_, res_, tmp_;
  std::vector<float> prev_mel_, band_flux_;  // band_flux_: kFluxBands per frame
  int64_t frames_seen_ = 0;
  const EventFn* on_event_ = nullptr;
};

namespace {

// Weighted mean of the patch outputs whose centre lies in [from, to) frames (all when to < 0).
struct ClassMean {
  std::vector<double> style, lead, families;
  double log2_tempo = 0, weight = 0;
  int patches = 0;
};

ClassMean class_mean(const std::vector<PatchOutput>& ps, const AudioClassifier& c, int64_t from = 0, int64_t to = -1) {
  ClassMean m;
  m.style.assign(c.style_labels().size(), 0.0);
  m.lead.assign(c.lead_labels().size(), 0.0);
  m.families.assign(c.family_labels().size(), 0.0);
  for (const auto& p : ps) {
    const int64_t centre = p.start_frame + p.frames / 2;
    if (to >= 0 && (centre < from || centre >= to)) continue;
    const double w = 1.0;
    for (size_t i = 0; i < m.style.size(); ++i) m.style[i] += w * p.style[i];
    for (size_t i = 0; i < m.lead.size(); ++i) m.lead[i] += w * p.lead[i];
    for (size_t i = 0; i < m.families.size(); ++i) m.families[i] += w * p.families[i];
    m.log2_tempo += w * p.log2_tempo;
    m.weight += w;
    ++m.patches;
  }
  if (m.weight > 0) {
    for (double& x : m.style) x /= m.weight;
    for (double& x : m.lead) x /= m.weight;
    for (double& x : m.families) x /= m.weight;
    m.log2_tempo /= m.weight;
  }
  return m;
}

size_t argmax(const std::vector<double>& v) { return (size_t)(std::max_element(v.begin(), v.end()) - v.begin()); }

json ranked(const std::vector<double>& p, const std::vector<std::string>& labels) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  json out = json::array();
  for (size_t i : order) out.push_back({{"label", labels[i]}, {"p", r3(p[i])}});
  return out;
}

std::string pretty(std::string s) {
  for (char& ch : s) if (ch == '_') ch = ' ';
  return s;
}

// Mood: a documented rule-based estimate (docs/listen-api.md, "Mood"), not a trained model: there
// is no labelled mood data in the project. Valence and arousal in [-1, 1] from musical correlates
// reported in the music-emotion literature (mode -> valence; tempo, loudness, onset activity and
// brightness -> arousal), centred on the medians of the rendered training clips.
struct MoodInput {
  bool has_key = false, minor = false;
  double key_confidence = 0, bpm = 0, lufs = NAN, onset = 0, brightness = 0;
};

MoodInput mood_input(const dsp::KeyResult& k, double bpm, double onset, double bright) {
  MoodInput mi;
  mi.has_key = k.tonic >= 0;
  mi.minor = k.minor;
  mi.key_confidence = k.confidence;
  mi.bpm = bpm;
  mi.onset = onset;
  mi.brightness = bright;
  return mi;
}

json mood_json(const MoodInput& in, bool detail) {
  auto clamp1 = [](double x) { return std::clamp(x, -1.0, 1.0); };
  json contrib = json::array();
  double v = 0, a = 0;
  auto add = [&](const char* feature, json value, double dv, double da) {
    v += dv;
    a += da;
    contrib.push_back({{"feature", feature}, {"value", value}, {"valence", r3(dv)}, {"arousal", r3(da)}});
  };
  if (in.has_key) {
    const double c = std::clamp(in.key_confidence * 2.0, 0.0, 1.0);
    add("mode", in.minor ? "minor" : "major", (in.minor ? -0.4 : 0.4) * c, 0.0);
  }
  if (in.bpm > 0) {
    const double t = clamp1((in.bpm - 100.0) / 50.0);
    add("tempo", r2(in.bpm), 0.15 * t, 0.35 * t);
  }
  const double o = clamp1((in.onset - 1.1) / 0.4);
  add("onset_activity", r3(in.onset), 0.0, 0.25 * o);
  const double b = clamp1((in.brightness - 0.126) / 0.08);
  add("brightness", r3(in.brightness), 0.15 * b, 0.15 * b);
  if (std::isfinite(in.lufs)) {
    const double l = clamp1((in.lufs + 20.0) / 10.0);
    add("loudness", r2(in.lufs), 0.0, 0.15 * l);
  }
  v = clamp1(v);
  a = clamp1(a);
  static const char* labels[4] = {"happy", "calm", "sad", "tense"};
  static const double cv[4] = {0.5, 0.5, -0.5, -0.5}, ca[4] = {0.5, -0.5, -0.5, 0.5};
  double p[4], sum = 0;
  for (int i = 0; i < 4; ++i) {
    p[i] = dsp::det_exp(-2.0 * ((v - cv[i]) * (v - cv[i]) + (a - ca[i]) * (a - ca[i])));
    sum += p[i];
  }
  int best = 0;
  for (int i = 0; i < 4; ++i) {
    p[i] /= sum;
    if (p[i] > p[best]) best = i;
  }
  json j = {{"label", labels[best]}, {"valence", r3(v)}, {"arousal", r3(a)}};
  if (!detail) return j;
  json probs = json::array();
  std::vector<int> order = {0, 1, 2, 3};
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return p[x] > p[y]; });
  for (int i : order) probs.push_back({{"label", labels[i]}, {"p", r3(p[i])}});
  j["confidence"] = r3(p[best]);
  j["probabilities"] = probs;
  j["evidence"] = {{"method", "rule-based, not trained: valence from the mode (weighted by the key's confidence), tempo and brightness; "
                              "arousal from tempo, onset activity, brightness and loudness; each term is a clipped linear function "
                              "centred on the medians of the rendered training clips. The label is the nearest quadrant of the "
                              "valence-arousal plane (happy, calm, sad, tense). It has not been validated against listeners' ratings."},
                   {"contributions", contrib}};
  return j;
}

// Spectral brightness: the mel-power-weighted mean band index, 0 (lowest band) .. 1 (highest).
double brightness(const float* mel_db_mean) {
  const double k = dsp::det_log(10.0) / 10.0;
  double num = 0, den = 0;
  for (int b = 0; b < dsp::kMelBands; ++b) {
    const double pw = dsp::det_exp(k * std::max(-100.0f, mel_db_mean[b]));
    num += pw * b;
    den += pw;
  }
  return den > 0 ? num / den / (dsp::kMelBands - 1) : 0.0;
}

}  // namespace

json AudioSession::finish(const EventFn& on_event) {
  on_event_ = &on_event;
  if (wav_) {
    wav_->finish();
    if (!wav_->ready()) throw Error("invalid_audio", "not a complete WAV header", {{"reason", "truncated_header"}});
    drain();
  }
  on_event_ = nullptr;
  if (frames_done_ == 0) throw Error("invalid_audio", "the file holds no samples", {{"reason", "no_samples"}});
  res_.clear();
  rs_->flush(res_);
  an_->push(res_.data(), res_.size());
  an_->finish();
  if (patches_) patches_->finish();
  if (wav_) {
    nonfinite_ += wav_->stats().nonfinite_samples;
    clipped_ = wav_->stats().clipped_samples;  // 32767 and 127 (8-bit 255) are full scale too
  }
  dsp::Analyzer& an = *an_;

  const double duration = frames_done_ / (double)rate_;
  json warnings = json::array();
  if (wav_ && wav_->stats().truncated) warnings.push_back("the file ends in the middle of its data: analysed what is there");
  if (nonfinite_) warnings.push_back(std::to_string(nonfinite_) + " samples were NaN or infinite and were read as silence");
  if (clipped_) warnings.push_back(std::to_string(clipped_) + " samples are at full scale (clipping)");
  if (duration < 3.0) warnings.push_back("shorter than 3 seconds: key and tempo are unreliable");

  // ---- loudness
  const LoudnessResult lr = meter_->result();
  json loud = {{"integrated_lufs", lr.has_loudness ? finite_or_null(lr.integrated_lufs, 1) : json(nullptr)},
               {"loudness_range_lu", lr.has_range ? finite_or_null(lr.loudness_range_lu, 1) : json(nullptr)},
               {"momentary_max_lufs", finite_or_null(lr.momentary_max_lufs, 1)},
               {"short_term_max_lufs", finite_or_null(lr.short_term_max_lufs, 1)},
               {"sample_peak_dbfs", finite_or_null(lr.sample_peak_dbfs, 2)},
               {"true_peak_dbtp", finite_or_null(lr.true_peak_dbtp, 2)},
               {"method", "ITU-R BS.1770-4 / EBU R128: K-weighted, 400 ms blocks, -70 LUFS absolute and -10 LU relative gates; true peak 4x oversampled"}};
  if (!lr.has_loudness)
    warnings.push_back(duration < 0.4 ? "shorter than 0.4 s: too short for a loudness measurement (EBU R128 needs a 400 ms block)"
                                      : "silent (below -70 LUFS): no loudness, key or tempo");

  // ---- key
  dsp::KeyResult key = dsp::estimate_key(an);
  json jkey = key_json(key, true);
  jkey["tuning_cents"] = an.tuning_shift() * 100 / 3;

  // ---- the classifier's answers (patch probabilities averaged)
  const AudioClassifier* cls = cls_.get();
  const std::vector<PatchOutput> none;
  const std::vector<PatchOutput>& ps = patches_ ? patches_->patches() : none;
  ClassMean cm;
  if (cls && !ps.empty()) cm = class_mean(ps, *cls);

  // ---- tempo: onset periodicity; the classifier's tempo estimate chooses the octave
  dsp::TempoResult tr = dsp::estimate_tempo(an.onset(), an.frame_rate());
  if (duration < 1.5 || tr.confidence < 0.005) {  // under two beats at 80 BPM, or no periodicity at all (a steady tone)
    if (tr.bpm > 0 && lr.has_loudness)
      warnings.push_back(duration < 1.5 ? "shorter than 1.5 s: no tempo" : "no periodic onsets: no tempo");
    tr = dsp::TempoResult{};
  }
  json tempo;
  if (tr.bpm > 0) {
    const double onset_bpm = tr.bpm;
    json octave = nullptr;
    if (cm.patches > 0) {
      const double pred = 120.0 * dsp::det_exp(cm.log2_tempo * dsp::det_log(2.0));
      const double l2 = dsp::det_log(2.0);
      auto dist = [&](double b) { return std::fabs(dsp::det_log(b / pred) / l2); };
      // only an octave the onsets also support: its periodicity score at least 0.6 of the chosen
      // one's to halve, 0.3 to double (chosen on the train split: the most conservative of the best;
      // a click on every beat is not read at half tempo)
      const double base_score = tr.candidates.empty() ? 0.0 : tr.candidates[0].score;
      auto supported = [&](const dsp::TempoCandidate& c, bool halve) {
        return c.bpm >= 30 && c.bpm <= 300 && c.score >= (halve ? 0.6 : 0.3) * base_score;
      };
      double best = tr.bpm;
      if (supported(tr.half, true) && dist(tr.half.bpm) < dist(best)) best = tr.half.bpm;
      if (supported(tr.twice, false) && dist(tr.twice.bpm) < dist(best)) best = tr.twice.bpm;
      // thresholds chosen on the train split (tools/audio/eval_listen.mjs rows; docs/listen-api.md)
      const bool switched = best != tr.bpm && dist(best) < 0.6 && dist(tr.bpm) > 0.5;
      octave = {{"classifier_bpm", r2(pred)}, {"onset_bpm", r2(onset_bpm)}, {"switched", switched}};
      if (switched) {
        tr.bpm = best;
        tr.beats = dsp::track_beats(an.onset(), an.frame_rate(), best);
      }
    }
    json cands = json::array();
    for (const auto& c : tr.candidates) cands.push_back({{"bpm", r2(c.bpm)}, {"salience", r3(c.salience)}, {"score", r3(c.score)}});
    json beats = json::array();
    for (size_t i = 0; i < tr.beats.size() && (int)i < opt_.max_beats; ++i) beats.push_back(r3(tr.beats[i]));
    tempo = {{"bpm", r2(tr.bpm)},
             {"confidence", r3(tr.confidence)},
             {"beats", beats},
             {"beat_count", tr.beats.size()},
             {"evidence", {{"method", cm.patches > 0 ? "autocorrelation of the onset strength (log spectral flux), comb-filtered, times a log-normal prior around 120 BPM; "
                                                       "the octave (that tempo, its half or its double) chosen by the classifier's tempo estimate and the style's usual tempo range; beats by dynamic programming"
                                                     : "autocorrelation of the onset strength (log spectral flux), comb-filtered, times a log-normal prior around 120 BPM; beats by dynamic programming"},
                           {"candidates", cands},
                           {"half", {{"bpm", r2(tr.half.bpm)}, {"score", r3(tr.half.score)}}},
                           {"double", {{"bpm", r2(tr.twice.bpm)}, {"score", r3(tr.twice.score)}}}}}};
    json related = json::array();
    for (size_t i = 0; i < tr.related.size(); ++i)
      related.push_back({{"ratio", r3(dsp::kTempoRatios[i])}, {"bpm", r2(tr.related[i].bpm)}, {"salience", r3(tr.related[i].salience)}, {"score", r3(tr.related[i].score)}});
    tempo["evidence"]["related"] = related;
    if (!octave.is_null()) tempo["evidence"]["octave"] = octave;
  } else {
    tempo = {{"bpm", nullptr}, {"confidence", 0}, {"beats", json::array()}, {"beat_count", 0}};
  }

  // ---- rhythm patterns (on the final beats) and the rhythm head's style
  const std::vector<float> rfeat = tr.bpm > 0 ? rhythm_features(band_flux_, an.frame_rate(), tr.beats) : std::vector<float>{};
  std::vector<float> rstyle;
  if (cls && cls->has_rhythm() && !rfeat.empty()) rstyle = cls->rhythm_style(rfeat);
  std::vector<double> cnn_style = cm.style;
  if (cm.patches > 0 && !rstyle.empty()) {
    const double w = cls->fusion_weight();
    for (size_t i = 0; i < cm.style.size(); ++i) cm.style[i] = w * cnn_style[i] + (1.0 - w) * rstyle[i];
  }

  // ---- the tempo octave again, now that the style is known: among the onset tempo, its half and
  // its double, the most likely under the style's tempo range in the training clips (sd at least
  // 0.15 octave) times the tempo head's estimate (sd 0.3 octave). Chosen on the train split.
  if (cm.patches > 0 && tr.bpm > 0 && tempo.contains("evidence") && tempo["evidence"].contains("octave") && cls->has_tempo_octave() &&
      cls->has_tempo_prior()) {
    // the fitted chooser (tools/audio/fit_tempo_octave.py): the onset tempo and its relatives, each
    // scored by its onset periodicity, the recognised styles' tempo ranges, the tempo head and the
    // rhythm check on its own beats; the highest score wins
    const AudioClassifier::TempoOctave& to = cls->tempo_octave();
    const double l2 = dsp::det_log(2.0);
    const double onset_bpm = tempo["evidence"]["octave"]["onset_bpm"].get<double>();
    const double pred = 120.0 * dsp::det_exp(cm.log2_tempo * l2);
    const double base_sal = std::max(tr.candidates.empty() ? 0.0 : tr.candidates[0].salience, 0.01);
    json cands = json::array();
    double best_score = -1e300, best_bpm = onset_bpm;
    std::vector<double> best_beats;
    for (size_t i = 0; i <= tr.related.size(); ++i) {
      const double ratio = i == 0 ? 1.0 : dsp::kTempoRatios[i - 1];
      const double bpm = i == 0 ? onset_bpm : tr.related[i - 1].bpm;
      const double sal = i == 0 ? (tr.candidates.empty() ? 0.0 : tr.candidates[0].salience) : tr.related[i - 1].salience;
      if (bpm < to.min_bpm || bpm > to.max_bpm) continue;
      if (i > 0 && !tr.candidates.empty() && tr.related[i - 1].score < (ratio < 1 ? to.support_slower : to.support_faster) * tr.candidates[0].score)
        continue;  // the onsets do not support it
      const double lb = dsp::det_log(bpm) / l2;
      double dens = 0;
      for (size_t st = 0; st < cm.style.size(); ++st) {
        double mu = 0, sd = 0;
        if (!cls->tempo_prior(st, mu, sd)) continue;
        sd = std::max(sd, to.sd_floor);
        const double z = (lb - mu) / sd;
        dens += cm.style[st] * dsp::det_exp(-0.5 * z * z) / sd;
      }
      const double x_sal = dsp::det_log(std::max(sal, 0.01) / base_sal), x_style = dsp::det_log(std::max(dens, 1e-6));
      const double dh = dsp::det_log(bpm / pred) / l2, x_head = -dh * dh;
      std::vector<double> beats = dsp::track_beats(an.onset(), an.frame_rate(), bpm);
      const double x_check = cls->has_tempo_check() ? cls->tempo_check(rhythm_features(band_flux_, an.frame_rate(), beats)) : 0.0;
      const double sc = to.w_salience * x_sal + to.w_style * x_style + to.w_head * x_head + to.w_check * x_check + (i == 0 ? 0.0 : to.bias[i - 1]);
      cands.push_back({{"bpm", r2(bpm)}, {"ratio", r3(ratio)}, {"score", r3(sc)},
                       {"terms", {{"periodicity", r3(to.w_salience * x_sal)}, {"style_range", r3(to.w_style * x_style)},
                                  {"tempo_head", r3(to.w_head * x_head)}, {"rhythm_check", r3(to.w_check * x_check)},
                                  {"ratio_prior", r3(i == 0 ? 0.0 : to.bias[i - 1])}}}});
      if (sc > best_score) {
        best_score = sc;
        best_bpm = bpm;
        best_beats = std::move(beats);
      }
    }
    tempo["evidence"]["method"] = "autocorrelation of the onset strength (log spectral flux), comb-filtered, times a log-normal prior around 120 BPM; "
                                  "then that tempo or a metrical relative of it, chosen by a fitted chooser (see octave); beats by dynamic programming";
    json& oct = tempo["evidence"]["octave"];
    oct["method"] = "the onset tempo and its relatives (1/3, 1/2, 2/3, 3/2, 2, 3 times) scored by their onset periodicity, "
                    "the recognised styles' tempo ranges, the tempo head and a rhythm check on each one's beats (weights fitted on the train split)";
    oct["candidates"] = cands;
    if (std::fabs(best_bpm - tr.bpm) > 1e-9) {
      tr.bpm = best_bpm;
      tr.beats = std::move(best_beats);
      json beats = json::array();
      for (size_t i = 0; i < tr.beats.size() && (int)i < opt_.max_beats; ++i) beats.push_back(r3(tr.beats[i]));
      tempo["bpm"] = r2(tr.bpm);
      tempo["beats"] = beats;
      tempo["beat_count"] = tr.beats.size();
    }
    oct["switched"] = std::fabs(tr.bpm - onset_bpm) > 1e-9;
  } else if (cm.patches > 0 && tr.bpm > 0 && tempo.contains("evidence") && tempo["evidence"].contains("octave")) {
    // a listening model without the fitted chooser (1.1.0 and older manifests): its rule
    double mu = 0, sd = 0;
    if (cls->tempo_prior(argmax(cm.style), mu, sd)) {
      const double l2 = dsp::det_log(2.0);
      const double onset_bpm = tempo["evidence"]["octave"]["onset_bpm"].get<double>();
      const double pred = tempo["evidence"]["octave"]["classifier_bpm"].get<double>();
      sd = std::max(sd, 0.15);
      auto score = [&](double c) {
        const double z = (dsp::det_log(c) / l2 - mu) / sd, q = dsp::det_log(c / pred) / l2 / 0.3;
        return -0.5 * z * z - 0.5 * q * q;
      };
      const double base_score = tr.candidates.empty() ? 0.0 : tr.candidates[0].score;
      double best = onset_bpm;
      if (tr.half.bpm >= 30 && tr.half.score >= 0.6 * base_score && score(tr.half.bpm) > score(best)) best = tr.half.bpm;
      if (tr.twice.bpm <= 300 && tr.twice.score >= 0.3 * base_score && score(tr.twice.bpm) > score(best)) best = tr.twice.bpm;
      tempo["evidence"]["octave"]["style_prior"] = {{"style", cls->style_labels()[argmax(cm.style)]}, {"bpm", r2(dsp::det_exp(mu * dsp::det_log(2.0)))}, {"octaves", r3(sd)}};
      if (std::fabs(best - tr.bpm) > 1e-9) {
        tr.bpm = best;
        tr.beats = dsp::track_beats(an.onset(), an.frame_rate(), best);
        json beats = json::array();
        for (size_t i = 0; i < tr.beats.size() && (int)i < opt_.max_beats; ++i) beats.push_back(r3(tr.beats[i]));
        tempo["bpm"] = r2(tr.bpm);
        tempo["beats"] = beats;
        tempo["beat_count"] = tr.beats.size();
      }
      tempo["evidence"]["octave"]["switched"] = std::fabs(tr.bpm - onset_bpm) > 1e-9;
    }
  }

  // ---- segments
  json segs = json::array();
  const auto& ss = an.segments();
  const std::vector<double> mom = meter_->momentary_lufs();  // one per 100 ms step
  std::vector<std::pair<double, size_t>> style_strength;  // p(clip style) per segment
  const size_t clip_style = cm.patches > 0 ? argmax(cm.style) : 0;
  const double rms_clip = [&] {
    double s = 0;
    for (const auto& x : ss) s += x.rms_mean;
    return ss.empty() ? 0.0 : s / ss.size();
  }();
  for (size_t i = 0; i < ss.size(); ++i) {
    const auto& s = ss[i];
    if (i > 0 && s.start_time >= duration - 0.25) break;  // the centred last frames: not a segment of their own
    const auto ch = an.segment_key_chroma(i);
    dsp::KeyResult sk = dsp::estimate_key(ch.data());
    double mmax = -INFINITY;
    for (size_t b = (size_t)std::max(0.0, s.start_time * 10); b < mom.size() && b < (size_t)(s.end_time * 10); ++b) mmax = std::max(mmax, mom[b]);
    json seg = {{"start", r2(s.start_time)}, {"end", r2(std::min(s.end_time, duration))}, {"key", key_json(sk, false)},
                {"rms_db", finite_or_null(20 * std::log10(std::max(1e-9f, s.rms_mean)), 1)},
                {"loudness_max_lufs", finite_or_null(mmax, 1)},
                {"onset_strength", r3(s.onset_mean)}};
    if (cm.patches > 0) {
      ClassMean sm = class_mean(ps, *cls, s.start_frame, s.start_frame + s.frames);
      if (sm.patches == 0) {  // no patch centred here (long files space them out): the nearest one
        const int64_t mid = s.start_frame + s.frames / 2;
        size_t near = 0;
        for (size_t k = 1; k < ps.size(); ++k)
          if (std::llabs(ps[k].start_frame + ps[k].frames / 2 - mid) < std::llabs(ps[near].start_frame + ps[near].frames / 2 - mid)) near = k;
        sm = class_mean({ps[near]}, *cls);
      }
      const size_t st = argmax(sm.style), ld = argmax(sm.lead);
      seg["style"] = {{"label", cls->style_labels()[st]}, {"confidence", r3(sm.style[st])}};
      seg["lead"] = {{"label", cls->lead_labels()[ld]}, {"confidence", r3(sm.lead[ld])}};
      style_strength.push_back({sm.style[clip_style], segs.size()});
    }
    MoodInput mi = mood_input(sk, tr.bpm, s.onset_mean, brightness(s.mel_mean.data()));
    // the segment's level relative to the clip's, on top of the clip's loudness
    if (lr.has_loudness && rms_clip > 0 && s.rms_mean > 0)
      mi.lufs = lr.integrated_lufs + 20.0 * dsp::det_log(s.rms_mean / rms_clip) / dsp::det_log(10.0);
    if (lr.has_loudness) seg["mood"] = mood_json(mi, false);
    segs.push_back(seg);
  }

  json out = {{"task", "analyze_audio"},
              {"duration", r3(duration)},
              {"sample_rate", rate_},
              {"channels", channels_},
              {"source", source_},
              {"key", jkey},
              {"tempo", tempo},
              {"loudness", loud},
              {"segments", segs},
              {"segment_seconds", r2(an.segment_frames() / an.frame_rate())},
              {"warnings", warnings}};
  if (opt_.has_name) out["source"]["name"] = opt_.name;
  json unavailable = json::object();

  // ---- style and instruments
  if (!cls) {
    unavailable["style"] = "not requested (classify: false)";
    unavailable["instruments"] = "not requested (classify: false)";
  } else if (cm.patches == 0) {
    unavailable["style"] = "too quiet to classify: no 3-second stretch reaches -60 dB";
    unavailable["instruments"] = unavailable["style"];
  } else {
    const size_t st = argmax(cm.style);
    std::sort(style_strength.begin(), style_strength.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    json strongest = json::array();
    for (size_t k = 0; k < style_strength.size() && k < 3; ++k) {
      const json& sg = segs[style_strength[k].second];
      strongest.push_back({{"start", sg["start"]}, {"end", sg["end"]}, {"p", r3(style_strength[k].first)}});
    }
    json seg_ev = json::array();
    for (const json& sg : segs)
      if (sg.contains("style")) seg_ev.push_back({{"start", sg["start"]}, {"end", sg["end"]}, {"label", sg["style"]["label"]}, {"p", sg["style"]["confidence"]}});
    json notes = json::array();
    int agree = 0;
    for (const json& sg : seg_ev) agree += sg["label"] == cls->style_labels()[st];
    notes.push_back(std::to_string(agree) + " of " + std::to_string(seg_ev.size()) + " segments lean " + pretty(cls->style_labels()[st]));
    const auto& fl = cls->family_labels();
    for (size_t i = 0; i < fl.size(); ++i)
      if (fl[i] == "drums") notes.push_back(std::string(cm.families[i] >= 0.5 ? "drums heard" : "no drums heard") + " (p " + std::to_string((int)std::lround(cm.families[i] * 100)) + "%)");
    if (tr.bpm > 0) notes.push_back("tempo " + std::to_string((int)std::lround(tr.bpm)) + " BPM");
    const size_t second = [&] {
      size_t b = st == 0 ? 1 : 0;
      for (size_t i = 0; i < cm.style.size(); ++i) if (i != st && cm.style[i] > cm.style[b]) b = i;
      return b;
    }();
    if (cm.style.size() > 1 && cm.style[st] - cm.style[second] < 0.15)
      notes.push_back("close call with " + pretty(cls->style_labels()[second]));
    json parts = json::object();
    auto top3 = [&](const std::vector<double>& p) {
      json r = ranked(p, cls->style_labels());
      json t = json::array();
      for (size_t i = 0; i < r.size() && i < 3; ++i) t.push_back(r[i]);
      return t;
    };
    parts["sound"] = {{"weight", rstyle.empty() ? 1.0 : r3(cls->fusion_weight())}, {"top", top3(cnn_style)},
                      {"what", "timbre and texture: a CNN over 3-second log-mel patches"}};
    if (!rstyle.empty()) {
      std::vector<double> rs(rstyle.begin(), rstyle.end());
      parts["rhythm"] = {{"weight", r3(1.0 - cls->fusion_weight())}, {"top", top3(rs)},
                         {"what", "beat-synchronous onset patterns in four bands (groove, meter, swing)"}};
    } else {
      notes.push_back("no rhythm pattern (too few beats): the style rests on the sound alone");
    }
    const std::string hop_s = std::to_string((int)std::lround(patches_->hop() * dsp::kHop * 10.0 / dsp::kAnalysisRate) / 10.0).substr(0, 3);
    out["style"] = {{"label", cls->style_labels()[st]}, {"confidence", r3(cm.style[st])},
                    {"probabilities", ranked(cm.style, cls->style_labels())},
                    {"evidence", {{"method", "two heads of the listening model (models/listen.md), averaged: a small CNN over 3-second log-mel patches taken every " +
                                                 hop_s + " s (the mean over " + std::to_string(cm.patches) +
                                                 " patches), and an MLP over the beat-synchronous rhythm patterns of the whole file; segments use the CNN alone"},
                                  {"parts", parts},
                                  {"patches", cm.patches},
                                  {"segments", seg_ev},
                                  {"strongest_segments", strongest},
                                  {"notes", notes}}}};
    const size_t ld = argmax(cm.lead);
    json fams = json::array();
    std::vector<size_t> order(fl.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cm.families[a] > cm.families[b]; });
    for (size_t i : order) fams.push_back({{"label", fl[i]}, {"p", r3(cm.families[i])}, {"present", cm.families[i] >= 0.5}});
    json inotes = json::array();
    int lead_agree = 0, lead_segs = 0;
    for (const json& sg : segs)
      if (sg.contains("lead")) { ++lead_segs; lead_agree += sg["lead"]["label"] == cls->lead_labels()[ld]; }
    inotes.push_back(std::to_string(lead_agree) + " of " + std::to_string(lead_segs) + " segments hear the lead as " + pretty(cls->lead_labels()[ld]));
    json lead = {{"label", cls->lead_labels()[ld]}, {"confidence", r3(cm.lead[ld])}, {"probabilities", ranked(cm.lead, cls->lead_labels())}};
    // an unsure lead (under 0.5: right less than half the time on unheard sounds, models/listen.md)
    // names its runner-up, which every adapter shows beside it
    if (cm.lead[ld] < 0.5 && lead["probabilities"].size() > 1) lead["runner_up"] = lead["probabilities"][1]["label"];
    out["instruments"] = {{"lead", lead},
                          {"families", fams},
                          {"evidence", {{"method", std::string(cls->has_instrument_cnn() ? "a second CNN over the same patches, trained for the instruments: "
                                                                                   : "the CNN's instrument heads: ") +
                                                   "the lead (melody) instrument's General MIDI family or none (softmax), "
                                                   "and each family heard (independent sigmoids, present at p >= 0.5), averaged over the patches"},
                                        {"notes", inotes}}}};
    // how often each answer was right on the held-out renders (the model card's evaluation), so a
    // reader can weigh it: the lead family is a hint (models/listen.md)
    const json& mt = cls->manifest();
    if (mt.contains("metrics") && mt["metrics"].is_object() && mt["metrics"].contains("eval_listen_test") &&
        mt["metrics"]["eval_listen_test"].is_object() && mt["metrics"]["eval_listen_test"].contains("overall")) {
      const json& ov = mt["metrics"]["eval_listen_test"]["overall"];
      const std::string what = "accuracy on the model's held-out test renders (a soundfont, keys, tempi and chord charts never used in training; models/listen.md)";
      if (ov.contains("style") && ov["style"].is_number())
        out["style"]["evidence"]["held_out"] = {{"accuracy", ov["style"]}, {"clips", ov.value("clips", 0)}, {"what", what}};
      if (ov.contains("lead") && ov["lead"].is_number()) {
        json ho = {{"lead_accuracy", ov["lead"]}, {"clips", ov.value("clips", 0)}, {"what", what}};
        // how sure answers fared (tools/audio/eval_listen.mjs lead_reliability): within the two
        // likeliest families, and the accuracy of the answers about as sure as this one
        const json& et = mt["metrics"]["eval_listen_test"];
        if (et.contains("lead_reliability") && et["lead_reliability"].is_object()) {
          const json& lr = et["lead_reliability"];
          if (lr.contains("top2") && lr["top2"].is_number()) ho["lead_top2_accuracy"] = lr["top2"];
          const double c = cm.lead[ld];
          if (lr.contains("by_confidence") && lr["by_confidence"].is_array())
            for (const json& b : lr["by_confidence"]) {
              if (!b.is_object() || !b.contains("from") || !b.contains("to") || !b["from"].is_number() || !b["to"].is_number() ||
                  !b.contains("accuracy") || !b["accuracy"].is_number() || !b.contains("clips") || !b["clips"].is_number_integer())
                continue;
              const double from = b["from"].get<double>(), to = b["to"].get<double>();
              if (c >= from && (c < to || (to >= 1 && c <= to))) {
                ho["lead_at_this_confidence"] = {{"from", b["from"]}, {"to", b["to"]}, {"clips", b["clips"]}, {"accuracy", b["accuracy"]}};
                break;
              }
            }
        }
        out["instruments"]["evidence"]["held_out"] = ho;
      }
    }
  }

  // ---- mood
  const std::vector<float> feats = clip_features(an, tr);
  if (lr.has_loudness) {
    MoodInput mi = mood_input(key, tr.bpm, feats[216], brightness(feats.data()));
    mi.lufs = lr.integrated_lufs;
    out["mood"] = mood_json(mi, true);
  } else {
    unavailable["mood"] = "silent: no mood";
  }
  if (!unavailable.empty()) out["unavailable"] = unavailable;
  if (opt_.want_features) {
    out["features"] = feats;
    out["rhythm_features"] = rfeat;
    // the rhythm patterns on the beats of each tempo the octave choice weighs (for training the
    // tempo check: tools/audio/fit_tempo_octave.py)
    json tc = json::array();
    if (tempo.contains("evidence") && tempo["evidence"].contains("octave")) {
      const double onset_bpm = tempo["evidence"]["octave"]["onset_bpm"].get<double>();
      for (size_t i = 0; i <= std::size(dsp::kTempoRatios); ++i) {
        const double ratio = i == 0 ? 1.0 : dsp::kTempoRatios[i - 1], bpm = onset_bpm * ratio;
        if (bpm < 30 || bpm > 300) continue;
        tc.push_back({{"ratio", r3(ratio)}, {"bpm", r2(bpm)},
                      {"rhythm_features", rhythm_features(band_flux_, an.frame_rate(), dsp::track_beats(an.onset(), an.frame_rate(), bpm))}});
      }
    }
    out["tempo_candidates"] = tc;
  }
  out["embedding"] = descriptor_embedding(feats, key);
  if (opt_.pictures)
    out["pictures"] = {{"chroma", picture_json(an.chroma_picture(), an.frame_rate(), 0.0, 1.0)},
                       {"mel", picture_json(an.mel_picture(), an.frame_rate(), -80.0, 20.0)}};
  return out;
}

static AudioOptions read_options(const Fields& f, const json& req) {
  AudioOptions o;
  o.format = f.choice("format", {"wav", "f32"}, "wav");
  o.seg_seconds = f.number("segment_seconds", 4.0, 1.0, 60.0);
  o.max_beats = (int)f.integer("max_beats", 2000, 0, 100000);
  o.pictures = bool_field(f, req, "pictures", true);
  o.want_features = bool_field(f, req, "features", false);
  o.classify = bool_field(f, req, "classify", true);
  if (o.format == "f32") {
    o.f32_rate = (int)f.required_integer("sample_rate", 1000, 384000);
    o.f32_channels = (int)f.integer("channels", 1, 1, 32);
  }
  if (f.has("name")) { o.name = f.text("name", false, 500); o.has_name = true; }
  return o;
}

json task_analyze_audio(Engine& eng, const json& req, const EventFn& on_event) {
  Fields f(req, {"task", "format", "sample_rate", "channels", "segment_seconds", "max_beats", "pictures", "name", "features",
                 "classify", "session", "final", "cancel"});
  std::string session;
  if (f.has("session")) {
    session = f.text("session", true, 64);
    auto& sessions = eng.audio_sessions();
    if (bool_field(f, req, "cancel", false)) {
      const bool had = sessions.erase(session) > 0;
      return {{"task", "analyze_audio"}, {"session", session}, {"state", "cancelled"}, {"existed", had}};
    }
    const bool final = bool_field(f, req, "final", false);
    auto it = sessions.find(session);
    if (it == sessions.end()) {
      if (sessions.size() >= 8)
        throw Error("too_many_sessions", "8 analyze_audio sessions are open: finish or cancel one first", {{"limit", 8}});
      const AudioOptions o = read_options(f, req);
      auto cls = o.classify ? eng.listen_classifier() : nullptr;  // may ask the caller to load it first
      it = sessions.emplace(session, std::make_shared<AudioSession>(o, cls)).first;
    }
    std::shared_ptr<AudioSession> s = it->second;
    try {
      s->feed(eng.attached_data(), on_event, 0);
      if (!final)
        return {{"task", "analyze_audio"}, {"session", session}, {"state", "open"}, {"seconds_received", r3(s->seconds())}};
      json out = s->finish(on_event);
      sessions.erase(session);
      out["session"] = session;
      return out;
    } catch (...) {
      sessions.erase(session);  // a bad chunk ends the session: the caller starts again
      throw;
    }
  }
  for (const char* k : {"final", "cancel"})
    if (f.has(k)) throw Error("invalid_field", std::string("'") + k + "' belongs to session requests (with 'session')", {{"field", k}});
  if (eng.attached_data().empty()) throw Error("invalid_audio", "no audio: send the file's bytes with the request (an empty file?)", {{"reason", "empty"}});
  const AudioOptions o = read_options(f, req);
  const std::string_view data = eng.attached_data();
  auto cls = o.classify ? eng.listen_classifier() : nullptr;
  AudioSession s(o, cls);
  const uint64_t f32_frames = o.format == "f32" ? data.size() / (4 * (size_t)o.f32_channels) : 0;
  s.feed(data, on_event, f32_frames);
  return s.finish(on_event);
}

// The classifier on one log-mel patch (tests compare it with ONNX Runtime running listen.onnx).
json task_classify_patch(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "mel_db", "normalised", "rhythm"});
  auto cls = eng.listen_classifier();
  const size_t n = (size_t)dsp::kMelBands * cls->patch_frames();
  if (!f.has("mel_db") || !req["mel_db"].is_array() || (req["mel_db"].size() != n && req["mel_db"].size() != n * cls->input_channels()))
    throw Error("invalid_field", "'mel_db' must hold " + std::to_string(n) + " numbers (64 bands x " + std::to_string(cls->patch_frames()) + " frames, band-major)", {{"field", "mel_db"}});
  const bool normalised = bool_field(f, req, "normalised", false);
  const size_t want = normalised ? n * cls->input_channels() : n;
  if (req["mel_db"].size() != want)
    throw Error("invalid_field", "a normalised patch has " + std::to_string(want) + " numbers (64 x " + std::to_string(cls->patch_frames()) + " x " +
                std::to_string(cls->input_channels()) + " channels, HWC)", {{"field", "mel_db"}});
  std::vector<float> x(want), in(n * cls->input_channels());
  for (size_t i = 0; i < want; ++i) {
    const json& v = req["mel_db"][i];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > 1e4)
      throw Error("invalid_field", "'mel_db' must hold finite numbers within +-10000", {{"field", "mel_db"}});
    x[i] = v.get<float>();
  }
  if (normalised) in = x;
  else cls->normalise(x.data(), in.data());
  PatchOutput o;
  cls->run(in.data(), o);
  json out = {{"task", "classify_patch"}, {"style", o.style}, {"lead", o.lead}, {"families", o.families}, {"log2_tempo", o.log2_tempo},
              {"labels", cls->manifest()["labels"]}};
  if (f.has("rhythm")) {  // the rhythm head on given rhythm features
    const json& r = req["rhythm"];
    if (!cls->has_rhythm() || !r.is_array() || (int)r.size() != cls->rhythm_features())
      throw Error("invalid_field", "'rhythm' must hold the model's " + std::to_string(cls->rhythm_features()) + " rhythm features", {{"field", "rhythm"}});
    std::vector<float> rf;
    for (const json& v : r) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > 1e6)
        throw Error("invalid_field", "'rhythm' must hold finite numbers", {{"field", "rhythm"}});
      rf.push_back(v.get<float>());
    }
    out["rhythm_style"] = cls->rhythm_style(rf);
    if (cls->has_tempo_check()) out["tempo_check"] = cls->tempo_check(rf);
  }
  return out;
}

}  // namespace tunesmith
