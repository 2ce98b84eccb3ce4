// The English words generation may write, as a letter trie with what constrained decoding needs at
// every node: which syllable counts the words below it have (bit s of a mask = a word of s
// syllables), which of them end in a rhyme other words share, and the words of each rhyme key.
// Built once from the phonetics table (words of letters and apostrophes, 1-24 syllables, single
// letters other than a, i and o left out), restricted to a model's word list when one is given
// (lyrics-en.words: the table's words its training text uses at least 5 times, built by
// tools/lyrics/build_lexicon.mjs); immutable afterwards, so safe to share between threads.
//
//   EnLexicon lex(phonetics);
//   int n = lex.child(lex.child(0, 'l'), 'o');   // node for "lo"
//   bool two = lex.syl_mask(n) & (1u << 2);      // some word starting "lo" has 2 syllables
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tunesmith {

class Phonetics;
class Sentiment;

class EnLexicon {
 public:
  static constexpr int kMaxSyllables = 24;
  // words_text: "word<TAB>count" lines ('#' comments); "" = every table word. A malformed list
  // throws Error("model_invalid").
  explicit EnLexicon(const Phonetics& ph, const std::string& words_text = "");

  int root() const { return 0; }
  int child(int node, char c) const;  // c in 'a'..'z' or '\''; -1 when no word continues so
  uint32_t syl_mask(int node) const { return syl_mask_[node]; }
  uint32_t rhymable_mask(int node) const { return rhymable_mask_[node]; }  // words good to open a rhyme
  // Words that may end a line: not articles, conjunctions, prepositions and possessives ("the",
  // "and", "of", "their"...), which leave a line hanging, nor contractions, nor (with a word list)
  // words the training text uses fewer than 20 times.
  uint32_t final_mask(int node) const { return final_mask_[node]; }
  bool can_end_line(int w) const { return can_end_[w] != 0; }  // not a function word or contraction
  bool common(int w) const { return common_[w] != 0; }         // used 20+ times (always, without a list)
  bool good_end(int w) const { return can_end_[w] && common_[w]; }  // what final_mask counts
  int word_at(int node) const { return word_at_[node]; }  // word ending exactly here, or -1
  int parent(int node) const { return parent_[node]; }
  int nodes() const { return (int)word_at_.size(); }

  int words() const { return (int)words_.size(); }
  const std::string& word(int w) const { return words_[w]; }
  int syllables(int w) const { return syl_[w]; }
  const std::string& rhyme_key(int w) const { return keys_[key_of_[w]]; }
  int key_id(int w) const { return key_of_[w]; }
  const std::vector<int>& words_with_key(int key_id) const { return key_words_[key_id]; }
  int find_key(const std::string& key) const;  // -1 if no word has it
  int find(std::string_view lowercase_word) const;  // word id or -1
  int node_of(int w) const { return node_of_[w]; }
  bool rhymable(int w) const { return rhymable_[w] != 0; }  // opens a rhyme well (see rhymable_mask)

  // Potential of each node for a mood: the mean mood score of the words below it. A letter that
  // moves from node a to b gets bias (pot[b] - pot[a]) * strength; along a whole word the biases
  // add up to about the word's own score. Computed once per mood, then cached.
  std::shared_ptr<const std::vector<float>> mood_potential(const Sentiment& s, int mood) const;

 private:
  std::vector<int32_t> first_child_, parent_, word_at_;
  std::vector<uint8_t> n_children_;
  std::vector<char> child_char_;  // parallel to child_node_
  std::vector<int32_t> child_node_;
  std::vector<uint32_t> syl_mask_, rhymable_mask_, final_mask_;
  std::vector<std::string> words_;
  std::vector<int> syl_, key_of_, node_of_;
  std::vector<char> rhymable_, can_end_, common_;
  std::vector<std::string> keys_;
  std::vector<std::vector<int>> key_words_;
  std::unordered_map<std::string, int> key_index_;
  mutable std::mutex mu_;
  mutable std::unordered_map<int, std::shared_ptr<const std::vector<float>>> mood_cache_;
};

}  // namespace tunesmith
