#pragma once
// Perplexity over a long token sequence with sliding windows (`dsmoe perplexity`), and how far a
// model's next-token distributions are from a reference model's on the same windows (mean KL
// divergence, top-1 agreement): how quantization quality is measured (docs/quality.md).
//
// Protocol (the same as models/demo/evaluate.py): windows of up to `ctx` tokens start at 0,
// stride, 2*stride, ...; each is a fresh forward at positions 0..len-1 (Session::reset + eval_all,
// the forward pass generation uses). Window [s, e) scores the targets t in
// [max(s + 1, end of the previous window), e) from the logits at t - 1; the last window is the first
// that reaches the end. With stride < ctx, every token but the first is scored exactly once; with
// stride == ctx (windows that do not overlap) the first token of each window has no context and is
// not scored.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/session.h"  // Session

namespace dsmoe {

struct PerplexityWindow {
  int64_t begin = 0;  // tokens [begin, end) are evaluated
  int64_t end = 0;
  int64_t first_target = 0;  // targets [first_target, end) are scored
};

// The windows over `n_tokens` tokens (n_tokens >= 2, ctx >= 2, 1 <= stride <= ctx; otherwise
// Error(kInvalidArgument)).
std::vector<PerplexityWindow> perplexity_windows(int64_t n_tokens, int64_t ctx, int64_t stride);

// Mean of per-token values with its standard error (sample std / sqrt(n)).
class MeanAccumulator {
 public:
  void add(double x);
  int64_t count() const { return n_; }
  double mean() const { return n_ ? mean_ : 0.0; }
  double standard_error() const;  // 0 for fewer than two values

 private:
  int64_t n_ = 0;
  double mean_ = 0, m2_ = 0;  // Welford's running mean and sum of squared deviations
};

// -log softmax(logits)[target], computed in double.
double token_nll(std::span<const float> logits, int32_t target);

// KL(softmax(reference) || softmax(model)) in nats, computed in double.
double kl_divergence(std::span<const float> reference, std::span<const float> model);

struct NllSummary {
  int64_t scored = 0;
  double mean_nll = 0, mean_nll_se = 0;
  double ppl = 0, ppl_se = 0;  // exp(mean_nll) and ppl * mean_nll_se (delta method)
};
NllSummary summarize_nll(const MeanAccumulator& nll);

struct PerplexityOptions {
  int64_t ctx = 512;
  int64_t stride = 0;  // 0: ctx / 2
  // Called after each window with (windows done, windows in all).
  std::function<void(int64_t, int64_t)> progress;
};

struct Comparison {
  NllSummary reference;       // the reference model's own perplexity
  double mean_kl = 0;         // mean KL(reference || model) per scored position, nats
  double mean_kl_se = 0;
  double top1_agreement = 0;  // share of scored positions where both argmax logits agree
};

struct PerplexityReport {
  int64_t tokens = 0;
  int64_t windows = 0;
  NllSummary model;
  bool compared = false;
  Comparison comparison;  // when `compared`
};

// Scores `tokens` with `session` (whose context must hold ctx positions; its state is lost).
// With a `reference` session (same vocabulary), also compares the two models' distributions at
// every scored position. Throws Error(kInvalidArgument) for fewer than two tokens, a bad ctx or
// stride, a session context below ctx or differing vocabularies, and what Session::eval_all throws
// (kOutOfRange for an id outside the vocabulary).
PerplexityReport measure_perplexity(Session& session, std::span<const int32_t> tokens,
                                    const PerplexityOptions& options, Session* reference = nullptr);

}  // namespace dsmoe
