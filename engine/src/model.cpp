#include "tunesmith/model.h"

#include <cmath>
#include <cstring>

#include "tunesmith/error.h"
#include "tunesmith/kernels.h"
#include "tunesmith/onnx.h"
#include "tunesmith/sha256.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

static Error invalid(const std::string& msg) { return Error("model_invalid", msg); }

// ------------------------------------------------------------------ tokenizer
void CharTokenizer::init(const std::vector<std::string>& vocab) {
  vocab_ = vocab;
  is_char_.assign(vocab.size(), false);
  for (size_t i = 0; i < vocab.size(); ++i) {
    std::u32string cps;
    if (!utf8_decode(vocab[i], cps) || cps.empty()) throw invalid("tokenizer: entry " + std::to_string(i) + " is not valid UTF-8 text");
    if (cps.size() == 1) {
      if (!char_ids_.emplace(cps[0], (int)i).second) throw invalid("tokenizer: duplicate character in vocabulary");
      is_char_[i] = true;
    } else if (vocab[i].front() == '<' && vocab[i].back() == '>') {
      control_ids_[vocab[i].substr(1, vocab[i].size() - 2)] = (int)i;
    } else {
      throw invalid("tokenizer: multi-character entry '" + vocab[i] + "' is neither a character nor <control>");
    }
  }
}
int CharTokenizer::id(char32_t c) const { auto it = char_ids_.find(c); return it == char_ids_.end() ? -1 : it->second; }
int CharTokenizer::control(const std::string& name) const { auto it = control_ids_.find(name); return it == control_ids_.end() ? -1 : it->second; }

// ------------------------------------------------------------------ loading
static int positive_int(const json& arch, const char* key, int max) {
  if (!arch.contains(key) || !arch[key].is_number_integer()) throw invalid(std::string("manifest: architecture.") + key + " missing or not an integer");
  const long long v = arch[key].get<long long>();
  if (v <= 0 || v > max) throw invalid(std::string("manifest: architecture.") + key + " = " + std::to_string(v) + " is out of range");
  return (int)v;
}

