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

}  // namespace tunesmith
