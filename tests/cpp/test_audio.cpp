// audio.h: the WAV decoder (every format, built in memory; chunk layouts; streaming writers;
// corrupt and truncated files, each with its reason), the resampler (frequency, amplitude and
// phase kept, aliasing suppressed, block-size invariance) and the BS.1770-4 / EBU R128 loudness
// meter (EBU Tech 3341 / 3342 style cases, gating, silence, true peak).
#include "tunesmith/audio.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tunesmith/error.h"

using namespace tunesmith;

namespace {

constexpr double kPi = 3.14159265358979323846;

// ------------------------------------------------------------------------------ WAV builder

struct Spec {
  uint16_t tag = 1;         // 1 PCM, 3 float, 0xFFFE extensible, anything else
  uint16_t sub = 1;         // extensible sub-format
  int channels = 1;
  int rate = 48000;
  int bits = 16;
  int valid = 0;            // extensible valid bits (0: = bits)
  uint32_t mask = 0;
  int block_align = -1;     // -1: computed
  int64_t data_size = -1;   // -1: the real size
  int64_t riff_size = -1;   // -1: the real size
  std::string before_fmt, before_data, after_data;  // raw chunks
  std::string container = "RIFF";
};

void put16(std::string& s, uint32_t v) { s += char(v & 0xFF); s += char((v >> 8) & 0xFF); }
void put32(std::string& s, uint32_t v) { put16(s, v & 0xFFFF); put16(s, v >> 16); }
void put64(std::string& s, uint64_t v) { put32(s, uint32_t(v)); put32(s, uint32_t(v >> 32)); }

std::string chunk(const std::string& id, const std::string& body) {
  std::string s = id;
  put32(s, uint32_t(body.size()));
  s += body;
  if (body.size() & 1) s += '\0';
  return s;
}

std::string fmt_body(const Spec& sp) {
  int bytes = (sp.bits + 7) / 8;
  int ba = sp.block_align >= 0 ? sp.block_align : sp.channels * bytes;
  std::string f;
  put16(f, sp.tag);
  put16(f, uint32_t(sp.channels));
  put32(f, uint32_t(sp.rate));
  put32(f, uint32_t(sp.rate * ba));
  put16(f, uint32_t(ba));
  put16(f, uint32_t(sp.bits));
  if (sp.tag == 0xFFFE) {
    put16(f, 22);
    put16(f, uint32_t(sp.valid ? sp.valid : sp.bits));
    put32(f, sp.mask);
    put16(f, sp.sub);
    put16(f, 0);
    const uint8_t tail[12] = {0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    f.append(reinterpret_cast<const char*>(tail), 12);
  } else if (sp.tag == 3) {
    put16(f, 0);
  }
  return f;
}

// Encodes interleaved samples in [-1, 1] in the spec's format.
std::string encode(const Spec& sp, const std::vector<double>& x) {
  std::string d;
  bool is_float = sp.tag == 3 || (sp.tag == 0xFFFE && sp.sub == 3);
  for (double v : x) {
    if (is_float && sp.bits == 32) {
      float f = float(v);
      uint32_t u;
      std::memcpy(&u, &f, 4);
      put32(d, u);
    } else if (is_float) {
      uint64_t u;
      std::memcpy(&u, &v, 8);
      put64(d, u);
    } else if (sp.bits == 8) {
      long q = std::lround(v * 128) + 128;
      d += char(std::min(255L, std::max(0L, q)));
    } else {
      int bytes = (sp.bits + 7) / 8;
      double scale = std::ldexp(1.0, bytes * 8 - 1);
      long long q = std::llround(v * scale);
      q = std::min<long long>((1LL << (bytes * 8 - 1)) - 1, std::max<long long>(-(1LL << (bytes * 8 - 1)), q));
      for (int b = 0; b < bytes; ++b) d += char((uint64_t(q) >> (8 * b)) & 0xFF);
    }
  }
  return d;
}

std::string make_wav(const Spec& sp, const std::vector<double>& x) {
  std::string data = encode(sp, x);
  std::string body = "WAVE";
  bool rf64 = sp.container != "RIFF";
  if (rf64) {
    std::string ds;
    put64(ds, 0);  // riff size (unused by the reader)
    put64(ds, data.size());
    put64(ds, 0);
    put32(ds, 0);
    body += chunk("ds64", ds);
  }
  body += sp.before_fmt;
  body += chunk("fmt ", fmt_body(sp));
  body += sp.before_data;
  body += "data";
  put32(body, rf64 ? 0xFFFFFFFFu : uint32_t(sp.data_size >= 0 ? sp.data_size : int64_t(data.size())));
  body += data;
  if (data.size() & 1) body += '\0';
  body += sp.after_data;
  std::string s = sp.container;
  put32(s, rf64 ? 0xFFFFFFFFu : uint32_t(sp.riff_size >= 0 ? sp.riff_size : int64_t(body.size())));
  return s + body;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Values exactly representable in every format (multiples of 1/128 in [-1, 127/128]).
std::vector<double> exact_samples(size_t frames, int channels) {
  std::vector<double> x(frames * size_t(channels));
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) x[i * size_t(channels) + size_t(c)] = double(int((i * 7 + size_t(c) * 13 + 5) % 256) - 128) / 128.0;
  return x;
}

// Decodes all interleaved frames with the decoder fed in `piece`-byte pieces and read in
// `block`-frame blocks.
std::vector<float> stream_decode(const std::string& file, size_t piece, size_t block, WavDecoder& dec) {
  std::vector<float> all, part;
  for (size_t off = 0; off < file.size(); off += piece) {
    dec.feed(bytes(file) + off, std::min(piece, file.size() - off));
    while (dec.read_interleaved(part, block)) all.insert(all.end(), part.begin(), part.end());
  }
  dec.finish();
  while (dec.read_interleaved(part, block)) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// The reason of the invalid_audio error thrown by decoding the file ("" if none).
std::string reason(const std::string& file) {
  try {
    decode_wav(bytes(file), file.size());
  } catch (const Error& e) {
    EXPECT_EQ(e.code, "invalid_audio") << e.what();
    return e.details.value("reason", std::string("?"));
  }
  return "";
}
std::string message(const std::string& file) {
  try {
    decode_wav(bytes(file), file.size());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> sine(size_t n, double rate, double freq, double amp, double phase = 0) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(amp * std::sin(2 * kPi * freq * double(i) / rate + phase));
  return x;
}

// Interleaved copies of a mono signal.
std::vector<float> to_channels(const std::vector<float>& m, int channels) {
  std::vector<float> x(m.size() * size_t(channels));
  for (size_t i = 0; i < m.size(); ++i)
    for (int c = 0; c < channels; ++c) x[i * size_t(channels) + size_t(c)] = m[i];
  return x;
}

std::vector<float> concat(std::initializer_list<std::vector<float>> parts) {
  std::vector<float> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The error code thrown by f, "" if none.
template <class F>
std::string code_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code;
  }
  return "";
}

// dBFS of a sine's peak -> linear amplitude.
double amp(double dbfs) { return std::pow(10.0, dbfs / 20.0); }

}  // namespace

// ============================================================================== WAV decoding

TEST(AudioWav, EveryFormatRoundTripsExactly) {
  struct Fmt { uint16_t tag, sub; int bits, valid; SampleEncoding enc; };
  const Fmt fmts[] = {
      {1, 0, 8, 0, SampleEncoding::PcmU8},        {1, 0, 16, 0, SampleEncoding::PcmS16},
      {1, 0, 24, 0, SampleEncoding::PcmS24},      {1, 0, 32, 0, SampleEncoding::PcmS32},
      {3, 0, 32, 0, SampleEncoding::Float32},     {3, 0, 64, 0, SampleEncoding::Float64},
      {0xFFFE, 1, 16, 16, SampleEncoding::PcmS16}, {0xFFFE, 1, 24, 20, SampleEncoding::PcmS24},
      {0xFFFE, 1, 32, 24, SampleEncoding::PcmS32}, {0xFFFE, 3, 32, 32, SampleEncoding::Float32},
      {0xFFFE, 3, 64, 64, SampleEncoding::Float64}, {0xFFFE, 1, 8, 8, SampleEncoding::PcmU8},
  };
  for (const Fmt& f : fmts)
    for (int channels : {1, 2, 8})
      for (int rate : {8000, 44100, 192000}) {
        Spec sp;
        sp.tag = f.tag;
        sp.sub = f.sub;
        sp.bits = f.bits;
        sp.valid = f.valid;
        sp.channels = channels;
        sp.rate = rate;
        if (f.tag == 0xFFFE) sp.mask = channels == 8 ? 0x63F : channels == 2 ? 0x3 : 0x4;
        const size_t frames = 301;
        std::vector<double> x = exact_samples(frames, channels);
        std::string file = make_wav(sp, x);
        SCOPED_TRACE("tag " + std::to_string(f.tag) + " bits " + std::to_string(f.bits) + " ch " +
                     std::to_string(channels) + " rate " + std::to_string(rate));
        WavDecoder dec;
        std::vector<float> got = stream_decode(file, file.size(), 1000, dec);
        ASSERT_EQ(got.size(), x.size());
        for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(got[i], float(x[i])) << i;
        EXPECT_EQ(dec.format().encoding, f.enc);
        EXPECT_EQ(dec.format().channels, channels);
        EXPECT_EQ(dec.format().sample_rate, rate);
        EXPECT_EQ(dec.format().extensible, f.tag == 0xFFFE);
        EXPECT_EQ(dec.format().declared_frames, frames);
        EXPECT_TRUE(dec.format().size_known);
        EXPECT_TRUE(dec.done());
        EXPECT_EQ(dec.stats().frames, frames);
        EXPECT_FALSE(dec.stats().truncated);

        WavAudio a = decode_wav(bytes(file), file.size());
        ASSERT_EQ(a.frames, frames);
        EXPECT_EQ(a.sample_rate, rate);
        EXPECT_EQ(a.channels, channels);
        for (size_t i = 0; i < frames; ++i) {
          double m = 0;
          for (int c = 0; c < channels; ++c) m += x[i * size_t(channels) + size_t(c)];
          ASSERT_NEAR(a.mono[i], m / channels, 1e-6);
        }
      }
}

TEST(AudioWav, IntegerScaling) {
  // 8-bit is unsigned with 128 = 0; integers map to [-1, 1) by 2^(bits-1).
  Spec sp;
  sp.bits = 8;
  std::string f8 = make_wav(sp, {-1.0, 0.0, 127.0 / 128});
  WavAudio a = decode_wav(bytes(f8), f8.size());
  EXPECT_EQ(a.mono, (std::vector<float>{-1.0f, 0.0f, 127.0f / 128}));
  EXPECT_EQ(a.stats.clipped_samples, 2u);  // both extreme codes
  sp.bits = 24;
  std::string f24 = make_wav(sp, {-1.0, 0.5, 8388607.0 / 8388608});
  a = decode_wav(bytes(f24), f24.size());
  EXPECT_EQ(a.mono, (std::vector<float>{-1.0f, 0.5f, float(8388607.0 / 8388608)}));
  // 12-bit PCM (container 16 bits, left-justified) decodes as 16-bit.
  sp.bits = 12;
  std::string f12 = make_wav(sp, {0.25, -0.5});
  a = decode_wav(bytes(f12), f12.size());
  EXPECT_EQ(a.mono, (std::vector<float>{0.25f, -0.5f}));
  EXPECT_EQ(a.format.bits_per_sample, 16);
  EXPECT_EQ(a.format.valid_bits, 12);
}

TEST(AudioWav, StreamingEqualsOneShot) {
  Spec sp;
  sp.channels = 3;
  sp.bits = 24;
  sp.rate = 22050;
  sp.before_fmt = chunk("JUNK", std::string(7, 'j'));
  sp.before_data = chunk("LIST", std::string(13, 'l'));
  std::vector<double> x = exact_samples(5000, 3);
  std::string file = make_wav(sp, x);
  WavDecoder ref;
  std::vector<float> one = stream_decode(file, file.size(), 1 << 20, ref);
  ASSERT_EQ(one.size(), x.size());
  for (size_t piece : {size_t(1), size_t(2), size_t(3), size_t(7), size_t(64), size_t(4099)})
    for (size_t block : {size_t(1), size_t(5), size_t(1024)}) {
      WavDecoder dec;
      EXPECT_EQ(stream_decode(file, piece, block, dec), one) << piece << " " << block;
      EXPECT_EQ(dec.stats().frames, 5000u);
    }
  // Random pieces, mono and planar reads.
  std::mt19937 rng(5);
  WavDecoder dec;
  std::vector<float> mono, planar0, buf(3 * 997);
  std::vector<float> p0(997), p1(997), p2(997);
  float* planes[3] = {p0.data(), p1.data(), p2.data()};
  size_t off = 0;
  bool use_planar = false;
  auto drain = [&]() {
    for (;;) {
      size_t want = 1 + rng() % 997;
      if (use_planar) {
        size_t n = dec.read_planar(planes, want);
        if (!n) break;
        planar0.insert(planar0.end(), p0.begin(), p0.begin() + long(n));
        mono.insert(mono.end(), n, 0.0f);  // keep indices aligned
        for (size_t i = 0; i < n; ++i) mono[mono.size() - n + i] = (p0[i] + p1[i] + p2[i]) / 3.0f;
      } else {
        size_t n = dec.read_mono(buf.data(), want);
        if (!n) break;
        mono.insert(mono.end(), buf.begin(), buf.begin() + long(n));
        planar0.insert(planar0.end(), n, std::numeric_limits<float>::quiet_NaN());
      }
      use_planar = !use_planar;
    }
  };
  while (off < file.size()) {
    size_t n = std::min(file.size() - off, size_t(1 + rng() % 5000));
    dec.feed(bytes(file) + off, n);
    off += n;
    drain();
  }
  dec.finish();
  drain();
  WavAudio a = decode_wav(bytes(file), file.size());
  ASSERT_EQ(mono.size(), a.mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    ASSERT_FLOAT_EQ(mono[i], a.mono[i]) << i;
    if (!std::isnan(planar0[i])) {
      ASSERT_EQ(planar0[i], one[3 * i]) << i;
    }
  }
  // decode_wav_blocks: full blocks except the last, same mono and interleaved data.
  std::vector<float> inter, mono2;
  std::vector<size_t> sizes;
  uint64_t next = 0;
  WavSummary s = decode_wav_blocks(bytes(file), file.size(), 1000, [&](const AudioBlock& b) {
    EXPECT_EQ(b.start_frame, next);
    next += b.frames;
    sizes.push_back(b.frames);
    inter.insert(inter.end(), b.interleaved, b.interleaved + b.frames * 3);
    mono2.insert(mono2.end(), b.mono, b.mono + b.frames);
  });
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 1000, 1000, 1000}));
  EXPECT_EQ(inter, one);
  EXPECT_EQ(mono2, a.mono);
  EXPECT_EQ(s.stats.frames, 5000u);
  EXPECT_EQ(s.format.channels, 3);
}

