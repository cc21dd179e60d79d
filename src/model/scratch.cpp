#include "model/scratch.h"

#include <omp.h>

#include <algorithm>  // max, min

namespace dsmoe {
namespace {
size_t sz(int64_t a, int64_t b = 1, int64_t c = 1) { return static_cast<size_t>(a * b * c); }
}  // namespace

Scratch::Scratch(const ModelConfig& c, int64_t max_batch_, int64_t ctx_, int threads_, bool expanded_mla,
                 Kernels kernels_)
    : max_batch(max_batch_), ctx(ctx_), threads(threads_ > 0 ? threads_ : omp_get_max_threads()),
      fast(kernels_ == Kernels::kFast ? &kernels() : nullptr) {
  const int64_t B = max_batch, h = c.hidden_size, nh = c.num_attention_heads, T = threads;
  const int64_t kvw = c.kv_values_per_token_per_layer();
  const int64_t k = c.num_experts_per_tok, mi = c.moe_intermediate_size;
  // The fast path keeps every expert's hidden activation of a layer at once (experts.h).
  const int64_t all_experts = fast != nullptr ? mi * (k + c.n_shared_experts) : 0;
  const int64_t ffn = std::max({c.intermediate_size, mi * std::max<int64_t>(c.n_shared_experts, 1), all_experts});
  rows_width = std::max({h, ffn, c.q_lora_rank, c.kv_lora_rank, nh * std::max(c.v_head_dim, c.head_dim)});

  x.resize(sz(B, h));
  xn.resize(sz(B, h));
  y.resize(sz(B, h));
  cs.resize(sz(B, c.rope_dim()));
  rows.resize(sz(T, rows_width));
  if (fast != nullptr) {
    act.resize(sz(B, act_blocks(rows_width)));
    expert_jobs.resize(sz(c.n_routed_experts + 1));
    hq.resize(sz(B, std::max(act_blocks(c.intermediate_size),
                             k * act_blocks(mi) + act_blocks(mi * c.n_shared_experts))));
    down_out.resize(sz(T, B, h));
    if (c.n_routed_experts > 0) {
      xq.resize(sz(B * k, act_blocks(h)));
      xg.resize(sz(B * k, h));
    }
  }
  logits.resize(sz(c.vocab_size));

  if (c.is_mla()) {
    q_a.resize(sz(B, c.q_lora_rank));
    q.resize(sz(B, nh, c.qk_head_dim()));
    q_lat.resize(sz(B, nh, kvw));
    o_lat.resize(sz(B, nh, c.kv_lora_rank));
    head_scores.resize(sz(nh, ctx));
    o_part.resize(sz((ctx + kMlaPositionBlock - 1) / kMlaPositionBlock, nh, c.kv_lora_rank));
    kv_rows.resize(sz(T, std::min(ctx, kMlaPositionBlock), kvw));
    attn.resize(sz(B, nh, c.v_head_dim));
    if (expanded_mla) kv_exp.resize(sz(T, ctx, c.qk_nope_head_dim + c.v_head_dim));
    if (fast != nullptr) {
      lat_q.resize(sz(B, nh, act_blocks(c.kv_lora_rank)));
      if (expanded_mla) {
        lat.resize(sz(ctx, kvw));
        head_w.resize(sz(T, c.qk_nope_head_dim + c.v_head_dim, c.kv_lora_rank));
        block_scores.resize(sz(T, kMlaQueryBlock, ctx));
      }
    }
  } else {
    q.resize(sz(B, nh, c.head_dim));
    attn.resize(sz(B, nh, c.head_dim));
  }
  kv.resize(sz(B, kvw));
  scores.resize(sz(T, ctx));
  kv_tmp.resize(sz(T, kvw));
  gate.resize(sz(B, ffn));
  up.resize(sz(B, ffn));

  if (c.n_routed_experts > 0) {
    const int64_t E = c.n_routed_experts;
    router_logits.resize(sz(B, E));
    topk_ids.resize(sz(B, k));
    topk_weights.resize(sz(B, k));
    router_scores.resize(sz(E));
    router_select.resize(sz(E));
    router_groups.resize(sz(c.n_group));
    expert_start.resize(sz(E + 1));
    expert_fill.resize(sz(E));
    expert_slots.resize(sz(B, k));
    xe.resize(sz(B, h));
    ye.resize(sz(B, h));
    expert_used.resize(sz(c.num_hidden_layers, E));
  }
}

}  // namespace dsmoe
