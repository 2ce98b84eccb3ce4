// analyze_audio through the JSON entry point: a synthesized song (C major chords with a click track
// at 120 BPM) as a WAV file and as float PCM, silence, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tunesmith/api.h"

using namespace tunesmith;
using nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Interleaved stereo: chords (harmonic tones) changing every 2 s, clicks on every beat.
std::vector<float> song(int rate, double seconds, double bpm, const std::vector<std::vector<int>>& chords) {
  const size_t n = (size_t)(rate * seconds);
  std::vector<float> out(n * 2);
  const double beat = 60.0 / bpm;
  for (size_t i = 0; i < n; ++i) {
    const double t = (double)i / rate;
    const auto& chord = chords[(size_t)(t / 2.0) % chords.size()];
    double v = 0;
    for (int midi : chord) {
      const double f = 440.0 * std::pow(2.0, (midi - 69) / 12.0);
      for (int h = 1; h <= 4; ++h) v += 0.05 / h * std::sin(2 * kPi * f * h * t);
    }
    const double since = std::fmod(t, beat);
    if (since < 0.03) v += 0.5 * std::exp(-since * 200) * std::sin(2 * kPi * 1800 * t);
    out[2 * i] = out[2 * i + 1] = (float)v;
  }
  return out;
}

std::string wav16(const std::vector<float>& inter, int rate, int channels) {
  const uint32_t frames = (uint32_t)(inter.size() / channels), bytes = frames * channels * 2;
  std::string w = "RIFF";
  auto u32 = [&](uint32_t v) { for (int k = 0; k < 4; ++k) w += (char)((v >> (8 * k)) & 255); };
  auto u16 = [&](uint16_t v) { w += (char)(v & 255); w += (char)(v >> 8); };
  u32(36 + bytes);
  w += "WAVEfmt ";
  u32(16); u16(1); u16((uint16_t)channels); u32((uint32_t)rate); u32((uint32_t)(rate * channels * 2)); u16((uint16_t)(channels * 2)); u16(16);
  w += "data";
  u32(bytes);
  for (float x : inter) {
    const int v = (int)std::lround(std::max(-1.0f, std::min(1.0f, x)) * 32767);
    u16((uint16_t)(int16_t)v);
  }
  return w;
}

json analyze(Engine& e, const json& req, const std::string& data) { return json::parse(e.request(req.dump(), nullptr, data)); }

}  // namespace

TEST(Listen, KeyTempoLoudnessOfASynthesizedSong) {
  Engine e;
  const std::vector<std::vector<int>> cmaj = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};  // I IV V I
  const auto pcm = song(44100, 12, 120, cmaj);
  const json r = analyze(e, {{"task", "analyze_audio"}}, wav16(pcm, 44100, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["key"]["name"], "C major") << r["key"].dump();
  EXPECT_GT(r["key"]["confidence"].get<double>(), 0.5);
  EXPECT_EQ(r["key"]["evidence"]["chroma"].size(), 12u);
  const double bpm = r["tempo"]["bpm"];
  EXPECT_NEAR(bpm, 120, 2.5) << r["tempo"]["evidence"].dump();
  EXPECT_GT(r["tempo"]["beat_count"].get<int>(), 18);
  EXPECT_TRUE(r["loudness"]["integrated_lufs"].is_number());
  EXPECT_LT(r["loudness"]["integrated_lufs"].get<double>(), 0);
  EXPECT_NEAR(r["duration"].get<double>(), 12.0, 0.01);
  EXPECT_EQ(r["segments"].size(), 3u);
  EXPECT_EQ(r["pictures"]["chroma"]["rows"], 12);

  // the same audio as float PCM gives the same answers (16-bit rounding aside)
  std::string f32(pcm.size() * 4, '\0');
  std::memcpy(&f32[0], pcm.data(), f32.size());
  const json p = analyze(e, {{"task", "analyze_audio"}, {"format", "f32"}, {"sample_rate", 44100}, {"channels", 2}, {"pictures", false}}, f32);
  ASSERT_FALSE(p.contains("error")) << p.dump();
  EXPECT_EQ(p["key"]["name"], r["key"]["name"]);
  EXPECT_NEAR(p["tempo"]["bpm"].get<double>(), bpm, 0.01);
  EXPECT_NEAR(p["loudness"]["integrated_lufs"].get<double>(), r["loudness"]["integrated_lufs"].get<double>(), 0.1);
  EXPECT_FALSE(p.contains("pictures"));
  EXPECT_FALSE(p.contains("features"));
  const json q = analyze(e, {{"task", "analyze_audio"}, {"features", true}, {"pictures", false}}, wav16(pcm, 44100, 2));
  ASSERT_EQ(q["features"].size(), 222u);  // the classifiers' input (docs/listen-api.md)
  for (const json& x : q["features"]) EXPECT_TRUE(x.is_number());
}

