// Embind binding: a thin adapter over tunesmith::Engine, no logic of its own. Whole buffers cross
// the boundary once (the .onnx bytes in, a request's data in, JSON text out); streaming events are
// JSON text passed to a JS callback.
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
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
    return engine_.request(json_text, events(on_event));
  }
  // Same, with the bytes a task reads beside its JSON (analyze_audio: a WAV file or float32 PCM).
  // data: a Uint8Array (null/undefined = none). It is copied once, by the JS engine's
  // TypedArray.prototype.set into an uninitialised wasm buffer (a memcpy: ~20 ms for 50 MB), and
  // freed when the request returns.
  std::string requestData(const std::string& json_text, val on_event, const val& data) {
    size_t n = 0;
    std::unique_ptr<char[]> bytes;
    if (!data.isNull() && !data.isUndefined()) {
      n = data["length"].as<size_t>();
      bytes.reset(new (std::nothrow) char[n ? n : 1]);
      if (!bytes)
        return tunesmith::error_json("out_of_memory", "no room in wasm memory for the request's " + std::to_string(n) + " bytes of data").dump();
      if (n) val(emscripten::typed_memory_view(n, reinterpret_cast<uint8_t*>(bytes.get()))).call<void>("set", data);
    }
    return engine_.request(json_text, events(on_event), std::string_view(bytes.get(), n));
  }
  void setThreads(int n) { engine_.set_threads(n); }

 private:
  // The JS callback (or none) as an EventFn; on_event must outlive the request.
  static tunesmith::EventFn events(const val& on_event) {
    if (on_event.isNull() || on_event.isUndefined()) return nullptr;
    return [&on_event](const nlohmann::json& ev) { on_event(ev.dump()); };
  }
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
      .function("requestData", &WasmEngine::requestData)
      .function("setThreads", &WasmEngine::setThreads);
}
