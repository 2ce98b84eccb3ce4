// A decoder-only transformer (GPT) loaded from an ONNX file's initializers plus its JSON manifest,
// run by our own kernels with a KV cache.
//
//   auto model = tunesmith::GptModel::load(manifest_text, onnx_bytes.data(), onnx_bytes.size());
//   tunesmith::GptState st(*model);
//   const float* logits = st.eval(prompt.data(), (int)prompt.size());   // [vocab_size]
//   logits = st.eval(&next, 1);                                          // one more step
//
// load() checks the manifest (format, architecture, tokenizer), the file's size and sha256 against
// the manifest, and every weight's name and shape; anything missing, truncated, tampered with or
// mismatched throws tunesmith::Error with code "model_invalid" and a message saying what is wrong.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunesmith {

struct GptConfig {
  int n_layer = 0, n_head = 0, d_model = 0, d_ff = 0;
  int n_ctx = 0;       // longest sequence the positional embedding covers
  int vocab_size = 0;
  float norm_eps = 1e-5f;
  int head_dim() const { return d_model / n_head; }
};

// Character tokenizer: one token per Unicode code point; multi-character entries such as
// "<bos>" or "<style:ci>" are control tokens, reachable only by id.
class CharTokenizer {
 public:
  void init(const std::vector<std::string>& vocab);
  int id(char32_t c) const;                   // -1 when the character is not in the vocabulary
  int control(const std::string& name) const;  // id of "<name>" or -1
  const std::string& text(int id) const { return vocab_[id]; }
  int size() const { return (int)vocab_.size(); }
  bool is_char(int id) const { return is_char_[id]; }

 private:
  std::vector<std::string> vocab_;
  std::vector<bool> is_char_;
  std::unordered_map<char32_t, int> char_ids_;
  std::unordered_map<std::string, int> control_ids_;
};

class GptModel {
 public:
  static std::shared_ptr<const GptModel> load(const std::string& manifest_text, const uint8_t* onnx,
                                              size_t onnx_size);
  const GptConfig& config() const { return cfg_; }
  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& name() const { return name_; }
  const CharTokenizer& tokenizer() const { return tok_; }
  size_t weight_bytes() const { return storage_.size() * sizeof(float); }

  struct Layer {  // pointers into storage_; shapes as in the manifest ([in, out] matrices)
    const float *ln1_g, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    const float *ln2_g, *ln2_b, *fc_w, *fc_b, *fc2_w, *fc2_b;
  };
  const float* wte = nullptr;  // [vocab, d]
  const float* wpe = nullptr;  // [n_ctx, d]
  const float *lnf_g = nullptr, *lnf_b = nullptr;
  std::vector<Layer> layers;

 private:
  GptConfig cfg_;
  nlohmann::json manifest_;
  std::string name_;
  CharTokenizer tok_;
  std::vector<float> storage_;  // all weights, contiguous
};

// One sequence's state: the KV cache and scratch buffers. Not thread-safe; cheap to reset.
class GptState {
 public:
  explicit GptState(const GptModel& m);
  void reset() { n_past_ = 0; }
  // Forgets every position from n on (n <= n_past): the cache before n stays valid.
  void truncate(int n) { if (n >= 0 && n < n_past_) n_past_ = n; }
  int n_past() const { return n_past_; }
  // Appends n tokens (n_past + n <= n_ctx) and returns the logits of the last one ([vocab]);
  // with all_logits, returns n rows ([n, vocab]) instead.
  const float* eval(const int32_t* tokens, int n, bool all_logits = false);

 private:
  const GptModel& m_;
  int n_past_ = 0;
  std::vector<float> kv_;  // [n_layer][2][n_head][n_ctx][head_dim]
  std::vector<float> x_, h_, qkv_, att_, ff_, scores_, logits_;
};

}  // namespace tunesmith
