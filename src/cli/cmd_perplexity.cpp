// `dsmoe perplexity MODEL --file TEXT [--ctx 512] [--stride N] [--compare REF] [--json]`: perplexity
// of a model over a text file with sliding windows (runtime/perplexity.h has the protocol), printed
// with its standard error; with --compare, also the mean KL divergence from a reference model
// (e.g. the f32 conversion) and how often both models' top token agree.
#include <unistd.h>  // isatty

#include <cstdint>  // INT64_MAX
#include <cstdio>   // printf, fprintf
#include <fstream>  // ifstream
#include <memory>   // make_shared
#include <sstream>  // stringstream
#include <string>
#include <vector>

#include "capi/loaded_model.h"   // LoadedModel
#include "cli/commands.h"        // Commands
#include "cli/generation_options.h"  // add_gemm_flag
#include "model/kv_cache.h"      // parse_kv_type
#include "runtime/perplexity.h"  // measure_perplexity
#include "util/error.h"          // Error
#include "util/json.h"           // json::Writer
#include "util/utf8.h"           // utf8::valid_prefix

namespace dsmoe::cli {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string file;
  std::string compare;
  int64_t ctx = 512;
  int64_t stride = 0;
  int threads = 0;
  Gemm gemm = Gemm::kOnednn;
  std::string kv_type = "f32";
  bool json = false;
  bool quiet = false;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw Error(ErrorCode::kIo, path + ": read failed");
  std::string text = ss.str();
  if (const size_t valid = utf8::valid_prefix(text); valid != text.size()) {
    throw Error(ErrorCode::kInvalidArgument, path + ": invalid UTF-8 at byte " + std::to_string(valid));
  }
  return text;
}

void write_summary(json::Writer& w, const NllSummary& s) {
  w.key("scored").value(s.scored);
  w.key("mean_nll").value(s.mean_nll).key("mean_nll_se").value(s.mean_nll_se);
  w.key("ppl").value(s.ppl).key("ppl_se").value(s.ppl_se);
}

void print_json(const PerplexityArgs& a, int64_t stride, const PerplexityReport& r) {
  json::Writer w(true);
  w.begin_object();
  w.key("model").value(a.model).key("file").value(a.file);
  w.key("ctx").value(a.ctx).key("stride").value(stride);
  w.key("tokens").value(r.tokens).key("windows").value(r.windows);
  write_summary(w, r.model);
  if (r.compared) {
    w.key("compare").begin_object();
    w.key("reference").value(a.compare);
    w.key("reference_ppl").begin_object();
    write_summary(w, r.comparison.reference);
    w.end_object();
    w.key("mean_kl").value(r.comparison.mean_kl).key("mean_kl_se").value(r.comparison.mean_kl_se);
    w.key("top1_agreement").value(r.comparison.top1_agreement);
    w.end_object();
  }
  w.end_object();
  std::printf("%s\n", w.str().c_str());
}

void print_text(const PerplexityArgs& a, int64_t stride, const PerplexityReport& r) {
  std::printf("%s: %lld tokens, %lld windows (ctx %lld, stride %lld), %lld scored\n", a.file.c_str(),
              static_cast<long long>(r.tokens), static_cast<long long>(r.windows),
              static_cast<long long>(a.ctx), static_cast<long long>(stride),
              static_cast<long long>(r.model.scored));
  std::printf("mean NLL    %.4f ± %.4f nats/token\n", r.model.mean_nll, r.model.mean_nll_se);
  std::printf("perplexity  %.2f ± %.2f\n", r.model.ppl, r.model.ppl_se);
  if (r.compared) {
    const Comparison& c = r.comparison;
    std::printf("reference   %s: perplexity %.2f ± %.2f\n", a.compare.c_str(), c.reference.ppl, c.reference.ppl_se);
    std::printf("mean KL(reference || model)  %.5f ± %.5f nats/token\n", c.mean_kl, c.mean_kl_se);
    std::printf("top-1 agreement              %.2f%%\n", 100.0 * c.top1_agreement);
  }
}

