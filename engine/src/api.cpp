#include "tunesmith/api.h"

#include <chrono>
#include <fstream>
#include <iterator>

#include "tunesmith/error.h"
#include "tunesmith/kernels.h"
#include "tunesmith/lyrics.h"
#include "tunesmith/model.h"
#include "tunesmith/request.h"

#ifndef TS_VERSION
#define TS_VERSION "0.1.0"
#endif

namespace tunesmith {

using nlohmann::json;

json error_json(const std::string& code, const std::string& message, const json& details) {
  json e = {{"code", code}, {"message", message}};
  for (auto it = details.begin(); it != details.end(); ++it) e[it.key()] = it.value();
  return {{"error", e}};
}

Engine::Engine() = default;
Engine::~Engine() = default;

void Engine::set_threads(int n) { kernels_set_threads(n); }

json Engine::build_info() {
  return {{"version", TS_VERSION},
          {"simd", kernels_simd_name()},
          {"threads", kernels_threads_available()},
          {"threads_in_use", kernels_threads()},
#ifdef __EMSCRIPTEN__
          {"platform", "wasm"},
#else
          {"platform", "native"},
#endif
  };
}

static bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

std::shared_ptr<const GptModel> Engine::model(const std::string& name) {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  if (model_dir_.empty())
    throw Error("model_not_loaded", "model '" + name + "' is not loaded", {{"model", name}});
  std::string manifest, onnx;
  const std::string base = model_dir_ + "/" + name;
  if (!read_file(base + ".json", manifest))
    throw Error("model_not_found", "model '" + name + "': cannot read " + base + ".json", {{"model", name}});
  read_file(base + ".onnx", onnx);  // a missing file is reported by load() with the manifest's view
  auto m = GptModel::load(manifest, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
  if (m->name() != name) throw Error("model_invalid", base + ".json names model '" + m->name() + "'", {{"model", name}});
  models_[name] = m;
  return m;
}

json Engine::load_model(const std::string& manifest_text, const uint8_t* onnx, size_t size) {
  try {
    auto m = GptModel::load(manifest_text, onnx, size);
    models_[m->name()] = m;
    return {{"ok", true}, {"model", m->name()}, {"language", m->manifest().value("language", "")},
            {"parameters", m->manifest()["architecture"].value("parameters", 0)}, {"weight_bytes", m->weight_bytes()}};
  } catch (const Error& e) {
    return error_json(e.code, e.what(), e.details);
  } catch (const std::exception& e) {
    return error_json("model_invalid", e.what());
  }
}

// ------------------------------------------------------------------ tasks
static json task_generate_lyrics(Engine& eng, const json& req, const EventFn& on_event) {
  Fields f(req, {"task", "song_title", "song_style", "lyrics_length", "language", "seed", "temperature", "top_k", "top_p",
                 "repetition_penalty"});
  LyricsParams p;
  p.title = f.text("song_title", true, 200);
  p.style = f.text("song_style", false, 100, "", 0);
  p.lines = (int)f.integer("lyrics_length", 8, 1, 200);
  const std::string lang = f.choice("language", {"zh", "en"}, detect_language(p.title));
  p.seed = f.seed("seed");
  // Sampling defaults live with the model (manifest "generation"): each was tuned on its samples.
  const std::string model_name = "lyrics-" + lang;
  auto model = eng.model(model_name);
  const json gen = model->manifest().value("generation", json::object());
  const double temperature = f.number("temperature", gen.value("temperature", 0.8), 0.0, 2.0);
  p.temperature = (float)temperature;
  p.top_k = (int)f.integer("top_k", gen.value("top_k", 40), 0, 100000);
  p.top_p = (float)f.number("top_p", gen.value("top_p", 0.95), 0.01, 1.0);
  p.repetition_penalty = (float)f.number("repetition_penalty", gen.value("repetition_penalty", 1.1), 1.0, 2.0);
  json out = generate_lyrics(*model, p, on_event);
  out["temperature"] = temperature;  // as requested, not its float rounding
  return out;
}

// Our kernels' logits for a token sequence (tests compare them with ONNX Runtime's).
static json task_model_logits(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "model", "tokens", "split"});
  const std::string name = f.text("model", true, 100);
  auto model = eng.model(name);
  const GptConfig& c = model->config();
  if (!req.contains("tokens") || !req["tokens"].is_array() || req["tokens"].empty() || (int)req["tokens"].size() > c.n_ctx)
    throw Error("invalid_field", "'tokens' must be an array of 1 to " + std::to_string(c.n_ctx) + " token ids", {{"field", "tokens"}});
  std::vector<int32_t> toks;
  for (const auto& t : req["tokens"]) {
    if (!t.is_number_integer() || t.get<long long>() < 0 || t.get<long long>() >= c.vocab_size)
      throw Error("invalid_field", "'tokens' entries must be ids in [0, " + std::to_string(c.vocab_size) + ")", {{"field", "tokens"}});
    toks.push_back(t.get<int32_t>());
  }
  // split: evaluate the first `split` tokens, then the rest with the KV cache (exercises both paths).
  const int split = (int)f.integer("split", 0, 0, (int64_t)toks.size() - 1);
  GptState st(*model);
  json rows = json::array();
  auto run = [&](int b, int e) {
    const float* lg = st.eval(toks.data() + b, e - b, true);
    for (int t = 0; t < e - b; ++t) rows.push_back(std::vector<float>(lg + (size_t)t * c.vocab_size, lg + (size_t)(t + 1) * c.vocab_size));
  };
  if (split > 0) run(0, split);
  run(split, (int)toks.size());
  return {{"task", "model_logits"}, {"model", name}, {"vocab_size", c.vocab_size}, {"logits", rows}};
}

