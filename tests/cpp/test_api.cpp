// The JSON entry point: lyrics requests answered as specified, reproducible for a seed, and every
// kind of bad request answered with an error object while the engine keeps working.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "tunesmith/api.h"
#include "tunesmith/utf8.h"

using namespace tunesmith;
using nlohmann::json;

namespace {
Engine& engine() { return tstest::models_engine(); }
json ask(const std::string& text) { return json::parse(engine().request(text)); }
json ask(const json& j) { return ask(j.dump()); }
std::string error_code(const json& r) { return r.contains("error") ? r["error"]["code"].get<std::string>() : ""; }
}  // namespace

TEST(Api, ChineseLyricsForTheClassicRequest) {
  json r = ask(json{{"task", "generate_lyrics"}, {"song_title", "我爱你"}, {"song_style", "流行音乐"}, {"lyrics_length", 8}, {"seed", 1}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["language"], "zh");
  EXPECT_EQ(r["model"]["name"], "lyrics-zh");
  EXPECT_EQ(r["style"]["used"], "ci");
  EXPECT_EQ(r["seed"], 1);
  ASSERT_EQ(r["lines"].size(), 8u);
  std::string joined;
  for (const auto& l : r["lines"]) {
    const std::string t = l["text"];
    std::u32string cps;
    ASSERT_TRUE(utf8_decode(t, cps));
    EXPECT_GE(cps.size(), 3u);
    for (char32_t c : cps) EXPECT_TRUE(is_cjk(c)) << t;
    joined += (joined.empty() ? "" : "\n") + t;
  }
  EXPECT_EQ(r["lyrics"], joined);
}

TEST(Api, EnglishLyricsAndLanguageDetection) {
  json r = ask(json{{"task", "generate_lyrics"}, {"song_title", "Summer Rain"}, {"song_style", "folk"}, {"lyrics_length", 5}, {"seed", 7}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["language"], "en");
  EXPECT_EQ(r["style"]["used"], "ballad");
  ASSERT_EQ(r["lines"].size(), 5u);
  for (const auto& l : r["lines"]) {
    const std::string t = l["text"];
    EXPECT_GE(t.size(), 8u);
    EXPECT_NE(t.front(), ' ');
  }
  // An explicit language wins over detection.
  json z = ask(json{{"task", "generate_lyrics"}, {"song_title", "Moon"}, {"language", "zh"}, {"lyrics_length", 2}, {"seed", 1}});
  EXPECT_EQ(z["language"], "zh");
}

TEST(Api, SameSeedSameLyricsOtherSeedOtherLyrics) {
  json req = {{"task", "generate_lyrics"}, {"song_title", "月亮"}, {"song_style", "民谣"}, {"lyrics_length", 6}, {"seed", 42}};
  json a = ask(req), b = ask(req);
  EXPECT_EQ(a["lines"], b["lines"]);
  req["seed"] = 43;
  EXPECT_NE(a["lines"], ask(req)["lines"]);
  // Greedy decoding is reproducible too, and needs no seed.
  json g = {{"task", "generate_lyrics"}, {"song_title", "Home"}, {"lyrics_length", 3}, {"temperature", 0}};
  EXPECT_EQ(ask(g)["lines"], ask(g)["lines"]);
  EXPECT_EQ(ask(g)["lines"].size(), 3u);
  // Degenerate sampler settings still write whole songs.
  for (json extra : {json{{"top_k", 1}}, json{{"top_p", 1.0}}, json{{"top_p", 0.01}}, json{{"repetition_penalty", 2.0}}}) {
    json q = {{"task", "generate_lyrics"}, {"song_title", "雨"}, {"lyrics_length", 4}, {"seed", 2}};
    q.update(extra);
    EXPECT_EQ(ask(q)["lines"].size(), 4u) << extra.dump();
  }
}

TEST(Api, StreamsTokensAndLines) {
  std::vector<json> events;
  const std::string out = engine().request(
      R"({"task":"generate_lyrics","song_title":"春天","lyrics_length":4,"seed":3})",
      [&](const json& ev) { events.push_back(ev); });
  json r = json::parse(out);
  std::vector<std::string> lines;
  std::string cur;
  for (const auto& ev : events) {
    if (ev["event"] == "token") cur += ev["text"].get<std::string>();
    if (ev["event"] == "line") { EXPECT_EQ(ev["text"], cur); EXPECT_EQ(ev["index"], (int)lines.size()); lines.push_back(cur); cur.clear(); }
  }
  ASSERT_EQ(lines.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r["lines"][i]["text"], lines[i]);
}

TEST(Api, LongSongsShiftContextAndKeepExactLength) {
  json r = ask(json{{"task", "generate_lyrics"}, {"song_title", "Long Road"}, {"lyrics_length", 40}, {"seed", 5}});
  ASSERT_EQ(r["lines"].size(), 40u) << r.dump();
  EXPECT_GT(r["context_shifts"].get<int>(), 0);
  json z = ask(json{{"task", "generate_lyrics"}, {"song_title", "长歌"}, {"lyrics_length", 200}, {"seed", 5}});
  ASSERT_EQ(z["lines"].size(), 200u);
}

TEST(Api, StylesMapOntoTrainedStyles) {
  auto used = [](const char* title, const char* style) {
    return ask(json{{"task", "generate_lyrics"}, {"song_title", title}, {"song_style", style}, {"lyrics_length", 1}, {"seed", 1}})["style"];
  };
  EXPECT_EQ(used("我爱你", "摇滚")["used"], "qu");
  EXPECT_EQ(used("我爱你", "古风")["used"], "tang");
  EXPECT_EQ(used("Amen", "hymn")["used"], "hymn");
  EXPECT_EQ(used("Little Star", "children's song")["used"], "children");
  json unknown = ask(json{{"task", "generate_lyrics"}, {"song_title", "Zap"}, {"song_style", "zzz-core"}, {"lyrics_length", 1}, {"seed", 1}});
  EXPECT_EQ(unknown["style"]["matched_by"], "unknown (default used)");
  EXPECT_EQ(unknown["notes"].size(), 1u);
}

TEST(Api, BadRequestsGetErrorsAndTheEngineKeepsWorking) {
  const json base = {{"task", "generate_lyrics"}, {"song_title", "Hello"}, {"lyrics_length", 2}, {"seed", 1}};
  auto with = [&](const char* k, json v) { json j = base; j[k] = v; return j; };
  EXPECT_EQ(error_code(ask(std::string("{\"task\": "))), "bad_request");
  EXPECT_EQ(error_code(ask(std::string(""))), "bad_request");
  EXPECT_EQ(error_code(ask(std::string("[1,2]"))), "bad_request");
  EXPECT_EQ(error_code(ask(json{{"song_title", "x"}})), "missing_field");
  EXPECT_EQ(error_code(ask(json{{"task", "make_coffee"}})), "unknown_task");
  EXPECT_EQ(error_code(ask(json{{"task", 5}})), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", 0))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", 201))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", -5))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", 2.5))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", "8"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyrics_length", 1e300))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", std::string(201, 'a')))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", ""))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", "   "))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", 12))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", "bad\x01title"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_title", "two\nlines"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_style", "a\tb"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("language", "fr"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("seed", -1))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("seed", "1"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("temperature", 5))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("temperature", "hot"))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("lyric_length", 8))), "unknown_field");
  EXPECT_EQ(error_code(ask(with("top_k", -1))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("top_p", 0))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("top_p", 1.5))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("repetition_penalty", 0.5))), "invalid_field");
  EXPECT_EQ(error_code(ask(with("song_style", std::string(101, 'x')))), "invalid_field");
  // Invalid UTF-8 inside the JSON text is malformed JSON.
  EXPECT_EQ(error_code(ask(std::string("{\"task\":\"generate_lyrics\",\"song_title\":\"\xff\xfe\"}"))), "bad_request");
  // 200 characters is allowed, CJK counted as characters not bytes.
  std::string t200;
  for (int i = 0; i < 200; ++i) t200 += "爱";
  EXPECT_EQ(error_code(ask(with("song_title", t200))), "");
  // Still works.
  json ok = ask(base);
  EXPECT_EQ(ok["lines"].size(), 2u);
  // Error objects always carry a message, and the field when one is at fault.
  json e = ask(with("lyrics_length", 0));
  EXPECT_FALSE(e["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(e["error"]["field"], "lyrics_length");
}

TEST(Api, MissingModelsAreReported) {
  Engine bare;  // no model directory: the JS adapter loads models on this error
  json r = json::parse(bare.request(R"({"task":"generate_lyrics","song_title":"我爱你"})"));
  EXPECT_EQ(r["error"]["code"], "model_not_loaded");
  EXPECT_EQ(r["error"]["model"], "phonetics");  // each missing resource is named in turn
  const std::string dir = tstest::models_dir() + "/";
  json ok = bare.load_resource(tstest::read_file(dir + "phonetics.json"),
                               {{"phonetics-zh.tsv", tstest::read_file(dir + "phonetics-zh.tsv")},
                                {"phonetics-en.tsv", tstest::read_file(dir + "phonetics-en.tsv")}});
  EXPECT_EQ(ok["ok"], true) << ok.dump();
  r = json::parse(bare.request(R"({"task":"generate_lyrics","song_title":"我爱你"})"));
  EXPECT_EQ(r["error"]["model"], "lyrics-zh");
  // A model without the companions its manifest names is refused; with them it loads.
  json no_index = bare.load_resource(tstest::read_file(dir + "lyrics-zh.json"), {{"lyrics-zh.onnx", tstest::read_file(dir + "lyrics-zh.onnx")}});
  EXPECT_EQ(no_index["error"]["code"], "model_invalid") << no_index.dump();
  json with_index = bare.load_resource(tstest::read_file(dir + "lyrics-zh.json"), {{"lyrics-zh.onnx", tstest::read_file(dir + "lyrics-zh.onnx")},
                                                                                   {"lyrics-zh.ngrams", tstest::read_file(dir + "lyrics-zh.ngrams")}});
  EXPECT_EQ(with_index["originality_index"], true) << with_index.dump();
  r = json::parse(bare.request(R"({"task":"generate_lyrics","song_title":"我爱你","lyrics_length":2,"seed":1})"));
  EXPECT_EQ(r["lines"].size(), 2u) << r.dump();
  // A tampered companion is refused.
  std::string idx = tstest::read_file(dir + "lyrics-zh.ngrams");
  idx[idx.size() / 2] ^= 1;
  json tampered = bare.load_resource(tstest::read_file(dir + "lyrics-zh.json"), {{"lyrics-zh.onnx", tstest::read_file(dir + "lyrics-zh.onnx")},
                                                                                 {"lyrics-zh.ngrams", idx}});
  EXPECT_EQ(tampered["error"]["code"], "model_invalid") << tampered.dump();
  // Bad fields are reported before any model is needed (no download for a request that fails).
  json bad = json::parse(bare.request(R"({"task":"generate_lyrics","song_title":"我爱你","temperature":9})"));
  EXPECT_EQ(bad["error"]["code"], "invalid_field");
  Engine wrong;
  wrong.set_model_dir("/nonexistent");
  EXPECT_EQ(json::parse(wrong.request(R"({"task":"generate_lyrics","song_title":"Hi"})"))["error"]["code"], "model_not_found");
}

TEST(Api, InfoAndLogits) {
  json info = ask(json{{"task", "info"}});
  EXPECT_TRUE(info["build"].contains("simd"));
  json r = ask(json{{"task", "model_logits"}, {"model", "lyrics-en"}, {"tokens", {2, 6, 10, 11}}, {"split", 2}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["logits"].size(), 4u);
  EXPECT_EQ(r["logits"][0].size(), r["vocab_size"].get<size_t>());
  EXPECT_EQ(error_code(ask(json{{"task", "model_logits"}, {"model", "lyrics-en"}, {"tokens", {2, 999999}}})), "invalid_field");
}
