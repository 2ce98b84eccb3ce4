// Audio input for listening (issue 5): a streaming WAV decoder, a streaming resampler and an
// EBU R128 / ITU-R BS.1770-4 loudness meter. Everything works on bounded memory, so a 2-hour file
// is processed block by block and never held as float in memory.
//
//   // Small file, all at once (mono = the channels averaged):
//   tunesmith::WavAudio a = tunesmith::decode_wav(bytes.data(), bytes.size());
//   std::vector<float> x = tunesmith::resample(a.mono.data(), a.mono.size(), a.sample_rate, 22050);
//
//   // Any size, streamed: bytes arrive in pieces (a file read in 64 KiB chunks, a JS stream...).
//   tunesmith::WavDecoder dec;
//   std::vector<float> inter, mono;
//   for (each piece) {
//     dec.feed(piece, n);
//     while (size_t f = dec.read_interleaved(inter, 4096)) { ...; }  // drain after each feed
//   }
//   dec.finish();                                                       // end of input
//   while (size_t f = dec.read_interleaved(inter, 4096)) { ... }
//
//   // Or over a buffer already in memory, in blocks, with both views of each block:
//   tunesmith::LoudnessMeter meter(...);  tunesmith::Resampler rs(...);
//   tunesmith::decode_wav_blocks(data, size, 4096, [&](const tunesmith::AudioBlock& b) {
//     meter.add_interleaved(b.interleaved, b.frames);      // loudness needs the channels
//     rs.process(b.mono, b.frames, out22k);                 // analysis works on the mono mix
//   });
//
// WAV: RIFF/WAVE, RF64/BW64 (ds64); PCM 8-bit unsigned, 16/24/32-bit signed (and any valid-bits
// count in those containers), IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE with the PCM or float
// sub-format; 1..32 channels, 1000..384000 Hz; unknown chunks (LIST, bext, JUNK, ...) and odd chunk
// padding are skipped; a data size of 0xFFFFFFFF (or 0 with an unset RIFF size), or one larger than
// the bytes that follow (streaming writers), means "to the end of the input". Samples are scaled
// to [-1, 1) (integer) or taken as they are (float); NaN and +-Inf samples become 0 and are counted
// in AudioStats. Bad input throws tunesmith::Error "invalid_audio" with {"reason": ...}: "empty",
// "not_riff" (the message names MP3/FLAC/Ogg/AIFF/MP4 when it recognises them), "not_wave",
// "truncated_header", "no_fmt", "truncated_fmt", "bad_fmt" (zero or out-of-range channels/rate/
// bits), "block_align", "unsupported_codec" (named, with {"format_tag"}), "no_data", "no_samples",
// "chunk_too_large", "too_long". A bad argument throws "invalid_field" with {"field"}.
//
// Resampler: windowed-sinc (Kaiser, beta 7.86), passband flat (< 0.01 dB) to 0.42 of the lower
// rate, stopband >= 75 dB from 0.5 of the lower rate (so nothing folds back above Nyquist), zero
// delay: output sample n is input time n * in_rate / out_rate exactly. The phase is tracked in exact
// integer arithmetic, so the output is bit-identical however the input is split into blocks.
//
// LoudnessMeter: BS.1770-4 K-weighting (both biquads computed for the actual sample rate), 400 ms
// momentary blocks every 100 ms, absolute gate -70 LUFS, relative gate -10 LU; loudness range per
// EBU Tech 3342 (3 s short-term blocks every 100 ms, gates -70 LUFS and -20 LU, 10th..95th
// percentile); sample peak; true peak by 4x (2x at >= 96 kHz) windowed-sinc oversampling. See
// docs/audio-io.md for the method and how it is verified.
//
// Classes are not thread-safe; separate instances are independent. Output depends only on input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace tunesmith {

// ------------------------------------------------------------------------------------ WAV input

enum class SampleEncoding { PcmU8, PcmS16, PcmS24, PcmS32, Float32, Float64 };

struct AudioFormat {
  int sample_rate = 0;           // Hz, 1000..384000
  int channels = 0;              // 1..32
  SampleEncoding encoding = SampleEncoding::PcmS16;
  int bits_per_sample = 0;       // container bits: 8, 16, 24, 32 or 64
  int valid_bits = 0;            // meaningful bits (<= bits_per_sample; extensible or odd PCM)
  int block_align = 0;           // bytes per frame = channels * bits_per_sample / 8
  bool extensible = false;       // WAVE_FORMAT_EXTENSIBLE
  uint32_t channel_mask = 0;     // extensible speaker mask (0 = not given)
  std::string container;         // "RIFF", "RF64" or "BW64"
  uint64_t declared_frames = 0;  // from the data chunk size; 0 when unknown (streamed to the end)
  bool size_known = false;       // false: data size 0xFFFFFFFF / 0 (read to the end of input)
};

struct AudioStats {
  uint64_t frames = 0;             // frames delivered so far
  uint64_t nonfinite_samples = 0;  // NaN / +-Inf samples replaced by 0 (all channels)
  uint64_t clipped_samples = 0;    // samples at full scale: an integer extreme code, or float |x| >= 1
  bool truncated = false;          // the input ended before the declared data size
  uint32_t partial_frame_bytes = 0;  // bytes of an incomplete last frame, dropped
};

