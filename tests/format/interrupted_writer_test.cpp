// An interrupted write never leaves a file at the output path: neither a writer destroyed
// without commit() (an exception mid-conversion) nor a process killed with SIGKILL mid-write.
#include <gtest/gtest.h>
#include <signal.h>    // kill, SIGKILL
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, pipe, _exit

#include <thread>

#include "format/dsmoe_file.h"
#include "format/safetensors.h"
#include "format_test_helpers.h"

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> temporaries_of(const fs::path& out) {
  std::vector<fs::path> found;
  const std::string prefix = out.filename().string() + ".tmp-";
  for (const auto& e : fs::directory_iterator(out.parent_path())) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) found.push_back(e.path());
  }
  return found;
}

std::vector<DsmoeTensorSpec> big_layout(int tensors, int64_t rows) {
  std::vector<DsmoeTensorSpec> specs;
  for (int i = 0; i < tensors; ++i) {
    DsmoeTensorSpec t{std::string("t").append(std::to_string(i)), QType::kF32, {rows, 1024}, 0, -1, -1};
    t.size = dsmoe_tensor_bytes(t.type, t.shape, "t");
    specs.push_back(t);
  }
  return specs;
}

TEST(InterruptedWriter, DestroyedWithoutCommit) {
  const fs::path out = temp_dir() / "abandoned.dsmoe";
  {
    DsmoeWriter w(out, "{}", {{"tokenizer.json", "{}"}}, big_layout(2, 4));
    EXPECT_TRUE(fs::exists(w.temp_path()));
    EXPECT_EQ(w.temp_path().parent_path(), out.parent_path());
    std::string half(w.layout()[0].size, 'x');
    w.append(half.data(), half.size());
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(temporaries_of(out).empty());

  const fs::path st = temp_dir() / "abandoned.safetensors";
  {
    SafetensorsWriter w(st, {{"a", StDtype::kF32, {4}}});
  }
  EXPECT_FALSE(fs::exists(st));
  EXPECT_TRUE(temporaries_of(st).empty());
}

TEST(InterruptedWriter, KilledProcessLeavesNoOutput) {
  const fs::path out = temp_dir() / "killed.dsmoe";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Child: write part of a 64 MB file, tell the parent, then keep writing slowly until killed.
    ::close(ready[0]);
    try {
      DsmoeWriter w(out, "{}", {}, big_layout(16, 1024));
      std::string chunk(1 << 20, 'y');
      for (int i = 0; i < 8; ++i) w.append(chunk.data(), chunk.size());
      char c = 1;
      if (::write(ready[1], &c, 1) != 1) ::_exit(3);
      for (;;) {
        w.append(chunk.data(), 4096);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    } catch (...) {
      ::_exit(2);  // _exit: no atexit handlers (they would remove the parent's temp_dir)
    }
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "child failed before writing";
  ::close(ready[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  EXPECT_FALSE(fs::exists(out)) << "a killed writer must not leave a file at the output path";
  // The killed process could not remove its temporary file; the next writer of the same output
  // does (its pid is gone).
  ASSERT_EQ(temporaries_of(out).size(), 1u);
  EXPECT_NE(temporaries_of(out)[0].string().find(".tmp-" + std::to_string(child)), std::string::npos);
  {
    DsmoeWriter w(out, "{}", {}, {});
    EXPECT_EQ(temporaries_of(out).size(), 1u);  // only its own
    w.commit();
  }
  EXPECT_TRUE(temporaries_of(out).empty());
  EXPECT_TRUE(fs::exists(out));
}

}  // namespace
}  // namespace dsmoe::test
