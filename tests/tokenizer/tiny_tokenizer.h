#pragma once
// Builds small tokenizer.json texts for tests: a byte-level vocabulary (ids 0..255 are the 256
// byte characters, in byte order) plus extra merged tokens, with a chosen pre-tokenizer,
// normalizer and added tokens.
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_level.h"  // byte_to_char
#include "util/json.h"             // json::append_quoted
#include "util/utf8.h"             // utf8::append

namespace dsmoe::test {

struct TinySpec {
  // Merges in rank order; each merged token gets the next id from 256 on.
  std::vector<std::pair<std::string, std::string>> merges;
  bool pair_form = false;  // write merges as ["a","b"] instead of "a b"
  std::string pre_tokenizer = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})";
  std::string normalizer = "null";
  std::string added_tokens = "[]";
  std::string decoder = R"({"type":"ByteLevel"})";
};

// The byte character spelling of `bytes` ("Ġ" for a space).
inline std::string byte_chars(std::string_view bytes) {
  std::string s;
  for (unsigned char b : bytes) utf8::append(s, tok::byte_level::byte_to_char(b));
  return s;
}

inline std::string tiny_tokenizer_json(const TinySpec& spec) {
  std::string vocab = "{";
  int id = 0;
  auto add = [&](const std::string& text) {
    if (id > 0) vocab += ",";
    json::append_quoted(vocab, text);
    vocab += ':';
    vocab += std::to_string(id++);
  };
  for (int b = 0; b < 256; ++b) add(byte_chars(std::string(1, static_cast<char>(b))));
  std::string merges = "[";
  for (size_t i = 0; i < spec.merges.size(); ++i) {
    const auto& [a, b] = spec.merges[i];
    if (i) merges += ",";
    if (spec.pair_form) {
      merges += "[";
      json::append_quoted(merges, a);
      merges += ",";
      json::append_quoted(merges, b);
      merges += "]";
    } else {
      json::append_quoted(merges, a + " " + b);
    }
    add(a + b);
  }
  vocab += "}";
  merges += "]";
  return R"({"version":"1.0","added_tokens":)" + spec.added_tokens +
         R"(,"normalizer":)" + spec.normalizer + R"(,"pre_tokenizer":)" + spec.pre_tokenizer +
         R"(,"post_processor":null,"decoder":)" + spec.decoder +
         R"(,"model":{"type":"BPE","dropout":null,"unk_token":null,"fuse_unk":false,"byte_fallback":false,"vocab":)" +
         vocab + R"(,"merges":)" + merges + "}}";
}

}  // namespace dsmoe::test
