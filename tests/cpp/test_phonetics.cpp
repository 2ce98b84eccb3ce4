// Phonetics (phonetics.h) on the shipped tables: known characters and words checked by hand against
// pinyin and CMUdict, the rules for elisions and suffixes, the spelling fallback on words CMUdict
// lacks, malformed tables, and the fallback's accuracy measured on held-out table words (the
// numbers docs/phonetics.md reports).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "test_helpers.h"
#include "tunesmith/error.h"
#include "tunesmith/phonetics.h"

namespace {

using tunesmith::Phonetics;

const Phonetics& shipped() {
  static const Phonetics ph = [] {
    Phonetics p;
    p.load_dir(tstest::models_dir());
    return p;
  }();
  return ph;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }


constexpr int kFaHua = 1, kSuoBo = 2, kMieXie = 3, kYiQi = 4, kHuaiLai = 6, kRenChen = 11, kJiangYang = 12, kZhongDong = 13;

TEST(PhoneticsTables, ShippedTablesLoadAndMatchManifest) {
  EXPECT_GT(shipped().zh_size(), 20000u);
  EXPECT_GT(shipped().en_size(), 40000u);
  // every one of the 13 groups is used
  std::vector<int> seen(14, 0);
  for (char32_t c = 0x4E00; c <= 0x9FFF; ++c) ++seen[shipped().zh_rhyme_group(c)];
  for (int g = 1; g <= 13; ++g) EXPECT_GT(seen[g], 100) << "group " << g;
}

TEST(PhoneticsZh, KnownCharacters) {
  const auto& ph = shipped();
  auto ai = ph.zh(U'爱');
  ASSERT_TRUE(ai.found);
  EXPECT_EQ(ai.pinyin, std::vector<std::string>{"ai4"});
  EXPECT_EQ(ai.finals, std::vector<std::string>{"ai"});
  EXPECT_EQ(ai.tones, std::vector<int>{4});
  EXPECT_EQ(ai.groups, std::vector<int>{kHuaiLai});
  EXPECT_EQ(ph.zh_rhyme_group(U'心'), kRenChen);
  EXPECT_EQ(ph.zh_rhyme_group(U'光'), kJiangYang);
  EXPECT_EQ(ph.zh_rhyme_group(U'花'), kFaHua);
  EXPECT_EQ(ph.zh(U'花').finals[0], "ua");
  EXPECT_EQ(ph.zh(U'月').finals[0], "üe");  // y + ue: the ü restored
  EXPECT_EQ(ph.zh_rhyme_group(U'月'), kMieXie);
  EXPECT_EQ(ph.zh(U'是').finals[0], "-i");  // apical vowel, rhymes in 一七
  EXPECT_EQ(ph.zh_rhyme_group(U'是'), kYiQi);
  EXPECT_EQ(ph.zh_rhyme_group(U'你'), kYiQi);
  EXPECT_EQ(ph.zh(U'我').finals[0], "uo");
  EXPECT_EQ(ph.zh_rhyme_group(U'我'), kSuoBo);
  EXPECT_EQ(ph.zh(U'对').finals[0], "ui");
  EXPECT_EQ(ph.zh_rhyme_group(U'风'), kZhongDong);
  EXPECT_EQ(ph.zh(U'云').finals[0], "ün");
  EXPECT_EQ(ph.zh_rhyme_group(U'云'), kRenChen);
}

TEST(PhoneticsZh, PolyphonesKeepEveryReadingMostCommonFirst) {
  const auto xing = shipped().zh(U'行');
  ASSERT_TRUE(xing.found);
  ASSERT_GE(xing.pinyin.size(), 2u);
  EXPECT_EQ(xing.pinyin[0], "xing2");
  EXPECT_TRUE(contains(xing.pinyin, "hang2"));
  EXPECT_EQ(xing.finals.size(), xing.pinyin.size());
  EXPECT_EQ(xing.tones.size(), xing.pinyin.size());
  EXPECT_EQ(xing.groups.size(), xing.pinyin.size());
  EXPECT_EQ(xing.groups[0], kZhongDong);
  const size_t hang = std::find(xing.pinyin.begin(), xing.pinyin.end(), "hang2") - xing.pinyin.begin();
  EXPECT_EQ(xing.groups[hang], kJiangYang);
  const auto le = shipped().zh(U'了');
  EXPECT_EQ(le.pinyin[0], "le0");  // the particle, neutral tone, before liao3
  EXPECT_EQ(le.tones[0], 0);
}

TEST(PhoneticsZh, NoGroupAndUnknown) {
  EXPECT_EQ(shipped().zh_rhyme_group(U'嗯'), 0);  // syllabic ng
  EXPECT_FALSE(shipped().zh(U'A').found);
  EXPECT_EQ(shipped().zh_rhyme_group(U'A'), 0);
  EXPECT_EQ(shipped().zh_rhyme_group(U'。'), 0);
}

TEST(PhoneticsZh, LinesRhymeOnTheirLastCharacter) {
  const auto& ph = shipped();
  EXPECT_TRUE(ph.zh_rhymes("月亮代表我的心", "你问我爱你有多深"));   // xin / shen: 人辰
  EXPECT_TRUE(ph.zh_rhymes("月亮代表我的心。", "你问我爱你有多深？"));  // punctuation skipped
  EXPECT_TRUE(ph.zh_rhymes("春天的花", "远方的家 la la"));          // hua / jia: 发花
  EXPECT_FALSE(ph.zh_rhymes("春天的花", "心中的光"));
  EXPECT_FALSE(ph.zh_rhymes("hello", "hello"));                      // no CJK
  EXPECT_FALSE(ph.zh_rhymes("嗯", "嗯"));                            // no group
}

TEST(PhoneticsEn, KnownWords) {
  const auto& ph = shipped();
  auto love = ph.en("love");
  EXPECT_TRUE(love.found);
  EXPECT_TRUE(love.from_dictionary);
  EXPECT_EQ(love.syllables, 1);
  EXPECT_EQ(love.rhyme_key, "AH1 V");
  EXPECT_EQ(ph.en("above").rhyme_key, "AH1 V");
  EXPECT_EQ(ph.en("above").syllables, 2);
  EXPECT_TRUE(ph.en_rhymes("above", "love"));
  auto fire = ph.en("fire");  // CMUdict: F AY1 ER0 and F AY1 R
  EXPECT_EQ(fire.syllable_options, (std::vector<int>{2, 1}));
  EXPECT_EQ(fire.rhyme_keys, (std::vector<std::string>{"AY1 ER", "AY1 R"}));
  EXPECT_EQ(ph.en("beautiful").syllables, 3);
  EXPECT_EQ(ph.en("beautiful").rhyme_key, "UW1 T AX F AX L");
  EXPECT_TRUE(ph.en_rhymes("glove", "of"));
  EXPECT_TRUE(ph.en_rhymes("rarest", "fairest"));  // CMUdict writes AH0 / IH0: both AX here
  EXPECT_FALSE(ph.en_rhymes("love", "fire"));
  EXPECT_TRUE(ph.en_rhymes("higher", "fire"));
  // the rhyme starts on the last stressed vowel, secondary stress included (B AH1 T ER0 F L AY2)
  EXPECT_EQ(ph.en("butterfly").rhyme_key, "AY1");
  EXPECT_TRUE(ph.en_rhymes("butterfly", "sky"));
  EXPECT_TRUE(ph.en_rhymes("everything", "sing"));
  EXPECT_EQ(ph.en("the").rhyme_key, "AH0");  // no stressed vowel: the last one, marked 0
}

TEST(PhoneticsEn, Normalisation) {
  const auto& ph = shipped();
  EXPECT_EQ(ph.en("LOVE!").rhyme_key, "AH1 V");
  EXPECT_EQ(ph.en("\"Love,\"").syllables, 1);
  EXPECT_TRUE(ph.en("don\u2019t").found);  // typographic apostrophe
  EXPECT_EQ(ph.en("don\u2019t").syllables, 1);
  EXPECT_TRUE(ph.en("'cause").found);
  EXPECT_EQ(ph.en("'hello'").syllables, 2);  // quotes, not elisions
  EXPECT_EQ(ph.en("naïve").syllables, 2);
  EXPECT_FALSE(ph.en("24/7").found);
  EXPECT_EQ(ph.en("24/7").syllables, 0);
}

TEST(PhoneticsEn, ElisionsAndDerivedForms) {
  const auto& ph = shipped();
  auto check = [&](const char* w, int syl, const char* key) {
    const auto e = ph.en(w);
    EXPECT_TRUE(e.from_dictionary) << w;
    EXPECT_EQ(e.syllables, syl) << w;
    EXPECT_EQ(e.rhyme_key, key) << w;
  };
  check("lov'd", 1, "AH1 V D");
  check("belov'd", 2, "AH1 V D");
  check("heav'n", 1, "EH1 V N");
  check("pow'r", 1, "AW1 R");
  check("ev'ry", 2, "EH1 V R IY");
  check("o'er", 1, "AO1 R");
  check("lovin'", 2, "AH1 V AX N");
  check("love's", 1, "AH1 V Z");
  check("kiss's", 2, "IH1 S AX Z");
  check("well-known", 2, "OW1 N");
  EXPECT_EQ(ph.en_syllables_line("well-known"), 2);
  // suffixes on table words the table lacks in that form
  check("tuneless", 2, "UW1 N L AX S");  // tune + -less: a consonant suffix after the stem's e
  check("songism", 3, "IH1 Z AX M");     // -ism brings its own stress: the rhyme restarts
  EXPECT_FALSE(ph.en("tuneless").found);
}

TEST(PhoneticsEn, FallbackForWordsNotInCmudict) {
  const auto& ph = shipped();
  const auto glorp = ph.en("glorp");
  EXPECT_FALSE(glorp.found);
  EXPECT_FALSE(glorp.from_dictionary);
  EXPECT_EQ(glorp.syllables, 1);
  EXPECT_EQ(glorp.rhyme_key, "AO1 R P");  // borrowed from the words ending in -orp
  // a compound of table words rhymes on its second part, as CMUdict's own (blacksmith ... IH2 TH)
  const auto smith = ph.en("tunesmith");
  EXPECT_FALSE(smith.found);
  EXPECT_TRUE(smith.from_dictionary);
  EXPECT_EQ(smith.syllables, 2);
  EXPECT_EQ(smith.rhyme_key, "IH1 TH");
  const auto tune = ph.en("tunesmithing");  // tune + smith + -ing
  EXPECT_EQ(tune.syllables, 3);
  EXPECT_EQ(tune.rhyme_key, "IH1 TH AX NG");
  const auto glorping = ph.en("glorping");  // glorp + -ing, not the table's "glor" + "ping"
  EXPECT_EQ(glorping.syllables, 2);
  EXPECT_EQ(glorping.rhyme_key, "AO1 R P AX NG");
  EXPECT_FALSE(ph.en("brr").from_dictionary);
  EXPECT_EQ(ph.en("brr").syllables, 1);
  EXPECT_EQ(ph.en("brr").rhyme_key, "brr");  // nothing to borrow from: spelled, lowercase
  EXPECT_EQ(ph.en("flibbertigibbet").syllables, 5);
}

TEST(PhoneticsEn, SpellingRulesOnTheirOwn) {
  EXPECT_EQ(Phonetics::estimate_syllables("make"), 1);      // silent e
  EXPECT_EQ(Phonetics::estimate_syllables("table"), 2);     // consonant + le
  EXPECT_EQ(Phonetics::estimate_syllables("loved"), 1);     // silent -ed
  EXPECT_EQ(Phonetics::estimate_syllables("wanted"), 2);    // -ed after t
  EXPECT_EQ(Phonetics::estimate_syllables("wishes"), 2);    // -es after a sibilant
  EXPECT_EQ(Phonetics::estimate_syllables("lion"), 2);      // hiatus
  EXPECT_EQ(Phonetics::estimate_syllables("nation"), 2);    // -tion is one
  EXPECT_EQ(Phonetics::estimate_syllables("lovely"), 2);    // silent e before -ly
  EXPECT_EQ(Phonetics::estimate_syllables("rhythm"), 2);    // syllabic m
  EXPECT_EQ(Phonetics::estimate_syllables("yesterday"), 3);  // y before a vowel is a consonant
  EXPECT_EQ(Phonetics::spelled_rhyme_key("glorp"), "orp");
  EXPECT_EQ(Phonetics::spelled_rhyme_key("make"), "ake");
}

TEST(PhoneticsEn, Lines) {
  const auto& ph = shipped();
  EXPECT_EQ(ph.en_syllables_line("I will always love you"), 6);
  EXPECT_EQ(ph.en_syllables_line("I will always love you!!"), 6);
  EXPECT_EQ(ph.en_syllables_line("  "), 0);
  EXPECT_EQ(ph.en_syllables_line("Don\u2019t stop believin'"), 5);
  EXPECT_EQ(ph.en_rhyme_key_line("I will always love you"), "UW1");
  EXPECT_EQ(ph.en_rhyme_key_line("..."), "");
  EXPECT_TRUE(ph.en_rhymes("Way up above", "all you need is love."));
  EXPECT_TRUE(ph.en_rhymes("set the night on fire", "take me higher"));
  EXPECT_FALSE(ph.en_rhymes("set the night on fire", "all you need is love"));
  EXPECT_FALSE(ph.en_rhymes("", "love"));
}

TEST(PhoneticsEn, Stress) {
  const auto& ph = shipped();
  auto stress = [&](const char* w) { return ph.en(w).stress; };
  // from the table: CMUdict's digits, one a syllable
  EXPECT_EQ(stress("beautiful"), "100");   // B Y UW1 T AH0 F AH0 L
  EXPECT_EQ(stress("about"), "01");        // AH0 B AW1 T
  EXPECT_EQ(stress("understand"), "201");  // AH2 N D ER0 S T AE1 N D
  EXPECT_EQ(stress("love"), "1");
  EXPECT_EQ(stress("hmm"), "");            // no syllable
  EXPECT_EQ(ph.en("fire").stress_options, (std::vector<std::string>{"10", "1"}));
  EXPECT_EQ(ph.en("the").stress_options.size(), ph.en("the").syllable_options.size());
  // derived: the base's digits, '0' for each syllable a rule adds
  EXPECT_EQ(stress("tuneless"), "10");     // tune + -less
  EXPECT_EQ(stress("lovin'"), "10");       // loving
  EXPECT_EQ(stress("kiss's"), "10");       // kiss + AX Z
  EXPECT_EQ(stress("love's"), "1");
  EXPECT_EQ(stress("songism"), "120");     // -ism brings a secondary stress (racism R EY1 S IH2 Z AH0 M)
  EXPECT_EQ(stress("heav'n"), "1");        // heaven "10" less its elided vowel
  EXPECT_EQ(stress("belov'd"), "01");
  EXPECT_EQ(stress("o'er"), "1");
  EXPECT_EQ(stress("well-known"), "11");   // hyphenated: each part as it is
  EXPECT_EQ(stress("tunesmith"), "12");    // compound: the second part secondary, as blacksmith
  EXPECT_EQ(stress("tunesmithing"), "120");
  // estimated: primary stress on the first syllable
  EXPECT_EQ(stress("flibbertigibbet"), "10000");
  EXPECT_EQ(stress("brr"), "1");
  EXPECT_EQ(stress("glorping"), "10");     // guessed stem glorp + -ing
  EXPECT_EQ(Phonetics::estimate_stress(3), "100");
  EXPECT_EQ(Phonetics::estimate_stress(1), "1");
  EXPECT_EQ(Phonetics::estimate_stress(0), "");
  EXPECT_EQ(stress("24/7"), "");
  // every pronunciation of every word has one digit a syllable
  for (const char* w : {"beautiful", "fire", "the", "a", "every", "ev'ry", "pow'r", "wand'ring", "closings", "happiness",
                        "running", "annually", "glorp", "tunesmithing", "love's", "boys'", "whate'er", "hmm-hmm"}) {
    const auto e = ph.en(w);
    EXPECT_EQ(e.stress.size(), (size_t)e.syllables) << w;
    ASSERT_EQ(e.stress_options.size(), e.syllable_options.size()) << w;
    for (size_t i = 0; i < e.stress_options.size(); ++i) EXPECT_EQ(e.stress_options[i].size(), (size_t)e.syllable_options[i]) << w;
  }
  // a line: the words' first pronunciations run together
  EXPECT_EQ(ph.en_stress_line("I will always love you"), "111211");  // always AO1 L W EY2 Z
  EXPECT_EQ(ph.en_stress_line("Don\u2019t stop believin'"), "11010");
  EXPECT_EQ(ph.en_stress_line("..."), "");
  for (const char* line : {"It's a beautiful day", "Tunesmithing through the glorping night", "well-known heav'n"})
    EXPECT_EQ(ph.en_stress_line(line).size(), (size_t)ph.en_syllables_line(line)) << line;
}

// ---- malformed tables ----

const char* kZhHead = "# tunesmith phonetics-zh v1\n";
const char* kEnHead = "# tunesmith phonetics-en v1\n";

TEST(PhoneticsTables, GoodMinimalTablesLoad) {
  Phonetics ph;
  ph.load_zh(std::string(kZhHead) + "# comment\n爱\tai4\tai\t6\r\n行\txing2,hang2\ting,ang\t13,12\n");
  ph.load_en(std::string(kEnHead) + "love\t1\tAH1 V\t1\nfire\t2,1\tAY1 ER,AY1 R\t10,1\nhmm\t0\tHH M\t\n");  // any order
  EXPECT_EQ(ph.zh_size(), 2u);
  EXPECT_EQ(ph.zh(U'行').pinyin, (std::vector<std::string>{"xing2", "hang2"}));
  EXPECT_EQ(ph.zh_rhyme_group(U'爱'), kHuaiLai);
  EXPECT_EQ(ph.en("fire").syllable_options, (std::vector<int>{2, 1}));
  EXPECT_EQ(ph.en("fire").stress_options, (std::vector<std::string>{"10", "1"}));
  EXPECT_TRUE(ph.en("love").found);
  EXPECT_EQ(ph.en("hmm").stress, "");  // no syllable: an empty field
}

TEST(PhoneticsTables, MalformedTablesAreRejected) {
  const std::string zh_bad[] = {
      "",                                                    // empty
      "爱\tai4\tai\t6\n",                                    // no header
      std::string(kEnHead) + "love\t1\tAH1 V\n",             // the other table
      std::string(kZhHead) + "爱\tai4\tai\n",                // 3 fields
      std::string(kZhHead) + "爱\tai5\tai\t6\n",             // tone 5
      std::string(kZhHead) + "爱\tai\tai\t6\n",              // no tone
      std::string(kZhHead) + "爱\tai4\tai\t14\n",            // group 14
      std::string(kZhHead) + "爱\tai4,ai2\tai\t6\n",         // 2 readings, 1 final
      std::string(kZhHead) + "ab\tai4\tai\t6\n",             // not one CJK character
      std::string(kZhHead) + "爱\tai4\tai\t6\n爱\tai4\tai\t6\n",  // twice
      std::string(kZhHead) + "# nothing else\n",             // no entries
      std::string(kZhHead) + "\xE7\x88\tai4\tai\t6\n",       // truncated UTF-8
  };
  for (const auto& t : zh_bad) {
    Phonetics ph;
    EXPECT_EQ(tstest::error_code([&] { ph.load_zh(t); }), "model_invalid") << t;
  }
  const std::string en_bad[] = {
      "love\t1\tAH1 V\t1\n",                                 // no header
      std::string(kEnHead) + "love\t1\n",                    // 2 fields
      std::string(kEnHead) + "love\t1\tAH1 V\n",             // 3 fields: no stress
      std::string(kEnHead) + "love\t1\tAH1 V\t1\t1\n",       // 5 fields
      std::string(kEnHead) + "Love\t1\tAH1 V\t1\n",          // not lowercase
      std::string(kEnHead) + "love\tone\tAH1 V\t1\n",        // syllables not a number
      std::string(kEnHead) + "love\t1\tah1 v\t1\n",          // key not ARPAbet
      std::string(kEnHead) + "love\t1,1\tAH1 V\t1,1\n",      // 2 counts, 1 key
      std::string(kEnHead) + "love\t1\tAH1 V AH0\t1\n",      // more vowels than syllables
      std::string(kEnHead) + "love\t1\tAH1 V\t1\nlove\t1\tAH1 V\t1\n",  // twice
      std::string(kEnHead) + "love\t1\t\t1\n",               // empty key
      std::string(kEnHead) + "love\t1\tAH1 V\t\n",           // empty stress for a syllable
      std::string(kEnHead) + "love\t1\tAH1 V\t10\n",         // 2 digits, 1 syllable
      std::string(kEnHead) + "love\t1\tAH1 V\t3\n",          // stress 3
      std::string(kEnHead) + "love\t1\tAH1 V\tx\n",          // not a digit
      std::string(kEnHead) + "fire\t2,1\tAY1 ER,AY1 R\t10\n",  // 2 pronunciations, 1 stress
      std::string(kEnHead) + "fire\t2,1\tAY1 ER,AY1 R\t1,10\n",  // stress of the wrong length
  };
  for (const auto& t : en_bad) {
    Phonetics ph;
    EXPECT_EQ(tstest::error_code([&] { ph.load_en(t); }), "model_invalid") << t;
  }
  try {
    Phonetics().load_zh(std::string(kZhHead) + "爱\tai4\tai\t6\n心\txin1\tin\t99\n");
    FAIL() << "no throw";
  } catch (const tunesmith::Error& e) {
    EXPECT_EQ(e.details["table"], "zh");
    EXPECT_EQ(e.details["line"], 3);  // the line a person would look at
  }
  try {
    Phonetics().load_en(std::string(kEnHead) + "love\t1\tAH1 V\t1\nabout\t2\tAW1 T\t1\n");
    FAIL() << "no throw";
  } catch (const tunesmith::Error& e) {
    EXPECT_EQ(e.details["table"], "en");
    EXPECT_EQ(e.details["line"], 3);
    EXPECT_NE(std::string(e.what()).find("stress '1'"), std::string::npos) << e.what();
  }
  try {
    Phonetics().load_zh(std::string(kZhHead) + "爱\tai4\tai\t6\n爱\tai4\tai\t6\n");
    FAIL() << "no throw";
  } catch (const tunesmith::Error& e) {
    EXPECT_NE(std::string(e.what()).find("U+7231 listed twice"), std::string::npos) << e.what();
    EXPECT_FALSE(e.details.contains("line"));  // a whole-table error
  }
}

TEST(PhoneticsTables, ManifestHashesAreChecked) {
  const std::string dir = tstest::models_dir();
  const std::string man = tstest::read_file(dir + "/phonetics.json");
  const std::string zh = tstest::read_file(dir + "/phonetics-zh.tsv");
  std::string en = tstest::read_file(dir + "/phonetics-en.tsv");
  Phonetics ph;
  EXPECT_EQ(tstest::error_code([&] { ph.load(man, zh, en); }), "");
  en += "glorp\t1\tAO1 R P\t1\n";  // a valid line, but not the table the manifest describes
  EXPECT_EQ(tstest::error_code([&] { ph.load(man, zh, en); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { ph.load("{", zh, en); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { ph.load("{\"format\": \"tunesmith-model/1\"}", zh, en); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { ph.load("{\"format\": 1}", zh, en); }), "model_invalid");
  EXPECT_EQ(ph.en_size(), shipped().en_size());  // a failed load leaves the tables as they were
  EXPECT_EQ(ph.zh_size(), shipped().zh_size());
  EXPECT_EQ(tstest::error_code([&] { ph.load_dir(dir + "/no-such-dir"); }), "model_not_found");
}

// ---- the fallback measured (docs/phonetics.md) ----

struct Row { std::string word, syllables, keys, stress; };

std::vector<std::string> fields(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, sep);) out.push_back(x);
  return out;
}

// Syllable estimator on every letters-only word of the table; then every 10th such word held out of
// the table and looked up through the whole fallback (suffix and compound rules, analogy, spelling).
// A result counts as right when it equals any of the word's CMUdict pronunciations.
TEST(PhoneticsFallback, AccuracyOnCmudictWords) {
  const std::string text = tstest::read_file(tstest::models_dir() + "/phonetics-en.tsv");
  std::vector<Row> rows;
  std::string kept = kEnHead;
  std::vector<Row> held;
  int n = 0;
  for (const auto& line : fields(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = fields(line, '\t');
    const Row r{f[0], f[1], f[2], f[3]};
    if (r.word.find('\'') == std::string::npos) {
      rows.push_back(r);
      if (n++ % 10 == 9) { held.push_back(r); continue; }
    }
    kept += line + "\n";
  }
  auto any_eq = [](const std::string& list, const std::string& v) { return contains(fields(list, ','), v); };
  int est_ok = 0;
  for (const auto& r : rows) est_ok += any_eq(r.syllables, std::to_string(Phonetics::estimate_syllables(r.word)));
  Phonetics ph;
  ph.load_en(kept);
  int syl_ok = 0, key_ok = 0, stress_ok = 0, spelled = 0;
  for (const auto& r : held) {
    const auto e = ph.en(r.word);
    ASSERT_FALSE(e.found) << r.word;
    syl_ok += any_eq(r.syllables, std::to_string(e.syllables));
    key_ok += any_eq(r.keys, e.rhyme_key);
    stress_ok += any_eq(r.stress, e.stress);
    spelled += !e.rhyme_key.empty() && e.rhyme_key[0] >= 'a';
  }
  const double est = 100.0 * est_ok / rows.size(), syl = 100.0 * syl_ok / held.size(), key = 100.0 * key_ok / held.size();
  const double stress = 100.0 * stress_ok / held.size();
  std::printf("[ phonetics ] estimator syllables %.1f%% of %zu words; held-out %zu: syllables %.1f%%, rhyme key %.1f%% "
              "(%.1f%% of the %zu with a phonetic guess), %d spelled, stress %.1f%%\n",
              est, rows.size(), held.size(), syl, key, 100.0 * key_ok / (held.size() - spelled), held.size() - spelled, spelled,
              stress);
  EXPECT_GT(est, 92.0);  // measured 93.4, 96.2, 77.7, 70.6 (docs/phonetics.md)
  EXPECT_GT(syl, 95.0);
  EXPECT_GT(key, 75.0);
  EXPECT_GT(stress, 68.0);
}

}  // namespace
