// generate_melody / edit_melody / render_melody: every rule of docs/melody-rules.md checked on the
// notes that come back (not on the engine's own "checks"), reproducibility, edits, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "tunesmith/api.h"
#include "tunesmith/melody.h"
#include "tunesmith/phonetics.h"

using namespace tunesmith;
using nlohmann::json;

namespace {
Engine& engine() { return tstest::models_engine(); }
json ask(const json& j) { return json::parse(engine().request(j.dump())); }
std::string error_code(const json& r) { return r.contains("error") ? r["error"]["code"].get<std::string>() : ""; }
std::string error_field(const json& r) { return r.contains("error") ? r["error"].value("field", "") : ""; }

int pc_of(const std::string& tonic) {
  static const int base[7] = {9, 11, 0, 2, 4, 5, 7};
  int pc = base[tonic[0] - 'A'];
  if (tonic.size() > 1) pc += tonic[1] == '#' ? 1 : -1;
  return (pc + 12) % 12;
}

const std::set<int> kMajor = {0, 2, 4, 5, 7, 9, 11}, kMinor = {0, 2, 3, 5, 7, 8, 10};

// Checks every rule that must hold on any response; returns the notes carrying syllables.
void check_melody(const json& r, const std::string& tonic, const std::set<int>& scale, int range) {
  ASSERT_FALSE(r.contains("error")) << r.dump();
  const int tpc = pc_of(tonic);
  const double bar = r["beats_per_bar"].get<double>();
  int lo = 999, hi = -1, prev = -1;
  double end = 0;
  for (const json& n : r["notes"]) {
    const int p = n["pitch"];
    EXPECT_TRUE(scale.count(((p - tpc) % 12 + 12) % 12)) << "out of key: " << p;
    const double s = n["start"], d = n["duration"];
    EXPECT_GE(s + 1e-9, end) << "overlap at " << s;
    // on the sixteenth grid, inside one bar
    EXPECT_NEAR(std::fmod(s * 4, 1.0), 0.0, 1e-9);
    EXPECT_LE(std::floor(s / bar + 1e-9), std::floor((s + d) / bar - 1e-9)) ;
    EXPECT_EQ(std::floor(s / bar + 1e-9), std::floor((s + d) / bar - 1e-9)) << "crosses a bar line at " << s;
    end = s + d;
    lo = std::min(lo, p);
    hi = std::max(hi, p);
    if (prev >= 0) EXPECT_LE(std::abs(p - prev), 12);
    prev = p;
  }
  EXPECT_LE(hi - lo, range);
  // the last note is the tonic
  ASSERT_FALSE(r["notes"].empty());
  EXPECT_EQ((r["notes"].back()["pitch"].get<int>() - tpc + 120) % 12, 0);
  EXPECT_GT(r["abc"].get<std::string>().size(), 20u);
  EXPECT_NE(r["musicxml"].get<std::string>().find("<score-partwise"), std::string::npos);
  EXPECT_EQ(r["midi"].get<std::string>().rfind("TVRoZA", 0), 0u);  // "MThd"
}
}  // namespace