std::shared_ptr<const GptModel> GptModel::load(const std::string& manifest_text, const uint8_t* onnx, size_t onnx_size) {
  auto m = std::make_shared<GptModel>();
  json man = json::parse(manifest_text, nullptr, false);
  if (man.is_discarded() || !man.is_object()) throw invalid("manifest is not valid JSON");
  try {
    if (man.value("format", "") != "tunesmith-model/1") throw invalid("manifest: unsupported format (expected \"tunesmith-model/1\")");
    m->name_ = man.at("name").get<std::string>();
    const std::string prefix = "model '" + m->name_ + "': ";
    if (!onnx || onnx_size == 0) throw invalid(prefix + "the .onnx file is missing or empty");
    const long long want_bytes = man.at("bytes").get<long long>();
    if ((long long)onnx_size != want_bytes)
      throw invalid(prefix + "the .onnx file has " + std::to_string(onnx_size) + " bytes, the manifest says " + std::to_string(want_bytes) + " (truncated or wrong file)");
    const std::string want_hash = man.at("sha256").get<std::string>();
    const std::string got_hash = sha256_hex(onnx, onnx_size);
    if (got_hash != want_hash) throw invalid(prefix + "sha256 of the .onnx file is " + got_hash + ", the manifest says " + want_hash + " (file tampered with or mismatched)");

    const json& arch = man.at("architecture");
    if (arch.value("type", "") != "gpt") throw invalid(prefix + "architecture.type must be \"gpt\"");
    GptConfig& c = m->cfg_;
    c.n_layer = positive_int(arch, "n_layer", 64);
    c.n_head = positive_int(arch, "n_head", 64);
    c.d_model = positive_int(arch, "d_model", 8192);
    c.d_ff = positive_int(arch, "d_ff", 32768);
    c.n_ctx = positive_int(arch, "n_ctx", 8192);
    c.vocab_size = positive_int(arch, "vocab_size", 1 << 20);
    c.norm_eps = arch.value("norm_eps", 1e-5f);
    if (c.d_model % c.n_head) throw invalid(prefix + "d_model is not a multiple of n_head");
    if (arch.value("activation", "") != "gelu_erf" || !arch.value("tied_embeddings", false))
      throw invalid(prefix + "only gelu_erf activation with tied embeddings is supported");

    const json& tokj = man.at("tokenizer");
    // "char": one token per character (lyrics); "tokens": a list of named tokens (melody), which the
    // tokenizer treats as control tokens reachable by id, plus single characters such as "r".
    const std::string tok_type = tokj.value("type", "");
    if (tok_type != "char" && tok_type != "tokens") throw invalid(prefix + "tokenizer.type must be \"char\" or \"tokens\"");
    m->tok_.init(tokj.at("vocab").get<std::vector<std::string>>());
    if (m->tok_.size() != c.vocab_size) throw invalid(prefix + "tokenizer vocabulary size differs from architecture.vocab_size");
  } catch (const json::exception& e) {
    throw invalid(std::string("manifest: ") + e.what());
  }

  OnnxModelInfo info;
  std::string err;
  if (!parse_onnx(onnx, onnx_size, info, err)) throw invalid("model '" + m->name_ + "': " + err);
  std::unordered_map<std::string, const OnnxTensor*> byname;
  for (const auto& t : info.initializers) byname[t.name] = &t;

  const GptConfig& c = m->cfg_;
  const int d = c.d_model;
  struct Want { std::string name; std::vector<int64_t> dims; const float** dst; };
  std::vector<Want> wants;
  m->layers.resize(c.n_layer);
  wants.push_back({"wte", {c.vocab_size, d}, &m->wte});
  wants.push_back({"wpe", {c.n_ctx, d}, &m->wpe});
  wants.push_back({"lnf_g", {d}, &m->lnf_g});
  wants.push_back({"lnf_b", {d}, &m->lnf_b});
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    Layer& L = m->layers[l];
    wants.push_back({p + "ln1_g", {d}, &L.ln1_g});
    wants.push_back({p + "ln1_b", {d}, &L.ln1_b});
    wants.push_back({p + "qkv_w", {d, 3 * d}, &L.qkv_w});
    wants.push_back({p + "qkv_b", {3 * d}, &L.qkv_b});
    wants.push_back({p + "proj_w", {d, d}, &L.proj_w});
    wants.push_back({p + "proj_b", {d}, &L.proj_b});
    wants.push_back({p + "ln2_g", {d}, &L.ln2_g});
    wants.push_back({p + "ln2_b", {d}, &L.ln2_b});
    wants.push_back({p + "fc_w", {d, c.d_ff}, &L.fc_w});
    wants.push_back({p + "fc_b", {c.d_ff}, &L.fc_b});
    wants.push_back({p + "fc2_w", {c.d_ff, d}, &L.fc2_w});
    wants.push_back({p + "fc2_b", {d}, &L.fc2_b});
  }
  size_t total = 0;
  std::vector<size_t> offsets;
  for (const auto& w : wants) {
    auto it = byname.find(w.name);
    if (it == byname.end()) throw invalid("model '" + m->name_ + "': weight '" + w.name + "' is missing from the ONNX file");
    const OnnxTensor& t = *it->second;
    if (t.data_type != 1 || t.dims != w.dims) {
      std::string shape;
      for (auto x : w.dims) shape += (shape.empty() ? "" : ",") + std::to_string(x);
      throw invalid("model '" + m->name_ + "': weight '" + w.name + "' must be float32 [" + shape + "]");
    }
    offsets.push_back(total);
    total += t.f32.size();
  }
  m->storage_.resize(total);
  for (size_t i = 0; i < wants.size(); ++i) {
    const OnnxTensor& t = *byname[wants[i].name];
    std::memcpy(m->storage_.data() + offsets[i], t.f32.data(), t.f32.size() * sizeof(float));
    *wants[i].dst = m->storage_.data() + offsets[i];
  }
  for (float v : m->storage_)
    if (!std::isfinite(v)) throw invalid("model '" + m->name_ + "': weights contain NaN or infinity");
  m->manifest_ = std::move(man);
  return m;
}

// ------------------------------------------------------------------ forward pass
GptState::GptState(const GptModel& m) : m_(m) {
  const GptConfig& c = m.config();
  kv_.assign((size_t)c.n_layer * 2 * c.n_head * c.n_ctx * c.head_dim(), 0.0f);
  scores_.resize(c.n_ctx);
}

