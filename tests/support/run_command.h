#pragma once
// Running a shell command from a test (the `dsmoe` CLI, mostly) and collecting what it prints.
#include <string>

namespace dsmoe::test {

struct CommandResult {
  int code = -1;       // exit status; -1 when the command could not start or was killed
  std::string output;  // its standard output (append " 2>&1" to the command for stderr too)
};

CommandResult run_command(const std::string& command);

}  // namespace dsmoe::test
