#pragma once
// The sampler chain that turns one position's logits into a token. Order (as Hugging Face's
// generate applies its processors): repetition and presence penalties over a window of recent
// tokens → temperature (0 means greedy) → top-k → top-p → min-p → a draw from the seeded Rng.
// Every buffer is sized to the vocabulary once, so sample() never allocates. Candidate orders are
// total (probability, then id), so a seed gives the same tokens with any standard library.
#include <cstdint>
#include <span>
#include <vector>

#include "sample/rng.h"  // Rng

namespace dsmoe {

struct SamplerParams {
  float temperature = 0.8f;      // <= 0: greedy (argmax after penalties)
  int32_t top_k = 40;            // <= 0: off
  float top_p = 0.95f;           // >= 1: off
  float min_p = 0.05f;           // <= 0: off; keeps tokens with p >= min_p * p_max
  float repeat_penalty = 1.0f;   // 1: off; CTRL-style (positive logits divided, negative multiplied)
  float presence_penalty = 0.0f; // 0: off; subtracted once from every token in the window
  int32_t penalty_window = 64;   // how many recent tokens the penalties look at
  uint64_t seed = 0;

  // Throws Error(kInvalidArgument) naming the field for out-of-range values (NaN, negative
  // temperature is allowed and means greedy, top_p outside (0, 1], ...).
  void validate() const;
};

class Sampler {
 public:
  Sampler(int32_t vocab_size, const SamplerParams& params);

  // Replaces the parameters; the Rng is reseeded only when the seed changes.
  void set_params(const SamplerParams& params);
  const SamplerParams& params() const { return params_; }
  int32_t vocab_size() const { return vocab_size_; }

  // Clears the penalty window and reseeds with params().seed: the next draws repeat from the start.
  void reset() noexcept;

  // Picks a token from `logits` (vocab_size values, not modified). Does not add it to the window:
  // call accept() with whatever token is actually appended (the prompt's tokens too).
  int32_t sample(std::span<const float> logits) noexcept;
  void accept(int32_t token) noexcept;

 private:
  struct Candidate {
    float logit;  // after penalties and temperature
    float p;      // unnormalized probability exp(logit - max)
    int32_t id;
  };
  void apply_penalties() noexcept;
  int32_t argmax() const noexcept;
  void keep_top_k(int32_t k) noexcept;
  double compute_probs() noexcept;  // fills p for the first n_ candidates, returns their sum
  void keep_at_least(float threshold) noexcept;
  void keep_top_p(double total) noexcept;
  int32_t draw() noexcept;

  int32_t vocab_size_;
  SamplerParams params_;
  Rng rng_;
  std::vector<Candidate> cands_;  // [vocab]; the first n_ are live
  std::vector<Candidate> kept_;   // [vocab]; scratch for filtering
  size_t n_ = 0;
  std::vector<int32_t> window_;   // ring buffer of the last penalty_window accepted tokens
  size_t window_next_ = 0;
  size_t window_count_ = 0;
  std::vector<uint32_t> seen_;    // [vocab]; stamp per token, to penalize each token once
  uint32_t stamp_ = 0;
};

}  // namespace dsmoe
