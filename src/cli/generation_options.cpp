// Flags shared by `dsmoe run` and `dsmoe chat`.
#include "cli/generation_options.h"

#include <map>
#include <system_error>  // error_code

namespace dsmoe::cli {

void add_generation_flags(CLI::App* sub, GenerationFlags& f, const std::string& max_tokens_help) {
  SamplerParams& s = f.sampling;
  sub->add_option("-n,--max-tokens", f.max_tokens, max_tokens_help)->check(CLI::NonNegativeNumber);
  sub->add_option("--temp", s.temperature, "Temperature; 0 is greedy")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--top-k", s.top_k, "Keep the K most likely tokens; 0 turns it off")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--top-p", s.top_p, "Keep the most likely tokens up to this mass; 1 turns it off")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--min-p", s.min_p, "Drop tokens below this fraction of the best one's probability")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--repeat-penalty", s.repeat_penalty, "Penalty for recently seen tokens; 1 turns it off")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--presence-penalty", s.presence_penalty, "Subtracted from recently seen tokens' logits")
      ->capture_default_str();
  sub->add_option("--seed", s.seed, "Random seed: the same seed gives the same output")->capture_default_str();
  sub->add_option("--ctx", f.ctx, "Context length in tokens (default: min(4096, the model's))")
      ->check(CLI::PositiveNumber);
  sub->add_option("--threads", f.threads, "Threads (default: all cores)")->check(CLI::PositiveNumber);
  add_gemm_flag(sub, f.gemm);
}

void add_gemm_flag(CLI::App* sub, Gemm& gemm) {
  static const std::map<std::string, Gemm> kNames{{"onednn", Gemm::kOnednn}, {"native", Gemm::kNative}};
  sub->add_option("--gemm", gemm,
                  "Prompt products of f32/bf16 weights: onednn (default) or native (the own kernels)")
      ->transform(CLI::CheckedTransformer(kNames).description(""))
      ->type_name("onednn|native");
}

SessionOptions session_options(const GenerationFlags& flags) {
  SessionOptions o;
  o.ctx = flags.ctx;
  o.threads = flags.threads;
  o.gemm = flags.gemm;
  return o;
}

std::filesystem::path default_model_path() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "models/demo-q8.dsmoe";
  return (exe.parent_path() / ".." / "models" / "demo-q8.dsmoe").lexically_normal();
}

}  // namespace dsmoe::cli