TEST(AudioWav, ChunksAroundTheData) {
  Spec sp;
  sp.channels = 2;
  sp.before_fmt = chunk("LIST", std::string(5, 'a'));             // odd size + pad byte
  sp.before_data = chunk("fact", std::string(4, '\x10')) + chunk("bext", std::string(3, 'b'));
  sp.after_data = chunk("LIST", std::string(9, 'z'));             // must not be read as audio
  std::vector<double> x = exact_samples(100, 2);
  std::string file = make_wav(sp, x);
  WavAudio a = decode_wav(bytes(file), file.size());
  EXPECT_EQ(a.frames, 100u);
  EXPECT_EQ(a.stats.partial_frame_bytes, 0u);
  // An odd data size (mono 8-bit) is followed by a pad byte, then another chunk.
  Spec s8;
  s8.bits = 8;
  s8.after_data = chunk("LIST", "abc");
  std::string f8 = make_wav(s8, {0.5, -0.5, 0.25});
  a = decode_wav(bytes(f8), f8.size());
  EXPECT_EQ(a.mono, (std::vector<float>{0.5f, -0.5f, 0.25f}));
}

TEST(AudioWav, StreamingWritersAndTruncation) {
  std::vector<double> x = exact_samples(200, 2);
  Spec sp;
  sp.channels = 2;
  // Data size 0xFFFFFFFF: read to the end.
  sp.data_size = 0xFFFFFFFFLL;
  sp.riff_size = 0xFFFFFFFFLL;
  std::string f = make_wav(sp, x);
  WavAudio a = decode_wav(bytes(f), f.size());
  EXPECT_EQ(a.frames, 200u);
  EXPECT_FALSE(a.format.size_known);
  EXPECT_FALSE(a.stats.truncated);
  // Data size 0 with an unset RIFF size (some pipe writers): also to the end.
  sp.data_size = 0;
  sp.riff_size = 0;
  f = make_wav(sp, x);
  EXPECT_EQ(decode_wav(bytes(f), f.size()).frames, 200u);
  // Declared size larger than the file: what is there, flagged as truncated; the half frame at
  // the end is dropped and counted.
  sp = Spec();
  sp.channels = 2;
  sp.data_size = 800 * 4;
  f = make_wav(sp, x);
  f += "\x01\x02\x03";  // 3 bytes of a 4-byte frame
  a = decode_wav(bytes(f), f.size());
  EXPECT_EQ(a.frames, 200u);
  EXPECT_TRUE(a.stats.truncated);
  EXPECT_EQ(a.stats.partial_frame_bytes, 3u);
  EXPECT_EQ(a.format.declared_frames, 800u);
  // Data size not a multiple of the block align: the whole frames, the rest counted.
  sp = Spec();
  sp.channels = 2;
  sp.data_size = 10 * 4 + 2;
  f = make_wav(sp, x);
  a = decode_wav(bytes(f), f.size());
  EXPECT_EQ(a.frames, 10u);
  EXPECT_EQ(a.stats.partial_frame_bytes, 2u);
  EXPECT_FALSE(a.stats.truncated);
  // RF64 / BW64 with a ds64 chunk.
  for (const char* c : {"RF64", "BW64"}) {
    sp = Spec();
    sp.container = c;
    sp.channels = 2;
    sp.after_data = chunk("LIST", "xyz");
    f = make_wav(sp, x);
    a = decode_wav(bytes(f), f.size());
    EXPECT_EQ(a.frames, 200u) << c;
    EXPECT_EQ(a.format.container, c);
    EXPECT_TRUE(a.format.size_known);
  }
}

