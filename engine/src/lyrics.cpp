#include "tunesmith/lyrics.h"

#include <algorithm>

#include "tunesmith/error.h"
#include "tunesmith/utf8.h"

namespace tunesmith {

using nlohmann::json;

std::string detect_language(const std::string& title) {
  std::u32string cps;
  utf8_decode(title, cps);
  for (char32_t c : cps)
    if (is_cjk(c)) return "zh";
  return "en";
}

static std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
  return s;
}

StyleMatch resolve_style(const GptModel& model, const std::string& requested) {
  const json& man = model.manifest();
  const json& styles = man.at("styles");
  auto token_of = [&](const std::string& name) { return styles.at(name).at("token").get<int>(); };
  const std::string def = man.at("default_style").get<std::string>();
  const std::string req = lower_ascii(requested);
  if (req.empty()) return {def, token_of(def), "default"};
  // 1. the trained style's own name or one of its aliases, exactly
  for (auto it = styles.begin(); it != styles.end(); ++it) {
    if (req == it.key()) return {it.key(), token_of(it.key()), "exact"};
    for (const auto& a : it.value().at("aliases"))
      if (req == lower_ascii(a.get<std::string>())) return {it.key(), token_of(it.key()), "alias '" + a.get<std::string>() + "'"};
  }
  // 2. the longest alias contained in the request ("流行音乐" contains "流行"; "pop rock" -> "rock")
  std::string best_style, best_alias;
  for (auto it = styles.begin(); it != styles.end(); ++it)
    for (const auto& a : it.value().at("aliases")) {
      const std::string al = lower_ascii(a.get<std::string>());
      if (al.size() > best_alias.size() && req.find(al) != std::string::npos) { best_alias = al; best_style = it.key(); }
    }
  if (!best_style.empty()) return {best_style, token_of(best_style), "alias '" + best_alias + "'"};
  return {def, token_of(def), "unknown (default used)"};
}

}  // namespace tunesmith