TEST(Listen, MinorKeyAtAnotherRate) {
  Engine e;
  const std::vector<std::vector<int>> amin = {{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};  // i iv V i
  const json r = analyze(e, {{"task", "analyze_audio"}}, wav16(song(48000, 10, 96, amin), 48000, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["key"]["name"], "A minor") << r["key"].dump();
  EXPECT_NEAR(r["tempo"]["bpm"].get<double>(), 96, 2.0);
}

TEST(Listen, SilenceAndBadInput) {
  Engine e;
  const json s = analyze(e, {{"task", "analyze_audio"}}, wav16(std::vector<float>(44100 * 2 * 2, 0.0f), 44100, 2));
  ASSERT_FALSE(s.contains("error")) << s.dump();
  EXPECT_TRUE(s["loudness"]["integrated_lufs"].is_null());
  EXPECT_TRUE(s["key"]["name"].is_null());
  EXPECT_FALSE(s["warnings"].empty());
  auto code = [&](const json& req, const std::string& data) {
    const json r = analyze(e, req, data);
    return r.contains("error") ? r["error"]["code"].get<std::string>() : "";
  };
  EXPECT_EQ(code({{"task", "analyze_audio"}}, ""), "invalid_audio");
  EXPECT_EQ(code({{"task", "analyze_audio"}}, "ID3\x04 not a wav file at all"), "invalid_audio");
  EXPECT_EQ(code({{"task", "analyze_audio"}}, "RIFF\x10\0\0\0WAVE"), "invalid_audio");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"format", "f32"}, {"sample_rate", 44100}, {"channels", 2}}, std::string(6, '\0')), "invalid_audio");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"format", "f32"}}, std::string(8, '\0')), "missing_field");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"format", "mp3"}}, "x"), "invalid_field");
  const std::string wav = wav16(song(22050, 4, 120, {{60, 64, 67}}), 22050, 2);
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"segment_seconds", 0.5}}, wav), "invalid_field");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"max_beats", -1}}, wav), "invalid_field");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"pictures", "no"}}, wav), "invalid_field");
  EXPECT_EQ(code({{"task", "analyze_audio"}, {"features", 1}}, wav), "invalid_field");
  // segment_seconds sets the timeline's resolution; max_beats caps the list, not the count
  const json fine = analyze(e, {{"task", "analyze_audio"}, {"segment_seconds", 1}, {"max_beats", 3}, {"name", "x.wav"}}, wav);
  ASSERT_FALSE(fine.contains("error")) << fine.dump();
  EXPECT_EQ(fine["segments"].size(), 4u);
  EXPECT_EQ(fine["tempo"]["beats"].size(), 3u);
  EXPECT_GT(fine["tempo"]["beat_count"].get<int>(), 3);
  EXPECT_EQ(fine["source"]["name"], "x.wav");
  // NaN samples are read as silence and reported
  std::vector<float> nan(44100 * 4, std::nanf(""));
  std::string f32(nan.size() * 4, '\0');
  std::memcpy(&f32[0], nan.data(), f32.size());
  const json n = analyze(e, {{"task", "analyze_audio"}, {"format", "f32"}, {"sample_rate", 44100}, {"channels", 1}}, f32);
  ASSERT_FALSE(n.contains("error")) << n.dump();
  EXPECT_NE(n["warnings"].dump().find("NaN"), std::string::npos);
}

TEST(Listen, EmbeddingsAndSimilarTracks) {
  Engine e;
  const std::vector<std::vector<int>> cmaj = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};
  const std::vector<std::vector<int>> dmaj = {{62, 66, 69}, {67, 71, 74}, {69, 73, 76}, {62, 66, 69}};
  const std::vector<std::vector<int>> amin = {{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};
  const json a = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 8, 120, cmaj), 44100, 2));
  const json b = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 8, 120, dmaj), 44100, 2));  // transposed
  const json c = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 8, 70, amin), 44100, 2));  // slower, minor
  ASSERT_EQ(a["embedding"].size(), 64u);
  json tracks = json::array({{{"id", "minor"}, {"embedding", c["embedding"]}}, {{"id", "transposed"}, {"embedding", b["embedding"]}}});
  const json r = json::parse(e.request(json({{"task", "similar_tracks"}, {"query", a["embedding"]}, {"tracks", tracks}}).dump()));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["similar"][0]["id"], "transposed");  // the chroma is rotated to the tonic: transposition does not count
  EXPECT_GT(r["similar"][0]["similarity"].get<double>(), r["similar"][1]["similarity"].get<double>());
  const json bad = json::parse(e.request(json({{"task", "similar_tracks"}, {"query", a["embedding"]}, {"tracks", json::array({{{"embedding", {1, 2}}}})}}).dump()));
  EXPECT_EQ(bad["error"]["code"], "invalid_field");
  const json one = json::parse(e.request(json({{"task", "similar_tracks"}, {"query", a["embedding"]}, {"tracks", tracks}, {"count", 1}}).dump()));
  EXPECT_EQ(one["similar"].size(), 1u);
  const json zero = json::parse(e.request(json({{"task", "similar_tracks"}, {"query", a["embedding"]}, {"tracks", tracks}, {"count", 0}}).dump()));
  EXPECT_EQ(zero["error"]["field"], "count");
}
