// Songwriting controls end to end through the JSON entry point: structure, rhyme, syllables,
// keywords, words to avoid, mood, originality, editing, titles, and the errors and relaxations of
// impossible requests. Rhymes and counts are checked on the returned text with the phonetic tables,
// not taken from the engine's own report.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "tunesmith/api.h"
#include "tunesmith/en_lexicon.h"
#include "tunesmith/error.h"
#include "tunesmith/ngram_index.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/songwriter.h"
#include "tunesmith/utf8.h"

using namespace tunesmith;
using nlohmann::json;

namespace {
Engine& engine() { return tstest::models_engine(); }
json ask(const json& j) { return json::parse(engine().request(j.dump())); }
std::string error_code(const json& r) { return r.contains("error") ? r["error"]["code"].get<std::string>() : ""; }
const Phonetics& ph() { return *engine().phonetics(); }

int cjk_count(const std::string& s) {
  std::u32string c;
  utf8_decode(s, c);
  int n = 0;
  for (char32_t ch : c) n += is_cjk(ch);
  return n;
}

// Every later line of a rhyme class rhymes with the class's first line (checked on the text).
void expect_rhymes(const json& r, bool zh) {
  std::map<std::pair<int, std::string>, std::vector<std::string>> classes;  // (section of origin, letter)
  for (const auto& l : r["lines"]) {
    if (l["rhyme"].is_null()) continue;
    const int sec = l["repeat_of"].is_null() ? l["section_index"].get<int>() : -1 - l["repeat_of"].get<int>();
    classes[{sec, l["rhyme"]["class"].get<std::string>()}].push_back(l["text"]);
  }
  for (const auto& kv : classes)
    for (size_t k = 1; k < kv.second.size(); ++k) {
      const bool ok = zh ? ph().zh_rhymes(kv.second[0], kv.second[k]) : ph().en_rhymes(kv.second[0], kv.second[k]);
      EXPECT_TRUE(ok) << kv.second[0] << " / " << kv.second[k];
    }
}
}  // namespace

TEST(SongPlan, StructuresSchemesAndTargets) {
  json req = {{"structure", "V C V4 C B2 C"}, {"rhyme_scheme", {{"verse", "ABAB"}, {"chorus", "AAAA"}}}, {"syllables", 7}};
  SongPlan p = parse_song_plan(req, "zh", 1);
  ASSERT_EQ(p.sections.size(), 6u);
  EXPECT_EQ(p.lines.size(), 4u + 4 + 4 + 4 + 2 + 4);
  EXPECT_EQ(p.sections[0].label, "Verse 1");
  EXPECT_EQ(p.sections[3].label, "Chorus 2");
  EXPECT_EQ(p.sections[3].repeat_of, 1);
  EXPECT_EQ(p.sections[5].repeat_of, 1);
  EXPECT_EQ(p.sections[4].scheme, "");  // the bridge was given none
  EXPECT_EQ(p.lines[12].repeat_of, 4);   // chorus 2 line 1 repeats chorus 1 line 1
  EXPECT_EQ(p.lines[0].rhyme_class, p.lines[2].rhyme_class);
  EXPECT_NE(p.lines[0].rhyme_class, p.lines[1].rhyme_class);
  EXPECT_NE(p.lines[0].rhyme_class, p.lines[8].rhyme_class);  // classes never carry across sections
  for (const LinePlan& l : p.lines) EXPECT_EQ(l.syllables, 7);
  // Array items, Chinese names, dashes, per-section objects.
  SongPlan q = parse_song_plan(json{{"structure", json::array({"主歌", json{{"section", "副歌"}, {"lines", 2}, {"rhyme_scheme", "AA"}, {"syllables", json::array({5, 6})}}})}}, "zh", 1);
  ASSERT_EQ(q.lines.size(), 6u);
  EXPECT_EQ(q.sections[1].name, "chorus");
  EXPECT_EQ(q.lines[4].syllables, 5);
  EXPECT_EQ(q.lines[5].syllables, 6);
  EXPECT_EQ(parse_song_plan(json{{"structure", "V-C-pre-chorus"}}, "en", 1).sections[2].name, "pre-chorus");
  // ABAB over 8 lines is ABAB CDCD: fresh classes.
  SongPlan r = parse_song_plan(json{{"structure", "V8"}, {"rhyme_scheme", "ABAB"}}, "en", 1);
  EXPECT_NE(r.lines[0].rhyme_class, r.lines[4].rhyme_class);
  EXPECT_GE(r.lines[0].syllables, 6);  // drawn, since rhymed without a target
  EXPECT_FALSE(r.notes.empty());
  // Vary: first and last chorus lines repeat, the middle ones are rewritten in the same classes.
  SongPlan v = parse_song_plan(json{{"structure", "C V C"}, {"chorus", "vary"}, {"rhyme_scheme", "AABB"}}, "en", 1);
  EXPECT_EQ(v.lines[8].repeat_of, 0);
  EXPECT_EQ(v.lines[9].repeat_of, -1);
  EXPECT_EQ(v.lines[9].rhyme_class, v.lines[1].rhyme_class);
  EXPECT_EQ(v.lines[11].repeat_of, 3);
}

