// Sliding-window perplexity (runtime/perplexity.h): the window protocol, the per-token math, and
// the bundled demo model (models/demo, converted here) against its PyTorch reference and across
// quantization recipes: q8 within 1% of f32, q4 within 5% (docs/quality.md has the full-text numbers).
#include <gtest/gtest.h>

#include <algorithm>  // min
#include <cmath>
#include <cstdio>
#include <cstdlib>  // getenv
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convert/convert.h"       // convert_checkpoint
#include "kernels/onednn_matmul.h"  // OnednnMatmul
#include "runtime/perplexity.h"    // measure_perplexity
#include "support/fixtures.h"      // temp_dir
#include "tokenizer/tokenizer.h"   // Tokenizer
#include "util/error.h"            // Error
#include "util/json.h"             // json::Document

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

const fs::path kDemo = fs::path(DSMOE_SOURCE_DIR) / "models" / "demo";

TEST(PerplexityWindows, FollowTheDemoProtocol) {
  const std::vector<PerplexityWindow> w = perplexity_windows(1000, 512, 256);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].begin, 0);
  EXPECT_EQ(w[0].end, 512);
  EXPECT_EQ(w[0].first_target, 1);
  EXPECT_EQ(w[1].begin, 256);
  EXPECT_EQ(w[1].end, 768);
  EXPECT_EQ(w[1].first_target, 512);
  EXPECT_EQ(w[2].begin, 512);
  EXPECT_EQ(w[2].end, 1000);
  EXPECT_EQ(w[2].first_target, 768);
}

TEST(PerplexityWindows, ScoreEveryTokenButTheFirstExactlyOnce) {
  struct Case { int64_t n, ctx, stride; };
  for (const Case c : {Case{2, 512, 256}, Case{512, 512, 256}, Case{513, 512, 256}, Case{1000, 7, 3},
                       Case{100, 10, 9}, Case{100, 10, 1}, Case{20584, 512, 256}}) {
    SCOPED_TRACE("n " + std::to_string(c.n) + " ctx " + std::to_string(c.ctx) + " stride " + std::to_string(c.stride));
    const std::vector<PerplexityWindow> windows = perplexity_windows(c.n, c.ctx, c.stride);
    std::vector<int> scored(static_cast<size_t>(c.n), 0);
    for (size_t i = 0; i < windows.size(); ++i) {
      const PerplexityWindow& w = windows[i];
      EXPECT_EQ(w.begin, static_cast<int64_t>(i) * c.stride);
      EXPECT_LE(w.end - w.begin, c.ctx);
      EXPECT_GT(w.first_target, w.begin);  // every scored token has at least one token of context
      EXPECT_EQ(w.end == c.n, i + 1 == windows.size()) << "the last window is the first reaching the end";
      for (int64_t t = w.first_target; t < w.end; ++t) ++scored[static_cast<size_t>(t)];
    }
    EXPECT_EQ(scored[0], 0);
    for (int64_t t = 1; t < c.n; ++t) ASSERT_EQ(scored[static_cast<size_t>(t)], 1) << "token " << t;
  }
}

TEST(PerplexityWindows, WithoutOverlapSkipEachWindowsFirstToken) {
  const std::vector<PerplexityWindow> w = perplexity_windows(25, 10, 10);
  ASSERT_EQ(w.size(), 3u);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i].begin, static_cast<int64_t>(10 * i));
    EXPECT_EQ(w[i].first_target, w[i].begin + 1);
  }
  EXPECT_EQ(w[2].end, 25);
}

TEST(PerplexityWindows, RejectBadArguments) {
  EXPECT_THROW(perplexity_windows(1, 512, 256), Error);
  EXPECT_THROW(perplexity_windows(100, 1, 1), Error);
  EXPECT_THROW(perplexity_windows(100, 512, 0), Error);
  EXPECT_THROW(perplexity_windows(100, 512, 513), Error);
}

