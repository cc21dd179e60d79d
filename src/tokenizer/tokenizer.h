#pragma once
// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json, reproducing the `tokenizers`
// library (Rust core) exactly: added tokens matched in the raw text first, then the normalizer,
// the pre-tokenizer pipeline (Split/Digits/ByteLevel, regexes run by PCRE2), BPE merges, and the
// ByteLevel decoder with lossy UTF-8 (U+FFFD for broken sequences). See docs/tokenizer.md.
//
// Thread safety: all const methods may be called from several threads at once (the word cache is
// internally locked). A StreamDecoder belongs to one thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

class Tokenizer {
 public:
  // Parses tokenizer.json text. `source_name` prefixes error messages ("tokenizer.json in
  // model.dsmoe"). Throws dsmoe::Error: kFormat for malformed content, kUnsupported for a model,
  // normalizer, pre-tokenizer or decoder type dsmoe does not implement (the message names it).
  static Tokenizer from_json(std::string_view json_text, std::string source_name);
  // Reads and parses a tokenizer.json file (kIo when it cannot be read).
  static Tokenizer load(const std::filesystem::path& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text` without any added BOS/EOS (Hugging Face add_special_tokens=false).
  // Special tokens written literally in the text are recognised. Throws dsmoe::Error
  // (kInvalidArgument, "invalid UTF-8 at byte N") for malformed UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  // Same, appending to `out` (lets callers reuse one vector).
  void encode_into(std::string_view text, std::vector<int32_t>& out) const;

  // Text of `ids`. Byte sequences that are not valid UTF-8 become U+FFFD, as in Hugging Face.
  // skip_special drops special tokens. Ids with no token (including ids >= vocab_size(), e.g. a
  // model's padding rows) decode to nothing, as in Hugging Face; a negative id throws
  // dsmoe::Error (kOutOfRange).
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // Max id + 1 over the vocabulary and the added tokens.
  int32_t vocab_size() const;
  // Id of a token given by its text as written in tokenizer.json (added tokens first, then the
  // vocabulary, where byte-level tokens are spelled with GPT-2's byte characters, e.g. "Ġthe").
  std::optional<int32_t> token_id(std::string_view token) const;
  // Text of token `id` as written in tokenizer.json ("" for an unknown id).
  std::string_view token_text(int32_t id) const;
  // The raw bytes token `id` decodes to (possibly a partial UTF-8 sequence; "" for unknown ids).
  std::string_view token_bytes(int32_t id) const;
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;
  // Ids of all special tokens, ascending.
  std::vector<int32_t> special_ids() const;
  const std::string& source_name() const;

  struct Impl;

 private:
  friend class StreamDecoder;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Decodes ids one at a time for streaming output: push() returns only complete UTF-8 text, holding
// back a partial character until the bytes that complete it arrive. Concatenating every push()
// and the final flush() gives exactly Tokenizer::decode of all the ids.
class StreamDecoder {
 public:
  // `tokenizer` must outlive the decoder.
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);

  // Text completed by `id`; the view is valid until the next call. Throws like decode().
  std::string_view push(int32_t id);
  // Whatever is held back, with an unfinished character as U+FFFD; then starts over.
  std::string_view flush();
  // Drops held-back bytes without emitting them.
  void reset();
  // Bytes currently held back (0..3).
  size_t pending() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool first_ = true;  // no token emitted since the start (a null decoder joins with spaces)
  std::string pending_;
  std::string out_;
};

}  // namespace dsmoe
