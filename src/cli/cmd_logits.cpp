// `dsmoe logits MODEL (--tokens 1,2,3 | --tokens-file FILE) --out OUT.f32 [--mode full|incremental]
// [--prefill N] [--stats] [--ctx N] [--kv-type f32|bf16] [--kernels reference|fast] [--gemm onednn|native]`: the logits
// of every position as raw little-endian float32 [n_tokens, vocab], for comparing with reference
// implementations. By default the KV cache is f32 and the products take the plain reference path
// (exactness); `full` evaluates all tokens in one call, `incremental` the first N in one call and
// then one token per call, as generation does.
#include <cstdio>   // printf, fopen, fwrite
#include <fstream>  // ifstream
#include <memory>   // make_shared
#include <sstream>  // stringstream
#include <string>
#include <vector>

#include "cli/commands.h"     // Commands
#include "cli/generation_options.h"  // add_gemm_flag
#include "model/model.h"      // Model
#include "runtime/session.h"  // Session
#include "util/error.h"       // Error

namespace dsmoe::cli {
namespace {

struct LogitsArgs {
  std::string model;
  std::string tokens;
  std::string tokens_file;
  std::string out;
  std::string mode = "full";
  int64_t prefill = 16;
  bool stats = false;
  int64_t ctx = 0;
  std::string kv_type = "f32";
  std::string kernels = "reference";
  Gemm gemm = Gemm::kOnednn;
};

// Token ids separated by commas and/or whitespace.
std::vector<int32_t> parse_tokens(const std::string& text, const std::string& source) {
  std::vector<int32_t> out;
  std::string item;
  std::stringstream in(text);
  auto flush = [&] {
    if (item.empty()) return;
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0 || v > INT32_MAX) {
      throw Error(ErrorCode::kInvalidArgument, source + ": '" + item + "' is not a token id");
    }
    out.push_back(static_cast<int32_t>(v));
    item.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') flush();
    else item += c;
  }
  flush();
  if (out.empty()) throw Error(ErrorCode::kInvalidArgument, source + ": no token ids");
  return out;
}

int run_logits(const LogitsArgs& a) {
  std::vector<int32_t> tokens;
  if (!a.tokens_file.empty()) {
    std::ifstream f(a.tokens_file);
    if (!f) throw Error(ErrorCode::kIo, a.tokens_file + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    tokens = parse_tokens(ss.str(), a.tokens_file);
  } else {
    tokens = parse_tokens(a.tokens, "--tokens");
  }
  const auto kv = parse_kv_type(a.kv_type);
  if (!kv) throw Error(ErrorCode::kInvalidArgument, "--kv-type: expected f32 or bf16, got '" + a.kv_type + "'");
  if (a.prefill < 1) throw Error(ErrorCode::kInvalidArgument, "--prefill must be at least 1");

  std::shared_ptr<const Model> model = Model::open(a.model);
  SessionOptions opt;
  opt.ctx = a.ctx;
  opt.kv_type = *kv;
  opt.kernels = a.kernels == "reference" ? Kernels::kReference : Kernels::kFast;
  opt.gemm = a.gemm;
  Session session(model, opt);
  const int64_t vocab = model->config().vocab_size, n = static_cast<int64_t>(tokens.size());
  std::vector<float> logits(static_cast<size_t>(n * vocab));
  std::span<const int32_t> all(tokens);
  if (a.mode == "full" || n <= a.prefill) {
    session.eval_all(all, logits);
  } else {
    session.eval_all(all.first(a.prefill), logits);
    for (int64_t i = a.prefill; i < n; ++i) {
      std::span<const float> l = session.eval(all.subspan(i, 1));
      std::copy(l.begin(), l.end(), logits.begin() + i * vocab);
    }
  }

  std::FILE* f = std::fopen(a.out.c_str(), "wb");
  if (!f) throw Error(ErrorCode::kIo, a.out + ": cannot create");
  const size_t written = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
  if (std::fclose(f) != 0 || written != logits.size()) throw Error(ErrorCode::kIo, a.out + ": write failed");

  if (a.stats) {
    const ModelConfig& c = model->config();
    std::printf("layer  distinct_experts  resident_expert_bytes  expert_region_bytes\n");
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
      if (!c.is_moe_layer(l)) continue;
      std::printf("%5lld  %16lld  %21llu  %19llu\n", static_cast<long long>(l),
                  static_cast<long long>(session.distinct_experts(l)),
                  static_cast<unsigned long long>(model->resident_expert_bytes(l)),
                  static_cast<unsigned long long>(model->expert_bytes(l)));
    }
  }
  return 0;
}

}  // namespace

void add_logits(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* sub = app.add_subcommand("logits", "Write the logits of every position as raw float32 [n_tokens, vocab]");
  sub->add_option("MODEL", args->model, "A .dsmoe file (or a Hugging Face checkpoint folder)")->required();
  CLI::Option_group* input = sub->add_option_group("input", "The prompt: exactly one of");
  input->add_option("--tokens", args->tokens, "Token ids, e.g. 1,2,3");
  input->add_option("--tokens-file", args->tokens_file, "File of token ids (commas or whitespace)");
  input->require_option(1);
  sub->add_option("--out", args->out, "Output file (little-endian float32)")->required();
  sub->add_option("--mode", args->mode, "full: one call; incremental: prefill, then one token per call")
      ->check(CLI::IsMember({"full", "incremental"}));
  sub->add_option("--prefill", args->prefill, "Tokens evaluated in the first call of incremental mode (default 16)");
  sub->add_flag("--stats", args->stats, "Print per MoE layer the distinct experts run and resident expert bytes");
  sub->add_option("--ctx", args->ctx, "Context length (default min(4096, max_position_embeddings))");
  sub->add_option("--kv-type", args->kv_type, "KV cache type: f32 (default, exact) or bf16");
  sub->add_option("--kernels", args->kernels, "reference: the plain f32 products (default, exact); fast: the SIMD kernels")
      ->check(CLI::IsMember({"fast", "reference"}));
  add_gemm_flag(sub, args->gemm);
  commands.push_back({sub, [args] { return run_logits(*args); }});
}

}  // namespace dsmoe::cli
