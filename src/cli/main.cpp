// The `dsmoe` command line: parse, dispatch to one subcommand, map errors to exit codes
// (0 success, 1 runtime error, 2 usage error).
#include <cstdio>     // fprintf
#include <exception>  // exception

#include "cli/commands.h"  // Commands, add_*
#include "util/error.h"    // Error

int main(int argc, char** argv) {
  CLI::App app{"dsmoe: DeepSeek-style Mixture-of-Experts models on CPUs", "dsmoe"};
  app.set_version_flag("--version", DSMOE_VERSION_STRING);
  app.require_subcommand(1);
  dsmoe::cli::Commands commands;
  dsmoe::cli::add_convert(app, commands);
  dsmoe::cli::add_info(app, commands);
  dsmoe::cli::add_synth(app, commands);
  dsmoe::cli::add_run(app, commands);
  dsmoe::cli::add_chat(app, commands);
  dsmoe::cli::add_logits(app, commands);
  dsmoe::cli::add_perplexity(app, commands);
  dsmoe::cli::add_bench(app, commands);
  dsmoe::cli::add_tokenize(app, commands);
  dsmoe::cli::add_detokenize(app, commands);
  dsmoe::cli::add_template(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      return c.run();
    } catch (const dsmoe::Error& e) {
      std::fprintf(stderr, "dsmoe %s: error: %s\n", c.app->get_name().c_str(), e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dsmoe %s: error: %s\n", c.app->get_name().c_str(), e.what());
      return 1;
    }
  }
  return 2;
}
