#pragma once
// Locating ../shared/fixtures for tests. DSMOE_FIXTURES overrides the default (../shared/fixtures
// relative to the repository root). Without fixtures a test skips with a clear message, unless
// DSMOE_REQUIRE_FIXTURES=1 (as in CI), where it fails instead.
#include <filesystem>
#include <string>

namespace dsmoe::test {

// The fixtures root, or an empty path when it does not exist.
std::filesystem::path fixtures_root();

// A scratch directory unique to this test process, removed at exit.
std::filesystem::path temp_dir();

}  // namespace dsmoe::test

// Yields the fixture path `rel` (relative to the fixtures root) in `var`, or skips/fails the test.
#define DSMOE_FIXTURE_OR_SKIP(var, rel)                                                    \
  std::filesystem::path var = ::dsmoe::test::fixtures_root();                             \
  if (var.empty() || !std::filesystem::exists(var / (rel))) {                             \
    if (::dsmoe::test::fixtures_required()) {                                             \
      FAIL() << "fixture " << (rel) << " not found (DSMOE_FIXTURES, DSMOE_REQUIRE_FIXTURES=1)"; \
    } else {                                                                               \
      GTEST_SKIP() << "fixture " << (rel) << " not found: set DSMOE_FIXTURES to ../shared/fixtures"; \
    }                                                                                      \
  }                                                                                        \
  var /= (rel)

namespace dsmoe::test {
bool fixtures_required();
}
