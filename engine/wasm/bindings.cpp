// Embind binding: a thin adapter over tunesmith::Engine, no logic of its own. Whole buffers cross
// the boundary once (the .onnx bytes in, JSON text out); streaming events are JSON text passed to
// a JS callback.
#include <map>
#include <string>
#include <vector>

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "tunesmith/api.h"

using emscripten::val;

namespace {

class WasmEngine {
 public:
  std::string loadModel(const std::string& manifest, const val& bytes) {
    // Copy the Uint8Array into wasm memory in one go.
    const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
    return engine_.load_model(manifest, data.data(), data.size()).dump();
  }
  // files: a plain object {fileName: Uint8Array} holding every file the manifest names.
  std::string loadResource(const std::string& manifest, const val& files) {
    std::map<std::string, std::string> m;
    const val keys = val::global("Object").call<val>("keys", files);
    const int n = keys["length"].as<int>();
    for (int i = 0; i < n; ++i) {
      const std::string k = keys[i].as<std::string>();
      const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(files[k]);
      m[k] = std::string(data.begin(), data.end());
    }
    return engine_.load_resource(manifest, m).dump();
  }
  std::string request(const std::string& json_text, val on_event) {
    tunesmith::EventFn fn;
    if (!on_event.isNull() && !on_event.isUndefined())
      fn = [&on_event](const nlohmann::json& ev) { on_event(ev.dump()); };
    return engine_.request(json_text, fn);
  }
  void setThreads(int n) { engine_.set_threads(n); }

 private:
  tunesmith::Engine engine_;
};

std::string buildInfo() {
  nlohmann::json j = tunesmith::Engine::build_info();
  j["simd"] = true;  // this build requires wasm SIMD to load at all
  j["simd_kernels"] = tunesmith::Engine::build_info()["simd"];
#ifdef TS_THREADS
  j["max_threads"] = 4;
#else
  j["max_threads"] = 1;
#endif
  return j.dump();
}

}  // namespace

EMSCRIPTEN_BINDINGS(tunesmith) {
  emscripten::function("buildInfo", &buildInfo);
  emscripten::class_<WasmEngine>("Engine")
      .constructor<>()
      .function("loadModel", &WasmEngine::loadModel)
      .function("loadResource", &WasmEngine::loadResource)
      .function("request", &WasmEngine::request)
      .function("setThreads", &WasmEngine::setThreads);
}
