// `dsmoe chat [MODEL]`: an interactive conversation (see repl.h), or, when stdin is not a
// terminal, one reply to everything read from stdin (only the reply is printed).
#include <unistd.h>  // isatty

#include <cstdio>    // fwrite
#include <cstdlib>   // getenv
#include <filesystem>
#include <iostream>  // cin
#include <iterator>  // istreambuf_iterator
#include <memory>
#include <string>

#include "cli/commands.h"            // Commands
#include "cli/generation_options.h"  // GenerationFlags, default_model_path
#include "cli/interrupt.h"           // install_interrupt_handler, interrupt_flag
#include "cli/repl.h"                // Repl, run_repl
#include "util/error.h"              // Error

namespace dsmoe::cli {

namespace {

struct ChatArgs {
  std::string model;
  std::string system;
  bool no_history = false;
  GenerationFlags gen;
};

// Stdin is not a terminal: the whole input is one user message; print the reply alone.
int reply_once(Conversation& conversation, const ChatArgs& a) {
  std::string message((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  if (message.empty()) throw Error(ErrorCode::kInvalidArgument, "no message on stdin");
  const PreparedTurn turn = conversation.prepare(message);
  if (!turn.fits) {
    throw Error(ErrorCode::kOutOfRange,
                "the message needs " + std::to_string(turn.needed) + " tokens (" +
                    std::to_string(conversation.reply_reserve()) +
                    " of them kept free for the reply) but the context holds " +
                    std::to_string(conversation.context_size()) + "; use a larger --ctx");
  }
  GenerateOptions options;
  options.max_tokens = a.gen.max_tokens;
  install_interrupt_handler();
  options.cancel = interrupt_flag();
  conversation.send(turn, options, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  return 0;
}

int chat(const ChatArgs& a) {
  const std::filesystem::path path = a.model.empty() ? default_model_path() : std::filesystem::path(a.model);
  if (a.model.empty() && !std::filesystem::exists(path)) {
    throw Error(ErrorCode::kIo, "no MODEL given and the bundled demo model is missing (" +
                                    path.string() + "): run scripts/setup.sh, or name a .dsmoe file");
  }
  auto loaded = LoadedModel::load(path);
  if (loaded->chat_template() == nullptr) {
    throw Error(ErrorCode::kUnsupported,
                path.string() + " has no chat template (tokenizer_config.json with chat_template); "
                "use `dsmoe run` for plain completion");
  }
  Session session(loaded->model(), session_options(a.gen));
  Sampler sampler(loaded->vocab_size(), a.gen.sampling);
  Conversation conversation(loaded, session, sampler);
  if (!a.system.empty()) conversation.set_system(a.system);

  if (!isatty(STDIN_FILENO)) return reply_once(conversation, a);

  std::string history;
  if (const char* home = std::getenv("HOME"); home != nullptr && !a.no_history) {
    history = std::string(home) + "/.dsmoe_history";
  }
  LineReader input(history);
  Repl repl{loaded, session, sampler, conversation, input, true, 0, {}};
  repl.color = isatty(STDOUT_FILENO) != 0;
  repl.max_tokens = a.gen.max_tokens;
  return run_repl(repl);
}

}  // namespace

void add_chat(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<ChatArgs>();
  CLI::App* sub = app.add_subcommand("chat", "Chat with a model (reads one message from stdin when it is not a terminal)");
  sub->add_option("MODEL", args->model, "A .dsmoe model file (default: the bundled demo model)");
  sub->add_option("--system", args->system, "System message");
  sub->add_flag("--no-history", args->no_history, "Do not read or write ~/.dsmoe_history");
  add_generation_flags(sub, args->gen, "Most tokens per reply; 0: until the end token or a full context");
  commands.push_back({sub, [args] { return chat(*args); }});
}

}  // namespace dsmoe::cli