TEST(AudioWav, NonFiniteSamplesBecomeZero) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int bits : {32, 64}) {
    Spec sp;
    sp.tag = 3;
    sp.bits = bits;
    sp.channels = 2;
    std::string f = make_wav(sp, {0.5, nan, inf, -inf, 1.5, -0.25, bits == 64 ? 1e300 : 0.0, 0.0});
    WavDecoder dec;
    std::vector<float> got = stream_decode(f, 5, 2, dec);
    std::vector<float> want = {0.5f, 0, 0, 0, 1.5f, -0.25f, 0, 0};
    EXPECT_EQ(got, want);
    EXPECT_EQ(dec.stats().nonfinite_samples, bits == 64 ? 4u : 3u);
    EXPECT_EQ(dec.stats().clipped_samples, 1u);  // the 1.5
    WavAudio a = decode_wav(bytes(f), f.size());
    EXPECT_EQ(a.mono, (std::vector<float>{0.25f, 0.0f, 0.625f, 0.0f}));
  }
}

TEST(AudioWav, BadFilesNameTheirProblem) {
  Spec ok;
  std::string good = make_wav(ok, {0.1, 0.2});
  EXPECT_EQ(reason(good), "");
  EXPECT_EQ(reason(""), "empty");
  EXPECT_EQ(reason("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "not_riff");
  EXPECT_NE(message(std::string("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00", 13)).find("MP3"), std::string::npos);
  EXPECT_NE(message("fLaC\x00\x00\x00\x22 and more bytes").find("FLAC"), std::string::npos);
  EXPECT_NE(message(std::string("\x00\x00\x00\x20" "ftypM4A \x00\x00\x00\x00", 16)).find("MP4"), std::string::npos);
  EXPECT_EQ(reason("hello, this is not audio at all"), "not_riff");
  EXPECT_EQ(reason("RIF"), "truncated_header");
  EXPECT_EQ(reason("RIFF\x10\x00\x00\x00WA"), "truncated_header");
  EXPECT_EQ(reason(std::string("RIFF\x10\x00\x00\x00" "AVI LIST", 16)), "not_wave");
  // No fmt: only a LIST chunk, or data before fmt.
  std::string nofmt = std::string("RIFF\x00\x00\x00\x00WAVE", 12) + chunk("LIST", "abcd");
  EXPECT_EQ(reason(nofmt), "no_fmt");
  EXPECT_EQ(reason(std::string("RIFF\x00\x00\x00\x00WAVE", 12) + chunk("data", "abcd")), "no_fmt");
  // fmt shorter than 16 bytes; the file ending inside fmt.
  EXPECT_EQ(reason(std::string("RIFF\x00\x00\x00\x00WAVE", 12) + chunk("fmt ", fmt_body(ok).substr(0, 14))), "truncated_fmt");
  EXPECT_EQ(reason(good.substr(0, 12 + 8 + 10)), "truncated_fmt");
  // No data chunk (file ends after fmt, or after a trailing LIST).
  EXPECT_EQ(reason(good.substr(0, 12 + 8 + 16)), "no_data");
  EXPECT_EQ(reason(good.substr(0, 12 + 8 + 16) + chunk("LIST", "ab")), "no_data");
  // A data chunk without one whole frame.
  Spec empty_data;
  EXPECT_EQ(reason(make_wav(empty_data, {})), "no_samples");
  EXPECT_EQ(reason(good.substr(0, good.size() - 4)), "no_samples");  // header says 4 bytes, none follow
  // Zero or out-of-range channels and rates, bits.
  Spec s = ok;
  s.channels = 0;
  s.block_align = 2;
  EXPECT_EQ(reason(make_wav(s, {})), "bad_fmt");
  s = ok;
  s.rate = 0;
  EXPECT_EQ(reason(make_wav(s, {0.1})), "bad_fmt");
  s.rate = 500;
  EXPECT_EQ(reason(make_wav(s, {0.1})), "bad_fmt");
  s.rate = 400000;
  EXPECT_EQ(reason(make_wav(s, {0.1})), "bad_fmt");
  s = ok;
  s.channels = 33;
  EXPECT_EQ(reason(make_wav(s, std::vector<double>(33, 0.1))), "bad_fmt");
  s = ok;
  s.bits = 0;
  s.block_align = 2;
  EXPECT_EQ(reason(make_wav(s, {})), "bad_fmt");
  // Block align mismatch.
  s = ok;
  s.channels = 2;
  s.block_align = 2;
  EXPECT_EQ(reason(make_wav(s, {0.1, 0.2})), "block_align");
  // Codecs: named, with the tag.
  s = ok;
  s.tag = 0x55;
  std::string mp3 = make_wav(s, {0.1});
  EXPECT_EQ(reason(mp3), "unsupported_codec");
  EXPECT_NE(message(mp3).find("MP3 in WAV (0x0055) is not supported; decode it in the browser"), std::string::npos)
      << message(mp3);
  try {
    decode_wav(bytes(mp3), mp3.size());
  } catch (const Error& e) {
    EXPECT_EQ(e.details["format_tag"], 0x55);
  }
  s.tag = 0x11;
  EXPECT_NE(message(make_wav(s, {0.1})).find("IMA ADPCM"), std::string::npos);
  s.tag = 0x1234;
  EXPECT_NE(message(make_wav(s, {0.1})).find("codec 0x1234"), std::string::npos);
  s = ok;
  s.tag = 0xFFFE;
  s.sub = 0x55;
  EXPECT_EQ(reason(make_wav(s, {0.1})), "unsupported_codec");
  s = ok;
  s.tag = 3;
  s.bits = 16;
  EXPECT_EQ(reason(make_wav(s, {0.1})), "unsupported_codec");
  // Extensible fmt cut short.
  s = ok;
  s.tag = 0xFFFE;
  std::string ext = fmt_body(s).substr(0, 24);
  EXPECT_EQ(reason(std::string("RIFF\x00\x00\x00\x00WAVE", 12) + chunk("fmt ", ext) + chunk("data", "ab")), "truncated_fmt");
}

TEST(AudioWav, CutFilesSayWhereTheyEnd) {
  // A file cut short before its data: the reason is the missing chunk, and the message says the
  // file ended (inside a chunk header, or inside a skipped chunk), so a cut file does not read as a
  // file written without the chunk.
  Spec ok;
  const std::string good = make_wav(ok, {0.1, 0.2});
  for (size_t cut = 13; cut < 20; ++cut) {  // inside the fmt chunk's 8-byte header
    EXPECT_EQ(reason(good.substr(0, cut)), "no_fmt") << cut;
    EXPECT_NE(message(good.substr(0, cut)).find("ends inside a chunk header, after " + std::to_string(cut) + " bytes"), std::string::npos)
        << message(good.substr(0, cut));
  }
  EXPECT_EQ(message(good.substr(0, 12)), "wav: no fmt chunk");  // nothing after the RIFF header
  const size_t data_at = 12 + 8 + 16;
  EXPECT_EQ(reason(good.substr(0, data_at + 5)), "no_data");
  EXPECT_NE(message(good.substr(0, data_at + 5)).find("ends inside a chunk header"), std::string::npos);
  EXPECT_EQ(message(good.substr(0, data_at)), "wav: no data chunk");
  // A LIST chunk whose size runs past the end of the file, before the data.
  Spec list = ok;
  list.before_data = "LIST" + std::string("\x00\x00\x10\x00", 4) + "INFO";
  const std::string f = make_wav(list, {0.1, 0.2});
  EXPECT_EQ(reason(f), "no_data");
  EXPECT_NE(message(f).find("ends inside a 'LIST' chunk of 1048576 bytes"), std::string::npos) << message(f);
  // RF64 cut inside its ds64 chunk: the header is truncated (it used to say "no fmt chunk").
  Spec rf = ok;
  rf.container = "RF64";
  const std::string r = make_wav(rf, {0.1, 0.2});
  for (size_t cut : {size_t(21), size_t(30), size_t(12 + 8 + 27)}) {
    EXPECT_EQ(reason(r.substr(0, cut)), "truncated_header") << cut;
    EXPECT_NE(message(r.substr(0, cut)).find("ends inside the ds64 chunk"), std::string::npos) << message(r.substr(0, cut));
  }
  // Streamed in pieces, the same answers.
  WavDecoder dec;
  for (size_t i = 0; i < 30; ++i) dec.feed(bytes(r) + i, 1);
  EXPECT_EQ(code_of([&] { dec.finish(); }), "invalid_audio");
}

TEST(AudioWav, ErrorsComeEarlyAndStick) {
  Spec s;
  s.tag = 0x55;
  std::string mp3 = make_wav(s, std::vector<double>(1000, 0.1));
  WavDecoder dec;
  // The error is thrown by the feed that completes the fmt chunk, long before the end.
  bool thrown = false;
  size_t off = 0;
  for (; off < mp3.size() && !thrown; off += 8) {
    try {
      dec.feed(bytes(mp3) + off, std::min<size_t>(8, mp3.size() - off));
    } catch (const Error& e) {
      thrown = true;
      EXPECT_EQ(e.details["reason"], "unsupported_codec");
    }
  }
  EXPECT_TRUE(thrown);
  EXPECT_LE(off, 12u + 8 + 16 + 8);
  EXPECT_EQ(code_of([&] { dec.feed(bytes(mp3), 4); }), "invalid_audio");
  std::vector<float> out;
  EXPECT_EQ(code_of([&] { dec.read_mono(out, 10); }), "invalid_audio");
  EXPECT_EQ(code_of([&] { dec.finish(); }), "invalid_audio");
  // max_frames guard and bad arguments.
  Spec ok;
  std::string f = make_wav(ok, std::vector<double>(1000, 0.1));
  EXPECT_EQ(decode_wav(bytes(f), f.size(), 1000).frames, 1000u);
  EXPECT_EQ(code_of([&] { decode_wav(bytes(f), f.size(), 999); }), "invalid_audio");
  EXPECT_EQ(code_of([&] { decode_wav_blocks(bytes(f), f.size(), 0, [](const AudioBlock&) {}); }), "invalid_field");
  WavDecoder d2;
  d2.feed(bytes(f), f.size());
  d2.finish();
  EXPECT_EQ(code_of([&] { d2.feed(bytes(f), 1); }), "invalid_field");
}

TEST(AudioWav, RandomCorruptionNeverCrashes) {
  // Byte flips, truncations and random chunk sizes over valid files of several formats: each
  // decode either succeeds or throws invalid_audio; nothing else escapes.
  std::mt19937 rng(17);
  std::vector<std::string> seeds;
  for (uint16_t tag : {uint16_t(1), uint16_t(3), uint16_t(0xFFFE)}) {
    Spec sp;
    sp.tag = tag;
    sp.bits = tag == 1 ? 24 : 32;
    sp.sub = 1;
    sp.channels = 2;
    sp.before_data = chunk("LIST", "abcde");
    seeds.push_back(make_wav(sp, exact_samples(64, 2)));
  }
  int ok = 0, bad = 0;
  for (int it = 0; it < 6000; ++it) {
    std::string f = seeds[size_t(it) % seeds.size()];
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) f[rng() % std::min<size_t>(f.size(), 80)] = char(rng() & 0xFF);
    if (rng() % 3 == 0) f.resize(rng() % f.size());
    try {
      WavDecoder dec;
      size_t piece = 1 + rng() % 64;
      stream_decode(f, piece, 1 + rng() % 50, dec);
      ++ok;
    } catch (const Error& e) {
      ASSERT_EQ(e.code, "invalid_audio") << e.what();
      ++bad;
    }
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(bad, 100);
}

// ============================================================================== resampling

namespace {

// Least-squares amplitude of a sine at freq (Hz) in x[from, to) sampled at rate.
double fit_amplitude(const std::vector<float>& x, size_t from, size_t to, double rate, double freq) {
  double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (size_t i = from; i < to; ++i) {
    double w = 2 * kPi * freq * double(i) / rate;
    double s = std::sin(w), c = std::cos(w);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  double det = ss * cc - sc * sc;
  double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  return std::sqrt(a * a + b * b);
}

double rms(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / double(to - from));
}

}  // namespace

TEST(AudioResample, SineKeepsFrequencyAmplitudeAndPhase) {
  struct Pair { int in, out; double freq; };
  const Pair pairs[] = {{44100, 22050, 1000}, {48000, 22050, 1000}, {8000, 22050, 1000},
                        {192000, 16000, 1000}, {44100, 16000, 440}, {96000, 22050, 3000},
                        {11025, 16000, 2500}, {44101, 22050, 1000}, {22050, 44100, 5000},
                        {16000, 16000, 1000}, {8000, 16000, 3000}};
  for (const Pair& p : pairs) {
    SCOPED_TRACE(std::to_string(p.in) + " -> " + std::to_string(p.out));
    std::vector<float> x = sine(size_t(p.in), p.in, p.freq, 0.5);  // 1 s
    std::vector<float> y = resample(x.data(), x.size(), p.in, p.out);
    // Zero delay: output sample m is input time m * in / out, so the same sine, same phase.
    ASSERT_EQ(y.size(), size_t(p.out));
    double worst = 0;
    for (size_t m = 100; m + 100 < y.size(); ++m)
      worst = std::max(worst, std::fabs(y[m] - 0.5 * std::sin(2 * kPi * p.freq * double(m) / p.out)));
    EXPECT_LT(worst, 5e-4);  // -60 dB of the amplitude: frequency, amplitude and phase all kept
  }
  Resampler odd(44101, 22050);
  EXPECT_EQ(odd.phases(), 512);  // 22050 distinct phases: interpolated bank
  Resampler usual(48000, 22050);
  EXPECT_EQ(usual.phases(), 147);
  EXPECT_EQ(usual.taps(), 2 * 70);
}

TEST(AudioResample, PassbandFlatAndAliasingSuppressed) {
  // Passband: up to 0.42 of the lower rate within 0.01 dB.
  for (auto [in, out] : {std::pair<int, int>{44100, 22050}, {48000, 16000}, {192000, 22050}, {8000, 22050}}) {
    int low = std::min(in, out);
    for (double f : {0.05, 0.2, 0.3, 0.42}) {
      std::vector<float> x = sine(size_t(in), in, f * low, 0.5);
      std::vector<float> y = resample(x.data(), x.size(), in, out);
      double a = fit_amplitude(y, 200, y.size() - 200, out, f * low);
      EXPECT_NEAR(20 * std::log10(a / 0.5), 0.0, 0.01) << in << "->" << out << " f " << f * low;
    }
  }
  // Stopband: tones above the output's Nyquist frequency, which would fold back into the band,
  // come out at least 60 dB down (the design gives ~75 dB).
  struct Case { int in, out; double freq; };
  const Case cases[] = {{44100, 22050, 11025 * 1.02}, {44100, 22050, 15000}, {44100, 22050, 21000},
                        {48000, 16000, 9000},         {48000, 16000, 20000}, {192000, 16000, 50000},
                        {96000, 22050, 12000},        {44101, 22050, 15000}, {44100, 16000, 8100}};
  for (const Case& c : cases) {
    std::vector<float> x = sine(size_t(c.in), c.in, c.freq, 1.0);
    std::vector<float> y = resample(x.data(), x.size(), c.in, c.out);
    double r = rms(y, 200, y.size() - 200) / std::sqrt(0.5);
    EXPECT_LT(20 * std::log10(r), -60.0) << c.in << "->" << c.out << " at " << c.freq << " Hz";
  }
}

TEST(AudioResample, StreamingEqualsOneShot) {
  std::mt19937 rng(11);
  std::vector<float> x(30011);
  std::normal_distribution<float> g(0.0f, 0.3f);
  for (float& v : x) v = g(rng);
  for (auto [in, out] : {std::pair<int, int>{44100, 22050}, {48000, 22050}, {8000, 22050}, {44101, 16000},
                         {192000, 16000}, {22050, 22050}}) {
    std::vector<float> one = resample(x.data(), x.size(), in, out);
    uint64_t expect = (uint64_t(x.size()) * uint64_t(out) + uint64_t(in) - 1) / uint64_t(in);
    EXPECT_EQ(one.size(), expect);
    for (size_t maxblock : {size_t(1), size_t(17), size_t(4096)}) {
      Resampler r(in, out);
      std::vector<float> y;
      for (size_t off = 0; off < x.size();) {
        size_t n = std::min(x.size() - off, size_t(1 + rng() % maxblock));
        r.process(x.data() + off, n, y);
        off += n;
      }
      r.flush(y);
      EXPECT_EQ(y, one) << in << "->" << out << " blocks up to " << maxblock;  // bit-identical
      EXPECT_EQ(r.outputs(), expect);
      EXPECT_EQ(r.inputs(), x.size());
      r.reset();
      std::vector<float> z;
      r.process(x.data(), x.size(), z);
      r.flush(z);
      EXPECT_EQ(z, one);
    }
  }
  std::vector<float> same = resample(x.data(), x.size(), 22050, 22050);
  EXPECT_EQ(same, x);
}

TEST(AudioResample, BadRates) {
  EXPECT_EQ(code_of([] { Resampler r(0, 22050); }), "invalid_field");
  EXPECT_EQ(code_of([] { Resampler r(44100, 999); }), "invalid_field");
  EXPECT_EQ(code_of([] { Resampler r(384000, 4000); }), "invalid_field");  // ratio 96
  EXPECT_EQ(code_of([] { Resampler r(384000, 8000); }), "");               // ratio 48
  std::vector<float> y = resample(nullptr, 0, 44100, 22050);
  EXPECT_TRUE(y.empty());
}

// ============================================================================== loudness

namespace {

// |H(f)| of the K-weighting cascade, evaluated from the biquad coefficients.
double k_gain_db(double fs, double f) {
  Biquad a, b;
  k_weighting(fs, a, b);
  auto mag2 = [&](const Biquad& q) {
    double w = 2 * kPi * f / fs;
    double nr = q.b0 + q.b1 * std::cos(w) + q.b2 * std::cos(2 * w), ni = -q.b1 * std::sin(w) - q.b2 * std::sin(2 * w);
    double dr = 1 + q.a1 * std::cos(w) + q.a2 * std::cos(2 * w), di = -q.a1 * std::sin(w) - q.a2 * std::sin(2 * w);
    return (nr * nr + ni * ni) / (dr * dr + di * di);
  };
  return 10 * std::log10(mag2(a) * mag2(b));
}

LoudnessResult measure_stereo(const std::vector<float>& mono, int rate) {
  std::vector<float> st = to_channels(mono, 2);
  return measure_loudness(st.data(), mono.size(), 2, rate);
}

std::vector<float> tone(double seconds, double dbfs, int rate = 48000, double freq = 1000) {
  return sine(size_t(std::lround(seconds * rate)), rate, freq, amp(dbfs));
}

}  // namespace

TEST(AudioLoudness, KWeightingMatchesTheRecommendation) {
  Biquad shelf, hp;
  k_weighting(48000, shelf, hp);
  // BS.1770-4 Table 1 and Table 2 (48 kHz).
  EXPECT_NEAR(shelf.b0, 1.53512485958697, 1e-9);
  EXPECT_NEAR(shelf.b1, -2.69169618940638, 1e-9);
  EXPECT_NEAR(shelf.b2, 1.19839281085285, 1e-9);
  EXPECT_NEAR(shelf.a1, -1.69065929318241, 1e-9);
  EXPECT_NEAR(shelf.a2, 0.73248077421585, 1e-9);
  EXPECT_EQ(hp.b0, 1.0);
  EXPECT_EQ(hp.b1, -2.0);
  EXPECT_EQ(hp.b2, 1.0);
  EXPECT_NEAR(hp.a1, -1.99004745483398, 1e-9);
  EXPECT_NEAR(hp.a2, 0.99007225036621, 1e-9);
  // Other rates: the same analogue prototype through the bilinear transform (prewarped at the
  // corner frequencies). The 48 kHz filter is itself slightly warped, so responses differ by a few
  // hundredths of a dB (0.017 dB at 1 kHz for 96 kHz, 0.027 dB for 192 kHz): far inside the
  // +-0.1 LU that Tech 3341 allows.
  for (double fs : {32000.0, 44100.0, 96000.0, 192000.0}) {
    EXPECT_NEAR(k_gain_db(fs, 1000), k_gain_db(48000, 1000), 0.05) << fs;
    EXPECT_NEAR(k_gain_db(fs, 100), k_gain_db(48000, 100), 0.05) << fs;
    EXPECT_NEAR(k_gain_db(fs, 8000), k_gain_db(48000, 8000), 0.1) << fs;
    EXPECT_NEAR(k_gain_db(fs, 20), k_gain_db(48000, 20), 0.1) << fs;
  }
  EXPECT_NEAR(k_gain_db(48000, 10000), 4.0, 0.1);  // the shelf
  EXPECT_LT(k_gain_db(48000, 20), -10.0);          // the high pass
}

TEST(AudioLoudness, Tech3341SteadyTones) {
  // EBU Tech 3341 cases 1 and 2: stereo 1 kHz sine, -23 / -33 dBFS per channel, 20 s:
  // -23.0 / -33.0 LUFS +-0.1. (A 1 kHz sine's K-weighted gain, ~+0.69 dB, is what the -0.691
  // constant cancels.)
  for (int rate : {48000, 44100, 96000}) {
    LoudnessResult r = measure_stereo(tone(20, -23, rate), rate);
    ASSERT_TRUE(r.has_loudness);
    EXPECT_NEAR(r.integrated_lufs, -23.0, 0.1) << rate;
    EXPECT_NEAR(r.momentary_max_lufs, -23.0, 0.1) << rate;
    EXPECT_NEAR(r.short_term_max_lufs, -23.0, 0.1) << rate;
    EXPECT_NEAR(r.loudness_range_lu, 0.0, 0.1) << rate;
    r = measure_stereo(tone(20, -33, rate), rate);
    EXPECT_NEAR(r.integrated_lufs, -33.0, 0.1) << rate;
  }
}

TEST(AudioLoudness, MonoSineFollowsTheFormula) {
  // One channel with weight 1.0 (BS.1770 as written; no "dual mono" +3 dB): for a sine of peak A
  // the K-weighted mean square is A^2 / 2 * |K(1 kHz)|^2, so
  //   L = -0.691 + 20 log10 A - 3.0103 + 20 log10 |K(1 kHz)|
  // and since 20 log10 |K(1 kHz)| ~= 0.691, a -20 dBFS mono sine reads ~ -23.01 LUFS.
  LoudnessResult r = measure_loudness(tone(10, -20).data(), 480000, 1, 48000);
  double expected = -0.691 - 20.0 + 10 * std::log10(0.5) + k_gain_db(48000, 1000);
  EXPECT_NEAR(r.integrated_lufs, expected, 0.01);
  EXPECT_NEAR(r.integrated_lufs, -23.01, 0.05);
  EXPECT_NEAR(k_gain_db(48000, 1000), 0.691, 0.01);
  EXPECT_NEAR(r.sample_peak_dbfs, -20.0, 0.01);
}

TEST(AudioLoudness, Tech3341Gating) {
  // Case 3: -36 / -23 / -36 dBFS for 10 / 60 / 10 s: the relative gate (-33 LUFS) drops the quiet
  // parts: -23.0 +-0.1.
  LoudnessResult r = measure_stereo(concat({tone(10, -36), tone(60, -23), tone(10, -36)}), 48000);
  EXPECT_NEAR(r.integrated_lufs, -23.0, 0.1);
  // The gate: 10 LU under the mean of all blocks above -70 LUFS (60 s at -23, 20 s at -36).
  EXPECT_NEAR(r.relative_gate_lufs, -23.0 + 10 * std::log10((60 + 20 * std::pow(10, -1.3)) / 80) - 10, 0.05);
  // Case 4: -72 / -36 / -23 / -36 / -72 dBFS, 10 / 10 / 60 / 10 / 10 s: -23.0 +-0.1 (the -72 parts
  // fall under the absolute gate).
  r = measure_stereo(concat({tone(10, -72), tone(10, -36), tone(60, -23), tone(10, -36), tone(10, -72)}), 48000);
  EXPECT_NEAR(r.integrated_lufs, -23.0, 0.1);
  // Case 5: -26 / -20 / -26 dBFS for 20 / 20.1 / 20 s: -23.0 +-0.1 (no block is gated: the mean).
  r = measure_stereo(concat({tone(20, -26), tone(20.1, -20), tone(20, -26)}), 48000);
  EXPECT_NEAR(r.integrated_lufs, -23.0, 0.1);
  // A loud part and a very quiet one: the quiet part changes nothing.
  // A loud part and a very quiet one: the quiet blocks (-60 LUFS, above the absolute gate) fall
  // under the relative gate; only the 3 blocks straddling the change (partly loud, so above the
  // gate) pull the result down a little. Ungated, the mean would read ~ -24.8 LUFS.
  LoudnessResult loud = measure_stereo(tone(10, -20), 48000);
  LoudnessResult both = measure_stereo(concat({tone(10, -20), tone(20, -60)}), 48000);
  EXPECT_NEAR(both.integrated_lufs, loud.integrated_lufs, 0.1);
  EXPECT_EQ(both.gated_blocks, loud.blocks + 3);
  EXPECT_EQ(both.blocks, 297u);
  double all = 0;
  LoudnessMeter m(48000, 2);
  std::vector<float> st = to_channels(concat({tone(10, -20), tone(20, -60)}), 2);
  m.add_interleaved(st.data(), st.size() / 2);
  for (double l : m.momentary_lufs()) all += std::pow(10, (l + 0.691) / 10);
  EXPECT_LT(-0.691 + 10 * std::log10(all / 297), both.integrated_lufs - 4.0);
}

TEST(AudioLoudness, Tech3342LoudnessRange) {
  // Tech 3342 cases 1-3: stereo 1 kHz, 20 s at one level then 20 s at another: LRA 10 / 5 / 20 LU
  // (+-1).
  struct Case { double a, b, lra; };
  for (const Case& c : {Case{-20, -30, 10}, Case{-20, -15, 5}, Case{-40, -20, 20}}) {
    LoudnessResult r = measure_stereo(concat({tone(20, c.a), tone(20, c.b)}), 48000);
    ASSERT_TRUE(r.has_range);
    EXPECT_NEAR(r.loudness_range_lu, c.lra, 1.0) << c.a << " " << c.b;
  }
  // Case 4 (levels -50 -35 -20 -35 -50, 20 s each): 15 LU; the -50 parts fall under the -20 LU
  // relative gate.
  LoudnessResult r = measure_stereo(concat({tone(20, -50), tone(20, -35), tone(20, -20), tone(20, -35), tone(20, -50)}), 48000);
  EXPECT_NEAR(r.loudness_range_lu, 15, 1.0);
  // Under 3 s: no range.
  r = measure_stereo(tone(2.5, -20), 48000);
  EXPECT_FALSE(r.has_range);
  EXPECT_TRUE(r.has_loudness);
}

TEST(AudioLoudness, SilenceAndTooShortHaveNoLoudness) {
  std::vector<float> zeros(2 * 48000 * 5, 0.0f);
  LoudnessResult r = measure_loudness(zeros.data(), 48000 * 5, 2, 48000);
  EXPECT_FALSE(r.has_loudness);
  EXPECT_TRUE(std::isinf(r.integrated_lufs) && r.integrated_lufs < 0);
  EXPECT_FALSE(r.has_range);
  EXPECT_EQ(r.blocks, 47u);  // (5 s - 0.4 s) / 0.1 s + 1
  EXPECT_EQ(r.gated_blocks, 0u);
  EXPECT_TRUE(std::isinf(r.sample_peak_dbfs) && r.sample_peak_dbfs < 0);
  EXPECT_TRUE(std::isinf(r.true_peak_dbtp) && r.true_peak_dbtp < 0);
  // Everything under the absolute gate: no loudness, but the peaks are there.
  r = measure_stereo(tone(5, -80), 48000);
  EXPECT_FALSE(r.has_loudness);
  EXPECT_NEAR(r.sample_peak_dbfs, -80, 0.01);
  // 300 ms: no complete 400 ms block.
  r = measure_stereo(tone(0.3, -20), 48000);
  EXPECT_EQ(r.blocks, 0u);
  EXPECT_FALSE(r.has_loudness);
  EXPECT_EQ(r.frames, 14400u);
  LoudnessMeter m(48000, 1);
  EXPECT_FALSE(m.result().has_loudness);
  EXPECT_EQ(m.result().frames, 0u);
}

TEST(AudioLoudness, TruePeakAboveSamplePeak) {
  // fs/4 sine at 45 degrees: every sample is +-0.7071 (-3.01 dBFS) but the waveform peaks at 1.0
  // halfway between samples: 0 dBTP.
  // (Faded in and out over 10 ms: an abrupt start or end rings above the amplitude, truly.)
  auto fade = [](std::vector<float>& v, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      float g = float(0.5 - 0.5 * std::cos(kPi * double(i) / double(n)));
      v[i] *= g;
      v[v.size() - 1 - i] *= g;
    }
  };
  std::vector<float> x(48000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(kPi / 2 * double(i) + kPi / 4));
  fade(x, 480);
  LoudnessResult r = measure_stereo(x, 48000);
  EXPECT_NEAR(r.sample_peak_dbfs, -3.01, 0.01);
  EXPECT_NEAR(r.true_peak_dbtp, 0.0, 0.1);
  // Near Nyquist (19 kHz at 44.1 kHz, 0.43 fs), random phase: the true peak still finds the
  // amplitude (within 0.2 dB) although the samples miss it.
  for (double ph : {0.1, 0.7, 1.3}) {
    std::vector<float> y = sine(44100, 44100, 19000, 0.5, ph);
    fade(y, 441);
    LoudnessResult q = measure_loudness(y.data(), y.size(), 1, 44100);
    EXPECT_NEAR(q.true_peak_dbtp, 20 * std::log10(0.5), 0.2) << ph;
    EXPECT_GE(q.true_peak, q.sample_peak);
  }
  // 1 kHz: true peak == the sine's peak; sample peak just under.
  r = measure_stereo(tone(1, -6), 48000);
  EXPECT_NEAR(r.true_peak_dbtp, -6, 0.01);
  EXPECT_NEAR(r.sample_peak_dbfs, -6, 0.01);
  // 96 kHz (2x oversampling) and 192 kHz (none): still sensible.
  r = measure_stereo(tone(1, -6, 96000, 1000), 96000);
  EXPECT_NEAR(r.true_peak_dbtp, -6, 0.01);
  r = measure_stereo(tone(1, -6, 192000, 1000), 192000);
  EXPECT_NEAR(r.true_peak_dbtp, -6, 0.01);
  // A single full-scale click at the very end: the tail is measured too.
  std::vector<float> click(4800, 0.0f);
  click.back() = 1.0f;
  r = measure_loudness(click.data(), click.size(), 1, 48000);
  EXPECT_NEAR(r.sample_peak, 1.0, 1e-9);
  EXPECT_GE(r.true_peak, 1.0);
}

TEST(AudioLoudness, BlockSizesPlanarAndChannelWeights) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 0.1f);
  const int ch = 6;
  std::vector<float> x(size_t(ch) * 44100 * 5);
  for (float& v : x) v = g(rng);
  LoudnessMeter one(44100, ch);
  one.add_interleaved(x.data(), x.size() / ch);
  LoudnessMeter pieces(44100, ch);
  for (size_t off = 0; off < x.size() / ch;) {
    size_t n = std::min(x.size() / ch - off, size_t(1 + rng() % 9000));
    pieces.add_interleaved(x.data() + off * ch, n);
    off += n;
  }
  std::vector<std::vector<float>> planes(ch, std::vector<float>(x.size() / ch));
  for (size_t i = 0; i < x.size() / ch; ++i)
    for (int c = 0; c < ch; ++c) planes[size_t(c)][i] = x[i * ch + size_t(c)];
  std::vector<const float*> ptr;
  for (auto& p : planes) ptr.push_back(p.data());
  LoudnessMeter planar(44100, ch);
  planar.add_planar(ptr.data(), x.size() / ch);
  LoudnessResult a = one.result(), b = pieces.result(), c = planar.result();
  EXPECT_EQ(a.integrated_lufs, b.integrated_lufs);  // exactly: same accumulation order
  EXPECT_EQ(a.integrated_lufs, c.integrated_lufs);
  EXPECT_EQ(a.true_peak, b.true_peak);
  EXPECT_EQ(a.loudness_range_lu, b.loudness_range_lu);
  EXPECT_EQ(one.momentary_lufs(), pieces.momentary_lufs());
  EXPECT_EQ(one.momentary_lufs().size(), a.blocks);

  // Weights: 5.1 without a mask; masks for 5.1 (back and side) and 7.1.
  EXPECT_EQ(bs1770_channel_weights(6, 0), (std::vector<double>{1, 1, 1, 0, 1.41, 1.41}));
  EXPECT_EQ(bs1770_channel_weights(6, 0x3F), (std::vector<double>{1, 1, 1, 0, 1.41, 1.41}));
  EXPECT_EQ(bs1770_channel_weights(6, 0x60F), (std::vector<double>{1, 1, 1, 0, 1.41, 1.41}));
  EXPECT_EQ(bs1770_channel_weights(8, 0x63F), (std::vector<double>{1, 1, 1, 0, 1, 1, 1.41, 1.41}));
  EXPECT_EQ(bs1770_channel_weights(2, 0), (std::vector<double>{1, 1}));
  EXPECT_EQ(bs1770_channel_weights(3, 0x3), (std::vector<double>{1, 1, 1}));  // mask shorter than channels
  // A tone in Ls reads 10 log10(1.41) = 1.49 dB above the same tone in L; in the LFE, nothing.
  std::vector<float> t = tone(5, -20);
  auto in_channel = [&](int which) {
    std::vector<float> y(t.size() * 6, 0.0f);
    for (size_t i = 0; i < t.size(); ++i) y[i * 6 + size_t(which)] = t[i];
    return measure_loudness(y.data(), t.size(), 6, 48000);
  };
  EXPECT_NEAR(in_channel(4).integrated_lufs - in_channel(0).integrated_lufs, 10 * std::log10(1.41), 1e-6);
  EXPECT_FALSE(in_channel(3).has_loudness);
  // Bad arguments.
  EXPECT_EQ(code_of([] { LoudnessMeter m(48000, 0); }), "invalid_field");
  EXPECT_EQ(code_of([] { LoudnessMeter m(100, 2); }), "invalid_field");
  EXPECT_EQ(code_of([] { LoudnessMeter m(48000, 2, 0, {1.0}); }), "invalid_field");
  // NaN input is treated as 0.
  std::vector<float> nan(48000, std::numeric_limits<float>::quiet_NaN());
  LoudnessResult n = measure_loudness(nan.data(), nan.size(), 1, 48000);
  EXPECT_FALSE(n.has_loudness);
  EXPECT_EQ(n.sample_peak, 0.0);
}

