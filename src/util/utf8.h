#pragma once
// UTF-8 validation and decoding as pure functions. Invalid input is classified the way Unicode's
// "maximal subpart" practice (and Rust's String::from_utf8_lossy, which Hugging Face tokenizers
// use) does, so that lossy decoding here gives the same U+FFFD count as the reference.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dsmoe::utf8 {

enum class StepKind : uint8_t {
  kValid,      // a complete, well-formed character of `len` bytes
  kInvalid,    // `len` bytes (>= 1) that can never start a valid character: one U+FFFD
  kTruncated,  // the last `len` bytes are a valid but unfinished character (more bytes may come)
};

struct Step {
  StepKind kind;
  uint32_t len;
  char32_t cp;  // the code point when kind == kValid, else 0
};

// Classifies the bytes starting at `pos` (pos < s.size()).
Step step(std::string_view s, size_t pos) noexcept;

// Offset of the first byte that is not part of a well-formed character, or s.size() when `s` is
// valid UTF-8. A truncated character at the end counts as invalid.
size_t valid_prefix(std::string_view s) noexcept;
inline bool is_valid(std::string_view s) noexcept { return valid_prefix(s) == s.size(); }

// Length of the prefix of `s` that a stream may emit now: everything except a truncated (but so
// far valid) character at the very end.
size_t complete_prefix(std::string_view s) noexcept;

// Appends `s` to `out`, replacing each maximal invalid subpart (and a truncated character at the
// end) with U+FFFD.
void append_lossy(std::string& out, std::string_view s);

// Appends the UTF-8 encoding of `cp` (cp must be a Unicode scalar value).
void append(std::string& out, char32_t cp);

// The code point starting at `pos` in valid UTF-8; advances `pos` past it.
char32_t decode(std::string_view s, size_t& pos) noexcept;

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace dsmoe::utf8
