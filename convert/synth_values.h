#pragma once
// Deterministic pseudo-random weights at realistic scales for synthetic models. Element i of a
// tensor depends only on (seed, tensor name, i) through a counter-based hash, so any row range can
// be generated independently, in parallel, in any order, and twice with the same result.
#include <cstdint>

#include "model/schema.h"  // TensorSpec

namespace dsmoe {

struct SynthScale {
  float mean = 0.0f;
  float std = 0.02f;
};

// Matrices: mean 0, std 0.02 (the usual initializer range). Norms: mean 1, std 0.05. Router
// weights: std 0.02; the V3 expert bias: std 0.001.
SynthScale synth_scale(const TensorSpec& t);

// Rows [r0, r1) of `t` into out (row-major; a 1-D tensor is one row). Values are approximately
// normal (Irwin-Hall sum of four uniforms, bounded at 3.46 std), scaled by synth_scale(t).
void synth_rows(const TensorSpec& t, uint64_t seed, int64_t r0, int64_t r1, float* out) noexcept;

}  // namespace dsmoe
