#include "runtime/perplexity.h"

#include <algorithm>  // max, min, max_element
#include <cmath>      // exp, log, sqrt
#include <string>

#include "util/error.h"  // Error

namespace dsmoe {
namespace {

// log(sum(exp(x))) in double, shifted by the maximum so that nothing overflows.
double log_sum_exp(std::span<const float> x) {
  const double m = *std::max_element(x.begin(), x.end());
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v) - m);
  return m + std::log(s);
}

int64_t argmax(std::span<const float> x) {
  return std::max_element(x.begin(), x.end()) - x.begin();
}

}  // namespace

std::vector<PerplexityWindow> perplexity_windows(int64_t n_tokens, int64_t ctx, int64_t stride) {
  if (n_tokens < 2) {
    throw Error(ErrorCode::kInvalidArgument,
                "perplexity needs at least 2 tokens, got " + std::to_string(n_tokens));
  }
  if (ctx < 2) throw Error(ErrorCode::kInvalidArgument, "ctx must be at least 2, got " + std::to_string(ctx));
  if (stride < 1 || stride > ctx) {
    throw Error(ErrorCode::kInvalidArgument, "stride must be in [1, ctx " + std::to_string(ctx) + "], got " +
                                                 std::to_string(stride));
  }
  std::vector<PerplexityWindow> windows;
  int64_t previous_end = 0;
  for (int64_t begin = 0;; begin += stride) {
    const int64_t end = std::min(begin + ctx, n_tokens);
    windows.push_back({begin, end, std::max(begin + 1, previous_end)});
    previous_end = end;
    if (end == n_tokens) break;
  }
  return windows;
}

void MeanAccumulator::add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
}

double MeanAccumulator::standard_error() const {
  if (n_ < 2) return 0.0;
  const double variance = m2_ / static_cast<double>(n_ - 1);
  return std::sqrt(variance / static_cast<double>(n_));
}

double token_nll(std::span<const float> logits, int32_t target) {
  return log_sum_exp(logits) - static_cast<double>(logits[static_cast<size_t>(target)]);
}

double kl_divergence(std::span<const float> reference, std::span<const float> model) {
  const double lse_ref = log_sum_exp(reference), lse_model = log_sum_exp(model);
  double kl = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double log_p = static_cast<double>(reference[i]) - lse_ref;
    const double log_q = static_cast<double>(model[i]) - lse_model;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return std::max(kl, 0.0);  // rounding can leave a tiny negative sum for equal distributions
}

NllSummary summarize_nll(const MeanAccumulator& nll) {
  NllSummary s;
  s.scored = nll.count();
  s.mean_nll = nll.mean();
  s.mean_nll_se = nll.standard_error();
  s.ppl = std::exp(s.mean_nll);
  s.ppl_se = s.ppl * s.mean_nll_se;
  return s;
}

PerplexityReport measure_perplexity(Session& session, std::span<const int32_t> tokens,
                                    const PerplexityOptions& options, Session* reference) {
  const int64_t ctx = options.ctx;
  const int64_t stride = options.stride > 0 ? options.stride : ctx / 2;
  const std::vector<PerplexityWindow> windows =
      perplexity_windows(static_cast<int64_t>(tokens.size()), ctx, stride);
  const int64_t longest = std::min<int64_t>(ctx, static_cast<int64_t>(tokens.size()));
  const int64_t vocab = session.model().config().vocab_size;
  for (const Session* s : {static_cast<const Session*>(&session), static_cast<const Session*>(reference)}) {
    if (s && s->ctx() < longest) {
      throw Error(ErrorCode::kInvalidArgument, "the session's context (" + std::to_string(s->ctx()) +
                                                   ") is shorter than the window (" + std::to_string(longest) + ")");
    }
  }
  if (reference && reference->model().config().vocab_size != vocab) {
    throw Error(ErrorCode::kInvalidArgument,
                "the reference model's vocabulary (" + std::to_string(reference->model().config().vocab_size) +
                    ") differs from the model's (" + std::to_string(vocab) + ")");
  }

  std::vector<float> logits(static_cast<size_t>(longest * vocab));
  std::vector<float> ref_logits(reference ? logits.size() : 0);
  MeanAccumulator nll, ref_nll, kl;
  int64_t agree = 0;
  int64_t done = 0;
  for (const PerplexityWindow& w : windows) {
    const std::span<const int32_t> window = tokens.subspan(static_cast<size_t>(w.begin),
                                                           static_cast<size_t>(w.end - w.begin));
    const size_t used = window.size() * static_cast<size_t>(vocab);
    session.reset();
    session.eval_all(window, std::span<float>(logits).first(used));
    if (reference) {
      reference->reset();
      reference->eval_all(window, std::span<float>(ref_logits).first(used));
    }
    for (int64_t t = w.first_target; t < w.end; ++t) {
      const size_t row = static_cast<size_t>((t - 1 - w.begin) * vocab);
      const std::span<const float> got(logits.data() + row, static_cast<size_t>(vocab));
      const int32_t target = tokens[static_cast<size_t>(t)];
      nll.add(token_nll(got, target));
      if (reference) {
        const std::span<const float> want(ref_logits.data() + row, static_cast<size_t>(vocab));
        ref_nll.add(token_nll(want, target));
        kl.add(kl_divergence(want, got));
        agree += argmax(want) == argmax(got);
      }
    }
    if (options.progress) options.progress(++done, static_cast<int64_t>(windows.size()));
  }

  PerplexityReport r;
  r.tokens = static_cast<int64_t>(tokens.size());
  r.windows = static_cast<int64_t>(windows.size());
  r.model = summarize_nll(nll);
  if (reference) {
    r.compared = true;
    r.comparison.reference = summarize_nll(ref_nll);
    r.comparison.mean_kl = kl.mean();
    r.comparison.mean_kl_se = kl.standard_error();
    r.comparison.top1_agreement = static_cast<double>(agree) / static_cast<double>(nll.count());
  }
  return r;
}

}  // namespace dsmoe