TEST(Melody, KeysMetersAndWordSplitting) {
  EXPECT_EQ(parse_key("F#", "major").fifths, 6);
  EXPECT_EQ(parse_key("Bb", "major").fifths, -2);
  EXPECT_EQ(parse_key("A", "minor").fifths, 0);
  EXPECT_EQ(parse_key("D", "dorian").fifths, 0);
  EXPECT_EQ(parse_key("G", "mixolydian").fifths, 0);
  EXPECT_THROW(parse_key("H", "major"), Error);
  EXPECT_EQ(parse_key("G#", "major").tonic, "Ab");  // 8 sharps: respelled
  EXPECT_EQ(parse_key("Db", "minor").tonic, "C#");
  EXPECT_EQ(parse_key("Db", "minor").fifths, 4);
  EXPECT_THROW(parse_key("C", "blues"), Error);
  EXPECT_EQ(parse_meter("6/8").beat12(), 18);
  EXPECT_EQ(parse_meter("4/4").weight(24), 2);
  EXPECT_EQ(parse_meter("4/4").weight(12), 1);
  EXPECT_EQ(parse_meter("4/4").weight(6), 0);
  EXPECT_EQ(parse_meter("3/4").weight(24), 1);
  EXPECT_THROW(parse_meter("5/7"), Error);
  EXPECT_EQ(split_english_word("beautiful", 3), (std::vector<std::string>{"beau", "ti", "ful"}));
  EXPECT_EQ(split_english_word("silver", 2), (std::vector<std::string>{"sil", "ver"}));
  EXPECT_EQ(split_english_word("love", 1), (std::vector<std::string>{"love"}));
  EXPECT_EQ(split_english_word("table", 2).size(), 2u);
  EXPECT_EQ(split_english_word("remember", 3), (std::vector<std::string>{"re", "mem", "ber"}));
  // tone rules: heights 1=5, 2=4, 3=1.5, 4=3
  EXPECT_EQ(tone_rule(1, 3), -1);
  EXPECT_EQ(tone_rule(3, 1), 1);
  EXPECT_EQ(tone_rule(4, 1), 1);
  EXPECT_EQ(tone_rule(1, 1), 2);
  EXPECT_EQ(tone_rule(2, 4), 0);
  EXPECT_EQ(tone_rule(0, 3), 0);
}

TEST(Melody, InstrumentalTunesForEveryStyle) {
  for (const char* style : {"jig", "reel", "hornpipe", "waltz", "polka", "march", "slip_jig", "air", "hymn", "song"}) {
    json r = ask({{"task", "generate_melody"}, {"style", style}, {"key", "D"}, {"bars", 8}, {"seed", 11}});
    SCOPED_TRACE(style);
    check_melody(r, "D", kMajor, 19);  // instruments: an octave and a fifth by default
    EXPECT_EQ(r["bars"], 8);
    EXPECT_EQ(r["style"], style);
    // every phrase ends on 1, 3 or 5
    for (const json& ph : r["phrases"]) EXPECT_NE(ph["cadence"], "open");
    // one period: the first four bars end on a half cadence (degree 2, 5 or 7 of D major: E, A, C#)
    ASSERT_EQ(r["phrases"].size(), 1u);
    ASSERT_TRUE(r["phrases"][0].contains("half_cadence_note"));
    const int half = r["notes"][r["phrases"][0]["half_cadence_note"].get<int>()]["pitch"];
    EXPECT_TRUE(half % 12 == 4 || half % 12 == 9 || half % 12 == 1) << half;
    EXPECT_FALSE(r["chords"].empty());
  }
  json minor = ask({{"task", "generate_melody"}, {"style", "reel"}, {"key", "E"}, {"mode", "minor"}, {"bars", 8}, {"seed", 2}});
  check_melody(minor, "E", kMinor, 19);
  EXPECT_EQ(minor["key"]["fifths"], 1);
}

TEST(Melody, EnglishLyricsOneNotePerSyllableStressOnBeats) {
  const std::string lyrics = "I walk alone beneath the silver moon\nThe river sings a melody of you\n"
                             "And every star remembers what we knew\nI will be waiting till the night is through";
  json r = ask({{"task", "generate_melody"}, {"lyrics", lyrics}, {"key", "G"}, {"seed", 5}, {"accompaniment", "pattern"}});
  check_melody(r, "G", kMajor, 16);
  // syllables in order, one note each
  std::string sung;
  int stressed = 0, on_beat = 0;
  for (const json& n : r["notes"]) {
    ASSERT_TRUE(n.contains("syllable"));
    sung += n["syllable"].get<std::string>();
    if (n.value("stress_kind", "") == "primary") {
      stressed++;
      on_beat += std::fabs(std::fmod(n["start"].get<double>(), 1.0)) < 1e-9;
    }
  }
  EXPECT_NE(sung.find("be-neaththe"), std::string::npos) << sung;
  EXPECT_NE(sung.find("sil-ver"), std::string::npos);
  EXPECT_GT(stressed, 5);
  EXPECT_EQ(on_beat, stressed);
  EXPECT_EQ(r["phrases"].size(), 4u);
  EXPECT_EQ(r["checks"]["alignment"], 1.0);
  EXPECT_FALSE(r["accompaniment"].empty());
  // each line ends on 1, 3 or 5
  for (const json& ph : r["phrases"]) EXPECT_NE(ph["cadence"], "open");
}

