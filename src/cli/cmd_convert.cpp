// `dsmoe convert HF_DIR -o OUT.dsmoe --quant RECIPE`: pack a Hugging Face checkpoint
// (convert/convert.h does the work; this file is flags and printing).
#include <cstdio>  // fprintf, fputs
#include <memory>  // make_shared
#include <string>
#include <vector>

#include "cli/commands.h"      // Commands
#include "convert/convert.h"   // convert_checkpoint
#include "convert/recipe.h"    // QuantRecipe
#include "util/error.h"        // Error

namespace dsmoe::cli {
namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string quant;
  std::vector<std::string> tensor_types;
  std::string scales = "mse";
  int threads = 0;
  bool force = false;
  bool quiet = false;
};

// --tensor-type values are checked while parsing, so a bad one is a usage error (exit 2).
std::string check_tensor_type(const std::string& spec) {
  try {
    QuantRecipe::named("f32").add_override(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

int run_convert(const ConvertArgs& a) {
  ConvertOptions o;
  o.input = a.input;
  o.output = a.output;
  o.quant = a.quant;
  o.tensor_types = a.tensor_types;
  o.scale_search = *parse_scale_search(a.scales);  // checked while parsing
  o.threads = a.threads;
  o.force = a.force;
  o.progress = !a.quiet;
  o.notice = [](std::string_view text) {
    std::fprintf(stderr, "dsmoe convert: notice: %.*s\n", static_cast<int>(text.size()), text.data());
  };
  ConvertSummary s = convert_checkpoint(o);
  if (!a.quiet) std::fputs(format_summary(s).c_str(), stdout);
  return 0;
}

}  // namespace

void add_convert(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand("convert", "Convert a Hugging Face checkpoint folder to a .dsmoe file");
  sub->add_option("HF_DIR", args->input, "Folder with config.json and model.safetensors[.index.json]")->required();
  sub->add_option("-o,--output", args->output, "The .dsmoe file to write")->required();
  sub->add_option("--quant", args->quant,
                  std::string("Recipe: ") + QuantRecipe::names_help() + "; norms, router and expert bias always stay f32")
      ->required()
      ->check(CLI::IsMember(QuantRecipe::names()));
  sub->add_option("--tensor-type", args->tensor_types,
                  "REGEX=TYPE: store tensors whose Hugging Face name matches REGEX (searched, ECMAScript) "
                  "as TYPE (f32, bf16, q8, q4); repeatable, the last match wins")
      ->check(CLI::Validator(check_tensor_type, "REGEX=TYPE"))
      ->allow_extra_args(false);
  sub->add_option("--scales", args->scales,
                  "How q8/q4 choose each group's scale: mse (default, minimizes the squared error) or "
                  "absmax (largest magnitude / largest level; for comparisons)")
      ->check(CLI::IsMember({"mse", "absmax"}));
  sub->add_option("--threads", args->threads, "Quantization threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--force", args->force, "Overwrite OUT if it exists");
  sub->add_flag("-q,--quiet", args->quiet, "No progress bar and no summary");
  commands.push_back({sub, [args] { return run_convert(*args); }});
}

}  // namespace dsmoe::cli