// A block of decoded audio: interleaved channels and their mono mix (same frames).
struct AudioBlock {
  const AudioFormat* format = nullptr;
  const float* interleaved = nullptr;  // frames * channels
  const float* mono = nullptr;         // frames, the average of the channels
  size_t frames = 0;
  uint64_t start_frame = 0;            // index of the block's first frame in the file
};

// Push bytes in, pull float frames out. Memory: the bytes fed and not yet read (so drain after
// each feed) plus a fixed header limit (fmt/ds64 chunks up to 64 KiB).
class WavDecoder {
 public:
  WavDecoder();
  // Appends input bytes and parses as far as possible; throws on a bad header as soon as it can
  // tell. Not allowed after finish().
  void feed(const uint8_t* data, size_t size);
  // End of input: throws if the header never completed ("empty", "no_fmt", "no_data", ...) or if
  // the file holds no whole frame ("no_samples"). Call it, then drain the remaining frames.
  void finish();
  // True once fmt and the data chunk header have been parsed (format() is then valid).
  bool ready() const { return state_ >= kData; }
  const AudioFormat& format() const { return format_; }
  const AudioStats& stats() const { return stats_; }

  // Whole frames decodable now from the bytes at hand.
  size_t frames_available() const;
  // Up to max_frames frames, decoded from the bytes at hand; returns how many (0: needs more input,
  // or done). out must hold max_frames * channels floats (interleaved) / max_frames floats (mono).
  size_t read_interleaved(float* out, size_t max_frames);
  size_t read_mono(float* out, size_t max_frames);
  // Planar: out[c] must hold max_frames floats for each channel c.
  size_t read_planar(float* const* out, size_t max_frames);
  // Vector conveniences (resized to what was read).
  size_t read_interleaved(std::vector<float>& out, size_t max_frames);
  size_t read_mono(std::vector<float>& out, size_t max_frames);
  // True after finish() when every frame has been read.
  bool done() const;
  // Input bytes held (fed, not yet decoded): the decoder's whole memory besides scratch.
  size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  enum State { kRiff, kChunkHeader, kChunkBody, kSkip, kData, kAfterData };
  void parse();
  void parse_fmt(const uint8_t* p, uint32_t size);
  void parse_ds64(const uint8_t* p, uint32_t size);
  void enter_data(uint64_t size, bool size_unknown);
  void settle();
  size_t avail() const { return buf_.size() - pos_; }
  void consume(size_t n);
  [[noreturn]] void fail(const std::string& reason, const std::string& message);

  State state_ = kRiff;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  bool finished_ = false;
  std::exception_ptr error_;    // set once a bad header was seen: every later call rethrows it
  bool have_fmt_ = false;
  bool rf64_ = false;
  bool riff_size_unset_ = false;
  uint64_t ds64_data_size_ = 0;
  bool have_ds64_ = false;
  uint32_t chunk_id_ = 0;
  uint64_t chunk_left_ = 0;     // kChunkBody / kSkip: bytes of the chunk still to come (with pad)
  uint32_t chunk_size_ = 0;
  uint64_t data_left_ = 0;      // kData with a known size: bytes still to decode
  bool data_to_end_ = false;
  uint64_t total_fed_ = 0;
  AudioFormat format_;
  AudioStats stats_;
  std::vector<float> scratch_;
};

struct WavAudio {
  int sample_rate = 0;
  int channels = 0;
  uint64_t frames = 0;
  std::vector<float> mono;  // frames samples, the average of the channels
  AudioFormat format;
  AudioStats stats;
};

// The whole file at once, mono. For small inputs; max_frames > 0 throws "too_long" beyond it.
WavAudio decode_wav(const uint8_t* data, size_t size, uint64_t max_frames = 0);

// Streams a WAV held in memory block by block (block_frames >= 1) to f; returns the format and
// stats. Memory is O(block_frames * channels) besides the input itself.
struct WavSummary {
  AudioFormat format;
  AudioStats stats;
};
WavSummary decode_wav_blocks(const uint8_t* data, size_t size, size_t block_frames,
                             const std::function<void(const AudioBlock&)>& f);

// Average of the channels of interleaved frames (out may not alias in unless channels == 1).
void mix_to_mono(const float* interleaved, size_t frames, int channels, float* out);

// ------------------------------------------------------------------------------------ resampling