// Greedy decode timed inside the engine, so benchmarks compare kernels, not JSON or JS glue.
static json task_bench_decode(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "model", "prompt", "steps"});
  auto model = eng.model(f.text("model", true, 100));
  const GptConfig& c = model->config();
  const int steps = (int)f.integer("steps", 128, 1, c.n_ctx - 1);
  std::vector<int32_t> prompt;
  if (req.contains("prompt") && req["prompt"].is_array())
    for (const auto& t : req["prompt"])
      if (t.is_number_integer() && t.get<long long>() >= 0 && t.get<long long>() < c.vocab_size) prompt.push_back(t.get<int32_t>());
  if (prompt.empty() || prompt.size() != req["prompt"].size() || (int)prompt.size() + steps > c.n_ctx)
    throw Error("invalid_field", "'prompt' must be token ids, and prompt + steps must fit the context", {{"field", "prompt"}});
  using Clock = std::chrono::steady_clock;
  GptState st(*model);
  auto t0 = Clock::now();
  const float* lg = st.eval(prompt.data(), (int)prompt.size());
  auto t1 = Clock::now();
  std::vector<int32_t> out;
  for (int s = 0; s < steps; ++s) {
    int32_t best = 0;
    for (int v = 1; v < c.vocab_size; ++v) if (lg[v] > lg[best]) best = v;
    out.push_back(best);
    lg = st.eval(&best, 1);
  }
  auto t2 = Clock::now();
  const double ms_prefill = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double ms_decode = std::chrono::duration<double, std::milli>(t2 - t1).count();
  return {{"task", "bench_decode"}, {"ms_prefill", ms_prefill}, {"ms_decode", ms_decode}, {"steps", steps},
          {"tokens_per_s", steps * 1000.0 / ms_decode}, {"tokens", out}, {"build", Engine::build_info()}};
}

json Engine::handle(const json& req, const EventFn& on_event) {
  try {
    if (!req.is_object()) throw Error("bad_request", "the request must be a JSON object");
    if (!req.contains("task")) throw Error("missing_field", "'task' is required (e.g. \"generate_lyrics\")", {{"field", "task"}});
    if (!req["task"].is_string()) throw Error("invalid_field", "'task' must be a string", {{"field", "task"}});
    const std::string task = req["task"].get<std::string>();
    if (task == "generate_lyrics") return task_generate_lyrics(*this, req, on_event);
    if (task == "model_logits") return task_model_logits(*this, req, on_event);
    if (task == "bench_decode") return task_bench_decode(*this, req, on_event);
    if (task == "info") {
      Fields f(req, {"task"});
      json models = json::array();
      for (const auto& kv : models_)
        models.push_back({{"name", kv.first}, {"language", kv.second->manifest().value("language", "")},
                          {"version", kv.second->manifest().value("version", "")}, {"sha256", kv.second->manifest().value("sha256", "")}});
      return {{"task", "info"}, {"build", build_info()}, {"models", models}, {"tasks", {"generate_lyrics", "info", "model_logits", "bench_decode"}}};
    }
    throw Error("unknown_task", "unknown task '" + task + "' (tasks: generate_lyrics, info, model_logits, bench_decode)", {{"task", task}});
  } catch (const Error& e) {
    return error_json(e.code, e.what(), e.details);
  } catch (const json::exception& e) {
    return error_json("internal", std::string("json: ") + e.what());
  } catch (const std::bad_alloc&) {
    return error_json("out_of_memory", "the request needed more memory than is available");
  } catch (const std::exception& e) {
    return error_json("internal", e.what());
  }
}

std::string Engine::request(const std::string& json_text, const EventFn& on_event) {
  json req = json::parse(json_text, nullptr, false);
  if (req.is_discarded()) return error_json("bad_request", "the request is not valid JSON").dump();
  // error_handler::replace: invalid UTF-8 from a model can never make dump() throw.
  return handle(req, on_event).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tunesmith
