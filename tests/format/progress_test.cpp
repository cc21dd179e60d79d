// Progress: the rendered line, silence when quiet or not a terminal, concurrent updates.
#include "util/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace dsmoe {
namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(Progress, RendersCountsBytesRateAndEta) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p("convert", 10, 4'000'000'000, {false, f, true, "tensors"});
  EXPECT_TRUE(p.active());
  p.add(3, 1'000'000'000);
  const std::string line = p.render();
  EXPECT_NE(line.find("convert  3/10 tensors  1.00/4.00 GB"), std::string::npos) << line;
  EXPECT_NE(line.find("GB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  p.add(7, 3'000'000'000);
  EXPECT_EQ(p.render().find("ETA"), std::string::npos) << "no ETA once done";
  EXPECT_GE(p.finish("wrote model.dsmoe"), 0.0);
  p.finish("again");  // idempotent
  const std::string out = contents(f);
  EXPECT_NE(out.find("wrote model.dsmoe\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("again"), std::string::npos);
  std::fclose(f);
}

TEST(Progress, SilentWhenQuietOrNotATerminal) {
  std::FILE* f = std::tmpfile();
  {
    Progress quiet("x", 1, 1, {true, f, true, "items"});
    EXPECT_FALSE(quiet.active());
    quiet.add(1, 1);
    quiet.finish("summary");
  }
  {
    Progress not_tty("x", 1, 1, {false, f, false, "items"});  // a temporary file is no terminal
    EXPECT_FALSE(not_tty.active());
    not_tty.add(1, 1);
    not_tty.finish("summary");
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

TEST(Progress, ConcurrentUpdatesAreCounted) {
  std::FILE* f = std::tmpfile();
  Progress p("verify", 4000, 4000 * 4096, {false, f, true, "chunks"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) p.add(1, 4096);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.items_done(), 4000u);
  EXPECT_EQ(p.bytes_done(), 4000u * 4096u);
  p.finish();
  std::fclose(f);
}

}  // namespace
}  // namespace dsmoe
