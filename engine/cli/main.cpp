// Native CLI: a thin adapter that turns arguments into a request for tunesmith::Engine and prints
// the response. Same syntax as the npm package's bin (web/src/cli.mjs).
//
//   tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X]
//                    [--top-k N] [--top-p X] [--repetition-penalty X] [--json]
//   tunesmith request '<json>'        (or the JSON on stdin)
//   tunesmith info
// Common: --models DIR (default $TUNESMITH_MODELS or ./models), --threads N.
// Exit status 0 on success, 1 with the error JSON on stderr otherwise, 2 for usage errors.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "tunesmith/api.h"

using nlohmann::json;

static int usage(const std::string& why) {
  std::cerr << "tunesmith: " << why << "\n"
            << "usage: tunesmith lyrics --title T [--style S] [--lines N] [--lang zh|en] [--seed N] [--temperature X]\n"
            << "                        [--top-k N] [--top-p X] [--repetition-penalty X] [--json]\n"
            << "       tunesmith request '<json>'   (or JSON on stdin)\n"
            << "       tunesmith info\n"
            << "options: --models DIR  --threads N\n";
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage("missing command");
  const std::string cmd = argv[1];
  const char* env_models = std::getenv("TUNESMITH_MODELS");
  std::string models = env_models ? env_models : "models";
  int threads = 1;
  bool as_json = false;
  json req = json::object();
  std::string positional;
  bool have_positional = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    // Numbers are passed on as JSON numbers; the engine validates their ranges.
    auto number = [&](const char* flag) -> json {
      const std::string v = value(flag);
      json j = json::parse(v, nullptr, false);
      if (j.is_discarded() || !j.is_number()) throw std::invalid_argument(std::string(flag) + " needs a number, got '" + v + "'");
      return j;
    };
    try {
      if (a == "--models") models = value("--models");
      else if (a == "--threads") threads = std::atoi(value("--threads").c_str());
      else if (a == "--json") as_json = true;
      else if (cmd == "lyrics" && a == "--title") req["song_title"] = value("--title");
      else if (cmd == "lyrics" && a == "--style") req["song_style"] = value("--style");
      else if (cmd == "lyrics" && a == "--lines") req["lyrics_length"] = number("--lines");
      else if (cmd == "lyrics" && a == "--lang") req["language"] = value("--lang");
      else if (cmd == "lyrics" && a == "--seed") req["seed"] = number("--seed");
      else if (cmd == "lyrics" && a == "--temperature") req["temperature"] = number("--temperature");
      else if (cmd == "lyrics" && a == "--top-k") req["top_k"] = number("--top-k");
      else if (cmd == "lyrics" && a == "--top-p") req["top_p"] = number("--top-p");
      else if (cmd == "lyrics" && a == "--repetition-penalty") req["repetition_penalty"] = number("--repetition-penalty");
      else if (cmd == "request" && !have_positional && (a.empty() || a[0] != '-')) { positional = a; have_positional = true; }
      else return usage("unknown argument '" + a + "'");
    } catch (const std::invalid_argument& e) {
      return usage(e.what());
    }
  }

  tunesmith::Engine engine;
  engine.set_model_dir(models);
  engine.set_threads(threads < 1 ? 1 : threads);

  std::string text;
  tunesmith::EventFn on_event;
  if (cmd == "lyrics") {
    req["task"] = "generate_lyrics";
    text = req.dump();
    if (!as_json)  // stream lines as they are written
      on_event = [](const json& ev) {
        if (ev.value("event", "") == "line") { std::cout << ev["text"].get<std::string>() << "\n"; std::cout.flush(); }
      };
  } else if (cmd == "request") {
    if (!have_positional) text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    else text = positional;
    as_json = true;
  } else if (cmd == "info") {
    text = R"({"task":"info"})";
    as_json = true;
  } else {
    return usage("unknown command '" + cmd + "'");
  }

  const std::string out = engine.request(text, on_event);
  const json resp = json::parse(out);
  if (resp.contains("error")) {
    std::cerr << out << "\n";
    return 1;
  }
  if (as_json) std::cout << out << "\n";
  return 0;
}
