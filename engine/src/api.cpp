#include "tunesmith/api.h"

#include <chrono>
#include <fstream>
#include <iterator>

#include "tunesmith/classifier.h"
#include "tunesmith/error.h"
#include "tunesmith/en_lexicon.h"
#include "tunesmith/kernels.h"
#include "tunesmith/lyrics.h"
#include "tunesmith/listen.h"
#include "tunesmith/melody.h"
#include "tunesmith/model.h"
#include "tunesmith/ngram_index.h"
#include "tunesmith/phonetics.h"
#include "tunesmith/request.h"
#include "tunesmith/sentiment.h"
#include "tunesmith/sha256.h"
#include "tunesmith/songwriter.h"
#include "tunesmith/utf8.h"

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
  // Its companions, when the manifest names them: the originality index and the word list.
  std::map<std::string, std::string> files;
  for (const char* key : {"originality", "lexicon"}) {
    if (!m->manifest().contains(key)) continue;
    const std::string file = m->manifest()[key].value("file", "");
    const std::string path = model_dir_ + "/" + file;
    if (!read_file(path, files[file])) throw Error("model_not_found", "model '" + name + "': cannot read " + path, {{"model", name}});
  }
  install_companions(*m, files);
  models_[name] = m;
  return m;
}

// Checks and installs a model's companion files (by file name); nothing changes on error.
void Engine::install_companions(const GptModel& m, const std::map<std::string, std::string>& files) {
  auto file = [&](const json& entry) -> const std::string& {
    const std::string name = entry.value("file", "");
    auto it = files.find(name);
    if (it == files.end()) throw Error("model_invalid", "file '" + name + "' named by the manifest of '" + m.name() + "' was not given", {{"model", m.name()}});
    return it->second;
  };
  std::shared_ptr<NgramIndex> idx;
  if (m.manifest().contains("originality")) {
    idx = std::make_shared<NgramIndex>();
    idx->load(m.manifest()["originality"], file(m.manifest()["originality"]));
  }
  std::string words;
  if (m.manifest().contains("lexicon")) {
    const json& entry = m.manifest()["lexicon"];
    words = file(entry);
    if ((long long)words.size() != entry.value("bytes", -1LL) ||
        sha256_hex(reinterpret_cast<const uint8_t*>(words.data()), words.size()) != entry.value("sha256", ""))
      throw Error("model_invalid", "'" + entry.value("file", "") + "' does not match the size and sha256 in the manifest of '" + m.name() + "'", {{"model", m.name()}});
  }
  if (idx) ngrams_[m.name()] = idx;
  else ngrams_.erase(m.name());
  word_lists_[m.name()] = words;
  lexicons_.erase(m.name());
}

// A shared table set (phonetics, sentiment): loaded once from the model directory, or reported as
// "model_not_loaded" so the JS layer fetches it under that name.
template <class T>
static std::shared_ptr<const T> load_shared(std::shared_ptr<const T>& slot, const std::string& dir, const char* name, const char* what) {
  if (slot) return slot;
  if (dir.empty()) throw Error("model_not_loaded", std::string("the ") + what + " are not loaded", {{"model", name}});
  auto t = std::make_shared<T>();
  t->load_dir(dir);
  slot = t;
  return slot;
}

std::shared_ptr<const Phonetics> Engine::phonetics() { return load_shared(phonetics_, model_dir_, "phonetics", "phonetic tables"); }

std::shared_ptr<const EnLexicon> Engine::en_lexicon(const std::string& model_name) {
  auto it = lexicons_.find(model_name);
  if (it != lexicons_.end()) return it->second;
  auto ph = phonetics();
  model(model_name);
  auto lex = std::make_shared<const EnLexicon>(*ph, word_lists_[model_name]);
  lexicons_[model_name] = lex;
  return lex;
}

std::shared_ptr<const Sentiment> Engine::sentiment() { return load_shared(sentiment_, model_dir_, "sentiment", "sentiment lexicons"); }

