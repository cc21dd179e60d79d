// The sampler chain (see sampler.h for the order and why candidate orders are total).
#include "sample/sampler.h"

#include <algorithm>  // nth_element, sort, min
#include <cmath>      // exp, isfinite
#include <string>     // to_string

#include "util/check.h"  // DSMOE_CHECK
#include "util/error.h"  // Error

namespace dsmoe {

namespace {

void require(bool ok, const char* field, const std::string& expected, double value) {
  if (!ok) {
    throw Error(ErrorCode::kInvalidArgument, std::string("sampling parameter ") + field +
                                                 " must be " + expected + ", got " +
                                                 std::to_string(value));
  }
}

}  // namespace

void SamplerParams::validate() const {
  require(std::isfinite(temperature), "temperature", "a finite number", temperature);
  require(top_k >= 0, "top_k", ">= 0 (0 turns it off)", top_k);
  require(top_p > 0.0f && top_p <= 1.0f, "top_p", "in (0, 1] (1 turns it off)", top_p);
  require(min_p >= 0.0f && min_p <= 1.0f, "min_p", "in [0, 1] (0 turns it off)", min_p);
  require(std::isfinite(repeat_penalty) && repeat_penalty > 0.0f, "repeat_penalty",
          "a positive number (1 turns it off)", repeat_penalty);
  require(std::isfinite(presence_penalty), "presence_penalty", "a finite number",
          presence_penalty);
  require(penalty_window >= 0 && penalty_window <= (1 << 20), "penalty_window",
          "in [0, 1048576]", penalty_window);
}

Sampler::Sampler(int32_t vocab_size, const SamplerParams& params) : vocab_size_(vocab_size) {
  if (vocab_size <= 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "sampler: vocabulary size must be positive, got " + std::to_string(vocab_size));
  }
  params.validate();
  params_ = params;
  rng_.reseed(params.seed);
  cands_.resize(static_cast<size_t>(vocab_size));
  kept_.resize(static_cast<size_t>(vocab_size));
  seen_.assign(static_cast<size_t>(vocab_size), 0);
  window_.resize(static_cast<size_t>(params.penalty_window));
}

void Sampler::set_params(const SamplerParams& params) {
  params.validate();
  if (params.penalty_window != params_.penalty_window) {
    // Keep the most recent tokens that still fit, oldest first.
    std::vector<int32_t> recent;
    for (size_t i = 0; i < window_count_; ++i) {
      recent.push_back(window_[(window_next_ + window_.size() - window_count_ + i) % window_.size()]);
    }
    window_.assign(static_cast<size_t>(params.penalty_window), 0);
    window_next_ = window_count_ = 0;
    const size_t skip = recent.size() > window_.size() ? recent.size() - window_.size() : 0;
    for (size_t i = skip; i < recent.size(); ++i) accept(recent[i]);
  }
  if (params.seed != params_.seed) rng_.reseed(params.seed);
  params_ = params;
}

void Sampler::reset() noexcept {
  window_next_ = window_count_ = 0;
  rng_.reseed(params_.seed);
}

void Sampler::accept(int32_t token) noexcept {
  if (window_.empty() || token < 0 || token >= vocab_size_) return;
  window_[window_next_] = token;
  window_next_ = (window_next_ + 1) % window_.size();
  window_count_ = std::min(window_count_ + 1, window_.size());
}

int32_t Sampler::sample(std::span<const float> logits) noexcept {
  DSMOE_CHECK(logits.size() == static_cast<size_t>(vocab_size_));
  for (int32_t i = 0; i < vocab_size_; ++i) cands_[static_cast<size_t>(i)] = {logits[static_cast<size_t>(i)], 0.0f, i};
  n_ = static_cast<size_t>(vocab_size_);
  apply_penalties();
  if (params_.temperature <= 0.0f) return argmax();

  const float inv_t = 1.0f / params_.temperature;
  for (size_t i = 0; i < n_; ++i) cands_[i].logit *= inv_t;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n_) keep_top_k(params_.top_k);
  const double total = compute_probs();
  if (params_.top_p < 1.0f) {
    keep_top_p(total);
  } else if (params_.min_p > 0.0f) {
    keep_at_least(params_.min_p);
  }
  return draw();
}

