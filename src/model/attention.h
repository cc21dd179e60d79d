#pragma once
// The attention blocks. Each reads the normalized input s.xn of n tokens at positions
// [pos, pos + n), appends their keys to the cache, attends causally over positions [0, pos + i],
// and writes the block output to s.y.
#include <cstdint>

#include "model/config.h"    // ModelConfig
#include "model/kv_cache.h"  // KvCache
#include "model/rope.h"      // RopeFreqs
#include "model/scratch.h"   // Scratch
#include "model/weights.h"   // LayerWeights

namespace dsmoe {

// How multi-head latent attention uses the cached latent c_t (kv_lora_rank values per position):
//   absorbed  q_nope is moved into the latent space (q · W_UK), scores and the weighted sum run on
//             c_t directly, and W_UV is applied once to the result: no per-position expansion.
//   expanded  every cached c_t is expanded into k_nope = W_UK c_t and v = W_UV c_t per head, then
//             ordinary attention. The same numbers, associated differently.
enum class MlaForm { kAbsorbed, kExpanded };

struct AttentionArgs {
  const ModelConfig& c;
  const LayerWeights& w;
  const RopeFreqs& rope;
  int64_t layer;
  int64_t pos;  // position of the first token
  int64_t n;    // tokens
};

// Whether the expanded form is cheaper than the absorbed one for n new tokens after pos cached
// positions, by multiply-adds weighted with their measured speed. Per head, expanded recomputes
// K_nope and V of every position, (pos + n) (nope + v) kv_lora_rank, then scores and sums over
// the narrow rows (nope + rope, v); absorbed pays, per token and position it sees, the latent
// width twice (kv width to score, kv_lora_rank to sum), plus W_UK and W_UV once per token. Long
// chunks near the start favour expanded; anything after a long cached context, absorbed.
bool mla_expanded_cheaper(const ModelConfig& c, int64_t pos, int64_t n);
// Multi-head latent attention (DeepSeek-V2/V3).
void mla_attention(const AttentionArgs& a, MlaForm form, KvCache& cache, Scratch& s) noexcept;
// Multi-head (grouped-query) attention with Llama RoPE (DeepSeekMoE 16B).
void mha_attention(const AttentionArgs& a, KvCache& cache, Scratch& s) noexcept;

}  // namespace dsmoe
