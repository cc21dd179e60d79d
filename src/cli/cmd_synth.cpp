// `dsmoe synth (--preset NAME | --config CONFIG.json) [--quant RECIPE] (-o OUT.dsmoe | --hf-out DIR)`:
// random weights at a real model's shapes (convert/synth.h does the work).
#include <cstdio>   // printf
#include <fstream>  // ifstream
#include <memory>   // make_shared
#include <sstream>  // ostringstream
#include <string>
#include <vector>

#include "cli/commands.h"    // Commands
#include "convert/recipe.h"  // QuantRecipe
#include "convert/synth.h"   // synth_model, find_preset
#include "util/error.h"      // Error

namespace dsmoe::cli {
namespace {

struct SynthArgs {
  std::string preset;
  std::string config;
  std::string output;
  std::string hf_out;
  std::string quant = "q8";
  std::vector<std::string> tensor_types;
  uint64_t seed = 0;
  int threads = 0;
  bool force = false;
  bool quiet = false;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string check_tensor_type(const std::string& spec) {
  try {
    QuantRecipe::named("f32").add_override(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

int run_synth(const SynthArgs& a) {
  SynthOptions o;
  if (!a.preset.empty()) {
    const std::filesystem::path file = find_preset(a.preset);
    o.config_json = read_text(file);
    o.config_source = "preset " + a.preset;
  } else {
    o.config_json = read_text(a.config);
    o.config_source = a.config;
  }
  o.seed = a.seed;
  o.output = a.output;
  o.hf_out = a.hf_out;
  o.quant = a.quant;
  o.tensor_types = a.tensor_types;
  o.threads = a.threads;
  o.force = a.force;
  o.progress = !a.quiet;
  SynthSummary s = synth_model(o);
  if (!a.quiet) {
    std::printf("wrote %s: %.3f GB in %d file(s), %lld tensors, in %.1f s\n", s.path.string().c_str(),
                static_cast<double>(s.bytes) / 1e9, s.files, static_cast<long long>(s.tensors), s.seconds);
    std::fputs(format_component_table(s.components).c_str(), stdout);
  }
  return 0;
}

}  // namespace

void add_synth(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* sub = app.add_subcommand(
      "synth", "Write a model with random weights at a real model's shapes (benchmarks) or any config's (tests)");
  CLI::Option* preset = sub->add_option("--preset", args->preset,
                                        "A preset from models/presets: deepseek-v2-lite, deepseek-v2, deepseek-v3, "
                                        "deepseek-moe-16b, moonlight-16b-a3b");
  CLI::Option* config = sub->add_option("--config", args->config, "A Hugging Face config.json giving the shapes");
  preset->excludes(config);
  CLI::Option* out = sub->add_option("-o,--output", args->output, "Write a .dsmoe file (quantized by --quant)");
  CLI::Option* hf = sub->add_option("--hf-out", args->hf_out,
                                    "Write a Hugging Face folder instead (config.json, bf16 safetensors sharded at 5 GB)");
  out->excludes(hf);
  sub->add_option("--quant", args->quant, std::string("Recipe for -o (default q8): ") + QuantRecipe::names_help())
      ->check(CLI::IsMember(QuantRecipe::names()));
  sub->add_option("--tensor-type", args->tensor_types, "REGEX=TYPE override for -o (as in convert); repeatable")
      ->check(CLI::Validator(check_tensor_type, "REGEX=TYPE"))
      ->allow_extra_args(false);
  sub->add_option("--seed", args->seed, "Random seed (default 0)");
  sub->add_option("--threads", args->threads, "Threads (default: all cores)")->check(CLI::PositiveNumber);
  sub->add_flag("--force", args->force, "Overwrite existing output");
  sub->add_flag("-q,--quiet", args->quiet, "No progress bar and no summary");
  // Exactly one source of shapes and one destination: checked after parsing as usage errors.
  sub->callback([preset, config, out, hf] {
    if (preset->count() + config->count() != 1) throw CLI::RequiredError("--preset or --config");
    if (out->count() + hf->count() != 1) throw CLI::RequiredError("-o or --hf-out");
  });
  commands.push_back({sub, [args] { return run_synth(*args); }});
}

}  // namespace dsmoe::cli
