// The listening classifier: see tunesmith/classifier.h and models/listen.md.
#include "tunesmith/classifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "tunesmith/detmath.h"
#include "tunesmith/dsp.h"
#include "tunesmith/error.h"
#include "tunesmith/kernels.h"
#include "tunesmith/onnx.h"
#include "tunesmith/sha256.h"

namespace tunesmith {

using json = nlohmann::json;

namespace {

Error invalid(const std::string& what) { return Error("model_invalid", "listen model: " + what, {{"model", "listen"}}); }

const OnnxTensor& tensor(const OnnxModelInfo& info, const std::string& name, const std::vector<int64_t>& dims) {
  for (const auto& t : info.initializers) {
    if (t.name != name) continue;
    if (t.data_type != 1) throw invalid("weight '" + name + "' is not float32");
    if (t.dims != dims) {
      std::string want, got;
      for (auto d : dims) want += (want.empty() ? "" : "x") + std::to_string(d);
      for (auto d : t.dims) got += (got.empty() ? "" : "x") + std::to_string(d);
      throw invalid("weight '" + name + "' has shape " + got + ", the manifest's architecture needs " + want);
    }
    if ((int64_t)t.f32.size() != t.numel()) throw invalid("weight '" + name + "' has no values");
    for (float v : t.f32)
      if (!std::isfinite(v)) throw invalid("weight '" + name + "' holds a non-finite value");
    return t;
  }
  throw invalid("weight '" + name + "' is missing from the .onnx file");
}

std::vector<std::string> label_list(const json& man, const char* key) {
  const json& l = man.at("labels").at(key);
  if (!l.is_array() || l.empty() || l.size() > 64) throw invalid(std::string("manifest: labels.") + key + " must be a list of 1..64 names");
  std::vector<std::string> out;
  for (const json& x : l) {
    if (!x.is_string()) throw invalid(std::string("manifest: labels.") + key + " must hold names");
    out.push_back(x.get<std::string>());
  }
  return out;
}

// 3x3 convolution, padding 1, HWC in and out; ReLU.
void conv3x3_relu(const float* x, int H, int W, int cin, const std::vector<float>& w, const std::vector<float>& b, int cout,
                  float* y, std::vector<float>& cols) {
  const int k = 9 * cin;
  cols.assign((size_t)H * W * k, 0.0f);
  for (int h = 0; h < H; ++h)
    for (int ww = 0; ww < W; ++ww) {
      float* row = cols.data() + ((size_t)h * W + ww) * k;
      for (int kh = 0; kh < 3; ++kh) {
        const int hh = h + kh - 1;
        if (hh < 0 || hh >= H) continue;
        for (int kw = 0; kw < 3; ++kw) {
          const int w2 = ww + kw - 1;
          if (w2 < 0 || w2 >= W) continue;
          std::memcpy(row + (kh * 3 + kw) * cin, x + ((size_t)hh * W + w2) * cin, sizeof(float) * cin);
        }
      }
    }
  matmul(cols.data(), w.data(), b.data(), y, H * W, k, cout);
  for (size_t i = 0; i < (size_t)H * W * cout; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

// 2x2 max pooling, HWC.
void maxpool2(const float* x, int H, int W, int c, float* y) {
  const int H2 = H / 2, W2 = W / 2;
  for (int h = 0; h < H2; ++h)
    for (int w = 0; w < W2; ++w)
      for (int ch = 0; ch < c; ++ch) {
        const float a = x[((size_t)(2 * h) * W + 2 * w) * c + ch], bb = x[((size_t)(2 * h) * W + 2 * w + 1) * c + ch];
        const float cc = x[((size_t)(2 * h + 1) * W + 2 * w) * c + ch], d = x[((size_t)(2 * h + 1) * W + 2 * w + 1) * c + ch];
        y[((size_t)h * W2 + w) * c + ch] = std::max(std::max(a, bb), std::max(cc, d));
      }
}

}  // namespace

std::shared_ptr<const AudioClassifier> AudioClassifier::load(const std::string& manifest_text, const uint8_t* onnx, size_t size) {
  auto c = std::shared_ptr<AudioClassifier>(new AudioClassifier());
  json man = json::parse(manifest_text, nullptr, false);
  if (man.is_discarded() || !man.is_object()) throw invalid("the manifest is not valid JSON");
  try {
    if (man.value("format", "") != "tunesmith-audio-classifier/1") throw invalid("manifest: unsupported format (expected \"tunesmith-audio-classifier/1\")");
    const std::string file = man.at("file").get<std::string>();
    if (!onnx || size == 0) throw invalid("'" + file + "' is missing or empty");
    const long long want_bytes = man.at("bytes").get<long long>();
    if ((long long)size != want_bytes)
      throw invalid("'" + file + "' has " + std::to_string(size) + " bytes, the manifest says " + std::to_string(want_bytes) + " (truncated or wrong file)");
    const std::string want_hash = man.at("sha256").get<std::string>();
    const std::string got_hash = sha256_hex(onnx, size);
    if (got_hash != want_hash) throw invalid("sha256 of '" + file + "' is " + got_hash + ", the manifest says " + want_hash + " (file tampered with or mismatched)");
    const json& in = man.at("input");
    c->patch_ = in.at("patch_frames").get<int>();
    c->hop_ = in.at("hop_frames").get<int>();
    c->floor_db_ = in.at("floor_db").get<double>();
    c->scale_db_ = in.at("scale_db").get<double>();
    const std::string norm = in.value("normalisation", "global");
    if (norm == "global") c->norm_ = Norm::kGlobal;
    else if (norm == "band") c->norm_ = Norm::kBand;
    else if (norm == "both") c->norm_ = Norm::kBoth;
    else throw invalid("manifest: input.normalisation must be global, band or both");
    if (c->patch_ != 128 || c->hop_ < 1 || c->hop_ > 4096 || !(c->floor_db_ > 0) || !(c->scale_db_ > 0))
      throw invalid("manifest: input needs patch_frames 128, hop_frames 1..4096 and positive floor_db and scale_db");
    const json& arch = man.at("architecture");
    if (arch.value("type", "") != "cnn" || arch.value("kernel", 0) != 3) throw invalid("manifest: architecture must be the 3x3 cnn");
    const std::vector<int> ch = arch.at("channels").get<std::vector<int>>();
    const int hidden = arch.at("hidden").get<int>();
    if (ch.size() != 4 || hidden < 1 || hidden > 4096) throw invalid("manifest: architecture needs 4 channel counts and a hidden size");
    for (int x : ch)
      if (x < 1 || x > 512) throw invalid("manifest: channel counts must be 1..512");
    c->style_labels_ = label_list(man, "style");
    c->lead_labels_ = label_list(man, "lead");
    c->family_labels_ = label_list(man, "families");
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw invalid(std::string("manifest: ") + e.what());
  }
  OnnxModelInfo info;
  std::string err;
  if (!parse_onnx(onnx, size, info, err)) throw invalid(err);
  const std::string pre = man.value("cnn_prefix", "");  // "cnn." when the rhythm head shares the graph
  if (pre.size() > 32) throw invalid("manifest: cnn_prefix is too long");
  auto dense = [&](const std::string& name, int in, int out) {
    const OnnxTensor& w = tensor(info, name + ".weight", {out, in});
    const OnnxTensor& b = tensor(info, name + ".bias", {out});
    Dense d;
    d.in = in;
    d.out = out;
    d.w.assign((size_t)in * out, 0.0f);
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i) d.w[(size_t)i * out + o] = w.f32[(size_t)o * in + i];
    d.b = b.f32;
    return d;
  };
  auto load_cnn = [&](const std::string& pfx, const std::vector<int>& ch, int hidden, bool instruments_only) {
    Cnn n;
    int cin = c->input_channels();
    for (int i = 0; i < 4; ++i) {
      const std::string p = pfx + "convs." + std::to_string(i) + ".";
      const OnnxTensor& w = tensor(info, p + "weight", {ch[i], cin, 3, 3});
      const OnnxTensor& b = tensor(info, p + "bias", {ch[i]});
      Conv cv;
      cv.cin = cin;
      cv.cout = ch[i];
      cv.w.assign((size_t)9 * cin * ch[i], 0.0f);
      for (int co = 0; co < ch[i]; ++co)
        for (int ci = 0; ci < cin; ++ci)
          for (int k = 0; k < 9; ++k) cv.w[((size_t)k * cin + ci) * ch[i] + co] = w.f32[((size_t)co * cin + ci) * 9 + k];
      cv.b = b.f32;
      n.convs.push_back(std::move(cv));
      cin = ch[i];
    }
    n.fc = dense(pfx + "fc", 2 * ch[3], hidden);
    if (!instruments_only) {  // an instrument CNN's own style and tempo heads are not in the graph
      n.style = dense(pfx + "style", hidden, (int)c->style_labels_.size());
      n.tempo = dense(pfx + "tempo", hidden, 1);
    }
    n.lead = dense(pfx + "lead", hidden, (int)c->lead_labels_.size());
    n.fam = dense(pfx + "fam", hidden, (int)c->family_labels_.size());
    return n;
  };
  c->cnn_ = load_cnn(pre, man["architecture"]["channels"].get<std::vector<int>>(), man["architecture"]["hidden"].get<int>(), false);
  if (man.contains("instrument_cnn")) {  // a second CNN trained for the instrument heads
    const json& ic = man["instrument_cnn"];
    if (!ic.is_object() || !ic.contains("prefix") || !ic["prefix"].is_string() || ic["prefix"].get<std::string>().size() > 32 ||
        !ic.contains("channels") || !ic["channels"].is_array() || ic["channels"].size() != 4 || !ic.contains("hidden") || !ic["hidden"].is_number_integer())
      throw invalid("manifest: instrument_cnn needs prefix, 4 channels and hidden");
    std::vector<int> ch;
    for (const json& x : ic["channels"]) {
      if (!x.is_number_integer() || x.get<int>() < 1 || x.get<int>() > 512) throw invalid("manifest: instrument_cnn channels must be 1..512");
      ch.push_back(x.get<int>());
    }
    const int hidden = ic["hidden"].get<int>();
    if (hidden < 1 || hidden > 4096) throw invalid("manifest: instrument_cnn hidden must be 1..4096");
    c->instr_ = load_cnn(ic["prefix"].get<std::string>(), ch, hidden, true);
    c->has_instr_ = true;
  }
  if (man.contains("rhythm")) {
    const json& r = man["rhythm"];
    if (!r.is_object() || !r.contains("features") || !r["features"].is_number_integer() || !r.contains("hidden") ||
        !r["hidden"].is_number_integer() || !r.contains("fusion_weight") || !r["fusion_weight"].is_number())
      throw invalid("manifest: rhythm needs features, hidden and fusion_weight");
    const int nf = r["features"].get<int>(), nh = r["hidden"].get<int>();
    const double fw = r["fusion_weight"].get<double>();
    if (nf < 1 || nf > 4096 || nh < 1 || nh > 4096 || !(fw >= 0 && fw <= 1)) throw invalid("manifest: rhythm sizes or fusion_weight out of range");
    c->rmu_ = tensor(info, "rhythm.mu", {nf}).f32;
    c->rsd_ = tensor(info, "rhythm.sd", {nf}).f32;
    for (float v : c->rsd_)
      if (!(v > 0)) throw invalid("weight 'rhythm.sd' must be positive");
    c->r1_ = dense("rhythm.l1", nf, nh);
    c->r2_ = dense("rhythm.l2", nh, (int)c->style_labels_.size());
    c->rhythm_features_ = nf;
    c->fusion_weight_ = fw;
  }
  if (man.contains("tempo_prior")) {
    const json& tp = man["tempo_prior"];
    if (!tp.is_object()) throw invalid("manifest: tempo_prior must map styles to {mu, sd}");
    for (const std::string& st : c->style_labels_) {
      if (!tp.contains(st) || !tp[st].is_object() || !tp[st].contains("mu") || !tp[st].contains("sd") || !tp[st]["mu"].is_number() ||
          !tp[st]["sd"].is_number() || !(tp[st]["sd"].get<double>() > 0) || std::fabs(tp[st]["mu"].get<double>()) > 20)
        throw invalid("manifest: tempo_prior needs {mu, sd > 0} for style '" + st + "'");
      c->prior_mu_.push_back(tp[st]["mu"].get<double>());
      c->prior_sd_.push_back(tp[st]["sd"].get<double>());
    }
  }
  if (man.contains("tempo_octave")) {
    const json& to = man["tempo_octave"];
    auto num = [&](const char* k, double lo, double hi) {
      if (!to.is_object() || !to.contains(k) || !to[k].is_number() || !(to[k].get<double>() >= lo && to[k].get<double>() <= hi))
        throw invalid(std::string("manifest: tempo_octave.") + k + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return to[k].get<double>();
    };
    TempoOctave& o = c->octave_;
    o.w_salience = num("w_salience", -100, 100);
    o.w_style = num("w_style", -100, 100);
    o.w_head = num("w_head", -100, 100);
    o.w_check = num("w_check", -100, 100);
    o.sd_floor = num("sd_floor", 0.01, 4);
    o.min_bpm = num("min_bpm", 1, 1000);
    o.max_bpm = num("max_bpm", o.min_bpm, 2000);
    const size_t nr = std::size(dsp::kTempoRatios);
    if (!to.contains("ratios") || !to["ratios"].is_array() || to["ratios"].size() != nr || !to.contains("bias") || !to["bias"].is_array() ||
        to["bias"].size() != nr)
      throw invalid("manifest: tempo_octave needs " + std::to_string(nr) + " ratios and biases");
    for (size_t i = 0; i < nr; ++i) {
      if (!to["ratios"][i].is_number() || std::fabs(to["ratios"][i].get<double>() - dsp::kTempoRatios[i]) > 1e-4)
        throw invalid("manifest: tempo_octave.ratios must be the engine's (1/3, 1/2, 2/3, 3/2, 2, 3)");
      if (!to["bias"][i].is_number() || std::fabs(to["bias"][i].get<double>()) > 100) throw invalid("manifest: tempo_octave.bias must be numbers");
      o.bias.push_back(to["bias"][i].get<double>());
    }
    if (to.contains("support")) {
      const json& sp = to["support"];
      if (!sp.is_array() || sp.size() != 2 || !sp[0].is_number() || !sp[1].is_number() || !(sp[0].get<double>() >= 0 && sp[0].get<double>() <= 1) ||
          !(sp[1].get<double>() >= 0 && sp[1].get<double>() <= 1))
        throw invalid("manifest: tempo_octave.support must be [slower, faster], each in [0, 1]");
      o.support_slower = sp[0].get<double>();
      o.support_faster = sp[1].get<double>();
    }
    if (!c->has_rhythm() && o.w_check != 0) throw invalid("manifest: tempo_octave's check needs the rhythm features");
    if (to.contains("check")) {
      const json& ck = to["check"];
      if (!ck.is_object() || !ck.contains("prefix") || !ck["prefix"].is_string() || ck["prefix"].get<std::string>().size() > 32 ||
          !ck.contains("hidden") || !ck["hidden"].is_number_integer() || ck["hidden"].get<int>() < 1 || ck["hidden"].get<int>() > 4096 || !c->has_rhythm())
        throw invalid("manifest: tempo_octave.check needs prefix, hidden (1..4096) and the rhythm features");
      const std::string pfx = ck["prefix"].get<std::string>();
      const int nf = c->rhythm_features_;
      c->cmu_ = tensor(info, pfx + "mu", {nf}).f32;
      c->csd_ = tensor(info, pfx + "sd", {nf}).f32;
      for (float v : c->csd_)
        if (!(v > 0)) throw invalid("weight '" + pfx + "sd' must be positive");
      c->c1_ = dense(pfx + "l1", nf, ck["hidden"].get<int>());
      c->c2_ = dense(pfx + "l2", ck["hidden"].get<int>(), 1);
      c->has_check_ = true;
    } else if (o.w_check != 0) {
      throw invalid("manifest: tempo_octave.w_check needs tempo_octave.check");
    }
    c->has_octave_ = true;
  }
  c->manifest_ = std::move(man);
  return c;
}

double AudioClassifier::tempo_check(const std::vector<float>& f) const {
  if (!has_check_ || (int)f.size() != rhythm_features_) return 0.0;
  std::vector<float> x(f.size()), h(c1_.out), o(1);
  for (size_t i = 0; i < f.size(); ++i) x[i] = (f[i] - cmu_[i]) / csd_[i];
  matmul(x.data(), c1_.w.data(), c1_.b.data(), h.data(), 1, c1_.in, c1_.out);
  for (float& v : h) v = v > 0.0f ? v : 0.0f;
  matmul(h.data(), c2_.w.data(), c2_.b.data(), o.data(), 1, c2_.in, c2_.out);
  return o[0];
}

bool AudioClassifier::tempo_prior(size_t style, double& mu, double& sd) const {
  if (style >= prior_mu_.size()) return false;
  mu = prior_mu_[style];
  sd = prior_sd_[style];
  return true;
}

std::vector<float> AudioClassifier::rhythm_style(const std::vector<float>& f) const {
  if (!has_rhythm() || (int)f.size() != rhythm_features_) return {};
  std::vector<float> x(f.size()), h(r1_.out), o(r2_.out);
  for (size_t i = 0; i < f.size(); ++i) x[i] = (f[i] - rmu_[i]) / rsd_[i];
  matmul(x.data(), r1_.w.data(), r1_.b.data(), h.data(), 1, r1_.in, r1_.out);
  for (float& v : h) v = v > 0.0f ? v : 0.0f;
  matmul(h.data(), r2_.w.data(), r2_.b.data(), o.data(), 1, r2_.in, r2_.out);
  softmax(o.data(), (int)o.size());
  return o;
}

void AudioClassifier::normalise(const float* raw, float* out) const {
  const int T = patch_, B = dsp::kMelBands, C = input_channels();
  const size_t n = (size_t)B * T;
  float mx = -INFINITY;
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, raw[i]);
  const float lo = mx - (float)floor_db_;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::max(raw[i], lo);
  const float mean = (float)(sum / (double)n);
  const float inv = (float)(1.0 / scale_db_);
  for (int b = 0; b < B; ++b) {
    double bs = 0;
    for (int t = 0; t < T; ++t) bs += std::max(raw[(size_t)b * T + t], lo);
    const float bmean = (float)(bs / (double)T);
    for (int t = 0; t < T; ++t) {
      const float v = std::max(raw[(size_t)b * T + t], lo);
      float* o = out + ((size_t)b * T + t) * C;
      if (norm_ == Norm::kGlobal) o[0] = (v - mean) * inv;
      else if (norm_ == Norm::kBand) o[0] = (v - bmean) * inv;
      else { o[0] = (v - mean) * inv; o[1] = (v - bmean) * inv; }
    }
  }
}

void AudioClassifier::forward(const Cnn& n, const float* patch, PatchOutput& out, bool instruments_only) const {
  int H = dsp::kMelBands, W = patch_;
  std::vector<float> x((size_t)H * W * input_channels()), y, cols;
  std::memcpy(x.data(), patch, sizeof(float) * x.size());
  for (size_t i = 0; i < n.convs.size(); ++i) {
    const Conv& cv = n.convs[i];
    y.assign((size_t)H * W * cv.cout, 0.0f);
    conv3x3_relu(x.data(), H, W, cv.cin, cv.w, cv.b, cv.cout, y.data(), cols);
    if (i < 3) {
      x.assign((size_t)(H / 2) * (W / 2) * cv.cout, 0.0f);
      maxpool2(y.data(), H, W, cv.cout, x.data());
      H /= 2;
      W /= 2;
    } else {
      x.swap(y);
    }
  }
  const int C = n.convs.back().cout;
  std::vector<float> pooled(2 * (size_t)C);
  for (int ch = 0; ch < C; ++ch) {
    double s = 0;
    float m = -INFINITY;
    for (int p = 0; p < H * W; ++p) {
      const float v = x[(size_t)p * C + ch];
      s += v;
      m = std::max(m, v);
    }
    pooled[ch] = (float)(s / (double)(H * W));
    pooled[C + ch] = m;
  }
  std::vector<float> h(n.fc.out);
  matmul(pooled.data(), n.fc.w.data(), n.fc.b.data(), h.data(), 1, n.fc.in, n.fc.out);
  for (float& v : h) v = v > 0.0f ? v : 0.0f;
  auto head = [&](const Dense& d, std::vector<float>& o) {
    o.assign(d.out, 0.0f);
    matmul(h.data(), d.w.data(), d.b.data(), o.data(), 1, d.in, d.out);
  };
  if (!instruments_only) {
    head(n.style, out.style);
    softmax(out.style.data(), (int)out.style.size());
    std::vector<float> t;
    head(n.tempo, t);
    out.log2_tempo = t[0];
  }
  head(n.lead, out.lead);
  softmax(out.lead.data(), (int)out.lead.size());
  head(n.fam, out.families);
  for (float& v : out.families) v = 1.0f / (1.0f + det_expf(-v));
}

void AudioClassifier::run(const float* patch, PatchOutput& out) const {
  forward(cnn_, patch, out, false);
  if (has_instr_) forward(instr_, patch, out, true);  // its lead and families replace the first CNN's
}

PatchStream::PatchStream(const AudioClassifier& c, int hop, float quiet_db)
    : c_(c), hop_(std::max(1, hop)), quiet_db_(quiet_db), ring_((size_t)c.patch_frames() * dsp::kMelBands, -100.0f) {}

void PatchStream::push(const float* mel_db) {
  const int P = c_.patch_frames();
  std::memcpy(ring_.data() + (size_t)(frames_ % P) * dsp::kMelBands, mel_db, sizeof(float) * dsp::kMelBands);
  ++frames_;
  if (frames_ - next_start_ == P) {
    classify(next_start_, P);
    last_done_ = next_start_;
    next_start_ += hop_;
  }
}

void PatchStream::finish() {
  const int P = c_.patch_frames();
  if (frames_ == 0) return;
  if (last_done_ < 0) {
    if (frames_ < P) classify(0, (int)frames_);
    else classify(frames_ - P, P);
  } else if (frames_ - (last_done_ + P) > hop_ / 2) {
    classify(frames_ - P, P);
  }
}

void PatchStream::classify(int64_t start, int real) {
  const int P = c_.patch_frames();
  scratch_.assign((size_t)dsp::kMelBands * P, -100.0f);
  input_.assign(scratch_.size() * c_.input_channels(), 0.0f);
  float peak = -INFINITY;
  for (int t = 0; t < real; ++t) {
    const float* f = ring_.data() + (size_t)((start + t) % P) * dsp::kMelBands;
    for (int b = 0; b < dsp::kMelBands; ++b) {
      scratch_[(size_t)b * P + t] = f[b];
      peak = std::max(peak, f[b]);
    }
  }
  if (!(peak >= quiet_db_)) {
    ++quiet_;
    return;
  }
  PatchOutput o;
  o.start_frame = start;
  o.frames = real;
  o.peak_db = peak;
  c_.normalise(scratch_.data(), input_.data());
  c_.run(input_.data(), o);
  out_.push_back(std::move(o));
}

}  // namespace tunesmith