TEST(Melody, ChineseLyricsFollowTheToneRules) {
  json r = ask({{"task", "generate_melody"}, {"lyrics", json::array({"月亮代表我的心", "你问我爱你有多深", "我的情也真", "我的爱也真"})},
                {"key", "F"}, {"seed", 3}});
  check_melody(r, "F", kMajor, 16);
  EXPECT_EQ(r["notes"].size(), 7u + 8u + 5u + 5u);
  int pairs = 0, held = 0;
  for (size_t i = 1; i < r["notes"].size(); ++i) {
    const json &a = r["notes"][i - 1], &b = r["notes"][i];
    if (a["line"] != b["line"] || !a.contains("tone") || !b.contains("tone")) continue;
    const int rule = tone_rule(a["tone"], b["tone"]);
    if (!rule) continue;
    pairs++;
    const int d = b["pitch"].get<int>() - a["pitch"].get<int>();
    held += rule == 1 ? d > 0 : rule == -1 ? d < 0 : std::abs(d) <= 2;
  }
  EXPECT_GE(pairs, 4);
  EXPECT_GE(held, pairs - (int)r["relaxations"].size());
}

TEST(Melody, SameSeedSameMelody) {
  json q = {{"task", "generate_melody"}, {"lyrics", "Hello darkness my old friend"}, {"seed", 42}, {"style", "air"}};
  json a = ask(q), b = ask(q);
  EXPECT_EQ(a["notes"], b["notes"]);
  EXPECT_EQ(a["midi"], b["midi"]);
  q["seed"] = 43;
  EXPECT_NE(ask(q)["notes"], a["notes"]);
}

