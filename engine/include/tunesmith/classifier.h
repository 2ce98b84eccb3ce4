// The listening classifier (models/listen.{onnx,json}, trained by tools/audio/train_cnn.py): a small
// CNN over log-mel patches with four heads read from one trunk: style (softmax), the lead
// instrument's General MIDI family or "none" (softmax), the families playing (sigmoid each) and
// log2(tempo / 120) (a regression used to choose the tempo octave).
//
//   auto c = tunesmith::AudioClassifier::load(manifest_text, onnx.data(), onnx.size());
//   tunesmith::PatchStream ps(*c, hop);         // fed frame by frame from dsp::Analyzer's callback
//   ps.push(frame.mel_db);  ...  ps.finish();
//   for (auto& p : ps.patches()) ...            // one PatchOutput per classified patch
//
// The graph is Conv3x3(+ReLU) x4 with 2x2 max pooling after the first three, global mean and max
// pooling, a ReLU hidden layer and the heads; batch norm is folded into the convolutions at export.
// It runs on our own kernels (im2col + kernels.h matmul), so results are bit-identical natively and
// in wasm; tests/node check it against ONNX Runtime on the same .onnx file. load() checks the
// manifest, the file's size and sha256 and every weight's name and shape, and throws
// Error("model_invalid") naming what is wrong.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunesmith {

struct PatchOutput {
  int64_t start_frame = 0;   // first analysis frame of the patch
  int frames = 0;            // frames of real audio in it (the rest was padding)
  float peak_db = 0;         // the patch's loudest log-mel value (quiet patches are not classified)
  std::vector<float> style, lead, families;  // probabilities, in the manifest's label order
  float log2_tempo = 0;      // log2(bpm / 120)
};

class AudioClassifier {
 public:
  static std::shared_ptr<const AudioClassifier> load(const std::string& manifest_text, const uint8_t* onnx, size_t size);

  const nlohmann::json& manifest() const { return manifest_; }
  const std::vector<std::string>& style_labels() const { return style_labels_; }
  const std::vector<std::string>& lead_labels() const { return lead_labels_; }
  const std::vector<std::string>& family_labels() const { return family_labels_; }
  int patch_frames() const { return patch_; }
  int hop_frames() const { return hop_; }
  std::string version() const { return manifest_.value("version", ""); }

  // The network's input channels: 1 (normalisation "global" or "band") or 2 ("both").
  int input_channels() const { return norm_ == Norm::kBoth ? 2 : 1; }
  // Normalises a raw patch (kMelBands x patch_frames() dB, band-major: raw[b * T + t]) as training
  // did: values under (max - floor_db) are raised to it; "global": (x - patch mean) / scale_db;
  // "band": (x - that band's mean over the patch) / scale_db; "both": the two as channels. out:
  // kMelBands x T x input_channels() (HWC: out[(b * T + t) * C + c]).
  void normalise(const float* raw, float* out) const;
  // Runs the network on one normalised patch (as normalise() writes it).
  void run(const float* patch, PatchOutput& out) const;

  // The rhythm head (optional): an MLP over the clip's beat-synchronous rhythm patterns
  // (rhythm_features() in listen.cpp), standardised inside the graph. Style probabilities.
  bool has_rhythm() const { return rhythm_features_ > 0; }
  // True when a second CNN (manifest instrument_cnn) answers the lead and families heads.
  bool has_instrument_cnn() const { return has_instr_; }
  int rhythm_features() const { return rhythm_features_; }
  std::vector<float> rhythm_style(const std::vector<float>& features) const;
  // The clip's style = fusion_weight * CNN + (1 - fusion_weight) * rhythm (manifest rhythm.fusion_weight).
  double fusion_weight() const { return fusion_weight_; }
  // Per style: the mean and spread of log2(BPM) in the training clips (manifest tempo_prior), or
  // false when the manifest has none. Used to choose the tempo octave together with the tempo head.
  bool tempo_prior(size_t style, double& mu, double& sd) const;
  bool has_tempo_prior() const { return !prior_mu_.empty(); }

  // The tempo-octave chooser (manifest tempo_octave, tools/audio/fit_tempo_octave.py): weights of a
  // conditional logit over the onset tempo and its relatives (dsp::kTempoRatios), and optionally the
  // rhythm check, an MLP in the graph (tcheck.*) scoring the rhythm patterns on one candidate's beats.
  struct TempoOctave {
    double w_salience = 0, w_style = 0, w_head = 0, w_check = 0;
    std::vector<double> bias;  // one per dsp::kTempoRatios entry
    double sd_floor = 0.15, min_bpm = 30, max_bpm = 300;
    // a relative is weighed only when its periodicity score is at least support_slower (slower
    // ones) or support_faster (faster ones) times the onset tempo's
    double support_slower = 0, support_faster = 0;
  };
  bool has_tempo_octave() const { return has_octave_; }
  const TempoOctave& tempo_octave() const { return octave_; }
  bool has_tempo_check() const { return has_check_; }
  // The check's logit (higher: these beats are the tempo), or 0 without a check or with features
  // of the wrong length.
  double tempo_check(const std::vector<float>& rhythm_features) const;

 private:
  struct Conv { int cin = 0, cout = 0; std::vector<float> w, b; };  // w: [(kh*3+kw)*cin + ci, cout]
  struct Dense { int in = 0, out = 0; std::vector<float> w, b; };    // w: [in, out]
  nlohmann::json manifest_;
  std::vector<std::string> style_labels_, lead_labels_, family_labels_;
  enum class Norm { kGlobal, kBand, kBoth };
  Norm norm_ = Norm::kGlobal;
  int patch_ = 128, hop_ = 64;
  double floor_db_ = 80, scale_db_ = 20;
  struct Cnn { std::vector<Conv> convs; Dense fc, style, lead, fam, tempo; };
  void forward(const Cnn& n, const float* patch, PatchOutput& out, bool instruments_only) const;
  Cnn cnn_;            // style, tempo (and the instruments when there is no instr_)
  Cnn instr_;          // manifest instrument_cnn: a CNN trained for the lead and families heads
  bool has_instr_ = false;
  int rhythm_features_ = 0;
  double fusion_weight_ = 1.0;
  std::vector<float> rmu_, rsd_;
  std::vector<double> prior_mu_, prior_sd_;
  Dense r1_, r2_;
  bool has_octave_ = false, has_check_ = false;
  TempoOctave octave_;
  std::vector<float> cmu_, csd_;
  Dense c1_, c2_;
};

// Collects log-mel frames into patches of the classifier's length every `hop` frames and classifies
// each as it completes (memory: one patch of frames, plus the small outputs). Patches whose loudest
// value is under `quiet_db` are skipped (silence says nothing about style). The last, partial patch
// is padded with silence when the file is shorter than one patch or ends more than half a hop past
// the last patch.
class PatchStream {
 public:
  PatchStream(const AudioClassifier& c, int hop, float quiet_db = -60.0f);
  void push(const float* mel_db);  // kMelBands values of the next frame
  void finish();
  const std::vector<PatchOutput>& patches() const { return out_; }
  int hop() const { return hop_; }
  int64_t frames() const { return frames_; }
  int64_t skipped_quiet() const { return quiet_; }

 private:
  void classify(int64_t start, int real_frames);
  const AudioClassifier& c_;
  int hop_;
  float quiet_db_;
  std::vector<float> ring_;   // patch_frames x kMelBands, frame-major, circular
  int64_t frames_ = 0, next_start_ = 0, last_done_ = -1, quiet_ = 0;
  std::vector<PatchOutput> out_;
  std::vector<float> scratch_, input_;
};

}  // namespace tunesmith
