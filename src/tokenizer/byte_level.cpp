#include "tokenizer/byte_level.h"

#include <array>

#include "util/utf8.h"  // utf8::append

namespace dsmoe::tok::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 0x144> to_byte{};  // every mapped character is below U+0144
};

constexpr bool maps_to_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr Tables make_tables() {
  Tables t;
  for (auto& v : t.to_byte) v = -1;
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = maps_to_itself(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
    t.to_char[b] = c;
    t.to_byte[c] = static_cast<int16_t>(b);
  }
  return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

char32_t byte_to_char(uint8_t b) noexcept { return kTables.to_char[b]; }

int char_to_byte(char32_t c) noexcept { return c < kTables.to_byte.size() ? kTables.to_byte[c] : -1; }

void append_mapped(std::string& out, std::string_view bytes) {
  for (unsigned char b : bytes) utf8::append(out, kTables.to_char[b]);
}

bool append_unmapped(std::string& out, std::string_view text) {
  // Every byte character is below U+0144, so only 1- and 2-byte UTF-8 forms can map; decoding
  // them inline keeps building the 128k-token decode table quick.
  const size_t start = out.size();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    int b = -1;
    if (c < 0x80) {
      b = kTables.to_byte[c];
      i += 1;
    } else if (c >= 0xC2 && c <= 0xC5 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
      const char32_t cp = ((c & 0x1F) << 6) | (p[i + 1] & 0x3F);
      b = cp < kTables.to_byte.size() ? kTables.to_byte[cp] : -1;
      i += 2;
    }
    if (b < 0) {
      out.resize(start);
      return false;
    }
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace dsmoe::tok::byte_level