class Resampler {
 public:
  // Rates 1000..384000 Hz with a ratio of at most 48 either way; throws "invalid_field" otherwise.
  Resampler(int in_rate, int out_rate);
  // Appends to out the output samples that the input so far determines (out is not cleared).
  void process(const float* in, size_t n, std::vector<float>& out);
  // End of input (zeros assumed after it): appends the rest, so that the total output count is
  // ceil(inputs * out_rate / in_rate). The resampler can then be reset() or discarded.
  void flush(std::vector<float>& out);
  void reset();
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }
  uint64_t inputs() const { return in_total_; }
  uint64_t outputs() const { return out_total_; }
  // Filter taps per output sample (cost) and the number of stored phases (memory).
  int taps() const { return taps_; }
  int phases() const { return phases_; }

 private:
  void run(std::vector<float>& out, bool final);
  int in_rate_, out_rate_;
  bool passthrough_ = false;
  int taps_ = 0;               // 2 * half
  int half_ = 0;               // taps reach from center - half + 1 to center + half
  int phases_ = 0;
  bool exact_ = false;         // one phase per distinct output position (no interpolation)
  uint64_t step_int_ = 0, step_frac_ = 0;  // in_rate / out_rate as integer + fraction (of out_rate)
  uint32_t gcd_ = 1;
  std::vector<float> bank_;    // (phases_ + !exact_) * taps_
  std::vector<float> hist_;    // input samples from absolute index base_
  uint64_t base_ = 0;
  uint64_t pos_int_ = 0, pos_frac_ = 0;  // next output's input position: pos_int_ + pos_frac_/out
  uint64_t in_total_ = 0, out_total_ = 0;
};

// One-shot convenience.
std::vector<float> resample(const float* in, size_t n, int in_rate, int out_rate);

// ------------------------------------------------------------------------------------ loudness

struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;  // y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2
};
// The two BS.1770-4 K-weighting stages (high shelf, then high pass) for sample rate fs; at 48 kHz
// they equal the coefficients printed in the recommendation.
void k_weighting(double fs, Biquad& shelf, Biquad& highpass);

// BS.1770-4 channel weights: 1.0, except 0 for LFE and 1.41 for the surrounds (side channels, or
// the back pair when there is no side pair). mask 0 (no mask) with 6 channels is taken as 5.1 in
// the usual L R C LFE Ls Rs order; other counts without a mask weigh every channel 1.0.
std::vector<double> bs1770_channel_weights(int channels, uint32_t channel_mask);

struct LoudnessResult {
  bool has_loudness = false;      // false: silence, shorter than 400 ms, or all below -70 LUFS
  double integrated_lufs = 0;     // -inf when !has_loudness
  double relative_gate_lufs = 0;  // -inf when !has_loudness
  bool has_range = false;         // false: fewer than 2 gated 3 s short-term blocks
  double loudness_range_lu = 0;   // LRA (EBU Tech 3342), 0 when !has_range
  double momentary_max_lufs = 0;  // loudest 400 ms block, -inf when none
  double short_term_max_lufs = 0; // loudest 3 s block, -inf when none
  double sample_peak = 0;         // max |x| over all channels (linear)
  double true_peak = 0;           // max of the oversampled signal (linear, >= sample_peak)
  double sample_peak_dbfs = 0;    // 20 log10(sample_peak), -inf for digital silence
  double true_peak_dbtp = 0;
  uint64_t frames = 0;
  size_t blocks = 0;              // 400 ms blocks measured
  size_t gated_blocks = 0;        // blocks that passed both gates
};

class LoudnessMeter {
 public:
  // weights: one per channel (empty: bs1770_channel_weights(channels, channel_mask)).
  LoudnessMeter(int sample_rate, int channels, uint32_t channel_mask = 0,
                std::vector<double> weights = {});
  void add_interleaved(const float* x, size_t frames);
  void add_planar(const float* const* ch, size_t frames);
  // The measurement over everything added so far (callable any time, cheap relative to input).
  LoudnessResult result() const;
  // Momentary loudness (LUFS, -inf for silence) of each 400 ms block, one every 100 ms; block j
  // covers [j * 0.1 s, j * 0.1 s + 0.4 s).
  std::vector<double> momentary_lufs() const;

 private:
  void end_subblock();
  int rate_, channels_;
  std::vector<double> weights_;
  Biquad shelf_, hp_;
  std::vector<double> state_;    // per channel: shelf x1 x2 y1 y2, highpass y1 y2 (x = shelf y)
  uint64_t frames_ = 0;
  uint64_t sub_index_ = 0;       // current 100 ms sub-block
  uint64_t sub_end_ = 0;         // frame index where it ends
  uint64_t sub_start_ = 0;
  std::vector<double> sub_ch_e_; // per channel sum of squares in the current sub-block
  std::vector<double> sub_e_, sub_n_;  // the last 30 sub-blocks (ring): energy and length
  std::vector<double> momentary_;      // mean square of each 400 ms block
  std::vector<double> short_term_;     // mean square of each 3 s block
  // true peak
  template <class Src>
  void add_impl(const Src& src, size_t frames);
  int os_factor_ = 4, os_half_ = 0;
  std::vector<float> os_bank_;         // (os_factor_ - 1) phases * 2*os_half_ taps
  std::vector<std::vector<float>> os_hist_;  // per channel: the last 2*os_half_-1 samples, then new
  float sample_peak_ = 0, true_peak_ = 0;
};

// One-shot convenience over interleaved frames.
LoudnessResult measure_loudness(const float* interleaved, size_t frames, int channels,
                                int sample_rate, uint32_t channel_mask = 0);

}  // namespace tunesmith