TEST(SongPlan, ContradictionsAreClearErrors) {
  auto code_of = [](const json& req, const std::string& lang = "en") {
    try {
      parse_song_plan(req, lang, 1);
      return std::string("ok");
    } catch (const Error& e) {
      return e.code + ":" + e.details.value("field", "");
    }
  };
  EXPECT_EQ(code_of({{"structure", "V X C"}}), "invalid_field:structure");
  EXPECT_EQ(code_of({{"structure", ""}}), "invalid_field:structure");
  EXPECT_EQ(code_of({{"structure", "V99"}}), "invalid_field:structure");
  EXPECT_EQ(code_of({{"structure", 5}}), "invalid_field:structure");
  EXPECT_EQ(code_of({{"structure", json::array({json{{"section", "verse"}, {"colour", "red"}}})}}), "invalid_field:structure");
  EXPECT_EQ(code_of({{"structure", "V C"}, {"lyrics_length", 3}}), "invalid_field:lyrics_length");
  EXPECT_EQ(code_of({{"structure", "V C"}, {"lyrics_length", 8}}), "ok");
  EXPECT_EQ(code_of({{"syllables", 0}}), "invalid_field:syllables");
  EXPECT_EQ(code_of({{"syllables", 500}}), "invalid_field:syllables");
  EXPECT_EQ(code_of({{"syllables", json::array({7, 7})}}), "invalid_field:syllables");
  EXPECT_EQ(code_of({{"syllables", {{"bridge", 7}}}}), "invalid_field:syllables");  // no bridge in the plan
  EXPECT_EQ(code_of({{"rhyme_scheme", "AB1B"}}), "invalid_field:rhyme_scheme");
  EXPECT_EQ(code_of({{"structure", "V4"}, {"rhyme_scheme", {{"verse", "ABABAB"}}}}), "invalid_field:rhyme_scheme");
  EXPECT_EQ(code_of({{"structure", "V4"}, {"rhyme_scheme", {{"verse", "ABC"}}}}), "invalid_field:rhyme_scheme");
  EXPECT_EQ(code_of({{"structure", "V4"}, {"rhyme_scheme", {{"solo", "AA"}}}}), "invalid_field:rhyme_scheme");
  EXPECT_EQ(code_of({{"structure", "V2"}, {"rhyme_scheme", "ABAB"}}), "ok");  // a global scheme is cut, with a note
  EXPECT_EQ(code_of({{"mood", "grumpy"}}), "invalid_field:mood");
  EXPECT_EQ(code_of({{"chorus", "sometimes"}}), "invalid_field:chorus");
  EXPECT_EQ(code_of({{"keywords", json::array({"月亮"})}}), "invalid_field:keywords");       // other script
  EXPECT_EQ(code_of({{"keywords", json::array({"moon"})}}, "zh"), "invalid_field:keywords");
  EXPECT_EQ(code_of({{"keywords", json::array({"moon", "moon", "a", "b", "c", "d", "e", "f", "g"})}}), "invalid_field:keywords");
  EXPECT_EQ(code_of({{"keywords", json::array({""})}}), "invalid_field:keywords");
  EXPECT_EQ(code_of({{"keywords", json::array({"moonlight"})}, {"avoid", json::array({"moon"})}}), "invalid_field:avoid");
  EXPECT_EQ(code_of({{"originality", "yes"}}), "invalid_field:originality");
  json big = json::array();
  for (int i = 0; i < 30; ++i) big.push_back("V8");
  EXPECT_EQ(code_of({{"structure", big}}), "invalid_field:structure");
}