const float* GptState::eval(const int32_t* tokens, int n, bool all_logits) {
  const GptConfig& c = m_.config();
  const int d = c.d_model, H = c.n_head, Dh = c.head_dim(), C = c.n_ctx, V = c.vocab_size;
  if (n <= 0 || n_past_ + n > C) throw Error("internal", "eval: sequence exceeds the model context");
  for (int t = 0; t < n; ++t)
    if (tokens[t] < 0 || tokens[t] >= V) throw Error("internal", "eval: token id out of range");
  x_.resize((size_t)n * d);
  h_.resize((size_t)n * d);
  qkv_.resize((size_t)n * 3 * d);
  att_.resize((size_t)n * d);
  ff_.resize((size_t)n * c.d_ff);
  for (int t = 0; t < n; ++t) {
    const float* te = m_.wte + (size_t)tokens[t] * d;
    const float* pe = m_.wpe + (size_t)(n_past_ + t) * d;
    for (int i = 0; i < d; ++i) x_[(size_t)t * d + i] = te[i] + pe[i];
  }
  const float scale = 1.0f / std::sqrt((float)Dh);
  for (int l = 0; l < c.n_layer; ++l) {
    const GptModel::Layer& L = m_.layers[l];
    float* K = kv_.data() + (size_t)l * 2 * H * C * Dh;  // [H][C][Dh]
    float* Vc = K + (size_t)H * C * Dh;
    for (int t = 0; t < n; ++t) layernorm(&x_[(size_t)t * d], L.ln1_g, L.ln1_b, &h_[(size_t)t * d], d, c.norm_eps);
    matmul(h_.data(), L.qkv_w, L.qkv_b, qkv_.data(), n, d, 3 * d);
    for (int t = 0; t < n; ++t) {
      const int pos = n_past_ + t;
      for (int hh = 0; hh < H; ++hh) {
        std::memcpy(K + ((size_t)hh * C + pos) * Dh, &qkv_[(size_t)t * 3 * d + d + hh * Dh], Dh * sizeof(float));
        std::memcpy(Vc + ((size_t)hh * C + pos) * Dh, &qkv_[(size_t)t * 3 * d + 2 * d + hh * Dh], Dh * sizeof(float));
      }
    }
    for (int t = 0; t < n; ++t) {
      const int npos = n_past_ + t + 1;  // causal: keys 0..pos
      for (int hh = 0; hh < H; ++hh) {
        const float* q = &qkv_[(size_t)t * 3 * d + hh * Dh];
        for (int j = 0; j < npos; ++j) scores_[j] = dot(q, K + ((size_t)hh * C + j) * Dh, Dh) * scale;
        softmax(scores_.data(), npos);
        float* out = &att_[(size_t)t * d + hh * Dh];
        std::memset(out, 0, Dh * sizeof(float));
        for (int j = 0; j < npos; ++j) axpy(scores_[j], Vc + ((size_t)hh * C + j) * Dh, out, Dh);
      }
    }
    matmul(att_.data(), L.proj_w, L.proj_b, h_.data(), n, d, d);
    add_inplace(x_.data(), h_.data(), n * d);
    for (int t = 0; t < n; ++t) layernorm(&x_[(size_t)t * d], L.ln2_g, L.ln2_b, &h_[(size_t)t * d], d, c.norm_eps);
    matmul(h_.data(), L.fc_w, L.fc_b, ff_.data(), n, d, c.d_ff);
    gelu(ff_.data(), n * c.d_ff);
    matmul(ff_.data(), L.fc2_w, L.fc2_b, h_.data(), n, c.d_ff, d);
    add_inplace(x_.data(), h_.data(), n * d);
  }
  n_past_ += n;
  const int first = all_logits ? 0 : n - 1;
  const int rows = n - first;
  for (int t = first; t < n; ++t) layernorm(&x_[(size_t)t * d], m_.lnf_g, m_.lnf_b, &h_[(size_t)(t - first) * d], d, c.norm_eps);
  logits_.resize((size_t)rows * V);
  matmul_transposed(h_.data(), m_.wte, logits_.data(), rows, d, V);
  return logits_.data();
}

}  // namespace tunesmith
