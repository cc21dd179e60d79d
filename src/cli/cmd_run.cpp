// `dsmoe run MODEL -p PROMPT`: one-shot generation streamed to stdout. The prompt is raw text
// (BOS first when the tokenizer asks for it) or, with --chat, one user message rendered with the
// model's chat template. Only generated text goes to stdout; --stats adds a line on stderr.
#include <cstdio>  // fwrite, fflush, fprintf
#include <memory>
#include <string>
#include <vector>

#include "capi/loaded_model.h"         // LoadedModel
#include "cli/commands.h"              // Commands
#include "cli/generation_options.h"    // GenerationFlags
#include "runtime/generate.h"          // generate
#include "util/error.h"                // Error

namespace dsmoe::cli {

namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  std::string system;
  bool chat = false;
  bool stats = false;
  std::vector<std::string> stop;
  GenerationFlags gen;
};

int run(const RunArgs& a) {
  auto loaded = LoadedModel::load(a.model);
  std::vector<int32_t> prompt;
  if (a.chat) {
    std::vector<ChatMessage> messages;
    if (!a.system.empty()) messages.push_back({"system", a.system});
    messages.push_back({"user", a.prompt});
    prompt = loaded->tokenizer().encode(loaded->render_chat(messages, true));
  } else {
    if (loaded->add_bos() && loaded->bos_token()) prompt.push_back(*loaded->bos_token());
    loaded->tokenizer().encode_into(a.prompt, prompt);
  }
  if (prompt.empty()) throw Error(ErrorCode::kInvalidArgument, "the prompt is empty");

  Session session(loaded->model(), session_options(a.gen));
  Sampler sampler(loaded->vocab_size(), a.gen.sampling);
  GenerateOptions options;
  options.max_tokens = a.gen.max_tokens;
  options.end_tokens = loaded->end_tokens();
  options.stop_strings = a.stop;
  const GenerateStats st = generate(session, loaded->tokenizer(), sampler, prompt, options,
                                    [](std::string_view piece) {
                                      std::fwrite(piece.data(), 1, piece.size(), stdout);
                                      std::fflush(stdout);
                                      return true;
                                    });
  std::fputc('\n', stdout);
  if (a.stats) {
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | reply: %lld tokens, %.1f tok/s | stop: %s\n",
                 static_cast<long long>(st.prompt_tokens),
                 st.prompt_seconds > 0 ? st.prompt_tokens / st.prompt_seconds : 0.0,
                 static_cast<long long>(st.generated_tokens),
                 st.generate_seconds > 0 ? st.generated_tokens / st.generate_seconds : 0.0,
                 to_string(st.stop));
  }
  return 0;
}

}  // namespace

void add_run(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<RunArgs>();
  args->gen.max_tokens = 256;
  CLI::App* sub = app.add_subcommand("run", "Generate a continuation of a prompt (streams to stdout)");
  sub->add_option("MODEL", args->model, "A .dsmoe model file")->required();
  sub->add_option("-p,--prompt", args->prompt, "The prompt (UTF-8)")->required();
  sub->add_flag("--chat", args->chat, "Treat the prompt as a user message in the model's chat template");
  sub->add_option("--system", args->system, "With --chat: a system message");
  sub->add_option("--stop", args->stop, "Stop before this text appears (repeatable)");
  sub->add_flag("--stats", args->stats, "Print token counts and speeds to stderr");
  add_generation_flags(sub, args->gen, "Most tokens to generate; 0: until the end token or a full context");
  commands.push_back({sub, [args] { return run(*args); }});
}

}  // namespace dsmoe::cli