TEST(PerplexityMath, TokenNllAndKl) {
  const std::vector<float> uniform(8, 3.0f);
  EXPECT_NEAR(token_nll(uniform, 5), std::log(8.0), 1e-12);
  // softmax({0, log 3}) = {1/4, 3/4}; softmax({0, 0}) = {1/2, 1/2}.
  const std::vector<float> p = {0.0f, std::log(3.0f)}, q = {0.0f, 0.0f};
  EXPECT_NEAR(token_nll(p, 1), -std::log(0.75), 1e-7);
  EXPECT_NEAR(kl_divergence(p, q), 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
  EXPECT_EQ(kl_divergence(p, p), 0.0);
  const std::vector<float> huge = {1000.0f, 0.0f};  // no overflow in exp
  EXPECT_NEAR(token_nll(huge, 0), 0.0, 1e-12);
}

TEST(PerplexityMath, MeanAndStandardError) {
  MeanAccumulator m;
  for (double x : {1.0, 2.0, 3.0, 4.0}) m.add(x);
  EXPECT_DOUBLE_EQ(m.mean(), 2.5);
  EXPECT_NEAR(m.standard_error(), std::sqrt((5.0 / 3.0) / 4.0), 1e-12);  // sample variance 5/3
  const NllSummary s = summarize_nll(m);
  EXPECT_NEAR(s.ppl, std::exp(2.5), 1e-9);
  EXPECT_NEAR(s.ppl_se, std::exp(2.5) * m.standard_error(), 1e-9);
}

// The demo checkpoint converted with `quant`, once per test process.
fs::path demo_model(const std::string& quant) {
  const fs::path out = temp_dir() / ("demo-" + quant + ".dsmoe");
  if (!fs::exists(out)) {
    ConvertOptions o;
    o.input = kDemo;
    o.output = out;
    o.quant = quant;
    convert_checkpoint(o);
  }
  return out;
}

Session demo_session(const std::string& quant, int64_t ctx) {
  SessionOptions opt;
  opt.ctx = ctx;
  opt.kv_type = KvType::kF32;
  return Session(Model::load(demo_model(quant)), opt);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// heldout.txt, or its first `lines` lines (each with its newline), tokenized as `dsmoe perplexity`
// does: nothing added.
std::vector<int32_t> heldout_tokens(int lines = -1) {
  std::string text = read_text(kDemo / "heldout.txt");
  if (lines >= 0) {
    size_t end = 0;
    for (int i = 0; i < lines && end < text.size(); ++i) end = std::min(text.find('\n', end), text.size() - 1) + 1;
    text.resize(end);
  }
  return Tokenizer::load(kDemo / "tokenizer.json").encode(text);
}

// models/demo/reference_logits.f32 is PyTorch's float32 forward over the 64 tokens of
// reference_tokens.json: scoring them as one window must give PyTorch's mean NLL.
TEST(DemoPerplexity, F32MatchesPyTorchOnTheReferenceWindow) {
  json::Document doc = json::Document::load(kDemo / "reference_tokens.json");
  std::vector<int32_t> tokens;
  for (json::Element e : json::get_array(doc.root_object(), "token_ids", "reference_tokens.json")) {
    tokens.push_back(static_cast<int32_t>(json::as_int(e, "token_ids")));
  }
  const int64_t vocab = 4096, n = static_cast<int64_t>(tokens.size());
  ASSERT_EQ(n, 64);
  std::vector<float> logits(static_cast<size_t>(n * vocab));
  std::ifstream in(kDemo / "reference_logits.f32", std::ios::binary);
  in.read(reinterpret_cast<char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
  ASSERT_TRUE(in) << "reference_logits.f32: short read";
  MeanAccumulator pytorch;
  for (int64_t t = 1; t < n; ++t) {
    pytorch.add(token_nll(std::span<const float>(logits).subspan(static_cast<size_t>((t - 1) * vocab),
                                                                 static_cast<size_t>(vocab)),
                          tokens[static_cast<size_t>(t)]));
  }

  Session session = demo_session("f32", n);
  PerplexityOptions opt;
  opt.ctx = n;
  const PerplexityReport r = measure_perplexity(session, tokens, opt);
  EXPECT_EQ(r.windows, 1);
  EXPECT_EQ(r.model.scored, n - 1);
  EXPECT_NEAR(r.model.mean_nll, pytorch.mean(), 1e-3);
  std::printf("reference window: dsmoe f32 mean NLL %.6f, PyTorch %.6f\n", r.model.mean_nll, pytorch.mean());
}

// The held-out prefix's PyTorch perplexity: `python3 models/demo/prefix_perplexity.py --lines 50`
// printed "1917 tokens, 1916 scored, NLL 5.424279 ± 0.062683, ppl 226.8477 ± 14.2195" (evaluate.py's
// protocol and model: ctx 512, stride 256, float32 with the exported BF16 weights).
constexpr int kPrefixLines = 50;
constexpr size_t kPrefixTokens = 1917;
constexpr double kPrefixPyTorchPpl = 226.8477;

TEST(DemoPerplexity, QuantizedStaysCloseToF32OnAHeldoutPrefix) {
  const std::vector<int32_t> tokens = heldout_tokens(kPrefixLines);
  ASSERT_EQ(tokens.size(), kPrefixTokens);
  Session f32 = demo_session("f32", 512);
  PerplexityOptions opt;  // ctx 512, stride 256
  PerplexityReport reports[2];
  const char* quants[2] = {"q8", "q4"};
  for (int i = 0; i < 2; ++i) {
    Session s = demo_session(quants[i], 512);
    reports[i] = measure_perplexity(s, tokens, opt, &f32);
    ASSERT_TRUE(reports[i].compared);
  }
  const double f32_ppl = reports[0].comparison.reference.ppl;
  EXPECT_NEAR(f32_ppl, kPrefixPyTorchPpl, 0.005 * kPrefixPyTorchPpl) << "f32 against PyTorch";
  const double bounds[2] = {0.01, 0.05};
  const double max_kl[2] = {0.002, 0.01};  // measured: 0.00015, 0.00067
  for (int i = 0; i < 2; ++i) {
    const PerplexityReport& r = reports[i];
    EXPECT_NEAR(r.model.ppl, f32_ppl, bounds[i] * f32_ppl) << quants[i];
    EXPECT_LT(r.comparison.mean_kl, max_kl[i]) << quants[i];
    EXPECT_GT(r.comparison.top1_agreement, i == 0 ? 0.98 : 0.95) << quants[i];  // measured: 0.996, 0.987
    std::printf("%zu tokens: f32 ppl %.3f (PyTorch %.3f); %s ppl %.3f (%+.2f%%), mean KL %.5f, top-1 %.4f\n",
                tokens.size(), f32_ppl, kPrefixPyTorchPpl, quants[i], r.model.ppl,
                100.0 * (r.model.ppl / f32_ppl - 1.0), r.comparison.mean_kl, r.comparison.top1_agreement);
  }
}

// The bf16 demo model's prompt products through oneDNN (the default, Gemm::kOnednn) against the
// native kernels: the same model, so the same perplexity up to the rounding of the activations.
TEST(DemoPerplexity, OnednnPromptProductsMatchTheNativeKernels) {
  if (!OnednnMatmul::available()) GTEST_SKIP() << "this build has no oneDNN";
  const std::vector<int32_t> tokens = heldout_tokens(20);
  SessionOptions opt;
  opt.ctx = 512;
  opt.kv_type = KvType::kF32;
  auto model = Model::load(demo_model("bf16"));
  Session onednn(model, opt);
  opt.gemm = Gemm::kNative;
  Session native(model, opt);
  const PerplexityReport r = measure_perplexity(onednn, tokens, PerplexityOptions{}, &native);
  ASSERT_TRUE(r.compared);
  const double ppl = r.model.ppl, native_ppl = r.comparison.reference.ppl;
  std::printf("%zu tokens, bf16: oneDNN ppl %.4f, native %.4f, mean KL %.2e, top-1 %.4f\n", tokens.size(), ppl,
              native_ppl, r.comparison.mean_kl, r.comparison.top1_agreement);
  EXPECT_GT(r.comparison.mean_kl, 0.0) << "identical logits: oneDNN never ran";
  EXPECT_LT(r.comparison.mean_kl, 1e-4);
  EXPECT_GT(r.comparison.top1_agreement, 0.99);
  EXPECT_NEAR(ppl, native_ppl, 0.002 * native_ppl);
}

// The docs/quality.md measurement: the whole held-out text against eval.json (PyTorch, within
// 0.5%). About 40k token evaluations, too long for every CI run (and under ASan): runs only with
// DSMOE_FULL_PERPLEXITY=1.
TEST(DemoPerplexity, FullHeldoutMatchesPyTorch) {
  const char* env = std::getenv("DSMOE_FULL_PERPLEXITY");
  if (!env || std::string(env) != "1") GTEST_SKIP() << "set DSMOE_FULL_PERPLEXITY=1 to run";
  json::Document eval = json::Document::load(kDemo / "eval.json");
  const json::Object heldout = json::get_object(eval.root_object(), "heldout", "eval.json");
  const double want = json::get_double(heldout, "ppl", "eval.json");
  const std::vector<int32_t> tokens = heldout_tokens();
  EXPECT_EQ(static_cast<int64_t>(tokens.size()), json::get_int(heldout, "tokens", "eval.json"));
  Session session = demo_session("f32", 512);
  const PerplexityReport r = measure_perplexity(session, tokens, PerplexityOptions{});
  EXPECT_EQ(r.model.scored, json::get_int(heldout, "scored", "eval.json"));
  EXPECT_NEAR(r.model.ppl, want, 0.005 * want);
  EXPECT_NEAR(r.model.ppl_se, json::get_double(heldout, "ppl_se", "eval.json"), 0.01);
  std::printf("held-out: dsmoe f32 ppl %.3f ± %.3f, PyTorch %.3f\n", r.model.ppl, r.model.ppl_se, want);
}

}  // namespace
}  // namespace dsmoe::test
