// The one entry point: a JSON request in, a JSON response out. Embind, the JS API, the CLI and
// the HTTP mode are thin adapters over Engine::request.
//
//   tunesmith::Engine engine;
//   engine.set_model_dir("models");                 // native: load models on first use
//   std::string out = engine.request(R"({"task":"generate_lyrics","song_title":"我爱你",
//                                        "song_style":"流行音乐","lyrics_length":8,"seed":1})");
//
// Every failure, including malformed JSON, comes back as {"error":{"code":..,"message":..}};
// request() never throws and the engine stays usable afterwards.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tunesmith {

class GptModel;
class Phonetics;
class EnLexicon;
class Sentiment;
class NgramIndex;
class AudioClassifier;
class AudioSession;

// Streaming events during a request ({"event":"token",...}, {"event":"line",...}).
using EventFn = std::function<void(const nlohmann::json& event)>;

class Engine {
 public:
  Engine();
  ~Engine();

  // Handles one request (JSON text); the response is JSON text. `data` carries the bytes a task
  // needs beside its JSON (analyze_audio: a WAV file, or float32 PCM); it is only read during the call.
  std::string request(const std::string& json_text, const EventFn& on_event = nullptr, std::string_view data = {});
  // Same, for callers that already hold parsed JSON.
  nlohmann::json handle(const nlohmann::json& req, const EventFn& on_event = nullptr, std::string_view data = {});
  std::string_view attached_data() const { return data_; }  // the current request's data (tasks)

  // Registers a model from its manifest text and .onnx bytes; returns {"ok":true,...} or an error
  // object. A model with the same name replaces the old one.
  nlohmann::json load_model(const std::string& manifest_text, const uint8_t* onnx, size_t size);
  // Any resource by its manifest and the files it lists, by file name: a lyrics model (its .onnx
  // and its originality index), "phonetics" or "sentiment". Same answers as load_model.
  nlohmann::json load_resource(const std::string& manifest_text, const std::map<std::string, std::string>& files);
  // Native adapters: where to find <name>.json / <name>.onnx when a request needs a model that is
  // not loaded yet. Without it, such a request answers error code "model_not_loaded" with "model".
  void set_model_dir(const std::string& dir) { model_dir_ = dir; }
  void set_threads(int n);

  std::shared_ptr<const GptModel> model(const std::string& name);  // loads from model_dir_ if set
  // Shared resources, loaded from model_dir_ on first use when it is set; otherwise a request that
  // needs one answers "model_not_loaded" with "model": "phonetics" | "sentiment" | the lyrics model
  // (for its originality index).
  std::shared_ptr<const Phonetics> phonetics();
  std::shared_ptr<const EnLexicon> en_lexicon(const std::string& model_name);  // with that model's word list
  std::shared_ptr<const Sentiment> sentiment();
  std::shared_ptr<const NgramIndex> ngrams(const std::string& model_name);
  // The listening classifier ("listen": format tunesmith-audio-classifier/1), loaded from model_dir_
  // on first use when it is set; otherwise "model_not_loaded" with "model": "listen".
  std::shared_ptr<const AudioClassifier> listen_classifier();
  // analyze_audio sessions (a file fed in chunks over several requests), by the caller's id.
  std::map<std::string, std::shared_ptr<AudioSession>>& audio_sessions() { return audio_sessions_; }
  static nlohmann::json build_info();
  nlohmann::json loaded_models() const;  // [{name, language, version, sha256}]

 private:
  void install_companions(const GptModel& m, const std::map<std::string, std::string>& files);
  std::map<std::string, std::shared_ptr<const GptModel>> models_;
  std::map<std::string, std::shared_ptr<const NgramIndex>> ngrams_;
  std::shared_ptr<const Phonetics> phonetics_;
  std::map<std::string, std::shared_ptr<const EnLexicon>> lexicons_;
  std::map<std::string, std::string> word_lists_;  // model -> its lexicon file's text
  std::shared_ptr<const Sentiment> sentiment_;
  std::shared_ptr<const AudioClassifier> listen_;
  std::map<std::string, std::shared_ptr<AudioSession>> audio_sessions_;
  std::string model_dir_;
  std::string_view data_;
};

// {"error": {"code": code, "message": message, ...details}}
nlohmann::json error_json(const std::string& code, const std::string& message,
                          const nlohmann::json& details = nlohmann::json::object());

}  // namespace tunesmith
