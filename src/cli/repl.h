#pragma once
// The interactive `dsmoe chat` loop and its slash commands.
#include <cstdint>
#include <memory>
#include <string>

#include "capi/loaded_model.h"        // LoadedModel
#include "cli/repl_conversation.h"    // Conversation
#include "cli/repl_input.h"           // LineReader
#include "runtime/session.h"          // Session
#include "sample/sampler.h"           // Sampler

namespace dsmoe::cli {

struct ReplTotals {
  int64_t prompt_tokens = 0, reply_tokens = 0, replies = 0;
  double prompt_seconds = 0, reply_seconds = 0;
};

struct Repl {
  std::shared_ptr<const LoadedModel> model;
  Session& session;
  Sampler& sampler;
  Conversation& conversation;
  LineReader& input;
  bool color = true;        // ANSI styling (stdout is a terminal)
  int64_t max_tokens = 0;   // per reply; 0: no limit but the context
  ReplTotals totals;
};

// Reads messages until Ctrl-D or /quit, streaming each reply. Returns the exit code.
int run_repl(Repl& repl);

// Runs one slash command line ("/set temp 0.5"); returns false when the REPL should end.
bool run_command(Repl& repl, const std::string& line);

}  // namespace dsmoe::cli
