#pragma once
// Tokenizer's internal state, shared by tokenizer.cpp (encode/decode), tokenizer_load.cpp
// (building it from tokenizer.json) and stream_decoder.cpp.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_vocabulary.h"  // AddedVocabulary
#include "tokenizer/bpe.h"               // BpeModel
#include "tokenizer/hash_maps.h"         // StringIdMap
#include "tokenizer/normalizer.h"        // Normalizer
#include "tokenizer/pre_tokenizer.h"     // PreTokenizer
#include "tokenizer/tokenizer.h"

namespace dsmoe {

struct Tokenizer::Impl {
  struct TokenInfo {
    uint32_t text_off = 0, text_len = 0;    // in `text_arena`: the token as tokenizer.json spells it
    uint32_t bytes_off = 0, bytes_len = 0;  // in `bytes_arena`: what the decoder turns it into
    bool exists = false;
    bool added = false;
    bool special = false;
  };
  enum class Decoder { kByteLevel, kJoinWithSpace };

  std::string source;
  tok::StringIdMap vocab;        // vocabulary text -> id
  tok::StringIdMap added_by_text;  // added token content -> id
  std::vector<TokenInfo> tokens;   // by id, size = vocab_size
  std::string text_arena;
  std::string bytes_arena;
  tok::AddedVocabulary added;
  tok::Normalizer normalizer;
  tok::PreTokenizer pre_tokenizer;
  std::unique_ptr<tok::BpeModel> bpe;
  Decoder decoder = Decoder::kByteLevel;

  // The token of `id` (one with exists == false past the end); throws kOutOfRange for id < 0.
  const TokenInfo& info(int32_t id) const;
  std::string_view bytes(const TokenInfo& t) const {
    return std::string_view(bytes_arena).substr(t.bytes_off, t.bytes_len);
  }
};

}  // namespace dsmoe
