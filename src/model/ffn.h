#pragma once
// Feed-forward blocks: the SwiGLU MLP (dense layers, shared experts, each routed expert) and the
// mixture of experts.
#include <cstdint>

#include "model/config.h"   // ModelConfig
#include "model/scratch.h"  // Scratch
#include "model/weights.h"  // FfnWeights, LayerWeights

namespace dsmoe {

// Sees every routing decision (tests, tools). Called from the forward pass, in token order.
class RoutingObserver {
 public:
  virtual ~RoutingObserver() = default;
  virtual void on_route(int64_t layer, int64_t pos, const int32_t* experts, const float* weights,
                        int64_t k) = 0;
};

// y = down(silu(gate x) * up x) for n tokens: x [n, w.gate.cols], y [n, w.down.rows].
// Uses s.gate and s.up.
void ffn(const FfnWeights& w, const float* x, int64_t n, float* y, Scratch& s) noexcept;

// Asks the OS to read a routed expert's weights ahead (its first use; see Model::load).
void prefetch_expert(const FfnWeights& w) noexcept;

// DeepSeekMoE: s.y = sum over the chosen experts of weight * expert(s.xn) + shared(s.xn), for n
// tokens at positions [pos, pos + n). Tokens are grouped by expert so that each expert's weights
// are read once per call; only chosen experts are touched. Marks s.expert_used and
// prefetches an expert the first time it runs.
void moe_ffn(const ModelConfig& c, const LayerWeights& w, int64_t layer, int64_t pos, int64_t n,
             Scratch& s, RoutingObserver* observer) noexcept;

}  // namespace dsmoe
