#pragma once
// Added tokens (special and not) found in raw text before pre-tokenization, the way Hugging Face's
// AddedVocabulary does: leftmost-longest matching (its aho-corasick MatchKind::LeftmostLongest),
// the single_word / lstrip / rstrip flags, and two passes: tokens with normalized=false are
// matched in the raw text, tokens with normalized=true in the normalized remainder.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hash_maps.h"  // PairMap
#include "tokenizer/regex.h"      // Regex

namespace dsmoe::tok {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A range of text, either an added token (id >= 0) or text still to be tokenized (id == -1).
struct TextSplit {
  uint32_t begin, end;
  int32_t id;
};

class AddedVocabulary {
 public:
  AddedVocabulary();
  // Adds a token; `pattern` is what is searched for (the content, normalized when the token has
  // normalized=true).
  void add(AddedToken token, std::string_view pattern);
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool has_normalized() const { return !normalized_.empty(); }

  // Splits `text` at the added tokens of one pass (raw or normalized) into `out` (cleared first).
  void split(std::string_view text, bool normalized_pass, std::vector<TextSplit>& out) const;

 private:
  // A byte trie over the patterns of one pass. Edges live in one hash map keyed by (node, byte).
  class Trie {
   public:
    void add(std::string_view pattern, int32_t token_index);
    bool empty() const { return terminal_.size() <= 1; }
    // Position of the next byte at or after `pos` that may start a pattern (text.size() if none).
    size_t next_candidate(std::string_view text, size_t pos) const;
    // The token index of the longest pattern starting at `pos` (its length in `len`), or -1.
    int32_t longest_at(std::string_view text, size_t pos, size_t& len) const;

   private:
    PairMap edges_;                       // (node, byte) -> child node (in Merge::id)
    std::vector<int32_t> terminal_{-1};   // per node: token index ending here, or -1; node 0 = root
    bool first_byte_[256] = {};
    int distinct_first_bytes_ = 0;
    unsigned char only_first_byte_ = 0;  // when distinct_first_bytes_ == 1 (DeepSeek: '<')
  };

  bool is_word_char_before(std::string_view text, size_t pos) const;
  bool is_word_char_at(std::string_view text, size_t pos) const;

  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
  Regex word_char_;  // a single alphanumeric character (Rust's char::is_alphanumeric)
};

}  // namespace dsmoe::tok
