// WAV decoding (audio.h): a push parser over RIFF/RF64 chunks that keeps only the bytes not yet
// decoded, and the sample converters. Little-endian byte assembly everywhere (no host-order
// assumptions), IEEE-754 float bit patterns through memcpy.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "tunesmith/audio.h"
#include "tunesmith/error.h"

namespace tunesmith {
namespace {

constexpr uint32_t kMaxBufferedChunk = 64 * 1024;  // fmt / ds64 bodies are parsed from memory
constexpr size_t kFeedPiece = 256 * 1024;          // decode_wav*: bytes fed at a time

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t u64(const uint8_t* p) { return u32(p) | (static_cast<uint64_t>(u32(p + 4)) << 32); }
constexpr uint32_t fourcc(const char* s) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24);
}

std::string printable_id(uint32_t id) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((id >> (8 * i)) & 0xFF);
    s += (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}

// What a non-WAV file probably is, from its first bytes ("" when unknown).
std::string sniff(const uint8_t* p, size_t n) {
  auto starts = [&](const char* s, size_t at = 0) {
    size_t len = std::strlen(s);
    return n >= at + len && std::memcmp(p + at, s, len) == 0;
  };
  if (starts("ID3")) return "MP3";
  if (starts("fLaC")) return "FLAC";
  if (starts("OggS")) return "Ogg (Vorbis/Opus)";
  if (starts("FORM")) return "AIFF";
  if (starts("caff")) return "CAF";
  if (starts("RIFX")) return "big-endian RIFF (RIFX) WAV";
  if (starts("ftyp", 4)) return "MP4/M4A";
  if (n >= 4 && p[0] == 0x1A && p[1] == 0x45 && p[2] == 0xDF && p[3] == 0xA3) return "WebM/Matroska";
  if (n >= 2 && p[0] == 0xFF && (p[1] & 0xF6) == 0xF0) return "AAC (ADTS)";
  if (n >= 2 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0) return "MP3";
  return "";
}

std::string codec_name(uint16_t tag) {
  switch (tag) {
    case 0x0002: return "Microsoft ADPCM";
    case 0x0006: return "A-law";
    case 0x0007: return "mu-law";
    case 0x0011: return "IMA ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0050: return "MPEG audio";
    case 0x0055: return "MP3";
    case 0x00FF: return "AAC";
    case 0x1610: return "AAC (ADTS)";
    case 0x2000: return "AC-3";
    case 0x2001: return "DTS";
    case 0x674F: case 0x6750: case 0x6751: return "Vorbis";
    case 0x704F: return "Opus";
    case 0xF1AC: return "FLAC";
    default: return "";
  }
}

std::string hex4(uint32_t v) {
  const char* d = "0123456789ABCDEF";
  std::string s = "0x";
  for (int i = 3; i >= 0; --i) s += d[(v >> (4 * i)) & 0xF];
  return s;
}

// Decodes frames * channels samples; counts non-finite (replaced by 0) and full-scale samples.
void convert(const AudioFormat& f, const uint8_t* src, size_t samples, float* out, AudioStats& st) {
  uint64_t clipped = 0, bad = 0;
  switch (f.encoding) {
    case SampleEncoding::PcmU8:
      for (size_t i = 0; i < samples; ++i) {
        int v = static_cast<int>(src[i]) - 128;
        clipped += (v == -128 || v == 127);
        out[i] = static_cast<float>(v) * (1.0f / 128.0f);
      }
      break;
    case SampleEncoding::PcmS16:
      for (size_t i = 0; i < samples; ++i) {
        int v = static_cast<int16_t>(u16(src + 2 * i));
        clipped += (v == -32768 || v == 32767);
        out[i] = static_cast<float>(v) * (1.0f / 32768.0f);
      }
      break;
    case SampleEncoding::PcmS24:
      for (size_t i = 0; i < samples; ++i) {
        const uint8_t* p = src + 3 * i;
        uint32_t u = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                     (static_cast<uint32_t>(p[2]) << 16);
        int32_t v = static_cast<int32_t>(u << 8) >> 8;
        clipped += (v == -8388608 || v == 8388607);
        out[i] = static_cast<float>(v) * (1.0f / 8388608.0f);
      }
      break;
    case SampleEncoding::PcmS32:
      for (size_t i = 0; i < samples; ++i) {
        int32_t v = static_cast<int32_t>(u32(src + 4 * i));
        clipped += (v == std::numeric_limits<int32_t>::min() || v == std::numeric_limits<int32_t>::max());
        out[i] = static_cast<float>(static_cast<double>(v) * (1.0 / 2147483648.0));
      }
      break;
    case SampleEncoding::Float32:
      for (size_t i = 0; i < samples; ++i) {
        uint32_t u = u32(src + 4 * i);
        float v;
        std::memcpy(&v, &u, 4);
        if (!std::isfinite(v)) { v = 0; ++bad; }
        clipped += (std::fabs(v) >= 1.0f);
        out[i] = v;
      }
      break;
    case SampleEncoding::Float64:
      for (size_t i = 0; i < samples; ++i) {
        uint64_t u = u64(src + 8 * i);
        double d;
        std::memcpy(&d, &u, 8);
        // Out-of-range (and NaN) doubles: the float conversion would be undefined or infinite.
        bool ok = std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max());
        float v = ok ? static_cast<float>(d) : 0.0f;
        bad += !ok;
        clipped += (std::fabs(v) >= 1.0f);
        out[i] = v;
      }
      break;
  }
  st.clipped_samples += clipped;
  st.nonfinite_samples += bad;
}

}  // namespace

