// The interactive `dsmoe chat` loop (see repl.h).
#include "cli/repl.h"

#include <cstdio>  // printf, fwrite, fflush

#include "cli/interrupt.h"   // install_interrupt_handler, interrupt_flag
#include "cli/repl_think.h"  // ThinkStyler
#include "util/error.h"      // Error

namespace dsmoe::cli {

namespace {

constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

void print_styled(const Repl& r, const std::string& text) {
  if (r.color) {
    std::printf("%s%s%s\n", kDim, text.c_str(), kReset);
  } else {
    std::printf("%s\n", text.c_str());
  }
  std::fflush(stdout);
}

double rate(int64_t tokens, double seconds) { return seconds > 0 ? tokens / seconds : 0.0; }

// Makes room when the conversation no longer fits: says so and offers to drop the oldest turns.
// Returns false when the message cannot be sent.
bool make_room(Repl& r, PreparedTurn& turn) {
  const int64_t drop = r.conversation.turns_to_drop(turn);
  const std::string need = std::to_string(turn.needed) + " tokens (" +
                           std::to_string(r.conversation.reply_reserve()) +
                           " of them kept free for the reply)";
  if (drop < 0) {
    print_styled(r, "This message does not fit in the context even on its own: it needs " + need +
                        ", the context holds " + std::to_string(r.conversation.context_size()) +
                        ". Shorten it, or restart with a larger --ctx.");
    return false;
  }
  print_styled(r, "The conversation no longer fits in the context: it needs " + need +
                      ", the context holds " + std::to_string(r.conversation.context_size()) + ".");
  const std::string question = "Drop the oldest " + std::to_string(drop) + " turn" +
                               (drop == 1 ? "" : "s") + " to make room? [Y/n] ";
  std::optional<std::string> answer = r.input.read_line(question);
  if (!answer || !(answer->empty() || (*answer)[0] == 'y' || (*answer)[0] == 'Y')) {
    print_styled(r, "Not sent. /reset starts over; /save FILE keeps the conversation.");
    return false;
  }
  r.conversation.drop_oldest_turns(drop);
  turn = r.conversation.prepare(turn.user);
  return turn.fits;
}

void reply(Repl& r, const std::string& user) {
  PreparedTurn turn = r.conversation.prepare(user);
  if (!turn.fits && !make_room(r, turn)) return;

  ThinkStyler styler(r.color);
  styler.begin(turn.opens_think);
  GenerateOptions options;
  options.max_tokens = r.max_tokens;
  // Not cleared here: the line reader cleared it, and a Ctrl-C pressed since the Enter key stops
  // this reply.
  options.cancel = interrupt_flag();
  const GenerateStats st = r.conversation.send(turn, options, [&](std::string_view piece) {
    const std::string_view out = styler.push(piece);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  const std::string_view tail = styler.finish();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::printf("\n");

  r.totals.prompt_tokens += st.prompt_tokens;
  r.totals.prompt_seconds += st.prompt_seconds;
  r.totals.reply_tokens += st.generated_tokens;
  r.totals.reply_seconds += st.generate_seconds;
  ++r.totals.replies;
  char line[256];
  std::snprintf(line, sizeof line, "[prompt %lld tokens, %.1f tok/s | reply %lld tokens, %.1f tok/s]",
                static_cast<long long>(st.prompt_tokens), rate(st.prompt_tokens, st.prompt_seconds),
                static_cast<long long>(st.generated_tokens),
                rate(st.generated_tokens, st.generate_seconds));
  std::string note = line;
  if (st.stop == StopReason::kCancelled) note += " [interrupted]";
  if (st.stop == StopReason::kContextFull) {
    note += " [context full: the reply was cut short; /reset or /save, or the next message will "
            "offer to drop the oldest turns]";
  }
  if (st.stop == StopReason::kMaxTokens) note += " [reached --max-tokens]";
  print_styled(r, note);
}

}  // namespace

int run_repl(Repl& r) {
  install_interrupt_handler();
  print_styled(r, "dsmoe chat: " + r.model->config().model_type + ", context " +
                      std::to_string(r.session.ctx()) +
                      " tokens. /help lists commands; Ctrl-C stops a reply, Ctrl-D exits.");
  for (;;) {
    std::optional<std::string> message = r.input.read_message(">>> ");
    if (!message) {
      std::printf("\n");
      return 0;
    }
    if (message->find_first_not_of(" \t\n") == std::string::npos) continue;
    try {
      if ((*message)[0] == '/') {
        if (!run_command(r, *message)) return 0;
      } else {
        reply(r, *message);
      }
    } catch (const Error& e) {
      print_styled(r, std::string("error: ") + e.what());
    }
  }
}

}  // namespace dsmoe::cli
