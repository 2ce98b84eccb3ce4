#include "tunesmith/en_lexicon.h"

#include <algorithm>
#include <unordered_set>

#include "tunesmith/error.h"

#include "tunesmith/phonetics.h"
#include "tunesmith/sentiment.h"

namespace tunesmith {

static bool word_chars_ok(std::string_view w) {
  if (w.empty()) return false;
  bool letter = false;
  for (char c : w) {
    if (c >= 'a' && c <= 'z') letter = true;
    else if (c != '\'') return false;
  }
  return letter;
}

EnLexicon::EnLexicon(const Phonetics& ph, const std::string& words_text) {
  std::unordered_map<std::string, long> allowed;  // word -> count in the model's training text
  if (!words_text.empty()) {
    size_t pos = 0, line_no = 0;
    while (pos < words_text.size()) {
      size_t e = words_text.find('\n', pos);
      if (e == std::string::npos) e = words_text.size();
      const std::string line = words_text.substr(pos, e - pos);
      pos = e + 1;
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      const size_t tab = line.find('\t');
      if (tab == std::string::npos || tab == 0 || !word_chars_ok(line.substr(0, tab)) ||
          line.find_first_not_of("0123456789", tab + 1) != std::string::npos || tab + 1 == line.size())
        throw Error("model_invalid", "word list line " + std::to_string(line_no) + " is not 'word<TAB>count'", {{"line", line_no}});
      allowed[line.substr(0, tab)] = std::stol(line.substr(tab + 1, 12));
    }
    if (allowed.empty()) throw Error("model_invalid", "the word list has no words");
  }
  // Build with per-node child lists, then flatten.
  struct BNode { std::vector<std::pair<char, int32_t>> kids; int32_t parent = -1; int32_t word = -1; };
  std::vector<BNode> b(1);
  for (size_t i = 0; i < ph.en_size(); ++i) {
    const std::string_view w = ph.en_word(i);
    if (!word_chars_ok(w) || (w.front() == '\'' && w.size() < 3)) continue;
    if (w.size() == 1 && w != "a" && w != "i" && w != "o") continue;
    if (!allowed.empty() && !allowed.count(std::string(w))) continue;
    const EnInfo info = ph.en_info(i);
    if (!info.found || info.syllables < 1 || info.syllables > kMaxSyllables || info.rhyme_key.empty()) continue;
    int32_t n = 0;
    for (char c : w) {
      int32_t next = -1;
      for (auto& kc : b[n].kids) if (kc.first == c) { next = kc.second; break; }
      if (next < 0) {
        next = (int32_t)b.size();
        b[n].kids.push_back({c, next});
        BNode nb; nb.parent = n;
        b.push_back(std::move(nb));
      }
      n = next;
    }
    if (b[n].word >= 0) continue;  // duplicate spelling
    const int id = (int)words_.size();
    b[n].word = id;
    words_.emplace_back(w);
    syl_.push_back(info.syllables);
    node_of_.push_back(n);
    auto it = key_index_.find(info.rhyme_key);
    int k;
    if (it == key_index_.end()) {
      k = (int)keys_.size();
      key_index_.emplace(info.rhyme_key, k);
      keys_.push_back(info.rhyme_key);
      key_words_.emplace_back();
    } else {
      k = it->second;
    }
    key_of_.push_back(k);
    key_words_[k].push_back(id);
  }
  const size_t N = b.size();
  first_child_.resize(N); n_children_.resize(N); parent_.resize(N); word_at_.resize(N);
  syl_mask_.assign(N, 0); rhymable_mask_.assign(N, 0); final_mask_.assign(N, 0);
  for (size_t i = 0; i < N; ++i) {
    std::sort(b[i].kids.begin(), b[i].kids.end());
    first_child_[i] = (int32_t)child_char_.size();
    n_children_[i] = (uint8_t)b[i].kids.size();
    for (auto& kc : b[i].kids) { child_char_.push_back(kc.first); child_node_.push_back(kc.second); }
    parent_[i] = b[i].parent;
    word_at_[i] = b[i].word;
  }
  // A word opens a rhyme well when at least three other words share its key, two of them short
  // (1-2 syllables), so the lines that must answer it have room to.
  static const char* const kNoEnd[] = {"a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by",
                                       "for", "with", "from", "as", "into", "upon", "onto", "their", "his", "my", "your",
                                       "our", "its", "whose", "which", "if", "than", "o", "ands", "thy", "ye", "an'",
                                       "th'", "o'", "'tis", "is", "are", "was", "were", "be", "am", "that's", "there's"};
  // Line ends are heard most: with a word list, only words the verse uses at least 20 times may end
  // a line (no "whan" or "ort" forced in by a rhyme), and no contraction ("they've").
  can_end_.assign(words_.size(), 1);
  common_.assign(words_.size(), 1);
  for (size_t w = 0; w < words_.size(); ++w) {
    if (words_[w].find('\'') != std::string::npos) can_end_[w] = 0;
    if (!allowed.empty() && allowed[words_[w]] < 20) common_[w] = 0;
  }
  for (const char* w : kNoEnd) {
    const int id = find(w);
    if (id >= 0) can_end_[id] = 0;
  }
  rhymable_.assign(words_.size(), 0);
  for (const auto& ws : key_words_) {
    int good = 0, shorts = 0;
    for (int w : ws)
      if (good_end(w)) { ++good; shorts += syl_[w] <= 2; }
    if (good >= 4 && shorts >= 3)
      for (int w : ws) rhymable_[w] = good_end(w);
  }
  // Children always have larger ids than their parents: one backward pass fills the masks.
  for (size_t i = N; i-- > 0;) {
    const int w = word_at_[i];
    if (w >= 0) {
      syl_mask_[i] |= 1u << syl_[w];
      if (rhymable_[w]) rhymable_mask_[i] |= 1u << syl_[w];
      if (good_end(w)) final_mask_[i] |= 1u << syl_[w];
    }
    if (parent_[i] >= 0) {
      syl_mask_[parent_[i]] |= syl_mask_[i];
      final_mask_[parent_[i]] |= final_mask_[i];
      rhymable_mask_[parent_[i]] |= rhymable_mask_[i];
    }
  }
}

int EnLexicon::child(int node, char c) const {
  const int32_t f = first_child_[node];
  for (int k = 0; k < n_children_[node]; ++k)
    if (child_char_[f + k] == c) return child_node_[f + k];
  return -1;
}

int EnLexicon::find_key(const std::string& key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? -1 : it->second;
}

int EnLexicon::find(std::string_view w) const {
  int n = 0;
  for (char c : w) {
    n = child(n, c);
    if (n < 0) return -1;
  }
  return word_at_[n];
}

std::shared_ptr<const std::vector<float>> EnLexicon::mood_potential(const Sentiment& s, int mood) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = mood_cache_.find(mood);
  if (it != mood_cache_.end()) return it->second;
  const size_t N = word_at_.size();
  std::vector<float> sum(N, 0.0f), cnt(N, 0.0f);
  for (size_t i = N; i-- > 0;) {
    const int w = word_at_[i];
    if (w >= 0) {
      sum[i] += s.en_word_mood(words_[w], static_cast<Mood>(mood));
      cnt[i] += 1.0f;
    }
    if (parent_[i] >= 0) { sum[parent_[i]] += sum[i]; cnt[parent_[i]] += cnt[i]; }
  }
  auto pot = std::make_shared<std::vector<float>>(N, 0.0f);
  for (size_t i = 0; i < N; ++i) (*pot)[i] = cnt[i] > 0 ? sum[i] / cnt[i] : 0.0f;
  mood_cache_[mood] = pot;
  return pot;
}

}  // namespace tunesmith