void mix_to_mono(const float* x, size_t frames, int channels, float* out) {
  if (channels == 1) {
    if (out != x) std::memcpy(out, x, frames * sizeof(float));
    return;
  }
  const float inv = 1.0f / static_cast<float>(channels);
  for (size_t i = 0; i < frames; ++i) {
    const float* f = x + i * static_cast<size_t>(channels);
    float s = 0;
    for (int c = 0; c < channels; ++c) s += f[c];
    out[i] = s * inv;
  }
}

// -------------------------------------------------------------------------------- WavDecoder

WavDecoder::WavDecoder() = default;

void WavDecoder::fail(const std::string& reason, const std::string& message) {
  Error e("invalid_audio", "wav: " + message, {{"reason", reason}});
  error_ = std::make_exception_ptr(e);
  throw e;
}

void WavDecoder::consume(size_t n) {
  pos_ += n;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
}

void WavDecoder::feed(const uint8_t* data, size_t size) {
  if (error_) std::rethrow_exception(error_);
  if (finished_) throw Error("invalid_field", "wav: feed() after finish()", {{"field", "audio"}});
  if (size == 0) return;
  total_fed_ += size;
  if (state_ == kAfterData) return;  // trailing chunks: not needed
  if (pos_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data, data + size);
  parse();
}

void WavDecoder::parse() {
  for (;;) {
    switch (state_) {
      case kRiff: {
        const uint8_t* p = buf_.data() + pos_;
        size_t n = avail();
        if (n >= 4) {
          uint32_t id = u32(p);
          if (id != fourcc("RIFF") && id != fourcc("RF64") && id != fourcc("BW64") && n >= 12) {
            std::string what = sniff(p, n);
            if (!what.empty())
              fail("not_riff", "this is " + what + ", not WAV; decode it in the browser (WebAudio) and pass the samples");
            fail("not_riff", "not a WAV file (no RIFF header)");
          }
        }
        if (n < 12) return;
        uint32_t id = u32(p);
        if (u32(p + 8) != fourcc("WAVE"))
          fail("not_wave", "a RIFF file of type '" + printable_id(u32(p + 8)) + "', not WAVE");
        rf64_ = id != fourcc("RIFF");
        format_.container = printable_id(id);
        uint32_t riff_size = u32(p + 4);
        riff_size_unset_ = riff_size == 0 || riff_size == 0xFFFFFFFFu;
        consume(12);
        state_ = kChunkHeader;
        break;
      }
      case kChunkHeader: {
        if (avail() < 8) return;
        const uint8_t* p = buf_.data() + pos_;
        chunk_id_ = u32(p);
        chunk_size_ = u32(p + 4);
        consume(8);
        if (chunk_id_ == fourcc("fmt ")) {
          if (have_fmt_) fail("bad_fmt", "two fmt chunks");
          if (chunk_size_ < 16)
            fail("truncated_fmt", "the fmt chunk is " + std::to_string(chunk_size_) + " bytes, needs at least 16");
          if (chunk_size_ > kMaxBufferedChunk) fail("chunk_too_large", "the fmt chunk is larger than 64 KiB");
          state_ = kChunkBody;
        } else if (chunk_id_ == fourcc("ds64") && rf64_) {
          if (chunk_size_ < 24) fail("truncated_header", "the ds64 chunk is shorter than 24 bytes");
          if (chunk_size_ > kMaxBufferedChunk) fail("chunk_too_large", "the ds64 chunk is larger than 64 KiB");
          state_ = kChunkBody;
        } else if (chunk_id_ == fourcc("data")) {
          if (!have_fmt_) fail("no_fmt", "the data chunk comes before any fmt chunk");
          if (rf64_ && chunk_size_ == 0xFFFFFFFFu && have_ds64_ && ds64_data_size_ > 0) {
            enter_data(ds64_data_size_, false);
          } else if (chunk_size_ == 0xFFFFFFFFu || (chunk_size_ == 0 && riff_size_unset_)) {
            enter_data(0, true);
          } else {
            enter_data(chunk_size_, false);
          }
          return;
        } else {
          chunk_left_ = static_cast<uint64_t>(chunk_size_) + (chunk_size_ & 1u);
          state_ = kSkip;
        }
        break;
      }
      case kChunkBody: {
        if (avail() < chunk_size_) return;
        const uint8_t* p = buf_.data() + pos_;
        if (chunk_id_ == fourcc("fmt ")) parse_fmt(p, chunk_size_);
        else parse_ds64(p, chunk_size_);
        consume(chunk_size_);
        chunk_left_ = chunk_size_ & 1u;
        state_ = kSkip;
        break;
      }
      case kSkip: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail(), chunk_left_));
        consume(n);
        chunk_left_ -= n;
        if (chunk_left_ > 0) return;
        state_ = kChunkHeader;
        break;
      }
      case kData:
      case kAfterData:
        return;
    }
  }
}

