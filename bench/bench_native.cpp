// Native micro-benchmark of the inference core, one line per case (JSON), for tools/bench.mjs to
// set side by side with the wasm builds and ONNX Runtime Web:
//   tunesmith_bench MODEL.json [--tokens N] [--threads N]
// Cases: model load; decode tokens/s (the engine's bench_decode task: a 16-token prompt, then N
// greedy single-token steps with the KV cache); the output-head kernel vs the scalar reference.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tunesmith/api.h"
#include "tunesmith/kernels.h"
#include "tunesmith/model.h"

using Clock = std::chrono::steady_clock;
static double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: tunesmith_bench MODEL.json [--tokens N] [--threads N]\n"); return 2; }
  std::string manifest_path = argv[1];
  int tokens = 200, threads = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--tokens") tokens = std::atoi(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
  }
  std::ifstream mf(manifest_path);
  std::string manifest((std::istreambuf_iterator<char>(mf)), std::istreambuf_iterator<char>());
  std::string onnx_path = manifest_path.substr(0, manifest_path.size() - 5) + ".onnx";
  std::ifstream of(onnx_path, std::ios::binary);
  std::string onnx((std::istreambuf_iterator<char>(of)), std::istreambuf_iterator<char>());

  tunesmith::kernels_set_threads(threads);
  auto t0 = Clock::now();
  auto model = tunesmith::GptModel::load(manifest, reinterpret_cast<const uint8_t*>(onnx.data()), onnx.size());
  const double load_ms = ms_since(t0);
  const auto& c = model->config();
  std::printf("{\"case\":\"load\",\"platform\":\"native\",\"simd\":\"%s\",\"model\":\"%s\",\"ms\":%.2f}\n", tunesmith::kernels_simd_name(), model->name().c_str(), load_ms);

  // Decode through the engine's bench_decode task: the very loop the wasm builds time, so native
  // and wasm numbers are like for like.
  tunesmith::Engine engine;
  const size_t slash = manifest_path.find_last_of('/');
  engine.set_model_dir(slash == std::string::npos ? "." : manifest_path.substr(0, slash));
  nlohmann::json prompt = nlohmann::json::array();
  for (int i = 0; i < 16; ++i) prompt.push_back(6 + (i * 37) % (c.vocab_size - 6));
  const nlohmann::json req = {{"task", "bench_decode"}, {"model", model->name()}, {"prompt", prompt},
                              {"steps", std::min(tokens, c.n_ctx - 16)}};
  nlohmann::json r;
  for (int rep = 0; rep < 2; ++rep) r = engine.handle(req);  // warm-up, then the timed run
  if (r.contains("error")) { std::fprintf(stderr, "%s\n", r.dump().c_str()); return 1; }
  std::printf("{\"case\":\"decode\",\"platform\":\"native\",\"threads\":%d,\"model\":\"%s\",\"prefill16_ms\":%.3f,\"tokens\":%d,\"ms\":%.2f,\"tokens_per_s\":%.1f}\n",
              threads, model->name().c_str(), r["ms_prefill"].get<double>(), r["steps"].get<int>(), r["ms_decode"].get<double>(),
              r["tokens_per_s"].get<double>());

  // Kernel vs scalar reference, the head-sized product.
  std::vector<float> x(c.d_model, 0.5f), y(c.vocab_size);
  auto tk = Clock::now();
  for (int r = 0; r < 200; ++r) tunesmith::matmul_transposed(x.data(), model->wte, y.data(), 1, c.d_model, c.vocab_size);
  const double simd_ms = ms_since(tk);
  tk = Clock::now();
  for (int r = 0; r < 200; ++r) tunesmith::ref::matmul_transposed(x.data(), model->wte, y.data(), 1, c.d_model, c.vocab_size);
  const double ref_ms = ms_since(tk);
  std::printf("{\"case\":\"kernel_head\",\"platform\":\"native\",\"simd_ms\":%.2f,\"scalar_ms\":%.2f,\"speedup\":%.2f}\n", simd_ms, ref_ms, ref_ms / simd_ms);
  return 0;
}
