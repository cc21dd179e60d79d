// OutputFile writes full buffers with O_DIRECT where the file system allows it and everything else
// through the page cache; the bytes must not depend on which path each part took. (The test's
// temporary folder must allow O_DIRECT for the first case to take that path: ext4 and, since Linux
// 6.6, tmpfs do.)
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "format/output_file.h"
#include "format_test_helpers.h"  // random_bytes, temp_dir

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Offset of the first byte where a and b differ (or the shorter size), npos when equal: gtest
// would print megabytes for a plain EXPECT_EQ of the contents.
size_t first_difference(const std::string& a, const std::string& b) {
  if (a == b) return std::string::npos;
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// Small, unaligned and large (several 8 MB buffers) writes, zeros, and a patch at the start:
// the sequence the .dsmoe writer produces.
std::string write_sequence(const fs::path& path, const std::string& data, bool direct_io) {
  OutputFile out(path, /*overwrite=*/true, data.size() + 4096, direct_io);
  out.write(data.data(), 100);
  out.write_zeros(3996);
  out.write(data.data() + 100, 5);
  out.write(data.data() + 105, data.size() - 105);
  out.write_at(10, "patched", 7);
  out.commit();
  std::string want = data.substr(0, 100) + std::string(3996, '\0') + data.substr(100);
  want.replace(10, 7, "patched");
  return want;
}

TEST(OutputFile, SameBytesWithAndWithoutODirect) {
  const std::string data = random_bytes((size_t{19} << 20) + 333, 5);  // 2 full buffers and a tail
  for (bool direct_io : {true, false}) {
    const fs::path path = temp_dir() / (direct_io ? "direct.bin" : "buffered.bin");
    const std::string want = write_sequence(path, data, direct_io);
    EXPECT_EQ(first_difference(read_all(path), want), std::string::npos) << "direct_io " << direct_io;
  }
}

}  // namespace
}  // namespace dsmoe::test