void WavDecoder::parse_ds64(const uint8_t* p, uint32_t) {
  ds64_data_size_ = u64(p + 8);
  have_ds64_ = true;
}

void WavDecoder::parse_fmt(const uint8_t* p, uint32_t size) {
  uint16_t tag = u16(p);
  uint32_t channels = u16(p + 2);
  uint32_t rate = u32(p + 4);
  uint32_t block_align = u16(p + 12);
  uint32_t bits = u16(p + 14);
  uint32_t valid = bits;
  uint16_t codec = tag;
  if (tag == 0xFFFE) {
    if (size < 40)
      fail("truncated_fmt", "the extensible fmt chunk is " + std::to_string(size) + " bytes, needs 40");
    valid = u16(p + 18);
    format_.channel_mask = u32(p + 20);
    format_.extensible = true;
    static const uint8_t kTail[12] = {0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    if (u16(p + 26) != 0 || std::memcmp(p + 28, kTail, 12) != 0)
      fail("unsupported_codec", "the extensible sub-format GUID is not a standard PCM or float one");
    codec = u16(p + 24);
    if (valid == 0) valid = bits;
  }
  if (channels == 0) fail("bad_fmt", "the fmt chunk says 0 channels");
  if (rate == 0) fail("bad_fmt", "the fmt chunk says a sample rate of 0");
  if (channels > 32) fail("bad_fmt", std::to_string(channels) + " channels (at most 32 supported)");
  if (rate < 1000 || rate > 384000)
    fail("bad_fmt", "sample rate " + std::to_string(rate) + " Hz is outside 1000..384000");
  if (codec != 1 && codec != 3) {
    std::string name = codec_name(codec);
    Error e("invalid_audio",
            "wav: " + (name.empty() ? "codec " + hex4(codec) : name + " in WAV (" + hex4(codec) + ")") +
                " is not supported; decode it in the browser (WebAudio) and pass the samples, or convert to PCM",
            {{"reason", "unsupported_codec"}, {"format_tag", codec}});
    error_ = std::make_exception_ptr(e);
    throw e;
  }
  if (bits == 0) fail("bad_fmt", "the fmt chunk says 0 bits per sample");
  if (valid > bits) fail("bad_fmt", "valid bits exceed the container's bits per sample");
  uint32_t bytes = (bits + 7) / 8;
  if (codec == 1) {
    if (bits > 32) fail("unsupported_codec", std::to_string(bits) + "-bit integer PCM is not supported");
    format_.encoding = bytes == 1 ? SampleEncoding::PcmU8
                     : bytes == 2 ? SampleEncoding::PcmS16
                     : bytes == 3 ? SampleEncoding::PcmS24
                                  : SampleEncoding::PcmS32;
  } else {
    if (bits != 32 && bits != 64)
      fail("unsupported_codec", std::to_string(bits) + "-bit float is not supported (32 or 64)");
    format_.encoding = bits == 32 ? SampleEncoding::Float32 : SampleEncoding::Float64;
  }
  if (block_align != channels * bytes)
    fail("block_align", "block align " + std::to_string(block_align) + " does not match " +
                            std::to_string(channels) + " channels x " + std::to_string(bytes) + " bytes");
  format_.sample_rate = static_cast<int>(rate);
  format_.channels = static_cast<int>(channels);
  format_.bits_per_sample = static_cast<int>(bytes * 8);
  format_.valid_bits = static_cast<int>(valid);
  format_.block_align = static_cast<int>(block_align);
  have_fmt_ = true;
}

void WavDecoder::enter_data(uint64_t size, bool to_end) {
  state_ = kData;
  data_to_end_ = to_end;
  data_left_ = size;
  format_.size_known = !to_end;
  format_.declared_frames = to_end ? 0 : size / static_cast<uint64_t>(format_.block_align);
  settle();
}

size_t WavDecoder::frames_available() const {
  if (state_ != kData) return 0;
  uint64_t bytes = avail();
  if (!data_to_end_) bytes = std::min(bytes, data_left_);
  return static_cast<size_t>(bytes / static_cast<uint64_t>(format_.block_align));
}

// End-of-data bookkeeping: a declared size reached, or the input ended.
void WavDecoder::settle() {
  if (state_ != kData) return;
  const uint64_t ba = static_cast<uint64_t>(format_.block_align);
  if (!data_to_end_ && data_left_ < ba && avail() >= data_left_) {
    stats_.partial_frame_bytes += static_cast<uint32_t>(data_left_);
    consume(static_cast<size_t>(data_left_));
    data_left_ = 0;
  }
  bool ended = !data_to_end_ && data_left_ == 0;
  if (!ended && finished_ && avail() < ba) {
    if (!data_to_end_ && data_left_ > avail()) stats_.truncated = true;
    stats_.partial_frame_bytes += static_cast<uint32_t>(avail());
    ended = true;
  }
  if (ended) {
    state_ = kAfterData;
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
  }
}

void WavDecoder::finish() {
  if (error_) std::rethrow_exception(error_);
  if (finished_) return;
  finished_ = true;
  if (state_ < kData) {
    if (total_fed_ == 0) fail("empty", "the file is empty");
    if (state_ == kRiff) {
      std::string what = sniff(buf_.data() + pos_, avail());
      if (!what.empty()) fail("not_riff", "this is " + what + ", not WAV; decode it in the browser (WebAudio) and pass the samples");
      if (avail() >= 4 && u32(buf_.data() + pos_) != fourcc("RIFF") && u32(buf_.data() + pos_) != fourcc("RF64") &&
          u32(buf_.data() + pos_) != fourcc("BW64"))
        fail("not_riff", "not a WAV file (no RIFF header)");
      fail("truncated_header", "the file ends inside the 12-byte RIFF header");
    }
    if (state_ == kChunkBody && chunk_id_ == fourcc("fmt "))
      fail("truncated_fmt", "the file ends inside the fmt chunk");
    if (state_ == kChunkBody && chunk_id_ == fourcc("ds64"))
      fail("truncated_header", "the file ends inside the ds64 chunk (" + std::to_string(total_fed_) + " bytes)");
    // Where the input stopped, so that a cut file does not read as a file without the chunk.
    std::string where;
    if (state_ == kChunkHeader && avail() > 0)
      where = " (the file ends inside a chunk header, after " + std::to_string(total_fed_) + " bytes)";
    else if (state_ == kSkip)
      where = " (the file ends inside a '" + printable_id(chunk_id_) + "' chunk of " + std::to_string(chunk_size_) +
              " bytes, after " + std::to_string(total_fed_) + " bytes)";
    if (!have_fmt_) fail("no_fmt", "no fmt chunk" + where);
    fail("no_data", "no data chunk" + where);
  }
  uint64_t whole = frames_available();
  settle();
  if (stats_.frames == 0 && whole == 0) fail("no_samples", "the data chunk holds no complete sample frame");
}

bool WavDecoder::done() const { return finished_ && state_ == kAfterData; }

size_t WavDecoder::read_interleaved(float* out, size_t max_frames) {
  if (error_) std::rethrow_exception(error_);
  size_t n = std::min(max_frames, frames_available());
  if (n == 0) {
    settle();
    return 0;
  }
  size_t bytes = n * static_cast<size_t>(format_.block_align);
  convert(format_, buf_.data() + pos_, n * static_cast<size_t>(format_.channels), out, stats_);
  consume(bytes);
  if (!data_to_end_) data_left_ -= bytes;
  stats_.frames += n;
  settle();
  return n;
}

size_t WavDecoder::read_mono(float* out, size_t max_frames) {
  if (format_.channels <= 1) return read_interleaved(out, max_frames);
  size_t want = std::min(max_frames, frames_available());
  scratch_.resize(want * static_cast<size_t>(format_.channels));
  size_t n = read_interleaved(scratch_.data(), want);
  mix_to_mono(scratch_.data(), n, format_.channels, out);
  return n;
}

size_t WavDecoder::read_planar(float* const* out, size_t max_frames) {
  size_t want = std::min(max_frames, frames_available());
  const size_t ch = static_cast<size_t>(std::max(format_.channels, 1));
  scratch_.resize(want * ch);
  size_t n = read_interleaved(scratch_.data(), want);
  for (size_t c = 0; c < ch && n; ++c)
    for (size_t i = 0; i < n; ++i) out[c][i] = scratch_[i * ch + c];
  return n;
}

size_t WavDecoder::read_interleaved(std::vector<float>& out, size_t max_frames) {
  size_t want = std::min(max_frames, frames_available());
  out.resize(want * static_cast<size_t>(std::max(format_.channels, 1)));
  size_t n = read_interleaved(out.data(), want);
  out.resize(n * static_cast<size_t>(std::max(format_.channels, 1)));
  return n;
}

size_t WavDecoder::read_mono(std::vector<float>& out, size_t max_frames) {
  size_t want = std::min(max_frames, frames_available());
  out.resize(want);
  size_t n = read_mono(out.data(), want);
  out.resize(n);
  return n;
}

// -------------------------------------------------------------------------------- one-shot

WavSummary decode_wav_blocks(const uint8_t* data, size_t size, size_t block_frames,
                             const std::function<void(const AudioBlock&)>& f) {
  if (block_frames == 0) throw Error("invalid_field", "wav: block_frames must be >= 1", {{"field", "block_frames"}});
  if (data == nullptr && size > 0) throw Error("invalid_field", "wav: null data", {{"field", "audio"}});
  WavDecoder dec;
  std::vector<float> inter, mono;
  uint64_t start = 0;
  auto emit = [&](size_t n) {
    n = dec.read_interleaved(inter, n);
    if (n == 0) return false;
    mono.resize(n);
    mix_to_mono(inter.data(), n, dec.format().channels, mono.data());
    AudioBlock b;
    b.format = &dec.format();
    b.interleaved = inter.data();
    b.mono = mono.data();
    b.frames = n;
    b.start_frame = start;
    start += n;
    f(b);
    return true;
  };
  for (size_t off = 0; off < size;) {
    size_t piece = std::min(size - off, kFeedPiece);
    dec.feed(data + off, piece);
    off += piece;
    while (dec.frames_available() >= block_frames) emit(block_frames);
  }
  dec.finish();
  while (emit(block_frames)) {}
  return {dec.format(), dec.stats()};
}

WavAudio decode_wav(const uint8_t* data, size_t size, uint64_t max_frames) {
  if (data == nullptr && size > 0) throw Error("invalid_field", "wav: null data", {{"field", "audio"}});
  WavDecoder dec;
  WavAudio a;
  auto too_long = [&]() {
    throw Error("invalid_audio", "wav: longer than " + std::to_string(max_frames) + " frames; stream it instead",
                {{"reason", "too_long"}});
  };
  bool reserved = false;
  auto drain = [&]() {
    if (!dec.ready()) return;
    if (!reserved) {
      reserved = true;
      uint64_t cap = size / static_cast<uint64_t>(dec.format().block_align);
      if (dec.format().size_known) cap = std::min(cap, dec.format().declared_frames);
      if (max_frames > 0) cap = std::min(cap, max_frames + 1);
      a.mono.reserve(static_cast<size_t>(cap));
    }
    for (;;) {
      size_t n = dec.frames_available();
      if (n == 0) break;
      size_t at = a.mono.size();
      if (max_frames > 0 && at + n > max_frames) too_long();
      a.mono.resize(at + n);
      dec.read_mono(a.mono.data() + at, n);
    }
  };
  for (size_t off = 0; off < size;) {
    size_t piece = std::min(size - off, kFeedPiece);
    dec.feed(data + off, piece);
    off += piece;
    drain();
  }
  dec.finish();
  drain();
  a.format = dec.format();
  a.stats = dec.stats();
  a.sample_rate = a.format.sample_rate;
  a.channels = a.format.channels;
  a.frames = a.mono.size();
  return a;
}

}  // namespace tunesmith
