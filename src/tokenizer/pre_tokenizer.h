#pragma once
// The pre-tokenizer pipeline of tokenizer.json: Split (regex or literal, with Hugging Face's
// five delimiter behaviors and `invert`), Digits, Whitespace, WhitespaceSplit and ByteLevel,
// flattened from nested Sequences into one list of steps. Pieces are offsets into one text buffer
// so that a whole document splits without copying words around.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"  // Regex
#include "util/json.h"        // json::Element

namespace dsmoe::tok {

struct Piece {
  uint32_t off;
  uint32_t len;
};

// One (range, is_match) segment of a piece, as Hugging Face's Pattern::find_matches yields them.
struct Segment {
  uint32_t begin, end;
  bool is_match;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizerStep {
 public:
  virtual ~PreTokenizerStep() = default;
  // Splits every piece of `in` (text in `buf`) and appends the results to `out`. A step may append
  // new text to `buf` (ByteLevel's prefix space). `segments` is scratch.
  virtual void apply(std::string& buf, std::span<const Piece> in, std::vector<Piece>& out,
                     std::vector<Segment>& segments) const = 0;
};

class PreTokenizer {
 public:
  // Parses a non-null "pre_tokenizer" value. Throws dsmoe::Error (kUnsupported or kFormat)
  // naming `ctx` and the field for an unknown type or a malformed entry.
  static PreTokenizer parse(json::Element e, std::string_view ctx);

  // Splits buf[0, buf.size()) into pieces (the result is in `pieces`; `tmp` is scratch).
  void run(std::string& buf, std::vector<Piece>& pieces, std::vector<Piece>& tmp,
           std::vector<Segment>& segments) const;

  // True when a ByteLevel step is present: pieces are then raw bytes that BPE maps byte by byte.
  bool byte_level() const { return byte_level_; }

 private:
  void parse_into(json::Element e, const std::string& ctx);
  std::vector<std::unique_ptr<const PreTokenizerStep>> steps_;
  bool byte_level_ = false;
};

// Splits `subject` by `regex` and applies `behavior` the way Hugging Face's
// NormalizedString::split does; appends the kept ranges (offset by `base`) to `out`.
void split_by_regex(const Regex& regex, bool invert, SplitBehavior behavior,
                    std::string_view subject, uint32_t base, std::vector<Piece>& out,
                    std::vector<Segment>& segments);

}  // namespace dsmoe::tok
