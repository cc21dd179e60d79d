// `dsmoe run`: the same seed gives the same text, another seed other text, greedy ignores the
// seed; bad arguments fail with a usage error.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "capi/tiny_model.h"
#include "support/run_command.h"

namespace {

std::string run(const std::string& args, int* rc = nullptr) {
  const std::string cmd = std::string(DSMOE_CLI) + " run " + dsmoe::test::tiny_chat_model().string() +
                          " --threads 1 " + args + " 2>&1";
  const dsmoe::test::CommandResult r = dsmoe::test::run_command(cmd);
  if (rc != nullptr) *rc = r.code;
  return r.output;
}

TEST(Run, SameSeedSameOutput) {
  int rc = 0;
  const std::string a = run("-p 'In the beginning' -n 24 --seed 11", &rc);
  ASSERT_EQ(rc, 0) << a;
  EXPECT_GT(a.size(), 10u);
  EXPECT_EQ(run("-p 'In the beginning' -n 24 --seed 11"), a);
  EXPECT_NE(run("-p 'In the beginning' -n 24 --seed 12"), a);
}

TEST(Run, GreedyIgnoresTheSeed) {
  const std::string a = run("-p 'In the beginning' -n 16 --temp 0 --seed 1");
  EXPECT_EQ(run("-p 'In the beginning' -n 16 --temp 0 --seed 2"), a);
}

TEST(Run, ChatModeAndStats) {
  int rc = 0;
  const std::string out = run("-p 'Hi' --chat -n 8 --seed 3 --stats", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("reply: 8 tokens"), std::string::npos) << out;
  EXPECT_NE(out.find("stop: max tokens"), std::string::npos) << out;
}

TEST(Run, BadArgumentsAreUsageErrors) {
  int rc = 0;
  run("-p x --top-p 3", &rc);
  EXPECT_EQ(rc, 2);
  run("", &rc);  // no prompt
  EXPECT_EQ(rc, 2);
}

TEST(Run, InvalidUtf8PromptIsAClearError) {
  int rc = 0;
  const std::string out = run("-p \"$(printf 'bad \\377 byte')\"", &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("UTF-8"), std::string::npos) << out;
}

}  // namespace
