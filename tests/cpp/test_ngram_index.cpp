// NgramIndex (ngram_index.h) on the shipped filters: famous lines known to be in the training text
// are found (no false negatives), random n-grams are mostly not (the false-positive rate the manifest
// estimates), hashes agree with tools/lyrics/copy_check.mjs, normalisation, and damaged files.
// With build/data present (not in a clean clone) every n-gram of the validation text is checked too.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "tunesmith/error.h"
#include "tunesmith/ngram_index.h"
#include "tunesmith/sha256.h"

namespace {

using tunesmith::NgramIndex;

nlohmann::json entry_of(const std::string& lang) {
  return nlohmann::json::parse(tstest::read_file(tstest::models_dir() + "/lyrics-" + lang + ".json")).at("originality");
}

std::string file_of(const std::string& lang) {
  return tstest::read_file(tstest::models_dir() + "/" + entry_of(lang).at("file").get<std::string>());
}

const NgramIndex& shipped(const std::string& lang) {
  static const NgramIndex zh = [] { NgramIndex i; i.load(entry_of("zh"), file_of("zh")); return i; }();
  static const NgramIndex en = [] { NgramIndex i; i.load(entry_of("en"), file_of("en")); return i; }();
  return lang == "zh" ? zh : en;
}


// Every n-gram of text is in the index.
void expect_all_found(const NgramIndex& idx, const std::string& text) {
  if (idx.words()) {
    std::vector<std::string> w;
    NgramIndex::normalise_words(text, w);
    ASSERT_GE(w.size(), size_t(idx.n())) << text;
    for (size_t i = 0; i + idx.n() <= w.size(); ++i) EXPECT_TRUE(idx.contains_words(w.data() + i, idx.n())) << text << " @" << i;
  } else {
    std::u32string c;
    NgramIndex::normalise_chars(text, c);
    ASSERT_GE(c.size(), size_t(idx.n())) << text;
    for (size_t i = 0; i + idx.n() <= c.size(); ++i) EXPECT_TRUE(idx.contains_chars(c.data() + i, idx.n())) << text << " @" << i;
  }
  EXPECT_GE(idx.scan(text).longest_run, idx.n()) << text;
}

TEST(NgramIndex, ShippedFiltersLoad) {
  const auto& zh = shipped("zh");
  EXPECT_TRUE(zh.loaded());
  EXPECT_EQ(zh.n(), 8);
  EXPECT_FALSE(zh.words());
  EXPECT_EQ(zh.k(), 4);
  EXPECT_GT(zh.items(), 3000000u);
  const auto& en = shipped("en");
  EXPECT_TRUE(en.loaded());
  EXPECT_EQ(en.n(), 6);
  EXPECT_TRUE(en.words());
  EXPECT_GT(en.items(), 5000000u);
  for (const auto* idx : {&zh, &en}) {  // ~6 bits per n-gram, files under 6 MB
    EXPECT_NEAR(double(idx->m_bits()) / double(idx->items()), 6.0, 0.01);
    EXPECT_LT(idx->m_bits() / 8, 6000000u);
  }
}

// Hard-coded from tools/lyrics/copy_check.mjs hashUnits (tests/node/ngrams.test.mjs checks the same).
TEST(NgramIndex, HashMatchesJs) {
  EXPECT_EQ(NgramIndex::hash_units(nullptr, 0), 0xcbf29ce484222325ull);
  const std::string a = "a";
  EXPECT_EQ(NgramIndex::hash_units(&a, 1), 0x089be907b544fdc9ull);
  const std::u32string chuang = U"床前看月光疑是地";
  EXPECT_EQ(NgramIndex::hash_chars(chuang.data(), 8), 0x10f9f67b743277a2ull);
  const std::vector<std::string> shall = {"shall", "i", "compare", "thee", "to", "a"};
  EXPECT_EQ(NgramIndex::hash_units(shall.data(), 6), 0xf57e61e28520f4fdull);
  const std::u32string ext_b = U"\U00020000x";  // 4-byte UTF-8
  EXPECT_EQ(NgramIndex::hash_chars(ext_b.data(), 2), 0x4bc524c269a9f367ull);
  const std::vector<std::string> dont = {"don't", "stop"};
  EXPECT_EQ(NgramIndex::hash_units(dont.data(), 2), 0xe72b3d72385c2013ull);
  // incremental == whole
  uint64_t h = NgramIndex::kHashStart;
  for (char32_t c : chuang) h = NgramIndex::extend_char(h, c);
  EXPECT_EQ(h, NgramIndex::hash_chars(chuang.data(), 8));
  h = NgramIndex::kHashStart;
  for (const auto& w : shall) h = NgramIndex::extend(h, w);
  EXPECT_EQ(h, NgramIndex::hash_units(shall.data(), 6));
}

TEST(NgramIndex, Normalisation) {
  std::vector<std::string> w;
  NgramIndex::normalise_words("\xE2\x80\x98Tis THE don\xE2\x80\x99t-stop 'hello' '' it's 99 \xC3\x9Cnder\nend", w);
  EXPECT_EQ(w, (std::vector<std::string>{"tis", "the", "don't", "stop", "hello", "it's", "99", "nder", "end"}));
  std::u32string c;
  NgramIndex::normalise_chars("床前，明月光\n\xF0\xA0\x80\x80" "a疑\xFF\xE4\xB8", c);  // U+20000, stray bytes
  EXPECT_EQ(c, U"床前明月光\U00020000疑");
}

// Famous lines, checked to be in build/data when these were written (the exact checker reports
// them as copied runs of the lengths below).
TEST(NgramIndex, CorpusLinesAreFound) {
  const auto& zh = shipped("zh");
  expect_all_found(zh, "床前看月光，疑是地上霜。");                      // 静夜思 as 全唐诗 has it
  expect_all_found(zh, "明月几时有，把酒问青天。");                      // 水调歌头
  expect_all_found(zh, "关关雎鸠，在河之洲。窈窕淑女，君子好逑。");      // 诗经·关雎
  expect_all_found(zh, "枯藤老树昏鸦，小桥流水人家，古道西风瘦马。");    // 天净沙·秋思
  const auto& en = shipped("en");
  expect_all_found(en, "Shall I compare thee to a summer\xE2\x80\x99s day?\nThou art more lovely and more temperate:");
  expect_all_found(en, "Two roads diverged in a yellow wood,\nAnd sorry I could not travel both");

  // runs across line breaks and punctuation; the surrounding text is not copied
  EXPECT_GE(zh.scan("今天我们\n床前看月光\n疑是地上霜").longest_run, 10);
  EXPECT_GE(en.scan("TWO ROADS diverged in a yellow wood").longest_run, 7);
  // the decoding pattern: hash the last n-1 units once, extend by each candidate
  const std::u32string run = U"前看月光疑是地";
  const uint64_t prefix = NgramIndex::hash_chars(run.data(), 7);
  EXPECT_TRUE(zh.contains_hash(NgramIndex::extend_char(prefix, U'上')));
  // wrong count or wrong unit: never found
  const std::u32string eight = U"床前看月光疑是地";
  EXPECT_TRUE(zh.contains_chars(eight.data(), 8));
  EXPECT_FALSE(zh.contains_chars(eight.data(), 7));
  EXPECT_FALSE(en.contains_chars(eight.data(), 8));
  EXPECT_FALSE(NgramIndex().contains_chars(eight.data(), 8));
  EXPECT_EQ(NgramIndex().scan("床前看月光疑是地上霜").hits, 0);
}

// Random n-grams (almost surely not in the corpus) are found at about the estimated rate.
TEST(NgramIndex, FalsePositiveRate) {
  std::mt19937_64 rng(7);
  const int trials = 10000;
  const auto& zh = shipped("zh");
  int fp_zh = 0;
  char32_t cps[8];
  for (int t = 0; t < trials; ++t) {
    for (auto& c : cps) c = char32_t(0x4E00 + rng() % 0x5000);
    fp_zh += zh.contains_chars(cps, 8);
  }
  const auto& en = shipped("en");
  int fp_en = 0;
  std::vector<std::string> words(6);
  for (int t = 0; t < trials; ++t) {
    for (auto& w : words) {
      w.assign(3 + rng() % 6, 'a');
      for (auto& ch : w) ch = char('a' + rng() % 26);
    }
    fp_en += en.contains_words(words.data(), 6);
  }
  const double est_zh = entry_of("zh").at("false_positive_rate").get<double>(), est_en = entry_of("en").at("false_positive_rate").get<double>();
  EXPECT_NEAR(est_zh, 0.056, 0.01);
  EXPECT_NEAR(est_en, 0.056, 0.01);
  // 10000 trials: one standard deviation is ~0.23 points
  EXPECT_NEAR(fp_zh / double(trials), est_zh, 0.012) << fp_zh;
  EXPECT_NEAR(fp_en / double(trials), est_en, 0.012) << fp_en;
  EXPECT_LT(fp_zh, trials / 10);
  EXPECT_LT(fp_en, trials / 10);
}

// The decoding-time budget: ~5000 candidates a step must cost well under a millisecond.
TEST(NgramIndex, LookupsAreFast) {
  const auto& zh = shipped("zh");
  const std::u32string prefix = U"春风又绿江南岸";
  const uint64_t h = NgramIndex::hash_chars(prefix.data(), 7);
  const auto t0 = std::chrono::steady_clock::now();
  int found = 0;
  for (int step = 0; step < 100; ++step)
    for (char32_t c = 0x4E00; c < 0x4E00 + 5000; ++c) found += zh.contains_hash(NgramIndex::extend_char(h + uint64_t(step), c));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms / 100, 2.0) << "ms per 5000 lookups";  // ~0.1 ms measured natively
  EXPECT_LT(found, 100 * 5000 / 10);
}