// ============================================================================== together

TEST(AudioPipeline, WavToLoudnessAndResampledMono) {
  // A stereo 24-bit 44.1 kHz file: loudness on the channels and a 22.05 kHz mono mix in one pass
  // over blocks, equal to the one-shot path.
  Spec sp;
  sp.channels = 2;
  sp.bits = 24;
  sp.rate = 44100;
  std::vector<float> t = tone(6, -23, 44100);
  std::vector<double> x(t.size() * 2);
  for (size_t i = 0; i < t.size(); ++i) x[2 * i] = x[2 * i + 1] = t[i];
  std::string file = make_wav(sp, x);
  LoudnessMeter meter(44100, 2);
  Resampler rs(44100, 22050);
  std::vector<float> mono22;
  decode_wav_blocks(bytes(file), file.size(), 4096, [&](const AudioBlock& b) {
    meter.add_interleaved(b.interleaved, b.frames);
    rs.process(b.mono, b.frames, mono22);
  });
  rs.flush(mono22);
  LoudnessResult r = meter.result();
  EXPECT_NEAR(r.integrated_lufs, -23.0, 0.1);
  WavAudio a = decode_wav(bytes(file), file.size());
  EXPECT_EQ(mono22, resample(a.mono.data(), a.mono.size(), 44100, 22050));
  EXPECT_EQ(mono22.size(), t.size() / 2);
}

