#pragma once
// Unicode White_Space (what Rust's char::is_whitespace tests), used where Hugging Face strips
// spaces around added tokens and in the Strip normalizer. The property has 25 code points and has
// not changed since Unicode 6.3, so a list is exact here.

namespace dsmoe::tok {

constexpr bool is_whitespace(char32_t c) noexcept {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

}  // namespace dsmoe::tok