TEST(Melody, RepeatedLinesSingTheSameNotes) {
  json r = ask({{"task", "generate_melody"}, {"lyrics", "Shine on me tonight\nHold me close\nShine on me tonight\nNever let me go"}, {"seed", 8}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  std::vector<std::pair<int, double>> l0, l2;
  const double bar = r["beats_per_bar"];
  const double shift = (r["phrases"][2]["first_bar"].get<int>() - r["phrases"][0]["first_bar"].get<int>()) * bar;
  for (const json& n : r["notes"]) {
    if (n["line"] == 0) l0.push_back({n["pitch"], n["start"].get<double>() + shift});
    if (n["line"] == 2) l2.push_back({n["pitch"], n["start"]});
  }
  EXPECT_EQ(l0, l2);
}

TEST(Melody, Edits) {
  json m = ask({{"task", "generate_melody"}, {"lyrics", "Hello darkness my old friend\nI have come to talk with you again"},
                {"key", "A"}, {"seed", 2}});
  ASSERT_FALSE(m.contains("error"));
  // transpose: every pitch +2, key B
  json t = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "transpose"}, {"semitones", 2}});
  ASSERT_EQ(t["notes"].size(), m["notes"].size());
  for (size_t i = 0; i < m["notes"].size(); ++i) EXPECT_EQ(t["notes"][i]["pitch"].get<int>(), m["notes"][i]["pitch"].get<int>() + 2);
  EXPECT_EQ(t["key"]["tonic"], "B");
  check_melody(t, "B", kMajor, 16);
  // change mode: A minor, same rhythm and syllables
  json c = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "change_mode"}, {"mode", "minor"}});
  check_melody(c, "A", kMinor, 17);
  for (size_t i = 0; i < m["notes"].size(); ++i) {
    EXPECT_EQ(c["notes"][i]["start"], m["notes"][i]["start"]);
    EXPECT_EQ(c["notes"][i]["syllable"], m["notes"][i]["syllable"]);
    EXPECT_LE(std::abs(c["notes"][i]["pitch"].get<int>() - m["notes"][i]["pitch"].get<int>()), 1);
  }
  // regenerate bar 1: bars 0 and 2.. unchanged, syllables all still sung once
  json g = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "regenerate_bars"}, {"from", 1}, {"to", 1}, {"seed", 9}});
  ASSERT_FALSE(g.contains("error")) << g.dump();
  const double bar = m["beats_per_bar"];
  auto outside = [&](const json& r) {
    json keep = json::array();
    for (const json& n : r["notes"])
      if (n["start"].get<double>() < bar || n["start"].get<double>() >= 2 * bar) keep.push_back({n["pitch"], n["start"], n["syllable"]});
    return keep;
  };
  EXPECT_EQ(outside(g), outside(m));
  EXPECT_EQ(g["notes"].size(), m["notes"].size());
  for (size_t i = 0; i < m["notes"].size(); ++i) EXPECT_EQ(g["notes"][i]["syllable"], m["notes"][i]["syllable"]);
  // continue: 4 more bars, the old ones kept
  json k = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "continue"}, {"bars", 4}, {"seed", 1}});
  EXPECT_EQ(k["bars"].get<int>(), m["bars"].get<int>() + 4);
  for (size_t i = 0; i < m["notes"].size(); ++i) EXPECT_EQ(k["notes"][i]["pitch"], m["notes"][i]["pitch"]);
  EXPECT_GT(k["notes"].size(), m["notes"].size());
  // restyle: same pitches in order, 3/4
  json s = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "restyle"}, {"style", "waltz"}, {"seed", 4}});
  ASSERT_FALSE(s.contains("error")) << s.dump();
  EXPECT_EQ(s["meter"], "3/4");
  ASSERT_EQ(s["notes"].size(), m["notes"].size());
  for (size_t i = 0; i < m["notes"].size(); ++i) {
    EXPECT_EQ(s["notes"][i]["pitch"], m["notes"][i]["pitch"]);
    EXPECT_EQ(s["notes"][i]["syllable"], m["notes"][i]["syllable"]);
  }
  // accompany: a second track
  json a = ask({{"task", "edit_melody"}, {"melody", m}, {"action", "accompany"}, {"accompaniment", "block"}});
  EXPECT_FALSE(a["accompaniment"].empty());
  EXPECT_EQ(a["notes"], m["notes"]);
}

