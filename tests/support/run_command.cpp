#include "support/run_command.h"

#include <sys/wait.h>  // WIFEXITED, WEXITSTATUS

#include <cstdio>  // popen, fread, pclose

namespace dsmoe::test {

CommandResult run_command(const std::string& command) {
  CommandResult r;
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace dsmoe::test
