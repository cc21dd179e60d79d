#pragma once
// Subcommand registration. Each cmd_<name>.cpp defines one add_<name>() that creates its CLI11
// subcommand and appends the function that runs it. main.cpp calls every add_<name>() once.
// A command's run function returns the exit code (0 success); it may throw dsmoe::Error, which
// main turns into one message on stderr and exit code 1. Usage errors exit with 2.
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace dsmoe::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

void add_info(CLI::App& app, Commands& commands);
void add_convert(CLI::App& app, Commands& commands);
void add_synth(CLI::App& app, Commands& commands);
void add_run(CLI::App& app, Commands& commands);
void add_chat(CLI::App& app, Commands& commands);
void add_logits(CLI::App& app, Commands& commands);
void add_perplexity(CLI::App& app, Commands& commands);
void add_bench(CLI::App& app, Commands& commands);
void add_tokenize(CLI::App& app, Commands& commands);
void add_detokenize(CLI::App& app, Commands& commands);
void add_template(CLI::App& app, Commands& commands);

}  // namespace dsmoe::cli