TEST(Melody, BadInputGetsClearErrors) {
  auto gen = [](json extra) {
    json q = {{"task", "generate_melody"}, {"seed", 1}};
    for (auto it = extra.begin(); it != extra.end(); ++it) q[it.key()] = it.value();
    return ask(q);
  };
  EXPECT_EQ(error_field(gen({{"key", "H"}})), "key");
  EXPECT_EQ(error_field(gen({{"meter", "5/7"}})), "meter");
  EXPECT_EQ(error_field(gen({{"style", "dubstep"}})), "style");
  EXPECT_EQ(error_field(gen({{"bars", 0}})), "bars");
  EXPECT_EQ(error_field(gen({{"bars", 10000}})), "bars");
  EXPECT_EQ(error_field(gen({{"tempo", 1000}})), "tempo");
  EXPECT_EQ(error_field(gen({{"lyrics", "123 !!! 🎵🎵"}})), "lyrics");
  EXPECT_EQ(error_field(gen({{"lyrics", 5}})), "lyrics");
  EXPECT_EQ(error_field(gen({{"lyrics", "a b c d e f g h"}, {"bars", 1}})), "");  // 8 syllables fit one bar of 4/4
  EXPECT_EQ(error_field(gen({{"lyrics", "la la la la la la la la la la la la la la la la la la"}, {"bars", 1}})), "bars");
  EXPECT_EQ(error_code(gen({{"unknown", 1}})), "unknown_field");
  EXPECT_EQ(error_field(gen({{"temperature", 5}})), "temperature");
  EXPECT_EQ(error_field(gen({{"range", 3}})), "range");
  EXPECT_EQ(error_field(gen({{"chromatic", "yes"}})), "chromatic");
  EXPECT_EQ(error_field(gen({{"melisma", 1}})), "melisma");
  EXPECT_EQ(error_field(gen({{"accompaniment", "orchestra"}})), "accompaniment");
  EXPECT_EQ(error_field(gen({{"title", ""}})), "title");
  // emoji and digits are dropped with a remark; mixed languages are sung
  json r = gen({{"lyrics", "我爱 you 🎵 2 times"}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["notes"].size(), 4u);  // 我 爱 you times
  EXPECT_FALSE(r["remarks"].empty());
  // edits
  EXPECT_EQ(error_field(ask({{"task", "edit_melody"}, {"melody", 3}, {"action", "transpose"}, {"semitones", 1}})), "melody");
  json m = gen({{"bars", 4}});
  EXPECT_EQ(error_field(ask({{"task", "edit_melody"}, {"melody", m}, {"action", "regenerate_bars"}, {"from", 9}})), "from");
  EXPECT_EQ(error_field(ask({{"task", "edit_melody"}, {"melody", m}, {"action", "transpose"}, {"semitones", 99}})), "semitones");
  EXPECT_EQ(error_field(ask({{"task", "edit_melody"}, {"melody", m}, {"action", "fly"}})), "action");
  json broken = m;
  broken["notes"][0]["pitch"] = 300;
  EXPECT_EQ(error_field(ask({{"task", "edit_melody"}, {"melody", broken}, {"action", "transpose"}, {"semitones", 1}})), "melody.notes[0]");
  // the engine keeps working
  EXPECT_FALSE(gen({{"bars", 2}}).contains("error"));
}

TEST(Melody, RenderWritesTheGivenNotes) {
  json r = ask({{"task", "render_melody"}, {"key", "G"}, {"meter", "3/4"},
                {"notes", json::array({{{"pitch", 67}, {"start", 0}, {"duration", 1}, {"syllable", "hel-"}},
                                       {{"pitch", 71}, {"start", 1}, {"duration", 2}, {"syllable", "lo"}}})}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_NE(r["abc"].get<std::string>().find("w: hel-lo"), std::string::npos) << r["abc"];
  EXPECT_NE(r["musicxml"].get<std::string>().find("<text>hel</text>"), std::string::npos);
  EXPECT_EQ(error_field(ask({{"task", "render_melody"}, {"notes", json::array({{{"pitch", 67}, {"start", 0}, {"duration", -1}}})}})), "notes[0]");
}

TEST(Melody, OptionsRangeMelismaTitleTemperature) {
  // range: a narrow request is kept
  json r = ask({{"task", "generate_melody"}, {"style", "reel"}, {"bars", 8}, {"range", 7}, {"seed", 4}});
  check_melody(r, "C", kMajor, 7);
  // melisma: continuation notes carry no syllable, every syllable still has exactly one first note
  json m = ask({{"task", "generate_melody"}, {"lyrics", "Hallelujah\nHallelujah"}, {"melisma", true}, {"bars", 8}, {"seed", 1}});
  ASSERT_FALSE(m.contains("error")) << m.dump();
  int syllables = 0;
  for (const json& n : m["notes"]) {
    if (n.value("melisma", false)) EXPECT_FALSE(n.contains("syllable"));
    else syllables += n.contains("syllable");
  }
  EXPECT_EQ(syllables, 8);
  EXPECT_EQ(m["checks"]["alignment"], 1.0);
  // title goes into the files; temperature 0 is greedy and repeatable
  json t = ask({{"task", "generate_melody"}, {"bars", 2}, {"title", "Tune for Ann"}, {"temperature", 0}, {"seed", 1}});
  EXPECT_NE(t["abc"].get<std::string>().find("T:Tune for Ann"), std::string::npos);
  json t2 = ask({{"task", "generate_melody"}, {"bars", 2}, {"title", "Tune for Ann"}, {"temperature", 0}, {"seed", 2}});
  EXPECT_EQ(t["notes"], t2["notes"]);
}