void Sampler::apply_penalties() noexcept {
  const bool repeat = params_.repeat_penalty != 1.0f;
  const bool presence = params_.presence_penalty != 0.0f;
  if ((!repeat && !presence) || window_count_ == 0) return;
  if (++stamp_ == 0) {  // wrapped: forget old stamps
    std::fill(seen_.begin(), seen_.end(), 0u);
    stamp_ = 1;
  }
  for (size_t i = 0; i < window_count_; ++i) {
    const int32_t t = window_[i];
    if (seen_[static_cast<size_t>(t)] == stamp_) continue;  // each token is penalized once
    seen_[static_cast<size_t>(t)] = stamp_;
    float& l = cands_[static_cast<size_t>(t)].logit;  // candidates are still in id order here
    if (repeat) l = l > 0.0f ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    l -= params_.presence_penalty;
  }
}

int32_t Sampler::argmax() const noexcept {
  size_t best = 0;
  for (size_t i = 1; i < n_; ++i) {
    if (cands_[i].logit > cands_[best].logit) best = i;  // ties keep the lowest id
  }
  return cands_[best].id;
}

void Sampler::keep_top_k(int32_t k) noexcept {
  const auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  };
  const auto first = cands_.begin();
  std::nth_element(first, first + k, first + static_cast<ptrdiff_t>(n_), by_logit);
  std::sort(first, first + k, by_logit);
  n_ = static_cast<size_t>(k);
}

double Sampler::compute_probs() noexcept {
  float max_logit = cands_[0].logit;
  for (size_t i = 1; i < n_; ++i) max_logit = std::max(max_logit, cands_[i].logit);
  double total = 0.0;
  for (size_t i = 0; i < n_; ++i) {
    cands_[i].p = std::exp(cands_[i].logit - max_logit);
    total += cands_[i].p;
  }
  return total;
}

void Sampler::keep_at_least(float threshold) noexcept {
  size_t m = 0;
  for (size_t i = 0; i < n_; ++i) {
    if (cands_[i].p >= threshold) kept_[m++] = cands_[i];
  }
  std::copy(kept_.begin(), kept_.begin() + static_cast<ptrdiff_t>(m), cands_.begin());
  n_ = m;
}

// Keeps the smallest set of most likely tokens whose probability reaches top_p, intersected with
// the min-p set (both are prefixes of the sorted order). Sorting the whole vocabulary would cost
// milliseconds per token, so only tokens above a threshold are sorted: if their mass already
// reaches top_p the answer lies among them; otherwise the threshold is lowered and tried again.
void Sampler::keep_top_p(double total) noexcept {
  const double target = static_cast<double>(params_.top_p) * total;
  const float min_p = params_.min_p;
  float t = min_p > 0.0f ? min_p : 1e-4f;
  for (;;) {
    size_t m = 0;
    double mass = 0.0;
    for (size_t i = 0; i < n_; ++i) {
      if (cands_[i].p >= t) {
        kept_[m++] = cands_[i];
        mass += cands_[i].p;
      }
    }
    const bool enough = mass >= target;
    if (enough || min_p > 0.0f || t == 0.0f) {
      const auto first = kept_.begin();
      std::sort(first, first + static_cast<ptrdiff_t>(m), [](const Candidate& a, const Candidate& b) {
        return a.p != b.p ? a.p > b.p : a.id < b.id;
      });
      size_t keep = m;
      if (enough) {
        double cum = 0.0;
        for (keep = 0; keep < m && cum < target; ++keep) cum += kept_[keep].p;
      }
      std::copy(first, first + static_cast<ptrdiff_t>(keep), cands_.begin());
      n_ = keep;
      return;
    }
    t = t > 1e-30f ? t * 1e-4f : 0.0f;
  }
}

int32_t Sampler::draw() noexcept {
  double total = 0.0;
  for (size_t i = 0; i < n_; ++i) total += cands_[i].p;
  const double u = rng_.next_double() * total;
  double cum = 0.0;
  for (size_t i = 0; i < n_; ++i) {
    cum += cands_[i].p;
    if (u < cum) return cands_[i].id;
  }
  return cands_[n_ - 1].id;
}

}  // namespace dsmoe