int run_perplexity(const PerplexityArgs& a) {
  if (a.stride > a.ctx) {
    std::fprintf(stderr, "dsmoe perplexity: --stride %lld is above --ctx %lld\n",
                 static_cast<long long>(a.stride), static_cast<long long>(a.ctx));
    return 2;
  }
  const std::string text = read_text(a.file);
  auto loaded = LoadedModel::load(a.model);
  std::shared_ptr<const Model> reference_model;
  if (!a.compare.empty()) reference_model = Model::open(a.compare);
  for (const Model* m : {loaded->model().get(), reference_model.get()}) {
    if (m && a.ctx > m->config().max_position_embeddings) {
      std::fprintf(stderr, "dsmoe perplexity: --ctx %lld is above %s's context (max_position_embeddings %lld)\n",
                   static_cast<long long>(a.ctx), m == reference_model.get() ? a.compare.c_str() : a.model.c_str(),
                   static_cast<long long>(m->config().max_position_embeddings));
      return 2;
    }
  }
  const std::vector<int32_t> tokens = loaded->tokenizer().encode(text);
  if (tokens.size() < 2) {
    throw Error(ErrorCode::kInvalidArgument, a.file + ": " + std::to_string(tokens.size()) +
                                                 " token(s); perplexity needs at least 2");
  }

  SessionOptions opt;
  opt.ctx = a.ctx;
  opt.kv_type = *parse_kv_type(a.kv_type);  // checked while parsing
  opt.threads = a.threads;
  opt.gemm = a.gemm;
  Session session(loaded->model(), opt);
  std::unique_ptr<Session> reference;
  if (reference_model) reference = std::make_unique<Session>(reference_model, opt);

  PerplexityOptions po;
  po.ctx = a.ctx;
  po.stride = a.stride;
  const bool draw = !a.quiet && ::isatty(::fileno(stderr));
  if (draw) {
    po.progress = [](int64_t done, int64_t total) {
      std::fprintf(stderr, "\rperplexity  %lld/%lld windows", static_cast<long long>(done),
                   static_cast<long long>(total));
      std::fflush(stderr);
    };
  }
  const PerplexityReport r = measure_perplexity(session, tokens, po, reference.get());
  if (draw) std::fprintf(stderr, "\r\033[K");
  const int64_t stride = a.stride > 0 ? a.stride : a.ctx / 2;
  if (a.json) print_json(a, stride, r);
  else print_text(a, stride, r);
  return 0;
}

}  // namespace

void add_perplexity(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* sub = app.add_subcommand("perplexity", "Perplexity of a model over a text file (sliding windows)");
  sub->add_option("MODEL", args->model, "A .dsmoe model file (with its tokenizer)")->required();
  sub->add_option("-f,--file", args->file, "The text (UTF-8), tokenized with nothing added")->required();
  sub->add_option("--ctx", args->ctx, "Window length in tokens (default 512)")
      ->check(CLI::Range(int64_t{2}, INT64_MAX));
  sub->add_option("--stride", args->stride, "Tokens between window starts (default ctx/2)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--compare", args->compare,
                  "A reference model (.dsmoe file or Hugging Face folder, same vocabulary): also print the "
                  "mean KL(reference || model) per token and the top-1 agreement");
  sub->add_option("--kv-type", args->kv_type, "KV cache type: f32 (default, exact) or bf16 (as chat/run)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  sub->add_option("--threads", args->threads, "Threads (default: all cores)")->check(CLI::PositiveNumber);
  add_gemm_flag(sub, args->gemm);
  sub->add_flag("--json", args->json, "Print the result as JSON");
  sub->add_flag("-q,--quiet", args->quiet, "No progress line");
  commands.push_back({sub, [args] { return run_perplexity(*args); }});
}

}  // namespace dsmoe::cli
