// analyze_audio through the JSON entry point: a synthesized song (C major chords with a click track
// at 120 BPM) as a WAV file and as float PCM, silence, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tunesmith/api.h"
#include "test_helpers.h"

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
  e.set_model_dir(tstest::models_dir());
  const std::vector<std::vector<int>> cmaj = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};  // I IV V I
  const auto pcm = song(44100, 12, 120, cmaj);
  const json r = analyze(e, {{"task", "analyze_audio"}}, wav16(pcm, 44100, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["key"]["name"], "C major") << r["key"].dump();
  EXPECT_GT(r["key"]["confidence"].get<double>(), 0.5);
  EXPECT_EQ(r["key"]["evidence"]["chroma"].size(), 12u);
  // Clicks on every beat at 120 BPM are just as periodic at 60: the onsets say 120, and the octave
  // step may read it as a 60 BPM ballad (the listening model hears this synthetic song as one).
  const double onset_bpm = r["tempo"]["evidence"]["octave"]["onset_bpm"];
  EXPECT_NEAR(onset_bpm, 120, 2.5) << r["tempo"]["evidence"].dump();
  const double bpm = r["tempo"]["bpm"];
  EXPECT_TRUE(std::fabs(bpm - 120) < 2.5 || std::fabs(bpm - 60) < 1.25) << r["tempo"]["evidence"].dump();
  EXPECT_GT(r["tempo"]["beat_count"].get<int>(), bpm > 90 ? 18 : 9);
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
  e.set_model_dir(tstest::models_dir());
  const std::vector<std::vector<int>> amin = {{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};  // i iv V i
  const json r = analyze(e, {{"task", "analyze_audio"}}, wav16(song(48000, 10, 96, amin), 48000, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["key"]["name"], "A minor") << r["key"].dump();
  EXPECT_NEAR(r["tempo"]["bpm"].get<double>(), 96, 2.0);
}

TEST(Listen, SilenceAndBadInput) {
  Engine e;
  e.set_model_dir(tstest::models_dir());
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
  e.set_model_dir(tstest::models_dir());
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

// The listening model (models/listen.*): style, instruments and mood with their evidence, the
// octave choice, classify:false, and the model's integrity checks.
TEST(Listen, StyleInstrumentsAndMood) {
  Engine e;
  e.set_model_dir(tstest::models_dir());
  const std::vector<std::vector<int>> cmaj = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};
  const json r = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 12, 120, cmaj), 44100, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_FALSE(r.contains("unavailable")) << r["unavailable"].dump();
  const json& st = r["style"];
  ASSERT_EQ(st["probabilities"].size(), 10u);
  double sum = 0;
  for (const json& p : st["probabilities"]) sum += p["p"].get<double>();
  EXPECT_NEAR(sum, 1.0, 0.01);
  EXPECT_EQ(st["label"], st["probabilities"][0]["label"]);
  EXPECT_EQ(st["confidence"], st["probabilities"][0]["p"]);
  EXPECT_TRUE(st["evidence"]["parts"].contains("sound"));
  EXPECT_TRUE(st["evidence"]["parts"].contains("rhythm"));  // 12 s at 120 BPM: enough beats
  EXPECT_GE(st["evidence"]["patches"].get<int>(), 5);
  EXPECT_EQ(st["evidence"]["segments"].size(), r["segments"].size());
  for (const json& s : r["segments"]) {
    EXPECT_TRUE(s.contains("style") && s.contains("lead") && s.contains("mood")) << s.dump();
  }
  const json& in = r["instruments"];
  EXPECT_EQ(in["lead"]["probabilities"].size(), 10u);
  EXPECT_EQ(in["families"].size(), 17u);
  // each answer carries its held-out accuracy from the model card's evaluation (the lead is a hint)
  const json man = json::parse(tstest::read_file(tstest::models_dir() + "/listen.json"));
  EXPECT_EQ(in["evidence"]["held_out"]["lead_accuracy"], man["metrics"]["eval_listen_test"]["overall"]["lead"]);
  EXPECT_EQ(r["style"]["evidence"]["held_out"]["accuracy"], man["metrics"]["eval_listen_test"]["overall"]["style"]);
  // and how sure answers fared: within the two likeliest, and the confidence bin this answer is in
  const json& rel = man["metrics"]["eval_listen_test"]["lead_reliability"];
  EXPECT_EQ(in["evidence"]["held_out"]["lead_top2_accuracy"], rel["top2"]);
  const double conf = in["lead"]["confidence"].get<double>();
  const json& bin = in["evidence"]["held_out"]["lead_at_this_confidence"];
  ASSERT_TRUE(bin.is_object()) << in["evidence"].dump();
  EXPECT_LE(bin["from"].get<double>(), conf + 1e-3);  // the confidence shown is rounded to 3 places
  EXPECT_GE(bin["to"].get<double>(), conf - 1e-3);
  bool listed = false;
  for (const json& b : rel["by_confidence"]) listed |= b == bin;
  EXPECT_TRUE(listed) << bin.dump();
  // an unsure lead names its runner-up, a sure one does not
  if (std::fabs(conf - 0.5) > 1e-3) EXPECT_EQ(in["lead"].contains("runner_up"), conf < 0.5) << in["lead"].dump();
  if (conf < 0.5) EXPECT_EQ(in["lead"]["runner_up"], in["lead"]["probabilities"][1]["label"]);
  const json& m = r["mood"];
  EXPECT_GE(m["valence"].get<double>(), -1.0);
  EXPECT_LE(m["valence"].get<double>(), 1.0);
  EXPECT_GE(m["arousal"].get<double>(), -1.0);
  EXPECT_LE(m["arousal"].get<double>(), 1.0);
  EXPECT_EQ(m["probabilities"].size(), 4u);
  EXPECT_NE(m["evidence"]["method"].get<std::string>().find("not trained"), std::string::npos);
  bool mode = false;
  for (const json& c : m["evidence"]["contributions"]) mode |= c["feature"] == "mode" && c["value"] == "major" && c["valence"].get<double>() > 0;
  EXPECT_TRUE(mode) << m.dump();  // a major key pulls the valence up
  EXPECT_TRUE(r["tempo"]["evidence"].contains("octave"));
  // the fitted octave chooser shows every candidate it weighed, each score the sum of its terms,
  // and the answer is the best of them
  const json& cands = r["tempo"]["evidence"]["octave"]["candidates"];
  ASSERT_GE(cands.size(), 2u) << r["tempo"]["evidence"].dump();  // the onset tempo and the relatives the onsets support
  EXPECT_EQ(cands[0]["ratio"], 1.0);
  double best = -1e300, best_bpm = 0;
  for (const json& c : cands) {
    double sum = 0;
    for (const auto& [k, v] : c["terms"].items()) sum += v.get<double>();
    EXPECT_NEAR(sum, c["score"].get<double>(), 0.004) << c.dump();
    if (c["score"].get<double>() > best) best = c["score"].get<double>(), best_bpm = c["bpm"].get<double>();
  }
  EXPECT_NEAR(r["tempo"]["bpm"].get<double>(), best_bpm, 0.01) << cands.dump();
  // the same request gives the same answer
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 12, 120, cmaj), 44100, 2)).dump(), r.dump());
  // classify: false leaves the model out and says so
  const json off = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}, {"classify", false}}, wav16(song(44100, 6, 120, cmaj), 44100, 2));
  ASSERT_FALSE(off.contains("error")) << off.dump();
  EXPECT_FALSE(off.contains("style"));
  EXPECT_TRUE(off["unavailable"].contains("style"));
  EXPECT_TRUE(off.contains("mood"));  // rule-based: no model needed
  // without a model directory the request asks for the model (the JS layer loads it and retries)
  Engine bare;
  const json need = analyze(bare, {{"task", "analyze_audio"}}, wav16(song(22050, 4, 120, cmaj), 22050, 1));
  EXPECT_EQ(need["error"]["code"], "model_not_loaded");
  EXPECT_EQ(need["error"]["model"], "listen");
}

