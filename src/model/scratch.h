#pragma once
// Every activation buffer of the forward pass, allocated once for at most `max_batch` tokens per
// forward call and `ctx` positions, so that evaluating tokens never allocates. Shapes are in the
// comments (B = max_batch, T = threads). It lives in model/ because the forward blocks use it;
// runtime::Session owns one.
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernels.h"  // KernelTable, QActBlock
#include "model/config.h"     // ModelConfig
#include "model/experts.h"    // ExpertJob
#include "model/linear.h"     // Kernels, LinearScratch

namespace dsmoe {

// Absorbed MLA sums the attention output over blocks of this many cached positions, one block per
// thread at a time, then adds the blocks in order (deterministic for any thread count).
inline constexpr int64_t kMlaPositionBlock = 256;
// Expanded MLA on the kernels scores this many queries of a head at a time against each expanded
// position (the position's K and V rows are read once per block).
inline constexpr int64_t kMlaQueryBlock = 8;

struct Scratch {
  // threads: OpenMP threads the blocks use (0: omp_get_max_threads()). expanded_mla: also size
  // the buffers of the expanded MLA form. kernels: the path of matrix and vector products.
  Scratch(const ModelConfig& c, int64_t max_batch, int64_t ctx, int threads, bool expanded_mla,
          Kernels kernels = Kernels::kFast);

  int64_t max_batch, ctx;
  int threads;
  const KernelTable* fast = nullptr;  // the kernel table on the fast path; nullptr: reference
  std::unique_ptr<OnednnMatmul> onednn;  // fast, Gemm::kOnednn, prepared for the model's shapes

  std::vector<float> x;       // [B, hidden] the residual stream
  std::vector<float> xn;      // [B, hidden] normalized input of a block
  std::vector<float> y;       // [B, hidden] output of a block
  std::vector<float> cs;      // [B, rope_dim] cos | sin of each token's position
  std::vector<float> rows;    // [T, max cols] dequantized weight rows (reference linear, MLA)
  std::vector<QActBlock> act; // fast: [B, act_blocks(max cols)] linear()'s input as q8
  std::vector<float> logits;  // [vocab] of the last token

  // Attention.
  std::vector<float> q_a;     // [B, q_lora_rank]
  std::vector<float> q;       // [B, heads * qk_head_dim] (MHA: heads * head_dim)
  std::vector<float> kv;      // [B, kv width]: what goes into the cache for each token
  std::vector<float> q_lat;   // [B, heads, kv width] q_nope with W_UK absorbed | rotated q_pe
  std::vector<float> o_lat;   // [B, heads, kv_lora_rank] attention output in the latent space
  std::vector<float> head_scores;  // [heads, ctx] absorbed MLA: every head's scores of one token
  std::vector<float> o_part;       // [ctx / kMlaPositionBlock, heads, kv_lora_rank] absorbed MLA: partial o_lat per block
  std::vector<float> kv_rows;      // [T, min(ctx, kMlaPositionBlock), kv width] absorbed MLA: a block of cache rows as f32
  std::vector<float> attn;    // [B, heads * v_head_dim] (MHA: heads * head_dim)
  std::vector<float> scores;  // [T, ctx] attention probabilities of one (token, head)
  std::vector<float> kv_tmp;  // [T, kv width] a bf16 cache row converted to f32
  std::vector<float> kv_exp;  // [T, ctx, qk_nope_head_dim + v_head_dim] expanded K_nope | V of one head
  // Fast MLA path (mla.cpp).
  std::vector<float> lat;        // expanded: [ctx, kv width] the layer's cached rows converted from bf16
  std::vector<QActBlock> lat_q;  // absorbed: [B * heads, act_blocks(kv_lora_rank)] o_lat as q8, head by head
  std::vector<float> head_w;     // expanded: [T, qk_nope_head_dim + v_head_dim, kv_lora_rank] one head's kv_b rows
  std::vector<float> block_scores;  // expanded: [T, kMlaQueryBlock, ctx] one query block's scores

  // Feed-forward.
  std::vector<float> gate, up;  // [B, max FFN width]; fast: [B, widest layer's total expert width]

  // Mixture of experts.
  std::vector<float> router_logits;   // [B, n_routed_experts]
  std::vector<int32_t> topk_ids;      // [B, k]
  std::vector<float> topk_weights;    // [B, k]
  std::vector<float> router_scores;   // [n_routed_experts]
  std::vector<float> router_select;   // [n_routed_experts]
  std::vector<float> router_groups;   // [n_group]
  std::vector<int32_t> expert_start;  // [n_routed_experts + 1] offsets into expert_slots
  std::vector<int32_t> expert_fill;   // [n_routed_experts]
  std::vector<int32_t> expert_slots;  // [B * k] (token index * k + rank), grouped by expert
  std::vector<float> xe, ye;          // [B, hidden] one expert's gathered inputs and outputs
  std::vector<uint8_t> expert_used;   // [layers, n_routed_experts] 1 once an expert ran (stats)

  // Fast feed-forward path (experts.h).
  std::vector<ExpertJob> expert_jobs;  // [n_routed_experts + 1] (1 without experts: the dense MLP)
  std::vector<QActBlock> xq;           // [B * k, act_blocks(hidden)] routed experts' gathered inputs
  std::vector<float> xg;               // [B * k, hidden] the same in f32 (f32/bf16 experts)
  std::vector<QActBlock> hq;           // [B, all experts' act_blocks(ffn)] hidden activations as q8
  std::vector<float> down_out;         // [T, B, hidden] each thread's down results before weighting

  LinearScratch linear_scratch() {
    return {fast, onednn.get(), act.data(), rows.data(), rows_width, threads};
  }
  int64_t rows_width = 0;
};

}  // namespace dsmoe
