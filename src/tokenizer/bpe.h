#pragma once
// The BPE model: splits one pre-tokenized word into vocabulary ids by applying merges in rank
// order, exactly as Hugging Face's `Word::merge_all` does (lowest rank first, leftmost first among
// equal ranks; a queued merge is skipped when the pair at its position no longer yields its id).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hash_maps.h"   // StringIdMap, PairMap
#include "tokenizer/word_cache.h"  // WordCache

namespace dsmoe::tok {

struct BpeOptions {
  // Words arrive as raw bytes and each byte starts as the symbol of its byte character (the
  // ByteLevel pre-tokenizer is present); otherwise each UTF-8 character starts as its own symbol.
  bool byte_level = true;
  bool ignore_merges = false;  // a word that is itself in the vocabulary is taken whole
  int32_t unk_id = -1;         // id for symbols missing from the vocabulary; -1 drops them
  bool fuse_unk = false;       // consecutive unknown symbols become one unk
};

class BpeModel {
 public:
  BpeModel() = default;
  BpeModel(const StringIdMap* vocab, PairMap merges, BpeOptions options);

  // Appends the ids of `word` (non-empty, valid UTF-8) to `out`.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  size_t merge_count() const { return merges_.size(); }

 private:
  void merge(std::string_view word, std::vector<int32_t>& out) const;
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;

  const StringIdMap* vocab_ = nullptr;  // owned by the Tokenizer
  PairMap merges_;
  BpeOptions options_;
  int32_t byte_ids_[256] = {};  // id of each byte's character, -1 when not in the vocabulary
  WordCache cache_;
};

}  // namespace dsmoe::tok