TEST(Listen, SessionsFeedAFileInChunks) {
  Engine e;
  e.set_model_dir(tstest::models_dir());
  const std::vector<std::vector<int>> amin = {{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};
  const std::string wav = wav16(song(44100, 10, 96, amin), 44100, 2);
  json one = analyze(e, {{"task", "analyze_audio"}, {"pictures", false}}, wav);
  ASSERT_FALSE(one.contains("error")) << one.dump();
  for (size_t piece : {(size_t)7, (size_t)4093, (size_t)100000}) {  // odd sizes split the header and frames
    json last;
    for (size_t at = 0; at < wav.size(); at += piece) {
      const bool final = at + piece >= wav.size();
      json req = {{"task", "analyze_audio"}, {"session", "s" + std::to_string(piece)}, {"final", final}};
      if (at == 0) req["pictures"] = false;
      last = analyze(e, req, wav.substr(at, piece));
      ASSERT_FALSE(last.contains("error")) << last.dump();
      if (!final) {
        EXPECT_EQ(last["state"], "open");
      }
    }
    EXPECT_EQ(last["session"], "s" + std::to_string(piece));
    last.erase("session");
    EXPECT_EQ(last.dump(), one.dump()) << "piece " << piece;
  }
  // cancel, a bad chunk ends the session, limits
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "c"}}, wav.substr(0, 1000))["state"], "open");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "c"}, {"cancel", true}}, "")["existed"], true);
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "bad"}}, "NOT A WAV FILE AT ALL")["error"]["code"], "invalid_audio");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "bad"}, {"cancel", true}}, "")["existed"], false);
  for (int i = 0; i < 8; ++i) analyze(e, {{"task", "analyze_audio"}, {"session", "open" + std::to_string(i)}}, wav.substr(0, 100));
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "one-too-many"}}, wav.substr(0, 100))["error"]["code"], "too_many_sessions");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"final", true}}, wav)["error"]["field"], "final");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", ""}}, wav)["error"]["code"], "invalid_field");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", std::string(65, 's')}}, wav)["error"]["field"], "session");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "x"}, {"final", "yes"}}, wav)["error"]["field"], "final");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"session", "x"}, {"cancel", 1}}, "")["error"]["field"], "cancel");
  EXPECT_EQ(analyze(e, {{"task", "analyze_audio"}, {"classify", "no"}}, wav)["error"]["field"], "classify");
}

