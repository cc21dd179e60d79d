#include "support/fixtures.h"

#include <unistd.h>  // getpid

#include <cstdlib>  // getenv, atexit
#include <system_error>

namespace dsmoe::test {

std::filesystem::path fixtures_root() {
  std::filesystem::path root;
  if (const char* env = std::getenv("DSMOE_FIXTURES"); env && *env) {
    root = env;
  } else {
    root = std::filesystem::path(DSMOE_SOURCE_DIR) / ".." / "shared" / "fixtures";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return {};
  return std::filesystem::weakly_canonical(root, ec);
}

bool fixtures_required() {
  const char* env = std::getenv("DSMOE_REQUIRE_FIXTURES");
  return env && std::string(env) == "1";
}

namespace {
std::filesystem::path g_temp;
void remove_temp() {
  std::error_code ec;
  if (!g_temp.empty()) std::filesystem::remove_all(g_temp, ec);
}
}  // namespace

std::filesystem::path temp_dir() {
  if (g_temp.empty()) {
    g_temp = std::filesystem::temp_directory_path() / ("dsmoe-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(g_temp);
    std::atexit(remove_temp);
  }
  return g_temp;
}

}  // namespace dsmoe::test