std::shared_ptr<const AudioClassifier> Engine::listen_classifier() {
  if (listen_) return listen_;
  if (model_dir_.empty()) throw Error("model_not_loaded", "the listening classifier is not loaded", {{"model", "listen"}});
  auto read = [&](const std::string& name) {
    std::ifstream in(model_dir_ + "/" + name, std::ios::binary);
    if (!in) throw Error("model_not_loaded", "cannot read " + model_dir_ + "/" + name, {{"model", "listen"}});
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string man = read("listen.json");
  const json m = json::parse(man, nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("file") || !m["file"].is_string())
    throw Error("model_invalid", "listen model: the manifest is not valid JSON", {{"model", "listen"}});
  const std::string onnx = read(m["file"].get<std::string>());
  listen_ = AudioClassifier::load(man, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
  return listen_;
}

std::shared_ptr<const NgramIndex> Engine::ngrams(const std::string& name) {
  auto m = model(name);
  auto it = ngrams_.find(name);
  if (it != ngrams_.end()) return it->second;
  if (!m->manifest().contains("originality")) return nullptr;
  throw Error("model_not_loaded", "the originality index of model '" + name + "' is not loaded", {{"model", name}});
}

json Engine::load_resource(const std::string& manifest_text, const std::map<std::string, std::string>& files) {
  try {
    const json man = json::parse(manifest_text, nullptr, false);
    if (man.is_discarded() || !man.is_object()) throw Error("model_invalid", "the manifest is not a JSON object");
    const std::string format = man.value("format", "");
    auto file = [&](const std::string& name) -> const std::string& {
      auto it = files.find(name);
      if (it == files.end()) throw Error("model_invalid", "file '" + name + "' named by the manifest was not given");
      return it->second;
    };
    if (format == "tunesmith-phonetics/1") {
      auto ph = std::make_shared<Phonetics>();
      ph->load(manifest_text, file(man.at("zh").at("file").get<std::string>()), file(man.at("en").at("file").get<std::string>()));
      phonetics_ = ph;
      lexicons_.clear();
      return {{"ok", true}, {"model", "phonetics"}};
    }
    if (format == "tunesmith-audio-classifier/1") {
      const std::string& onnx = file(man.value("file", ""));
      listen_ = AudioClassifier::load(manifest_text, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
      return {{"ok", true}, {"model", "listen"}, {"version", listen_->version()}};
    }
    if (format == "tunesmith-sentiment/1") {
      auto se = std::make_shared<Sentiment>();
      se->load(manifest_text, files);
      sentiment_ = se;
      return {{"ok", true}, {"model", "sentiment"}};
    }
    const std::string& onnx = file(man.value("file", ""));
    auto m = GptModel::load(manifest_text, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
    install_companions(*m, files);
    models_[m->name()] = m;
    const bool idx = ngrams_.count(m->name()) > 0;
    return {{"ok", true}, {"model", m->name()}, {"language", m->manifest().value("language", "")},
            {"parameters", m->manifest()["architecture"].value("parameters", 0)}, {"weight_bytes", m->weight_bytes()},
            {"originality_index", idx}};
  } catch (const Error& e) {
    return error_json(e.code, e.what(), e.details);
  } catch (const std::exception& e) {
    return error_json("model_invalid", e.what());
  }
}

json Engine::load_model(const std::string& manifest_text, const uint8_t* onnx, size_t size) {
  try {
    auto m = GptModel::load(manifest_text, onnx, size);
    models_[m->name()] = m;
    ngrams_.erase(m->name());  // a new model brings its own companions (load_resource)
    word_lists_.erase(m->name());
    lexicons_.erase(m->name());
    return {{"ok", true}, {"model", m->name()}, {"language", m->manifest().value("language", "")},
            {"parameters", m->manifest()["architecture"].value("parameters", 0)}, {"weight_bytes", m->weight_bytes()}};
  } catch (const Error& e) {
    return error_json(e.code, e.what(), e.details);
  } catch (const std::exception& e) {
    return error_json("model_invalid", e.what());
  }
}

// ------------------------------------------------------------------ tasks
#define TS_LYRICS_FIELDS "task", "song_title", "song_style", "lyrics_length", "language", "seed", "temperature", "top_k", \
    "top_p", "repetition_penalty", "structure", "chorus", "rhyme_scheme", "syllables", "mood", "keywords", "avoid", "originality"

// Sampling fields: validated before any model is needed (a bad request must not make the JS layer
// download one); absent ones then take the model's own defaults (manifest "generation").
struct SamplingRequest {
  double temperature;
  int64_t top_k;
  double top_p, rep;
  explicit SamplingRequest(const Fields& f)
      : temperature(f.number("temperature", -1.0, 0.0, 2.0)), top_k(f.integer("top_k", -1, 0, 100000)),
        top_p(f.number("top_p", -1.0, 0.01, 1.0)), rep(f.number("repetition_penalty", -1.0, 1.0, 2.0)) {}
  void apply(const GptModel& model, LyricsParams& p) const {
    const json gen = model.manifest().value("generation", json::object());
    p.temperature = (float)(temperature >= 0 ? temperature : gen.value("temperature", 0.8));
    p.top_k = (int)(top_k >= 0 ? top_k : gen.value("top_k", 40));
    p.top_p = (float)(top_p >= 0 ? top_p : gen.value("top_p", 0.95));
    p.repetition_penalty = (float)(rep >= 0 ? rep : gen.value("repetition_penalty", 1.1));
  }
  double temperature_used(const GptModel& model) const {
    return temperature >= 0 ? temperature : model.manifest().value("generation", json::object()).value("temperature", 0.8);
  }
};

// generate_lyrics and edit_lyrics share everything up to the decoder.
static json write_lyrics(Engine& eng, const json& req, const EventFn& on_event, bool edit) {
  Fields f = edit ? Fields(req, {TS_LYRICS_FIELDS, "lines", "action", "line", "locked", "append"}) : Fields(req, {TS_LYRICS_FIELDS});
  LyricsParams p;
  p.title = f.text("song_title", true, 200);
  p.style = f.text("song_style", false, 100, "", 0);
  p.lines = (int)f.integer("lyrics_length", 8, 1, 200);
  const std::string lang = f.choice("language", {"zh", "en"}, detect_language(p.title));
  p.seed = f.seed("seed");
  const SamplingRequest sr(f);
  std::string action;
  const json* append = nullptr;
  json append_default = "V";
  if (edit) {
    action = f.choice("action", {"regenerate_line", "regenerate_unlocked", "continue"}, "");
    if (action.empty()) throw Error("missing_field", "'action' is required: regenerate_line, regenerate_unlocked or continue", {{"field", "action"}});
    if (action == "continue") append = f.has("append") ? &req["append"] : &append_default;
  }
  SongPlan plan = parse_song_plan(req, lang, p.seed, append);
  std::unique_ptr<EditSpec> spec;
  if (edit) {
    spec = std::make_unique<EditSpec>();
    spec->action = action;
    const int N = (int)plan.lines.size();
    int base = N;
    if (append) {
      SongPlan before = parse_song_plan(req, lang, p.seed);
      base = (int)before.lines.size();
    }
    if (!f.has("lines") || !req["lines"].is_array())
      throw Error("missing_field", "'lines' (the song as it is now: an array of strings) is required", {{"field", "lines"}});
    const json& lj = req["lines"];
    if ((int)lj.size() != base)
      throw Error("invalid_field", "'lines' has " + std::to_string(lj.size()) + " lines but the song's plan has " + std::to_string(base) +
                                       " (send the same structure and lyrics_length as when it was written)", {{"field", "lines"}});
    for (const json& l : lj) {
      const json& t = l.is_object() && l.contains("text") ? l["text"] : l;
      if (!t.is_string()) throw Error("invalid_field", "'lines' must be strings (or objects with \"text\")", {{"field", "lines"}});
      std::u32string c;
      if (!utf8_decode(t.get<std::string>(), c)) throw Error("invalid_field", "'lines' has invalid UTF-8", {{"field", "lines"}});
      if (c.size() > 200) throw Error("invalid_field", "'lines' has a line longer than 200 characters", {{"field", "lines"}});
      for (char32_t ch : c)
        if (is_control(ch)) throw Error("invalid_field", "'lines' entries must be single lines without control characters", {{"field", "lines"}});
      spec->lines.push_back(t.get<std::string>());
    }
    spec->write.assign(N, false);
    if (action == "regenerate_line") {
      int i = (int)f.required_integer("line", 0, base - 1);
      if (plan.lines[i].repeat_of >= 0) i = plan.lines[i].repeat_of;  // a chorus line changes in every repeat
      spec->write[i] = true;
    } else if (action == "regenerate_unlocked") {
      std::vector<bool> locked(N, false);
      if (f.has("locked")) {
        if (!req["locked"].is_array()) throw Error("invalid_field", "'locked' must be an array of line indices", {{"field", "locked"}});
        for (const json& v : req["locked"]) {
          if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= N)
            throw Error("invalid_field", "'locked' entries must be line indices from 0 to " + std::to_string(N - 1), {{"field", "locked"}});
          int i = v.get<int>();
          locked[i] = true;
          if (plan.lines[i].repeat_of >= 0) locked[plan.lines[i].repeat_of] = true;  // locking a repeat locks its chorus line
        }
      }
      for (int i = 0; i < N; ++i) spec->write[i] = !locked[i] && plan.lines[i].repeat_of < 0;
    } else {
      for (int i = base; i < N; ++i) spec->write[i] = plan.lines[i].repeat_of < 0;
    }
  }
  // Resources: phonetics (both languages), the lyrics model with its originality index, the
  // sentiment lexicons when a mood is asked for.
  auto ph = eng.phonetics();
  place_keywords(plan, lang, *ph);
  SongResources res;
  res.phonetics = ph.get();
  std::shared_ptr<const EnLexicon> lex;
  if (lang == "en") { lex = eng.en_lexicon("lyrics-en"); res.lexicon = lex.get(); }
  std::shared_ptr<const Sentiment> sent;
  if (!plan.mood.empty()) { sent = eng.sentiment(); res.sentiment = sent.get(); }
  auto model = eng.model("lyrics-" + lang);
  std::shared_ptr<const NgramIndex> idx;
  if (plan.originality) { idx = eng.ngrams(model->name()); res.ngrams = idx.get(); }
  sr.apply(*model, p);
  json out = write_song(*model, p, plan, res, spec.get(), on_event);
  out["temperature"] = sr.temperature_used(*model);  // as requested (or the model default), not its float rounding
  const json gen = model->manifest().value("generation", json::object());
  out["top_p"] = sr.top_p >= 0 ? sr.top_p : gen.value("top_p", 0.95);
  out["repetition_penalty"] = sr.rep >= 0 ? sr.rep : gen.value("repetition_penalty", 1.1);
  return out;
}

static json task_generate_lyrics(Engine& eng, const json& req, const EventFn& on_event) {
  return write_lyrics(eng, req, on_event, false);
}

static json task_edit_lyrics(Engine& eng, const json& req, const EventFn& on_event) {
  return write_lyrics(eng, req, on_event, true);
}

static json task_generate_title(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "lyrics", "theme", "count", "language", "song_style", "seed"});
  const bool has_lyrics = f.has("lyrics"), has_theme = f.has("theme");
  if (has_lyrics == has_theme) throw Error("missing_field", "give either 'lyrics' or 'theme'", {{"field", "lyrics"}});
  const std::string lyrics = has_lyrics ? f.text("lyrics", true, 5000, "", 1, true) : "";
  const std::string theme = has_theme ? f.text("theme", true, 200) : "";
  const int count = (int)f.integer("count", 5, 1, 10);
  const std::string style = f.text("song_style", false, 100, "", 0);
  const std::string lang = f.choice("language", {"zh", "en"}, detect_language(has_lyrics ? lyrics : theme));
  const uint64_t seed = f.seed("seed");
  auto ph = eng.phonetics();
  std::string text = lyrics;
  json from_theme = nullptr;
  if (has_theme) {
    // A short song on the theme, whose phrases become the candidates.
    json g = {{"task", "generate_lyrics"}, {"song_title", theme}, {"song_style", style}, {"language", lang},
              {"structure", "V4 C4"}, {"seed", seed}};
    json song = eng.handle(g);
    if (song.contains("error")) return song;
    text = song["lyrics"].get<std::string>();
    from_theme = song["lyrics"];
  }
  auto model = eng.model("lyrics-" + lang);
  json out = generate_titles(*model, text, style, count, seed, *ph);
  if (has_theme) { out["theme"] = theme; out["lyrics_from_theme"] = from_theme; }
  return out;
}

static json task_analyze_lyrics(Engine& eng, const json& req, const EventFn&) {
  Fields f(req, {"task", "lyrics", "language"});
  const std::string lyrics = f.text("lyrics", true, 20000, "", 1, true);
  const std::string lang = f.choice("language", {"zh", "en"}, detect_language(lyrics));
  auto s = eng.sentiment();
  json out = s->analyze(lyrics, lang);
  out["task"] = "analyze_lyrics";
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
    {"edit_lyrics", task_edit_lyrics},
    {"generate_title", task_generate_title},
    {"analyze_lyrics", task_analyze_lyrics},
    {"generate_melody", [](Engine& e, const json& r, const EventFn&) { return task_generate_melody(e, r); }},
    {"edit_melody", [](Engine& e, const json& r, const EventFn&) { return task_edit_melody(e, r); }},
    {"render_melody", [](Engine& e, const json& r, const EventFn&) { return task_render_melody(e, r); }},
    {"analyze_audio", [](Engine& e, const json& r, const EventFn& ev) { return task_analyze_audio(e, r, ev); }},
    {"similar_tracks", task_similar_tracks},
    {"classify_patch", task_classify_patch},
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
  if (listen_)
    models.push_back({{"name", "listen"}, {"language", ""}, {"version", listen_->version()}, {"sha256", listen_->manifest().value("sha256", "")}});
  return models;
}

json Engine::handle(const json& req, const EventFn& on_event, std::string_view data) {
  struct Attach {  // the data is visible to tasks during this call only
    std::string_view& slot;
    std::string_view old;
    Attach(std::string_view& s, std::string_view d) : slot(s), old(s) { slot = d; }
    ~Attach() { slot = old; }
  } attach(data_, data);
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

std::string Engine::request(const std::string& json_text, const EventFn& on_event, std::string_view data) {
  json req = json::parse(json_text, nullptr, false);
  if (req.is_discarded()) return error_json("bad_request", "the request is not valid JSON").dump();
  // error_handler::replace: invalid UTF-8 from a model can never make dump() throw.
  return handle(req, on_event, data).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tunesmith