TEST(Songwriter, ChineseStructureRhymeAndSyllables) {
  json r = ask({{"task", "generate_lyrics"}, {"song_title", "月光"}, {"structure", "V C V C"}, {"rhyme_scheme", "AABB"},
                {"syllables", 7}, {"seed", 3}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_EQ(r["lines"].size(), 16u);
  EXPECT_EQ(r["sections"].size(), 4u);
  for (const auto& l : r["lines"]) {
    EXPECT_EQ(cjk_count(l["text"]), 7) << l["text"];
    EXPECT_EQ(l["syllables"], 7);
    EXPECT_FALSE(l["rhyme"].is_null());
  }
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(r["lines"][12 + k]["text"], r["lines"][4 + k]["text"]);
    EXPECT_EQ(r["lines"][12 + k]["repeat_of"], 4 + k);
  }
  EXPECT_EQ(r["lines"][0]["label"], "Verse 1");
  EXPECT_EQ(r["lines"][4]["section"], "chorus");
  expect_rhymes(r, true);
  EXPECT_TRUE(r["constraints"]["all_met"]) << r["constraints"].dump();
  EXPECT_EQ(r["constraints"]["rhyme_pairs"]["required"], 10);
}

TEST(Songwriter, EnglishStructureRhymeAndSyllables) {
  for (int seed : {3, 4}) {
    json r = ask({{"task", "generate_lyrics"}, {"song_title", "Summer Rain"}, {"structure", "V C V C"}, {"rhyme_scheme", "ABAB"},
                  {"syllables", 8}, {"seed", seed}});
    ASSERT_FALSE(r.contains("error")) << r.dump();
    ASSERT_EQ(r["lines"].size(), 16u);
    for (const auto& l : r["lines"]) EXPECT_EQ(ph().en_syllables_line(l["text"]), 8) << l["text"];
    expect_rhymes(r, false);
    EXPECT_TRUE(r["constraints"]["all_met"]) << r["constraints"].dump();
    EXPECT_TRUE(r["relaxations"].empty()) << r["relaxations"].dump();
  }
}

TEST(Songwriter, KeywordsAvoidAndMood) {
  json zh = ask({{"task", "generate_lyrics"}, {"song_title", "离别"}, {"structure", "V C"}, {"rhyme_scheme", "ABCB"},
                 {"keywords", json::array({"月亮"})}, {"avoid", json::array({"春", "泪"})}, {"mood", "sad"}, {"seed", 5}});
  ASSERT_FALSE(zh.contains("error")) << zh.dump();
  EXPECT_NE(zh["lyrics"].get<std::string>().find("月亮"), std::string::npos);
  EXPECT_EQ(zh["lyrics"].get<std::string>().find("春"), std::string::npos);
  EXPECT_EQ(zh["lyrics"].get<std::string>().find("泪"), std::string::npos);
  EXPECT_EQ(zh["mood"]["used"], "sad");
  EXPECT_EQ(zh["constraints"]["keywords"]["placed"][0]["line"], 4);  // the first chorus line
  json en = ask({{"task", "generate_lyrics"}, {"song_title", "Stand Up"}, {"structure", "V C"}, {"rhyme_scheme", "AABB"},
                 {"keywords", json::array({"fire"})}, {"avoid", json::array({"love", "the night"})}, {"mood", "defiant"}, {"seed", 5}});
  ASSERT_FALSE(en.contains("error")) << en.dump();
  std::vector<std::string> words;
  NgramIndex::normalise_words(en["lyrics"].get<std::string>(), words);
  EXPECT_NE(std::find(words.begin(), words.end(), "fire"), words.end());
  EXPECT_EQ(std::find(words.begin(), words.end(), "love"), words.end());
  for (size_t i = 0; i + 1 < words.size(); ++i) EXPECT_FALSE(words[i] == "the" && words[i + 1] == "night");
  EXPECT_TRUE(en["constraints"]["all_met"]) << en["constraints"].dump();
  // Chinese keyword with a character outside the model's vocabulary is an error, not a silent drop.
  json bad = ask({{"task", "generate_lyrics"}, {"song_title", "月光"}, {"keywords", json::array({"𠀀"})}});
  EXPECT_EQ(error_code(bad), "invalid_field") << bad.dump();
}

TEST(Songwriter, OriginalityBlocksCopiedRuns) {
  // With the filter on, no 8-gram of the output is in the index (no keywords, no repeats: every
  // character was checked while decoding).
  for (const char* title : {"静夜思", "春晓", "满江红"}) {
    json r = ask({{"task", "generate_lyrics"}, {"song_title", title}, {"lyrics_length", 12}, {"song_style", "唐诗"}, {"seed", 7}});
    ASSERT_FALSE(r.contains("error")) << r.dump();
    EXPECT_EQ(engine().ngrams("lyrics-zh")->scan(r["lyrics"]).hits, 0) << r["lyrics"];
  }
  json e = ask({{"task", "generate_lyrics"}, {"song_title", "There was an Old Man"}, {"song_style", "children"}, {"lyrics_length", 12}, {"seed", 7}});
  ASSERT_FALSE(e.contains("error")) << e.dump();
  EXPECT_EQ(engine().ngrams("lyrics-en")->scan(e["lyrics"]).hits, 0) << e["lyrics"];
  EXPECT_TRUE(e["originality"]["enabled"]);
  json off = ask({{"task", "generate_lyrics"}, {"song_title", "静夜思"}, {"originality", false}, {"seed", 7}});
  EXPECT_FALSE(off["originality"]["enabled"]);
}

TEST(Songwriter, SameRequestSameSong) {
  json req = {{"task", "generate_lyrics"}, {"song_title", "Home"}, {"structure", "V P C"}, {"rhyme_scheme", "AABB"}, {"mood", "tender"}, {"seed", 11}};
  EXPECT_EQ(ask(req)["lines"], ask(req)["lines"]);
  req["seed"] = 12;
  json other = ask(req);
  EXPECT_FALSE(other.contains("error"));
}

TEST(Songwriter, EditingKeepsWhatItShould) {
  json gen = {{"task", "generate_lyrics"}, {"song_title", "Summer Rain"}, {"structure", "V C V C"}, {"rhyme_scheme", "ABAB"},
              {"syllables", 8}, {"seed", 3}};
  json song = ask(gen);
  ASSERT_FALSE(song.contains("error")) << song.dump();
  std::vector<std::string> lines;
  for (const auto& l : song["lines"]) lines.push_back(l["text"]);

  json edit = gen;
  edit["task"] = "edit_lyrics";
  edit["lines"] = lines;
  edit["action"] = "regenerate_line";
  edit["line"] = 2;
  edit["seed"] = 99;
  json r = ask(edit);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["edited"], json::array({2}));
  for (int i = 0; i < 16; ++i) {
    if (i == 2) continue;
    EXPECT_EQ(r["lines"][i]["text"], lines[i]) << i;
  }
  EXPECT_NE(r["lines"][2]["text"], lines[2]);
  EXPECT_EQ(ph().en_syllables_line(r["lines"][2]["text"]), 8);
  EXPECT_TRUE(ph().en_rhymes(r["lines"][0]["text"], r["lines"][2]["text"])) << r["lines"][2]["text"];
  EXPECT_EQ(ask(edit)["lines"], r["lines"]);  // reproducible

  // A chorus line changes in every repeat.
  edit["line"] = 13;
  r = ask(edit);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["edited"], json::array({5, 13}));
  EXPECT_EQ(r["lines"][5]["text"], r["lines"][13]["text"]);

  // Everything but the locked lines.
  edit["action"] = "regenerate_unlocked";
  edit["locked"] = {0, 4};
  edit.erase("line");
  r = ask(edit);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["lines"][0]["text"], lines[0]);
  EXPECT_EQ(r["lines"][4]["text"], lines[4]);
  EXPECT_EQ(r["lines"][12]["text"], lines[4]);
  int changed = 0;
  for (int i = 0; i < 16; ++i) changed += r["lines"][i]["text"] != lines[i];
  EXPECT_GE(changed, 8);
  expect_rhymes(r, false);

  // Continue: two more sections after the song; the new chorus repeats the first.
  edit["action"] = "continue";
  edit["append"] = "B2 C";
  edit.erase("locked");
  r = ask(edit);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_EQ(r["lines"].size(), 22u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(r["lines"][i]["text"], lines[i]);
  EXPECT_EQ(r["lines"][18]["text"], lines[4]);
  EXPECT_EQ(r["lines"][16]["label"], "Bridge 1");

  // Lines that do not match the plan, and a bad action.
  edit["lines"] = json::array({"one line"});
  EXPECT_EQ(error_code(ask(edit)), "invalid_field");
  edit["lines"] = lines;
  edit["action"] = "rewrite_everything";
  EXPECT_EQ(error_code(ask(edit)), "invalid_field");
  edit["action"] = "regenerate_line";
  edit["line"] = 99;
  EXPECT_EQ(error_code(ask(edit)), "invalid_field");
}

