// ThinkStyler: <think>…</think> dimmed on a terminal, tags split across streamed pieces, a reply
// that starts inside a section, and plain pass-through when styling is off.
#include "cli/repl_think.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dsmoe::cli {
namespace {

std::string style(ThinkStyler& s, const std::vector<std::string>& pieces, bool inside = false) {
  s.begin(inside);
  std::string out;
  for (const auto& p : pieces) out += s.push(p);
  out += s.finish();
  return out;
}

const std::string kDim = "\x1b[2m", kReset = "\x1b[0m";

TEST(ThinkStyler, DimsTheSection) {
  ThinkStyler s(true);
  EXPECT_EQ(style(s, {"<think>", "hmm", "</think>", "Answer"}),
            kDim + "<think>hmm</think>" + kReset + "Answer");
}

TEST(ThinkStyler, TagsSplitAcrossPieces) {
  ThinkStyler s(true);
  EXPECT_EQ(style(s, {"<th", "ink>let me", " see</", "thi", "nk>\n42"}),
            kDim + "<think>let me see</think>" + kReset + "\n42");
}

TEST(ThinkStyler, ReplyStartingInsideASection) {
  ThinkStyler s(true);
  EXPECT_EQ(style(s, {"reasoning", "</think>", "done"}, true),
            kDim + "reasoning</think>" + kReset + "done");
}

TEST(ThinkStyler, UnclosedSectionIsResetAtTheEnd) {
  ThinkStyler s(true);
  EXPECT_EQ(style(s, {"a<think>b"}), "a" + kDim + "<think>b" + kReset);
}

TEST(ThinkStyler, TextLookingLikeATagStartIsReleased) {
  ThinkStyler s(true);
  EXPECT_EQ(style(s, {"x <", "b>y <th"}), "x <b>y <th");
}

TEST(ThinkStyler, DisabledPassesThrough) {
  ThinkStyler s(false);
  EXPECT_EQ(style(s, {"<think>", "a", "</think>b"}, true), "<think>a</think>b");
}

}  // namespace
}  // namespace dsmoe::cli
