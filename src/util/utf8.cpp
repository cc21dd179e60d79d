#include "util/utf8.h"

namespace dsmoe::utf8 {

Step step(std::string_view s, size_t pos) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return {StepKind::kValid, 1, b0};
  // Expected length and the allowed range of the second byte (tighter than 80..BF for the lead
  // bytes that would otherwise allow overlong forms, surrogates or code points past U+10FFFF).
  uint32_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {StepKind::kInvalid, 1, 0};
  }
  char32_t cp = b0 & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (uint32_t i = 1; i < need; ++i) {
    if (i >= avail) return {StepKind::kTruncated, static_cast<uint32_t>(avail), 0};
    const unsigned char b = p[i];
    const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return {StepKind::kInvalid, i, 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {StepKind::kValid, need, cp};
}

size_t valid_prefix(std::string_view s) noexcept {
  size_t pos = 0;
  while (pos < s.size()) {
    // ASCII runs dominate real text; skip them eight bytes at a time.
    while (pos + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + pos, 8);
      if (w & 0x8080808080808080ull) break;
      pos += 8;
    }
    if (pos >= s.size()) break;
    const Step st = step(s, pos);
    if (st.kind != StepKind::kValid) return pos;
    pos += st.len;
  }
  return s.size();
}

size_t complete_prefix(std::string_view s) noexcept {
  // A truncated character is at most 3 bytes long, so only the tail needs a look.
  size_t start = s.size() > 3 ? s.size() - 3 : 0;
  // Move back to a position that is not a continuation byte, so the scan starts on a boundary.
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  while (pos < s.size()) {
    const Step st = step(s, pos);
    if (st.kind == StepKind::kTruncated) return pos;
    pos += st.len;
  }
  return s.size();
}

void append_lossy(std::string& out, std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t good = pos + valid_prefix(s.substr(pos));
    out.append(s.data() + pos, good - pos);
    if (good == s.size()) break;
    const Step st = step(s, good);
    out.append(kReplacement);
    pos = good + st.len;
  }
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

char32_t decode(std::string_view s, size_t& pos) noexcept {
  const Step st = step(s, pos);
  pos += st.len;
  return st.cp;
}

}  // namespace dsmoe::utf8