TEST(Songwriter, ChineseEditKeepsRhymeOfLaterLines) {
  json gen = {{"task", "generate_lyrics"}, {"song_title", "故乡"}, {"structure", "V"}, {"rhyme_scheme", "AAAA"}, {"syllables", 6}, {"seed", 2}};
  json song = ask(gen);
  ASSERT_FALSE(song.contains("error")) << song.dump();
  json edit = gen;
  edit["task"] = "edit_lyrics";
  edit["action"] = "regenerate_line";
  edit["line"] = 0;  // the first line of its class: it must rhyme with the kept later lines
  edit["seed"] = 5;
  edit["lines"] = json::array();
  for (const auto& l : song["lines"]) edit["lines"].push_back(l["text"]);
  json r = ask(edit);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(cjk_count(r["lines"][0]["text"]), 6);
  EXPECT_TRUE(ph().zh_rhymes(r["lines"][0]["text"], r["lines"][1]["text"]));
}

TEST(Songwriter, TitlesAndLyricMood) {
  json t = ask({{"task", "generate_title"}, {"lyrics", "月亮代表我的心\n你问我爱你有多深\n我爱你有几分\n月亮代表我的心"}, {"count", 3}});
  ASSERT_FALSE(t.contains("error")) << t.dump();
  ASSERT_EQ(t["titles"].size(), 3u);
  std::set<std::string> seen;
  for (const auto& x : t["titles"]) {
    EXPECT_TRUE(seen.insert(x["title"].get<std::string>()).second);
    EXPECT_GE(cjk_count(x["title"]), 2);
  }
  json e = ask({{"task", "generate_title"}, {"theme", "summer rain on the river"}, {"count", 4}, {"seed", 1}});
  ASSERT_FALSE(e.contains("error")) << e.dump();
  EXPECT_EQ(e["language"], "en");
  EXPECT_GE(e["titles"].size(), 1u);
  EXPECT_EQ(error_code(ask({{"task", "generate_title"}})), "missing_field");
  EXPECT_EQ(error_code(ask({{"task", "generate_title"}, {"lyrics", "x"}, {"count", 0}})), "invalid_field");

  json a = ask({{"task", "analyze_lyrics"}, {"lyrics", "I am so happy today\nI cried alone in the dark"}});
  ASSERT_FALSE(a.contains("error")) << a.dump();
  ASSERT_EQ(a["lines"].size(), 2u);
  EXPECT_GT(a["lines"][0]["valence"].get<double>(), 0.0);
  EXPECT_LT(a["lines"][1]["valence"].get<double>(), 0.0);
  EXPECT_EQ(error_code(ask({{"task", "analyze_lyrics"}, {"lyrics", ""}})), "invalid_field");
}

