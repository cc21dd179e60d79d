#include "tokenizer/added_vocabulary.h"

#include <algorithm>  // max
#include <cstring>    // memchr

#include "tokenizer/whitespace.h"  // is_whitespace
#include "util/utf8.h"             // utf8::step

namespace dsmoe::tok {

AddedVocabulary::AddedVocabulary() : word_char_(R"([\p{Alphabetic}\p{N}])", "alphanumeric") {}

void AddedVocabulary::Trie::add(std::string_view pattern, int32_t token_index) {
  if (pattern.empty()) return;  // an empty pattern would match everywhere; HF ignores it too
  int32_t node = 0;
  for (unsigned char b : pattern) {
    const PairMap::Merge* e = edges_.find(node, b);
    if (e != nullptr) {
      node = e->id;
      continue;
    }
    const auto child = static_cast<int32_t>(terminal_.size());
    terminal_.push_back(-1);
    edges_.insert(node, b, PairMap::Merge{0, child});
    node = child;
  }
  // With two tokens of the same text the first one added wins, as in HF's trie.
  if (terminal_[node] < 0) terminal_[node] = token_index;
  const auto first = static_cast<unsigned char>(pattern[0]);
  if (!first_byte_[first]) {
    first_byte_[first] = true;
    ++distinct_first_bytes_;
    only_first_byte_ = first;
  }
}

size_t AddedVocabulary::Trie::next_candidate(std::string_view text, size_t pos) const {
  if (distinct_first_bytes_ == 1) {
    // memchr skips text without the one start byte at memory speed.
    const void* hit = std::memchr(text.data() + pos, only_first_byte_, text.size() - pos);
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - text.data()) : text.size();
  }
  while (pos < text.size() && !first_byte_[static_cast<unsigned char>(text[pos])]) ++pos;
  return pos;
}

int32_t AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos, size_t& len) const {
  int32_t best = -1;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const PairMap::Merge* e = edges_.find(node, static_cast<unsigned char>(text[i]));
    if (e == nullptr) break;
    node = e->id;
    if (terminal_[node] >= 0) {
      best = terminal_[node];
      len = i + 1 - pos;
    }
  }
  return best;
}

void AddedVocabulary::add(AddedToken token, std::string_view pattern) {
  const auto index = static_cast<int32_t>(tokens_.size());
  (token.normalized ? normalized_ : raw_).add(pattern, index);
  tokens_.push_back(std::move(token));
}

bool AddedVocabulary::is_word_char_before(std::string_view text, size_t pos) const {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  bool found = false;
  word_char_.for_each_match(text.substr(start, pos - start), [&](size_t, size_t) { found = true; });
  return found;
}

bool AddedVocabulary::is_word_char_at(std::string_view text, size_t pos) const {
  if (pos >= text.size()) return false;
  bool found = false;
  word_char_.for_each_match(text.substr(pos, utf8::step(text, pos).len),
                            [&](size_t, size_t) { found = true; });
  return found;
}

void AddedVocabulary::split(std::string_view text, bool normalized_pass,
                            std::vector<TextSplit>& out) const {
  out.clear();
  const Trie& trie = normalized_pass ? normalized_ : raw_;
  const auto size = static_cast<uint32_t>(text.size());
  if (trie.empty()) {
    if (size > 0) out.push_back(TextSplit{0, size, -1});
    return;
  }
  size_t start_offset = 0;  // end of the last emitted token
  size_t pos = 0;           // where the search for the next match resumes
  while ((pos = trie.next_candidate(text, pos)) < text.size()) {
    size_t len = 0;
    const int32_t index = trie.longest_at(text, pos, len);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[index];
    size_t start = pos, stop = pos + len;
    pos = stop;  // the matcher moves on past a match even when the flags below reject it
    if (t.single_word && (is_word_char_before(text, start) || is_word_char_at(text, stop))) continue;
    if (t.lstrip) {
      size_t s = start;
      while (s > start_offset) {
        size_t c = s - 1;
        while (c > 0 && (static_cast<unsigned char>(text[c]) & 0xC0) == 0x80) --c;
        if (!is_whitespace(utf8::step(text, c).cp)) break;
        s = c;
      }
      start = s;
    }
    if (t.rstrip) {
      while (stop < text.size()) {
        const utf8::Step st = utf8::step(text, stop);
        if (!is_whitespace(st.cp)) break;
        stop += st.len;
      }
    }
    if (start_offset < start)
      out.push_back(TextSplit{static_cast<uint32_t>(start_offset), static_cast<uint32_t>(start), -1});
    out.push_back(TextSplit{static_cast<uint32_t>(start), static_cast<uint32_t>(stop), t.id});
    start_offset = stop;
    // Resume after spaces taken by rstrip (HF would resume inside them and emit overlapping
    // ranges when another token starts there).
    pos = std::max(pos, stop);
  }
  if (start_offset < text.size())
    out.push_back(TextSplit{static_cast<uint32_t>(start_offset), size, -1});
}

}  // namespace dsmoe::tok
