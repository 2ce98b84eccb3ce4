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
  // Every field is validated before a model is needed (a bad request must not make the JS layer
  // download one); absent sampling fields then take the model's own defaults (manifest
  // "generation"), which were tuned on its samples.
  const double temperature = f.number("temperature", -1.0, 0.0, 2.0);
  const int64_t top_k = f.integer("top_k", -1, 0, 100000);
  const double top_p = f.number("top_p", -1.0, 0.01, 1.0);
  const double rep = f.number("repetition_penalty", -1.0, 1.0, 2.0);
  auto model = eng.model("lyrics-" + lang);
  const json gen = model->manifest().value("generation", json::object());
  const double t = temperature >= 0 ? temperature : gen.value("temperature", 0.8);
  p.temperature = (float)t;
  p.top_k = (int)(top_k >= 0 ? top_k : gen.value("top_k", 40));
  p.top_p = (float)(top_p >= 0 ? top_p : gen.value("top_p", 0.95));
  p.repetition_penalty = (float)(rep >= 0 ? rep : gen.value("repetition_penalty", 1.1));
  json out = generate_lyrics(*model, p, on_event);
  out["temperature"] = t;  // as requested (or the model default), not its float rounding
  return out;
}

// Token ids in req[field]: 1..max_len ids, each in [0, vocab).
static std::vector<int32_t> token_ids(const json& req, const char* field, int max_len, int vocab) {
  const std::string why = std::string("'") + field + "' must be an array of 1 to " + std::to_string(max_len) +
                          " token ids in [0, " + std::to_string(vocab) + ")";
  if (!req.contains(field) || !req[field].is_array() || req[field].empty() || (int)req[field].size() > max_len)
    throw Error("invalid_field", why, {{"field", field}});
  std::vector<int32_t> ids;
  for (const auto& t : req[field]) {
    if (!t.is_number_integer() || t.get<long long>() < 0 || t.get<long long>() >= vocab) throw Error("invalid_field", why, {{"field", field}});
    ids.push_back(t.get<int32_t>());
  }
  return ids;
}

// Our kernels' logits for a token sequence (tests compare them with ONNX Runtime's).
static json task_model_logits(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "model", "tokens", "split"});
  const std::string name = f.text("model", true, 100);
  auto model = eng.model(name);
  const GptConfig& c = model->config();
  const std::vector<int32_t> toks = token_ids(req, "tokens", c.n_ctx, c.vocab_size);
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
  const std::vector<int32_t> prompt = token_ids(req, "prompt", c.n_ctx - 1, c.vocab_size);
  const int steps = (int)f.integer("steps", 128, 1, c.n_ctx - (int64_t)prompt.size());
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

static json task_info(Engine& eng, const json& req, const EventFn&);

// The one list of tasks: dispatch, "info" and the unknown-task error all read it.
using TaskFn = json (*)(Engine&, const json&, const EventFn&);
static const std::pair<const char*, TaskFn> kTasks[] = {
    {"generate_lyrics", task_generate_lyrics},
    {"info", task_info},
    {"model_logits", task_model_logits},
    {"bench_decode", task_bench_decode},
};

static json task_info(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task"});
  json tasks = json::array();
  for (const auto& t : kTasks) tasks.push_back(t.first);
  return {{"task", "info"}, {"build", Engine::build_info()}, {"models", eng.loaded_models()}, {"tasks", tasks}};
}

json Engine::loaded_models() const {
  json models = json::array();
  for (const auto& kv : models_)
    models.push_back({{"name", kv.first}, {"language", kv.second->manifest().value("language", "")},
                      {"version", kv.second->manifest().value("version", "")}, {"sha256", kv.second->manifest().value("sha256", "")}});
  return models;
}

json Engine::handle(const json& req, const EventFn& on_event) {
  try {
    if (!req.is_object()) throw Error("bad_request", "the request must be a JSON object");
    if (!req.contains("task")) throw Error("missing_field", "'task' is required (e.g. \"generate_lyrics\")", {{"field", "task"}});
    if (!req["task"].is_string()) throw Error("invalid_field", "'task' must be a string", {{"field", "task"}});
    const std::string task = req["task"].get<std::string>();
    std::string names;
    for (const auto& t : kTasks) {
      if (task == t.first) return t.second(*this, req, on_event);
      names += (names.empty() ? "" : ", ") + std::string(t.first);
    }
    throw Error("unknown_task", "unknown task '" + task + "' (tasks: " + names + ")", {{"task", task}});
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
