// Small text helpers shared by the table loaders.
#pragma once
#include <string_view>
#include <vector>

namespace tunesmith {

// s cut at every sep (empty pieces kept): "a\tb\t" -> {"a", "b", ""}. Views into s.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    const size_t e = s.find(sep, at);
    out.push_back(s.substr(at, e == std::string_view::npos ? std::string_view::npos : e - at));
    if (e == std::string_view::npos) return out;
    at = e + 1;
  }
}

// Latin-1 letters folded to ASCII (café, naïve), typographic apostrophes to ', hyphens inside
// words to -; 0 for anything that separates words.
inline char fold(char32_t c) {
  if (c >= 'A' && c <= 'Z') return (char)(c - 'A' + 'a');
  if ((c >= 'a' && c <= 'z') || c == '\'' || c == '-') return (char)c;
  if (c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x60 || c == 0xB4) return '\'';
  if (c == 0x2010 || c == 0x2011) return '-';
  if (c >= 0xC0 && c <= 0xFF) {
    static const char* const map = "aaaaaaaceeeeiiiidnooooo.ouuuuyts" "aaaaaaaceeeeiiiidnooooo.ouuuuyty";  // U+00C0-U+00FF
    const char r = map[c - 0xC0];
    return r == '.' ? 0 : r;
  }
  return 0;
}

}  // namespace tunesmith