TEST(Songwriter, ImpossibleRequestsAreReportedNotHung) {
  // A one-line section with a rhyme letter rhymes with nothing: unrhymed, and the song is written.
  json r = ask({{"task", "generate_lyrics"}, {"song_title", "Alone"}, {"structure", "V1"}, {"rhyme_scheme", {{"verse", "A"}}}, {"seed", 1}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_TRUE(r["lines"][0]["rhyme"].is_null());
  // Two syllables with a rhyme: possible for English (one-syllable words); keyword too long for the line: error.
  json k = ask({{"task", "generate_lyrics"}, {"song_title", "Alone"}, {"syllables", 3}, {"rhyme_scheme", "AA"}, {"lyrics_length", 2},
                {"keywords", json::array({"incomprehensibility"})}});
  EXPECT_EQ(error_code(k), "invalid_field") << k.dump();
  json tiny = ask({{"task", "generate_lyrics"}, {"song_title", "Go"}, {"syllables", 2}, {"rhyme_scheme", "AAAA"}, {"lyrics_length", 4}, {"seed", 2}});
  ASSERT_FALSE(tiny.contains("error")) << tiny.dump();
  for (const auto& l : tiny["lines"]) EXPECT_EQ(ph().en_syllables_line(l["text"]), 2) << l["text"];
  // Long songs (200 lines) finish: bounded loops, context shifts.
  json longest = ask({{"task", "generate_lyrics"}, {"song_title", "长歌"}, {"lyrics_length", 200}, {"rhyme_scheme", "AABB"}, {"seed", 1}});
  ASSERT_FALSE(longest.contains("error")) << longest.dump();
  EXPECT_EQ(longest["lines"].size(), 200u);
  EXPECT_GT(longest["context_shifts"].get<int>(), 0);
}

TEST(EnLexicon, TrieMasksAndWordList) {
  auto lex = engine().en_lexicon("lyrics-en");
  const int love = lex->find("love");
  ASSERT_GE(love, 0);
  EXPECT_EQ(lex->syllables(love), 1);
  EXPECT_EQ(lex->rhyme_key(love), "AH1 V");
  const int lo = lex->child(lex->child(0, 'l'), 'o');
  ASSERT_GE(lo, 0);
  EXPECT_TRUE(lex->syl_mask(lo) & (1u << 1));
  EXPECT_FALSE(lex->can_end_line(lex->find("the")));
  EXPECT_EQ(lex->find("waugh"), -1);  // in the table, but not a word the model's verse uses
  EXPECT_THROW(EnLexicon(ph(), "bad line without tab\n"), Error);
}

TEST(Songwriter, EveryLineIsStreamedOnceIncludingTrailingRepeats) {
  std::vector<int> seen;
  json r = json::parse(engine().request(
      json{{"task", "generate_lyrics"}, {"song_title", "Rain"}, {"structure", "V C V C"}, {"seed", 1}}.dump(),
      [&](const json& ev) { if (ev["event"] == "line") seen.push_back(ev["index"].get<int>()); }));
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_EQ(seen.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(seen[i], i);
}
