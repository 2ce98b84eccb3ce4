// The listening front end: one streaming pass over mono float audio that computes, per frame, the
// magnitude spectrum, a log-mel spectrogram, a 12-bin chroma, an onset strength and the RMS, and
// keeps only bounded summaries (per-segment means/variances, one onset and one RMS float per frame,
// and fixed-size mel/chroma pictures). Key, tempo and beats are then estimated from those.
//
//   tunesmith::dsp::Analyzer a;                 // 22050 Hz, the analysis rate (see docs/dsp.md)
//   while (more) a.push(block, n);              // any block sizes: the result does not depend on them
//   a.finish();
//   auto key = tunesmith::dsp::estimate_key(a);  // whole-file key chroma + ending (docs/dsp.md)
//   auto tempo = tunesmith::dsp::estimate_tempo(a.onset(), a.frame_rate());
//
// Framing follows librosa's center=True with zero padding: frame t is centred on sample t*hop
// (time t*hop/sr), covers [t*hop - n_fft/2, t*hop + n_fft/2) and there are 1 + floor(len/hop)
// frames. The exact feature definitions (window, mel formula, dB floor, chroma mapping, onset
// flux) are in docs/dsp.md and reproduced in numpy by tools/audio/features.py (checked to 1e-4 by
// tests/cpp/test_dsp.cpp against tests/cpp/fixtures/dsp_features.json).
//
// Determinism: the FFT, window, twiddles and filterbanks use only +, -, *, /, sqrt and exact bit
// operations (our own cos/exp/log below, no libm), all reductions run in a fixed order in double,
// and we build with -ffp-contract=off, so native and wasm builds give bit-identical features.
// Non-finite input samples are treated as 0 (and counted); bad options throw tunesmith::Error.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tunesmith {
namespace dsp {

constexpr int kAnalysisRate = 22050;  // what the resampler delivers and the classifiers expect
constexpr int kFftSize = 2048;
constexpr int kHop = 512;
constexpr int kBins = kFftSize / 2 + 1;  // 1025 magnitude bins
constexpr int kMelBands = 64;
constexpr int kChroma = 12;       // C, C#, ..., B
constexpr int kFineChroma = 36;   // 1/3-semitone bins; bin 3c is pitch class c at A = 440 Hz
constexpr double kChromaMinHz = 55.0;
constexpr double kChromaMaxHz = 2000.0;
constexpr double kMelFloor = 1e-10;     // log-mel = 10*log10(max(mel power, kMelFloor))
constexpr double kOnsetFloorDb = -40.0; // onset flux is taken on max(log-mel, this)

// Deterministic double-precision helpers (no libm): accurate to about 1 ulp.
double det_cospi(double t);  // cos(pi t)
double det_sinpi(double t);  // sin(pi t)
double det_log(double x);    // natural log, x > 0 (x <= 0 gives -745.2, about log of the smallest)
double det_exp(double x);    // e^x

// Real FFT of a power-of-two size n >= 4 (radix-2, precomputed twiddles, fixed order): out has
// n/2 + 1 bins, X[k] = sum_j in[j] e^{-2 pi i j k / n} (no scaling).
class RealFFT {
 public:
  explicit RealFFT(int n);
  int size() const { return n_; }
  void forward(const double* in, double* re, double* im) const;

