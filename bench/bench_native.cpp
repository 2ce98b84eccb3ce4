// Native micro-benchmark of the inference core, one line per case (JSON), for tools/bench.mjs to
// set side by side with the wasm builds and ONNX Runtime Web:
//   tunesmith_bench MODEL.json [--tokens N] [--threads N]
// Cases: model load; decode tokens/s (prompt of 16 tokens, then N single-token steps with the KV
// cache, the same loop the lyrics generator runs); kernel dot/matmul vs the scalar reference.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

  tunesmith::GptState st(*model);
  std::vector<int32_t> prompt(16);
  for (int i = 0; i < 16; ++i) prompt[i] = 6 + (i * 37) % (c.vocab_size - 6);
  const int steps = std::min(tokens, c.n_ctx - 16);
  // Warm-up run, then the timed one.
  for (int rep = 0; rep < 2; ++rep) {
    st.reset();
    auto tp = Clock::now();
    const float* lg = st.eval(prompt.data(), 16);
    const double prefill_ms = ms_since(tp);
    auto td = Clock::now();
    for (int s = 0; s < steps; ++s) {
      int best = 0;
      for (int v = 1; v < c.vocab_size; ++v) if (lg[v] > lg[best]) best = v;
      int32_t next = best;
      lg = st.eval(&next, 1);
    }
    const double decode_ms = ms_since(td);
    if (rep == 1)
      std::printf("{\"case\":\"decode\",\"platform\":\"native\",\"threads\":%d,\"model\":\"%s\",\"prefill16_ms\":%.3f,\"tokens\":%d,\"ms\":%.2f,\"tokens_per_s\":%.1f}\n",
                  threads, model->name().c_str(), prefill_ms, steps, decode_ms, steps * 1000.0 / decode_ms);
  }

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