TEST(Listen, TamperedModelIsRefused) {
  const std::string dir = tstest::models_dir() + "/";
  const std::string man = tstest::read_file(dir + "listen.json");
  std::string onnx = tstest::read_file(dir + "listen.onnx");
  Engine e;
  const json ok = e.load_resource(man, {{"listen.onnx", onnx}});
  ASSERT_EQ(ok["ok"], true) << ok.dump();
  onnx[onnx.size() / 2] ^= 0x01;
  const json bad = e.load_resource(man, {{"listen.onnx", onnx}});
  EXPECT_EQ(bad["error"]["code"], "model_invalid");
  EXPECT_NE(bad["error"]["message"].get<std::string>().find("sha256"), std::string::npos) << bad.dump();
  const json cut = e.load_resource(man, {{"listen.onnx", onnx.substr(0, 1000)}});
  EXPECT_EQ(cut["error"]["code"], "model_invalid");
  json m = json::parse(man);
  m["architecture"]["channels"] = {12, 24, 48, 64};  // shapes that the file does not have
  onnx[onnx.size() / 2] ^= 0x01;
  const json shape = e.load_resource(m.dump(), {{"listen.onnx", onnx}});
  EXPECT_EQ(shape["error"]["code"], "model_invalid");
  EXPECT_NE(shape["error"]["message"].get<std::string>().find("shape"), std::string::npos) << shape.dump();
  // the tempo-octave chooser: wrong ratios, a missing bias, an absurd weight, a check the file lacks
  ASSERT_TRUE(json::parse(man).contains("tempo_octave"));
  auto refused = [&](const std::function<void(json&)>& edit, const std::string& says) {
    json t = json::parse(man);
    edit(t["tempo_octave"]);
    const json r = e.load_resource(t.dump(), {{"listen.onnx", onnx}});
    EXPECT_EQ(r["error"]["code"], "model_invalid") << says;
    EXPECT_NE(r.dump().find(says), std::string::npos) << r.dump();
  };
  refused([](json& o) { o["ratios"][0] = 0.25; }, "ratios");
  refused([](json& o) { o["bias"].erase(0); }, "biases");
  refused([](json& o) { o["w_check"] = 1e9; }, "w_check");
  refused([](json& o) { o["support"] = {0.5, 2}; }, "support");
  refused([](json& o) { o["check"]["prefix"] = "nothere."; }, "nothere.");
  refused([](json& o) { o["check"]["hidden"] = 7; }, "shape");
  refused([](json& o) { o.erase("check"); }, "w_check needs");
  // a manifest without the chooser (as 1.1.0 shipped) still analyses, with the older octave rule
  json old = json::parse(man);
  old.erase("tempo_octave");
  Engine o;
  ASSERT_EQ(o.load_resource(old.dump(), {{"listen.onnx", onnx}})["ok"], true);
  const std::vector<std::vector<int>> cmaj = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};
  const json r = analyze(o, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 8, 120, cmaj), 44100, 2));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_TRUE(r["tempo"]["evidence"]["octave"].contains("style_prior")) << r["tempo"]["evidence"].dump();
  EXPECT_FALSE(r["tempo"]["evidence"]["octave"].contains("candidates"));
  EXPECT_TRUE(std::fabs(r["tempo"]["bpm"].get<double>() - 120) < 2.5 || std::fabs(r["tempo"]["bpm"].get<double>() - 60) < 1.25);
  // the held-out figures are evidence, not weights: malformed ones are left out of the answer
  json odd = json::parse(man);
  odd["metrics"]["eval_listen_test"]["lead_reliability"] = {{"top2", "most"}, {"by_confidence", {{{"from", 0}, {"to", "one"}}, 7}}};
  Engine q;
  ASSERT_EQ(q.load_resource(odd.dump(), {{"listen.onnx", onnx}})["ok"], true);
  const json r2 = analyze(q, {{"task", "analyze_audio"}, {"pictures", false}}, wav16(song(44100, 8, 120, cmaj), 44100, 2));
  ASSERT_FALSE(r2.contains("error")) << r2.dump();
  const json& ho = r2["instruments"]["evidence"]["held_out"];
  EXPECT_TRUE(ho.contains("lead_accuracy"));
  EXPECT_FALSE(ho.contains("lead_top2_accuracy"));
  EXPECT_FALSE(ho.contains("lead_at_this_confidence"));
}
