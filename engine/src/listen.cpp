// analyze_audio: see tunesmith/listen.h and docs/listen-api.md.
#include "tunesmith/listen.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tunesmith/audio.h"
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
    j["evidence"] = {{"method", "chroma profile correlated with the Krumhansl-Kessler key profiles (24 keys)"},
                     {"chroma", chroma},
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

json task_analyze_audio(Engine& eng, const json& req, const EventFn& on_event) {
  Fields f(req, {"task", "format", "sample_rate", "channels", "segment_seconds", "max_beats", "pictures", "name", "features"});
  const std::string format = f.choice("format", {"wav", "f32"}, "wav");
  const double seg_seconds = f.number("segment_seconds", 4.0, 1.0, 60.0);
  const int max_beats = (int)f.integer("max_beats", 2000, 0, 100000);
  bool pictures = true;
  if (f.has("pictures")) {
    if (!req["pictures"].is_boolean()) throw Error("invalid_field", "'pictures' must be true or false", {{"field", "pictures"}});
    pictures = req["pictures"].get<bool>();
  }
  bool want_features = false;
  if (f.has("features")) {
    if (!req["features"].is_boolean()) throw Error("invalid_field", "'features' must be true or false", {{"field", "features"}});
    want_features = req["features"].get<bool>();
  }
  const std::string_view data = eng.attached_data();
  if (data.empty()) throw Error("invalid_audio", "no audio: send the file's bytes with the request (an empty file?)", {{"reason", "empty"}});
  constexpr double kMaxSeconds = 3 * 3600.0;

  // ---- the stream: blocks of interleaved float at the source rate
  int rate = 0, channels = 0;
  uint32_t mask = 0;
  json source;
  std::unique_ptr<WavDecoder> wav;
  size_t f32_frames = 0;
  if (format == "wav") {
    wav = std::make_unique<WavDecoder>();
    wav->feed(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    wav->finish();
    if (!wav->ready()) throw Error("invalid_audio", "not a complete WAV header", {{"reason", "truncated_header"}});
    const AudioFormat& af = wav->format();
    rate = af.sample_rate;
    channels = af.channels;
    mask = af.channel_mask;
    source = {{"container", af.container}, {"encoding", encoding_name(af.encoding)}, {"bits", af.bits_per_sample}};
  } else {
    rate = (int)f.required_integer("sample_rate", 1000, 384000);
    channels = (int)f.integer("channels", 1, 1, 32);
    if (data.size() % (4 * (size_t)channels))
      throw Error("invalid_audio", "float32 PCM must be a whole number of frames (" + std::to_string(4 * channels) + " bytes each)", {{"reason", "partial_frame"}});
    f32_frames = data.size() / (4 * (size_t)channels);
    source = {{"container", "pcm"}, {"encoding", "float32"}, {"bits", 32}};
  }
  if (f.has("name")) source["name"] = f.text("name", false, 500);

  LoudnessMeter meter(rate, channels, mask);
  Resampler rs(rate, dsp::kAnalysisRate);
  dsp::AnalyzerOptions ao;
  ao.segment_seconds = seg_seconds;
  dsp::Analyzer an(ao);
  const size_t block = 8192;
  std::vector<float> inter(block * (size_t)channels), mono(block), res;
  uint64_t frames_done = 0, nonfinite = 0, clipped = 0;
  const uint64_t total_frames = wav ? (wav->format().size_known ? wav->format().declared_frames : 0) : f32_frames;
  int last_pct = -1;
  auto feed = [&](const float* x, size_t n) {
    if ((frames_done + n) / (double)rate > kMaxSeconds)
      throw Error("invalid_audio", "the audio is longer than 3 hours", {{"reason", "too_long"}});
    for (size_t i = 0; i < n * (size_t)channels; ++i) {
      float v = x[i];
      if (!std::isfinite(v)) { ++nonfinite; v = 0; }
      else if (v >= 1.0f || v <= -1.0f) ++clipped;
      inter[i] = v;
    }
    meter.add_interleaved(inter.data(), n);
    mix_to_mono(inter.data(), n, channels, mono.data());
    res.clear();
    rs.process(mono.data(), n, res);
    an.push(res.data(), res.size());
    frames_done += n;
    if (on_event && total_frames) {
      const int pct = (int)(100.0 * (double)frames_done / (double)total_frames);
      if (pct / 5 != last_pct / 5) {
        last_pct = pct;
        on_event({{"event", "progress"}, {"fraction", std::min(1.0, r3(frames_done / (double)total_frames))}});
      }
    }
  };
  std::vector<float> tmp(block * (size_t)channels);  // the source's samples; feed() cleans them into `inter`
  if (wav) {
    for (;;) {
      const size_t got = wav->read_interleaved(tmp.data(), block);
      if (!got) break;
      feed(tmp.data(), got);
    }
  } else {
    for (size_t at = 0; at < f32_frames; at += block) {
      const size_t n = std::min(block, f32_frames - at);
      std::memcpy(tmp.data(), data.data() + at * 4 * (size_t)channels, n * 4 * (size_t)channels);
      feed(tmp.data(), n);
    }
  }
  if (frames_done == 0) throw Error("invalid_audio", "the file holds no samples", {{"reason", "no_samples"}});
  res.clear();
  rs.flush(res);
  an.push(res.data(), res.size());
  an.finish();
  if (wav) nonfinite += wav->stats().nonfinite_samples;

  const double duration = frames_done / (double)rate;
  json warnings = json::array();
  if (wav && wav->stats().truncated) warnings.push_back("the file ends in the middle of its data: analysed what is there");
  if (nonfinite) warnings.push_back(std::to_string(nonfinite) + " samples were NaN or infinite and were read as silence");
  if (clipped) warnings.push_back(std::to_string(clipped) + " samples are at full scale (clipping)");
  if (duration < 3.0) warnings.push_back("shorter than 3 seconds: key and tempo are unreliable");

  // ---- loudness
  const LoudnessResult lr = meter.result();
  json loud = {{"integrated_lufs", lr.has_loudness ? finite_or_null(lr.integrated_lufs, 1) : json(nullptr)},
               {"loudness_range_lu", lr.has_range ? finite_or_null(lr.loudness_range_lu, 1) : json(nullptr)},
               {"momentary_max_lufs", finite_or_null(lr.momentary_max_lufs, 1)},
               {"short_term_max_lufs", finite_or_null(lr.short_term_max_lufs, 1)},
               {"sample_peak_dbfs", finite_or_null(lr.sample_peak_dbfs, 2)},
               {"true_peak_dbtp", finite_or_null(lr.true_peak_dbtp, 2)},
               {"method", "ITU-R BS.1770-4 / EBU R128: K-weighted, 400 ms blocks, -70 LUFS absolute and -10 LU relative gates; true peak 4x oversampled"}};
  if (!lr.has_loudness) warnings.push_back("silent (below -70 LUFS): no loudness, key or tempo");

  // ---- key
  const auto kc = an.key_chroma();
  dsp::KeyResult key = dsp::estimate_key(kc.data());
  json jkey = key_json(key, true);
  jkey["tuning_cents"] = an.tuning_shift() * 100 / 3;

  // ---- tempo
  dsp::TempoResult tr = dsp::estimate_tempo(an.onset(), an.frame_rate());
  json tempo;
  if (tr.bpm > 0) {
    json cands = json::array();
    for (const auto& c : tr.candidates) cands.push_back({{"bpm", r2(c.bpm)}, {"salience", r3(c.salience)}, {"score", r3(c.score)}});
    json beats = json::array();
    for (size_t i = 0; i < tr.beats.size() && (int)i < max_beats; ++i) beats.push_back(r3(tr.beats[i]));
    tempo = {{"bpm", r2(tr.bpm)},
             {"confidence", r3(tr.confidence)},
             {"beats", beats},
             {"beat_count", tr.beats.size()},
             {"evidence", {{"method", "autocorrelation of the onset strength (log spectral flux), comb-filtered, times a log-normal prior around 120 BPM; beats by dynamic programming"},
                           {"candidates", cands},
                           {"half", {{"bpm", r2(tr.half.bpm)}, {"score", r3(tr.half.score)}}},
                           {"double", {{"bpm", r2(tr.twice.bpm)}, {"score", r3(tr.twice.score)}}}}}};
  } else {
    tempo = {{"bpm", nullptr}, {"confidence", 0}, {"beats", json::array()}, {"beat_count", 0}};
  }

  // ---- segments
  json segs = json::array();
  const auto& ss = an.segments();
  const std::vector<double> mom = meter.momentary_lufs();  // one per 100 ms step
  for (size_t i = 0; i < ss.size(); ++i) {
    const auto& s = ss[i];
    if (i > 0 && s.start_time >= duration - 0.25) break;  // the centred last frames: not a segment of their own
    const auto ch = an.segment_key_chroma(i);
    dsp::KeyResult sk = dsp::estimate_key(ch.data());
    double mmax = -INFINITY;
    for (size_t b = (size_t)std::max(0.0, s.start_time * 10); b < mom.size() && b < (size_t)(s.end_time * 10); ++b) mmax = std::max(mmax, mom[b]);
    segs.push_back({{"start", r2(s.start_time)}, {"end", r2(std::min(s.end_time, duration))}, {"key", key_json(sk, false)},
                    {"rms_db", finite_or_null(20 * std::log10(std::max(1e-9f, s.rms_mean)), 1)},
                    {"loudness_max_lufs", finite_or_null(mmax, 1)},
                    {"onset_strength", r3(s.onset_mean)}});
  }

  json out = {{"task", "analyze_audio"},
              {"duration", r3(duration)},
              {"sample_rate", rate},
              {"channels", channels},
              {"source", source},
              {"key", jkey},
              {"tempo", tempo},
              {"loudness", loud},
              {"segments", segs},
              {"segment_seconds", r2(an.segment_frames() / an.frame_rate())},
              {"warnings", warnings},
              {"unavailable", {{"style", "the style classifier is not trained yet"}, {"mood", "the mood classifier is not trained yet"},
                               {"instruments", "the instrument classifier is not trained yet"}}}};
  const std::vector<float> feats = clip_features(an, tr);
  if (want_features) out["features"] = feats;
  out["embedding"] = descriptor_embedding(feats, key);
  if (pictures)
    out["pictures"] = {{"chroma", picture_json(an.chroma_picture(), an.frame_rate(), 0.0, 1.0)},
                       {"mel", picture_json(an.mel_picture(), an.frame_rate(), -80.0, 20.0)}};
  return out;
}

}  // namespace tunesmith
