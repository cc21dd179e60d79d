// Slash commands of `dsmoe chat`: /help, /reset, /system, /set, /stats, /save, /load, /quit.
#include <cstdio>   // printf
#include <sstream>  // istringstream
#include <string>

#include "cli/repl.h"    // Repl, run_command
#include "util/error.h"  // Error

namespace dsmoe::cli {

namespace {

constexpr const char* kHelp =
    "/help               this list\n"
    "/reset              forget the conversation (the system message stays)\n"
    "/system TEXT        set the system message (/system alone removes it)\n"
    "/set NAME VALUE     temp, top-p, top-k, min-p, repeat-penalty, presence-penalty, seed\n"
    "/stats              context use, token counts and speeds, sampling settings\n"
    "/save FILE          write the conversation as JSON\n"
    "/load FILE          read a conversation saved with /save\n"
    "/quit               exit (Ctrl-D too)\n"
    "End a line with \\ to continue on the next; \"\"\" on its own line starts and ends a paste.\n"
    "Ctrl-C stops the reply being written, or abandons the line being typed.";

double parse_number(const std::string& name, const std::string& value) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    throw Error(ErrorCode::kInvalidArgument, "/set " + name + ": expected a number, got '" + value + "'");
  }
  return v;
}

void set_parameter(Repl& r, const std::string& name, const std::string& value) {
  SamplerParams p = r.sampler.params();
  const double v = parse_number(name, value);
  if (name == "temp" || name == "temperature") {
    p.temperature = static_cast<float>(v);
  } else if (name == "top-p") {
    p.top_p = static_cast<float>(v);
  } else if (name == "top-k") {
    p.top_k = static_cast<int32_t>(v);
  } else if (name == "min-p") {
    p.min_p = static_cast<float>(v);
  } else if (name == "repeat-penalty") {
    p.repeat_penalty = static_cast<float>(v);
  } else if (name == "presence-penalty") {
    p.presence_penalty = static_cast<float>(v);
  } else if (name == "seed") {
    if (v < 0) throw Error(ErrorCode::kInvalidArgument, "/set seed: expected a non-negative integer");
    p.seed = static_cast<uint64_t>(v);
  } else {
    throw Error(ErrorCode::kInvalidArgument,
                "/set: unknown parameter '" + name +
                    "' (temp, top-p, top-k, min-p, repeat-penalty, presence-penalty, seed)");
  }
  r.sampler.set_params(p);  // validates: throws naming the parameter
  std::printf("%s = %s\n", name.c_str(), value.c_str());
}

void print_stats(const Repl& r) {
  const SamplerParams& p = r.sampler.params();
  const ReplTotals& t = r.totals;
  std::printf("context: %lld of %lld tokens used, %lld turns\n",
              static_cast<long long>(r.conversation.context_used()),
              static_cast<long long>(r.conversation.context_size()),
              static_cast<long long>(r.conversation.turns()));
  std::printf("prompts: %lld tokens in %.2f s (%.1f tok/s)\n", static_cast<long long>(t.prompt_tokens),
              t.prompt_seconds, t.prompt_seconds > 0 ? t.prompt_tokens / t.prompt_seconds : 0.0);
  std::printf("replies: %lld, %lld tokens in %.2f s (%.1f tok/s)\n", static_cast<long long>(t.replies),
              static_cast<long long>(t.reply_tokens), t.reply_seconds,
              t.reply_seconds > 0 ? t.reply_tokens / t.reply_seconds : 0.0);
  std::printf("sampling: temp %g, top-k %d, top-p %g, min-p %g, repeat-penalty %g, "
              "presence-penalty %g, seed %llu\n",
              p.temperature, p.top_k, p.top_p, p.min_p, p.repeat_penalty, p.presence_penalty,
              static_cast<unsigned long long>(p.seed));
}

}  // namespace

bool run_command(Repl& r, const std::string& line) {
  std::istringstream in(line);
  std::string command;
  in >> command;
  std::string rest;
  std::getline(in >> std::ws, rest);

  if (command == "/quit" || command == "/exit") return false;
  if (command == "/help") {
    std::printf("%s\n", kHelp);
  } else if (command == "/reset") {
    r.conversation.clear();
    std::printf("Conversation cleared.\n");
  } else if (command == "/system") {
    r.conversation.set_system(rest);
    std::printf(rest.empty() ? "System message removed.\n" : "System message set.\n");
  } else if (command == "/set") {
    std::istringstream args(rest);
    std::string name, value, extra;
    if (!(args >> name >> value) || (args >> extra)) {
      throw Error(ErrorCode::kInvalidArgument, "usage: /set NAME VALUE");
    }
    set_parameter(r, name, value);
  } else if (command == "/stats") {
    print_stats(r);
  } else if (command == "/save") {
    if (rest.empty()) throw Error(ErrorCode::kInvalidArgument, "usage: /save FILE");
    r.conversation.save(rest);
    std::printf("Saved %zu messages to %s\n", r.conversation.messages().size(), rest.c_str());
  } else if (command == "/load") {
    if (rest.empty()) throw Error(ErrorCode::kInvalidArgument, "usage: /load FILE");
    r.conversation.load(rest);
    std::printf("Loaded %zu messages from %s\n", r.conversation.messages().size(), rest.c_str());
  } else {
    throw Error(ErrorCode::kInvalidArgument, "unknown command " + command + " (/help lists them)");
  }
  std::fflush(stdout);
  return true;
}

}  // namespace dsmoe::cli
