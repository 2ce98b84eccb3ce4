// Native request runner for the songwriting benchmark (tools/bench.mjs --only songwriting) and the
// lyrics evaluation (tools/lyrics/eval.mjs): one warm tunesmith::Engine, many requests, each timed.
//
//   tunesmith_songwriting [--models DIR] [--threads N]   < requests.jsonl
//
// Reads one JSON request per line on stdin and answers each with one line on stdout:
//   {"ms": <Engine::request wall time>, "ms_first_token": <first token event or null>,
//    "ms_first_line": <first line event or null>, "lines": <line events>, "response": <the response>}
// Times are std::chrono::steady_clock milliseconds from the call. The first request that needs a
// model also loads it (and its originality index, the phonetics and lexicon tables): send a
// warm-up request first to time generation alone. The responses are exactly what the CLI
// (`tunesmith request`) prints for the same request; only the timing wrapper is added.
//
// Built by the tools on demand (not part of the CMake project):
//   g++ -std=c++17 -O2 -DTS_THREADS=1 -Iengine/include bench/songwriting_native.cpp \
//       build/native/libtunesmith_core.a -lpthread -o build/bench/tunesmith_songwriting
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tunesmith/api.h"

using Clock = std::chrono::steady_clock;
using nlohmann::json;

int main(int argc, char** argv) {
  std::string models = "models";
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--models" && i + 1 < argc) models = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: tunesmith_songwriting [--models DIR] [--threads N] < requests.jsonl\n");
      return 2;
    }
  }
  tunesmith::Engine engine;
  engine.set_model_dir(models);
  engine.set_threads(threads < 1 ? 1 : threads);
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    double first_token = -1, first_line = -1;
    int line_events = 0;
    const auto t0 = Clock::now();
    auto since = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
    const std::string out = engine.request(line, [&](const json& ev) {
      const std::string e = ev.value("event", "");
      if (e == "token" && first_token < 0) first_token = since();
      if (e == "line") {
        if (first_line < 0) first_line = since();
        ++line_events;
      }
    });
    const double ms = since();
    auto num = [](double v) { return v < 0 ? std::string("null") : std::to_string(v); };
    std::cout << "{\"ms\":" << num(ms) << ",\"ms_first_token\":" << num(first_token) << ",\"ms_first_line\":" << num(first_line)
              << ",\"lines\":" << line_events << ",\"response\":" << out << "}\n";
    std::cout.flush();
  }
  return 0;
}
