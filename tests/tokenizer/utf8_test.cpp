// util/utf8: validation and lossy decoding with Unicode's maximal-subpart rule (one U+FFFD per
// maximal invalid subpart), which is what Rust's from_utf8_lossy and so Hugging Face produce.
#include "util/utf8.h"

#include <gtest/gtest.h>

namespace dsmoe::utf8 {
namespace {

std::string lossy(std::string_view s) {
  std::string out;
  append_lossy(out, s);
  return out;
}

const std::string R(kReplacement);

TEST(Utf8, ValidPrefix) {
  EXPECT_EQ(valid_prefix(""), 0u);
  EXPECT_EQ(valid_prefix("plain ascii text, long enough"), 29u);
  EXPECT_EQ(valid_prefix("a\xC3\xA4 \xE4\xB8\xAD \xF0\x9F\x98\x80"), 12u);
  EXPECT_EQ(valid_prefix("abcdefghij\xFF"), 10u);
  EXPECT_EQ(valid_prefix("ab\xC3"), 2u);               // truncated at the end
  EXPECT_EQ(valid_prefix("\xC0\x80"), 0u);             // overlong
  EXPECT_EQ(valid_prefix("x\xED\xA0\x80"), 1u);        // surrogate
  EXPECT_EQ(valid_prefix("\xF4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_TRUE(is_valid("\xF4\x8F\xBF\xBF"));
}

TEST(Utf8, StepClassifies) {
  EXPECT_EQ(step("\xE4\xB8\xAD", 0).kind, StepKind::kValid);
  EXPECT_EQ(step("\xE4\xB8\xAD", 0).cp, U'\u4E2D');
  EXPECT_EQ(step("\xE4\xB8", 0).kind, StepKind::kTruncated);
  EXPECT_EQ(step("\xE4\xB8", 0).len, 2u);
  EXPECT_EQ(step("\xE4\x41", 0).kind, StepKind::kInvalid);
  EXPECT_EQ(step("\xE4\x41", 0).len, 1u);
  EXPECT_EQ(step("\xE0\x80\x80", 0).len, 1u);  // E0 needs A0..BF next
  EXPECT_EQ(step("\xF0\x9F\x98\x41", 0).len, 3u);
}

TEST(Utf8, LossyUsesMaximalSubparts) {
  EXPECT_EQ(lossy("ok"), "ok");
  EXPECT_EQ(lossy("\xF0\x9F\x98"), R);             // one truncated sequence: one U+FFFD
  EXPECT_EQ(lossy("\xF0\x9F\x98x"), R + "x");
  EXPECT_EQ(lossy("\xC0\x80"), R + R);             // overlong: each byte
  EXPECT_EQ(lossy("\xED\xA0\x80"), R + R + R);     // surrogate: each byte
  EXPECT_EQ(lossy("\x80\x80"), R + R);
  EXPECT_EQ(lossy("a\xFF" "b"), "a" + R + "b");
}

TEST(Utf8, CompletePrefixHoldsBackOnlyATruncatedEnd) {
  EXPECT_EQ(complete_prefix("abc"), 3u);
  EXPECT_EQ(complete_prefix("ab\xE4\xB8"), 2u);
  EXPECT_EQ(complete_prefix("ab\xF0"), 2u);
  EXPECT_EQ(complete_prefix("ab\xFF"), 3u);       // invalid, not unfinished: emit now
  EXPECT_EQ(complete_prefix("\xE4\x41"), 2u);
  EXPECT_EQ(complete_prefix("\xE4\xB8\xAD"), 3u);
}

TEST(Utf8, AppendEncodes) {
  std::string s;
  for (char32_t c : {U'a', U'\u00E4', U'\u4E2D', U'\U0001F600'}) append(s, c);
  EXPECT_EQ(s, "a\xC3\xA4\xE4\xB8\xAD\xF0\x9F\x98\x80");
  size_t pos = 0;
  EXPECT_EQ(decode(s, pos), U'a');
  EXPECT_EQ(decode(s, pos), U'\u00E4');
  EXPECT_EQ(pos, 3u);
}

}  // namespace
}  // namespace dsmoe::utf8
