// Stop strings over streamed pieces: held-back text, matches split across pieces, flush.
#include "sample/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dsmoe {
namespace {

// Streams `pieces` and returns what was shown, and whether a stop string matched.
std::pair<std::string, bool> stream(StopStrings& s, const std::vector<std::string>& pieces) {
  std::string shown;
  for (const auto& p : pieces) {
    std::string_view emit;
    const bool stop = s.push(p, emit);
    shown += emit;
    if (stop) return {shown, true};
  }
  shown += s.flush();
  return {shown, false};
}

TEST(StopStrings, NoStopsPassesEverythingThrough) {
  StopStrings s;
  std::string_view emit;
  EXPECT_FALSE(s.push("hello", emit));
  EXPECT_EQ(emit, "hello");
}

TEST(StopStrings, MatchInsideOnePiece) {
  StopStrings s({"STOP"});
  auto [shown, stopped] = stream(s, {"abc", "dSTOPef", "gh"});
  EXPECT_TRUE(stopped);
  EXPECT_EQ(shown, "abcd");
}

TEST(StopStrings, MatchSplitAcrossPiecesIsNeverShown) {
  StopStrings s({"</answer>"});
  std::string_view emit;
  EXPECT_FALSE(s.push("42 </", emit));
  EXPECT_EQ(emit, "42 ");  // "</" could begin the stop string
  EXPECT_FALSE(s.push("ans", emit));
  EXPECT_EQ(emit, "");
  EXPECT_TRUE(s.push("wer> more", emit));
  EXPECT_EQ(emit, "");
}

TEST(StopStrings, HeldTextIsReleasedWhenItStopsMatching) {
  StopStrings s({"\n\nUser:"});
  auto [shown, stopped] = stream(s, {"a\n", "\nUse", "d it"});
  EXPECT_FALSE(stopped);
  EXPECT_EQ(shown, "a\n\nUsed it");
}

TEST(StopStrings, EarliestOfSeveralStopsWins) {
  StopStrings s({"xyz", "b"});
  auto [shown, stopped] = stream(s, {"axyzb"});
  EXPECT_TRUE(stopped);
  EXPECT_EQ(shown, "a");
}

TEST(StopStrings, FlushReturnsHeldTail) {
  StopStrings s({"END"});
  auto [shown, stopped] = stream(s, {"the E", "N"});
  EXPECT_FALSE(stopped);
  EXPECT_EQ(shown, "the EN");
}

TEST(StopStrings, ResetForgetsHeldText) {
  StopStrings s({"END"});
  std::string_view emit;
  s.push("xE", emit);
  s.reset();
  EXPECT_TRUE(s.push("END", emit));
  EXPECT_EQ(emit, "");
}

}  // namespace
}  // namespace dsmoe