TEST(AudioPipeline, LongStreamStaysBounded) {
  // Two minutes of 48 kHz stereo 16-bit, written the way a streaming writer does (sizes
  // 0xFFFFFFFF) and generated piece by piece: the file never exists in memory, and neither the
  // decoder nor the resampler holds more than a piece's worth.
  Spec sp;
  sp.channels = 2;
  std::string header = make_wav(sp, {});
  header.replace(4, 4, "\xFF\xFF\xFF\xFF");
  header.replace(header.size() - 4, 4, "\xFF\xFF\xFF\xFF");
  const size_t total_frames = 48000 * 120, piece_frames = 16384;
  WavDecoder dec;
  dec.feed(bytes(header), header.size());
  LoudnessMeter meter(48000, 2);
  Resampler rs(48000, 22050);
  std::vector<float> inter, mono, out;
  size_t max_buffered = 0, max_out = 0, produced = 0;
  for (size_t f0 = 0; f0 < total_frames; f0 += piece_frames) {
    std::vector<double> x;
    for (size_t i = f0; i < std::min(total_frames, f0 + piece_frames); ++i) {
      double v = 0.1 * std::sin(2 * kPi * 1000 * double(i) / 48000);
      x.push_back(v);
      x.push_back(v);
    }
    std::string piece = encode(sp, x);
    dec.feed(bytes(piece), piece.size());
    max_buffered = std::max(max_buffered, dec.buffered_bytes());
    while (size_t n = dec.read_interleaved(inter, 4096)) {
      meter.add_interleaved(inter.data(), n);
      mono.resize(n);
      mix_to_mono(inter.data(), n, 2, mono.data());
      out.clear();
      rs.process(mono.data(), n, out);
      produced += out.size();
      max_out = std::max(max_out, out.size());
    }
    EXPECT_EQ(dec.buffered_bytes(), 0u);
  }
  dec.finish();
  out.clear();
  rs.flush(out);
  produced += out.size();
  EXPECT_LE(max_buffered, piece_frames * 4);
  EXPECT_EQ(dec.stats().frames, total_frames);
  EXPECT_FALSE(dec.format().size_known);
  EXPECT_EQ(produced, size_t(22050) * 120);
  LoudnessResult r = meter.result();
  // 1 kHz at -20 dBFS in both channels: -20 + (20 log10 K(1 kHz) - 0.691) ~= -20.0 LUFS.
  EXPECT_NEAR(r.integrated_lufs, -20.0, 0.1);
  EXPECT_EQ(r.blocks, 1197u);
}
