#pragma once
// The fast path of the feed-forward blocks: every expert a MoE layer runs for its tokens (shared
// and routed), or the one dense MLP, in a single OpenMP parallel region with one barrier:
//   phase 1  gate and up of all experts, SiLU·mul, and the hidden activation quantized for down.
//            The experts' rows are laid end to end and cut into one contiguous, equally costly
//            slice per thread (cost of a row = its gate and up bytes × the expert's tokens), so
//            every thread streams disjoint weights and none waits on a small expert; whole
//            experts go to one thread wherever the cuts allow.
//   phase 2  down: each thread owns a slice of the output rows and, expert after expert,
//            accumulates weight × result straight into y, so the weighted sum needs no extra
//            pass and no reduction.
// A prompt (several tokens) whose experts are f32/bf16 and prepared in Scratch::onednn runs each
// expert's three products as oneDNN matmuls instead, one expert after another (Gemm::kOnednn).
#include <cstdint>

#include "model/linear.h"   // Acts
#include "model/weights.h"  // FfnWeights

namespace dsmoe {

struct Scratch;

// One expert's share of a call: `count` tokens through the MLP `w`.
struct ExpertJob {
  const FfnWeights* w = nullptr;
  int64_t count = 0;
  // (token * k + rank) of each of the count tokens, whose routing weight is s.topk_weights[slot];
  // nullptr: tokens 0..count-1 with weight 1 (shared experts, dense MLP).
  const int32_t* slots = nullptr;
  Acts x;                  // [count, hidden] input of gate and up
  float* gate = nullptr;   // [count, ffn] gate, then the hidden activation silu(gate) * up
  float* up = nullptr;     // [count, ffn]
  QActBlock* hq = nullptr; // [count, act_blocks(ffn)] the hidden activation as q8 (q8/q4 down)
  int64_t cost_before = 0; // phase-1 cost of the jobs before this one
};

// y[token] = sum over s.expert_jobs[0..jobs) of weight × expert(x): y is [n, hidden], written in
// full (tokens no job names get zeros). The jobs' inputs are ready; k is num_experts_per_tok (to
// find a slot's token). Must not be called from inside a parallel region.
void run_experts(Scratch& s, int64_t jobs, int64_t n, int64_t hidden, int64_t k, float* y) noexcept;

// The dense MLP on the fast path: y = down(silu(gate x) * up x) for n tokens of x [n, hidden].
void ffn_fast(const FfnWeights& w, const float* x, int64_t n, float* y, Scratch& s) noexcept;

}  // namespace dsmoe