 private:
  int n_, h_;                       // n and n/2 (the complex FFT size)
  std::vector<int> bitrev_;         // h entries
  std::vector<double> cw_, sw_;     // h/2 twiddles for the complex FFT: cos, -sin (2 pi k / h)
  std::vector<double> cr_, sr_;     // h+1 twiddles for the real split: cos, -sin (2 pi k / n)
  mutable std::vector<double> zr_, zi_;
};

// Slaney mel scale (librosa htk=False): linear below 1 kHz (200/3 Hz per mel), logarithmic above.
double hz_to_mel(double hz);
double mel_to_hz(double mel);
// Slaney-normalised triangular filters (librosa norm="slaney"), n_mels x (n_fft/2+1), row-major,
// rounded to float as librosa's default dtype does.
std::vector<float> mel_filterbank(int sample_rate, int n_fft, int n_mels, double fmin, double fmax);

// The per-frame features handed to Analyzer's frame callback (pointers valid during the call).
struct Frame {
  int64_t index = 0;
  double time = 0;               // seconds, the frame centre
  const float* spectrum = nullptr;  // kBins magnitudes |X[k]| of the Hann-windowed frame
  const float* mel_db = nullptr;    // kMelBands values, 10*log10(max(mel power, 1e-10))
  const float* chroma = nullptr;    // kChroma values, max-normalised (all 0 when no peaks)
  const float* fine_chroma = nullptr;  // kFineChroma values, same scale as chroma
  float onset = 0;               // mean over mel bands of the rectified dB increase
  float rms = 0;                 // sqrt(mean(x^2)) over the (unwindowed) frame
};

struct Segment {
  int64_t start_frame = 0, frames = 0;
  double start_time = 0, end_time = 0;  // seconds: frame centres of its first frame and one past last
  std::array<float, kMelBands> mel_mean{}, mel_var{};  // of log-mel dB (population variance)
  std::array<float, kChroma> chroma_mean{}, chroma_var{};
  std::array<float, kFineChroma> fine_chroma_sum{};  // over its tonal frames (see Analyzer)
  int64_t tonal_frames = 0;
  float rms_mean = 0, rms_max = 0, onset_mean = 0;
};

// A fixed-size picture over the whole file: columns of frames_per_column frames (a power of two,
// doubled whenever the column count would pass max_columns), each the mean of its frames.
struct Picture {
  int rows = 0, columns = 0, frames_per_column = 1;
  std::vector<float> values;  // columns x rows, column-major: values[c * rows + r]
};

struct AnalyzerOptions {
  int sample_rate = kAnalysisRate;  // 8000..96000; the features are defined (and tested) at 22050
  double segment_seconds = 4.0;     // rounded to whole frames
  int picture_columns = 512;        // even, >= 2
  double tonal_rms = 1e-3;          // frames quieter than this do not count towards the key
};

class Analyzer {
 public:
  explicit Analyzer(AnalyzerOptions o = {});
  // Called once per frame, in order, with the full per-frame features (optional).
  void set_frame_callback(std::function<void(const Frame&)> f) { callback_ = std::move(f); }
  void push(const float* samples, size_t n);
  void finish();  // emits the remaining (zero-padded) frames; push() after finish() throws

  int sample_rate() const { return opt_.sample_rate; }
  double frame_rate() const { return static_cast<double>(opt_.sample_rate) / kHop; }
  int64_t samples() const { return total_; }
  int64_t frames() const { return next_frame_; }
  int64_t nonfinite_samples() const { return nonfinite_; }
  int segment_frames() const { return seg_len_; }

  const std::vector<float>& onset() const { return onset_; }  // one per frame
  const std::vector<float>& rms() const { return rms_; }      // one per frame
  const std::vector<Segment>& segments() const { return segments_; }
  const Picture& mel_picture() const { return mel_pic_; }
  const Picture& chroma_picture() const { return chroma_pic_; }
  float peak() const { return peak_; }  // max |sample| (finite ones)

  // Sum of the max-normalised fine chroma over tonal frames (rms >= tonal_rms) of the whole file.
  const std::array<double, kFineChroma>& fine_chroma_total() const { return fine_total_; }
  int64_t tonal_frames() const { return tonal_frames_; }
  // Tuning: the 1/3-semitone shift (-1, 0 or +1, i.e. about -33, 0, +33 cents from A = 440 Hz) under
  // which the fine chroma puts the most weight on semitone centres.
  int tuning_shift() const;
  // 12-bin chroma for key finding: fine_chroma_total folded around the tuned semitone centres
  // (trapezoid: a peak within 1/3 semitone of a centre counts fully, fading to 0 at 2/3).
  std::array<float, kChroma> key_chroma() const;
  // The same for one segment, with the file's tuning shift.
  std::array<float, kChroma> segment_key_chroma(size_t segment) const;

 private:
  void process_frame();
  void close_segment();
  void pic_add(Picture& p, std::vector<double>& acc, int& count, const float* v);
  void pic_flush(Picture& p, std::vector<double>& acc, int& count);