TEST(NgramIndex, DamagedFilesAreRejected) {
  const nlohmann::json entry = entry_of("zh");
  const std::string bytes = file_of("zh");
  auto load = [](const nlohmann::json& e, const std::string& b) { NgramIndex i; i.load(e, b); };
  EXPECT_EQ(tstest::error_code([&] { load(entry, bytes); }), "");
  // truncated
  EXPECT_EQ(tstest::error_code([&] { load(entry, bytes.substr(0, bytes.size() - 8)); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { load(entry, bytes.substr(0, 20)); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { load(entry, ""); }), "model_invalid");
  // one bit flipped
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  EXPECT_EQ(tstest::error_code([&] { load(entry, flipped); }), "model_invalid");
  // the other language's file
  EXPECT_EQ(tstest::error_code([&] { load(entry, file_of("en")); }), "model_invalid");
  // manifest fields that disagree with the file, sha256 kept consistent so the header check speaks
  for (const char* key : {"n", "k", "m_bits", "items"}) {
    nlohmann::json e = entry;
    e[key] = e[key].get<uint64_t>() + 1;
    EXPECT_EQ(tstest::error_code([&] { load(e, bytes); }), "model_invalid") << key;
  }
  nlohmann::json e = entry;
  e["unit"] = "word";
  EXPECT_EQ(tstest::error_code([&] { load(e, bytes); }), "model_invalid");
  e = entry;
  e.erase("sha256");
  EXPECT_EQ(tstest::error_code([&] { load(e, bytes); }), "model_invalid");
  EXPECT_EQ(tstest::error_code([&] { load(nlohmann::json::array(), bytes); }), "model_invalid");
  // a rewritten header whose sha256 the manifest was updated to match: the header check catches it
  std::string rehead = bytes;
  rehead[12] = 7;  // n = 7
  e = entry;
  e["sha256"] = tunesmith::sha256_hex(reinterpret_cast<const uint8_t*>(rehead.data()), rehead.size());
  EXPECT_EQ(tstest::error_code([&] { load(e, rehead); }), "model_invalid");
  rehead = bytes;
  rehead[0] = 'X';
  e["sha256"] = tunesmith::sha256_hex(reinterpret_cast<const uint8_t*>(rehead.data()), rehead.size());
  EXPECT_EQ(tstest::error_code([&] { load(e, rehead); }), "model_invalid");
  // a failed load leaves a loaded index as it was
  NgramIndex idx;
  idx.load(entry, bytes);
  EXPECT_THROW(idx.load(entry, flipped), tunesmith::Error);
  EXPECT_TRUE(idx.loaded());
  EXPECT_EQ(idx.n(), 8);
  try {
    idx.load(entry, flipped);
  } catch (const tunesmith::Error& err) {
    EXPECT_EQ(err.details.value("file", ""), "lyrics-zh.ngrams");
  }
}

// Optional (build/data is not in a clean clone): every n-gram of the validation text (1747 texts), normalised
// and hashed here, is in the filter the JS tool built: C++ and JS agree end to end.
TEST(NgramIndex, EveryValidationNgramIsFound) {
  for (const std::string lang : {"zh", "en"}) {
    std::ifstream f(std::string(TS_SOURCE_DIR) + "/build/data/" + lang + ".valid.jsonl");
    if (!f) GTEST_SKIP() << "build/data absent (tools/lyrics/prepare_data.mjs makes it)";
    const auto& idx = shipped(lang);
    std::string line;
    size_t checked = 0, missed = 0;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      const nlohmann::json poem = nlohmann::json::parse(line);
      std::string text;
      for (const auto& l : poem.at("lines")) text += l.get<std::string>() + "\n";
      if (idx.words()) {
        std::vector<std::string> w;
        NgramIndex::normalise_words(text, w);
        for (size_t i = 0; i + idx.n() <= w.size(); ++i, ++checked) missed += !idx.contains_words(w.data() + i, idx.n());
      } else {
        std::u32string c;
        NgramIndex::normalise_chars(text, c);
        for (size_t i = 0; i + idx.n() <= c.size(); ++i, ++checked) missed += !idx.contains_chars(c.data() + i, idx.n());
      }
    }
    EXPECT_GT(checked, 10000u) << lang;
    EXPECT_EQ(missed, 0u) << lang;
  }
}

}  // namespace
