// Loading models: the shipped files load; missing, truncated, tampered and mismatched files are
// rejected with a clear error and never crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "tunesmith/error.h"
#include "tunesmith/model.h"
#include "tunesmith/sha256.h"

using namespace tunesmith;
using nlohmann::json;

namespace {
struct Files { std::string manifest, onnx; };
Files load_files(const std::string& name) {
  const std::string base = tstest::models_dir() + "/" + name;
  return {tstest::read_file(base + ".json"), tstest::read_file(base + ".onnx")};
}
std::string load_error(const std::string& manifest, const std::string& onnx) {
  try {
    GptModel::load(manifest, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
  } catch (const Error& e) {
    EXPECT_EQ(e.code, "model_invalid");
    return e.what();
  }
  return "";
}
// Re-hash after editing bytes, so the check under test is the one after the hash check.
std::string rehash(const std::string& manifest, const std::string& onnx) {
  json m = json::parse(manifest);
  m["bytes"] = onnx.size();
  m["sha256"] = sha256_hex(reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
  return m.dump();
}
}  // namespace

class ShippedModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedModel, LoadsAndRuns) {
  Files f = load_files(GetParam());
  ASSERT_FALSE(f.manifest.empty()) << "missing manifest in " << tstest::models_dir();
  auto m = GptModel::load(f.manifest, reinterpret_cast<const uint8_t*>(f.onnx.data()), f.onnx.size());
  EXPECT_EQ(m->name(), GetParam());
  const GptConfig& c = m->config();
  EXPECT_EQ(m->tokenizer().size(), c.vocab_size);
  GptState st(*m);
  const int32_t prompt[3] = {2, 6, 7};
  const float* lg = st.eval(prompt, 3);
  for (int v = 0; v < c.vocab_size; ++v) ASSERT_TRUE(std::isfinite(lg[v]));
  // The KV cache path gives the logits of a full re-evaluation.
  std::vector<float> step(lg, lg + c.vocab_size);
  GptState st2(*m);
  st2.eval(prompt, 2);
  const float* lg2 = st2.eval(prompt + 2, 1);
  for (int v = 0; v < c.vocab_size; ++v) ASSERT_NEAR(lg2[v], step[v], 1e-5f);
}

TEST_P(ShippedModel, RejectsMissingTruncatedTamperedAndMismatchedFiles) {
  Files f = load_files(GetParam());
  ASSERT_FALSE(f.onnx.empty());
  EXPECT_NE(load_error(f.manifest, "").find("missing or empty"), std::string::npos);
  EXPECT_NE(load_error(f.manifest, f.onnx.substr(0, f.onnx.size() / 2)).find("truncated"), std::string::npos);
  std::string tampered = f.onnx;
  tampered[tampered.size() / 2] ^= 0x5a;
  EXPECT_NE(load_error(f.manifest, tampered).find("tampered"), std::string::npos);
  // A tampered file whose manifest was re-hashed still fails, on structure, or loads cleanly.
  for (size_t pos : {(size_t)8, (size_t)100, f.onnx.size() / 3, f.onnx.size() - 3}) {
    std::string t = f.onnx;
    t[pos] ^= 0xff;
    try {
      GptModel::load(rehash(f.manifest, t), reinterpret_cast<const uint8_t*>(t.data()), t.size());
    } catch (const Error& e) {
      EXPECT_EQ(e.code, "model_invalid");
    }
  }
  // Truncated and re-hashed: the ONNX parser reports it.
  std::string cut = f.onnx.substr(0, f.onnx.size() - 1000);
  EXPECT_FALSE(load_error(rehash(f.manifest, cut), cut).empty());

  json m = json::parse(f.manifest);
  json more_layers = m;
  more_layers["architecture"]["n_layer"] = m["architecture"]["n_layer"].get<int>() + 1;
  EXPECT_NE(load_error(more_layers.dump(), f.onnx).find("is missing from the ONNX file"), std::string::npos);
  json wider = m;
  wider["architecture"]["d_model"] = m["architecture"]["d_model"].get<int>() * 2;
  EXPECT_NE(load_error(wider.dump(), f.onnx).find("must be float32"), std::string::npos);
  json vocab = m;
  vocab["tokenizer"]["vocab"].erase(vocab["tokenizer"]["vocab"].size() - 1);
  EXPECT_NE(load_error(vocab.dump(), f.onnx).find("vocabulary size"), std::string::npos);
  EXPECT_NE(load_error("{not json", f.onnx).find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("{}", f.onnx).find("format"), std::string::npos);
  json nofield = m;
  nofield.erase("sha256");
  EXPECT_NE(load_error(nofield.dump(), f.onnx).find("sha256"), std::string::npos);
  json badarch = m;
  badarch["architecture"]["n_head"] = -3;
  EXPECT_NE(load_error(badarch.dump(), f.onnx).find("out of range"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Models, ShippedModel, ::testing::Values("lyrics-zh", "lyrics-en"));
