// Dumps what the listening model's training reads, computed by the engine itself: for each WAV
// file, one JSON line {id, rhythm_features, style (the file's style probabilities in the model's
// label order), log2_tempo_bpm}. Built and run by tools/audio/train_rhythm.py:
//   g++ -std=c++17 -O2 -ffp-contract=off -I engine/include tools/audio/feature_dump.cpp \
//       build/native/libtunesmith_core.a -lpthread -o build/audio/feature_dump
//   build/audio/feature_dump MODELS_DIR FILE.wav ...
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tunesmith/api.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: feature_dump MODELS_DIR FILE.wav ...\n";
    return 2;
  }
  tunesmith::Engine e;
  e.set_model_dir(argv[1]);
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const nlohmann::json r = nlohmann::json::parse(e.request(R"({"task":"analyze_audio","features":true,"pictures":false})", nullptr, bytes));
    std::string id = argv[i];
    id = id.substr(id.find_last_of('/') + 1);
    id = id.substr(0, id.size() - 4);
    nlohmann::json out = {{"id", id}};
    if (r.contains("error")) {
      out["error"] = r["error"];
    } else {
      out["rhythm_features"] = r["rhythm_features"];
      nlohmann::json p = nlohmann::json::object();
      if (r.contains("style"))
        for (const auto& x : r["style"]["probabilities"]) p[x["label"].get<std::string>()] = x["p"];
      out["style"] = p;
      out["bpm"] = r["tempo"]["bpm"];
      if (r.contains("tempo_candidates")) out["tempo_candidates"] = r["tempo_candidates"];
    }
    std::cout << out.dump() << "\n";
  }
  return 0;
}