  AnalyzerOptions opt_;
  RealFFT fft_;
  std::function<void(const Frame&)> callback_;
  std::vector<double> window_;
  std::vector<float> melfb_;
  std::vector<int> mel_lo_, mel_hi_;  // nonzero bin range per band, [lo, hi)
  int chroma_lo_ = 0, chroma_hi_ = 0;  // bins considered as chroma peaks, [lo, hi]
  std::vector<float> buf_;   // samples from absolute index buf_start_
  int64_t buf_start_ = 0, total_ = 0, next_frame_ = 0, nonfinite_ = 0;
  bool finished_ = false;
  float peak_ = 0;
  // per-frame scratch
  std::vector<double> frame_, re_, im_, mag_;
  std::vector<float> spec_f_, mel_db_, prev_mel_db_, chroma_, fine_;
  // outputs
  std::vector<float> onset_, rms_;
  std::vector<Segment> segments_;
  int seg_len_ = 0;
  std::vector<float> seg_mel_, seg_chroma_, seg_rms_, seg_onset_;  // current segment's frames
  std::array<double, kFineChroma> seg_fine_{};
  int64_t seg_tonal_ = 0;
  std::array<double, kFineChroma> fine_total_{};
  int64_t tonal_frames_ = 0;
  Picture mel_pic_, chroma_pic_;
  std::vector<double> mel_acc_, chroma_acc_;
  int mel_cnt_ = 0, chroma_cnt_ = 0;
};

// ------------------------------------------------------------------------------------------ key

// kFitted (the default): major/minor profiles fitted to the engine's own key chroma of rendered,
// labelled clips (tools/audio/fit_key_profiles.mjs, train split only), plus a second pair fitted to
// the clips' endings. kKrumhanslKessler / kTemperley: the classic probe-tone / corpus profiles
// (used for the ending too). See docs/dsp.md.
enum class KeyProfile { kKrumhanslKessler, kTemperley, kFitted };

struct KeyResult {
  int tonic = -1;        // 0 = C ... 11 = B; -1 when the chroma is empty
  bool minor = false;
  std::string name;      // e.g. "F# major", "Eb minor"; "" when tonic = -1
  // The score of the best key: the Pearson r of the chroma with the key's profile or, with an
  // ending, (r + w r_ending) / (1 + w) (w = ending_weight), so still in [-1, 1].
  double correlation = 0;
  double margin = 0;       // best score minus the runner-up's
  double confidence = 0;   // [0,1]: max(score,0) scaled down when the chroma is nearly flat (see docs)
  double contrast = 0;     // coefficient of variation of the chroma (0 = flat)
  std::array<double, 24> correlations{};  // the score of every key: 0..11: C..B major, 12..23: C..B minor
  std::array<float, kChroma> chroma{};    // the input, normalised to sum 1 (the evidence)
  std::array<float, kChroma> ending{};    // the ending chroma, normalised to sum 1 (all 0: none given)
  double ending_weight = 0;               // w above (0 when no ending was used)
};

// One chroma (a whole file's or a segment's key chroma): correlation with the 24 rotated profiles.
KeyResult estimate_key(const float* chroma12, KeyProfile profile = KeyProfile::kFitted);
// A whole clip: its key chroma plus the chroma of its ending (nullptr or all 0: none), which
// charts and songs usually close on the tonic chord; the scores are combined as in KeyResult.
KeyResult estimate_key(const float* chroma12, const float* ending12, KeyProfile profile = KeyProfile::kFitted);
// The ending of an analysed file: the key chromas of the last segments (Analyzer::segment_key_chroma,
// summed from the last one backwards until they hold at least min_seconds of tonal frames; the whole
// file when it has fewer). All 0 when the file has no tonal frame.
std::array<float, kChroma> ending_key_chroma(const Analyzer& an, double min_seconds = 1.0);
// What analyze_audio reports for a file: estimate_key(an.key_chroma(), ending_key_chroma(an)).
KeyResult estimate_key(const Analyzer& an, KeyProfile profile = KeyProfile::kFitted);
std::string key_name(int tonic, bool minor);  // flats for Eb, Ab, Bb (and minor Bb/Eb), else sharps

// ------------------------------------------------------------------------------- tempo and beats

struct TempoCandidate {
  double bpm = 0;
  double salience = 0;  // comb-filtered normalised autocorrelation, about [-1, 1]
  double score = 0;     // salience times the log-normal tempo prior
};

inline constexpr double kTempoRatios[6] = {1.0 / 3.0, 0.5, 2.0 / 3.0, 1.5, 2.0, 3.0};

struct TempoOptions {
  double min_bpm = 40, max_bpm = 240;  // search range for the reported tempo
  double prior_bpm = 120, prior_octaves = 1.0;
  double tightness = 100;   // beat DP penalty on log interval deviation (Ellis 2007, librosa)
  // Added to beat frames before converting to seconds: the log flux peaks in the first frame whose
  // window holds the attack, about one hop before it (measured -22..-25 ms on clicks and drums).
  double beat_offset_frames = 1.0;
  bool beats = true;
};

struct TempoResult {
  double bpm = 0;          // 0 when the onset envelope is flat (silence)
  double confidence = 0;   // [0,1], the chosen candidate's salience clipped
  std::vector<TempoCandidate> candidates;  // local maxima of the score, best first (at most 8)
  TempoCandidate half, twice;              // bpm/2 and bpm*2, scored the same way
  // bpm times each of kTempoRatios (1/3, 1/2, 2/3, 3/2, 2, 3), scored the same way: the metrical
  // relatives a listener could also tap (half/double time, the dotted beat, the bar of a waltz)
  std::vector<TempoCandidate> related;
  std::vector<double> beats;               // seconds
};

TempoResult estimate_tempo(const std::vector<float>& onset, double frame_rate,
                           const TempoOptions& options = {});
// Ellis (2007) dynamic-programming beat tracker for a given tempo; beat times in seconds.
std::vector<double> track_beats(const std::vector<float>& onset, double frame_rate, double bpm,
                                double tightness = 100, double offset_frames = 1.0);

}  // namespace dsp
}  // namespace tunesmith
