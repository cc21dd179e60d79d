// The DeepSeekMoE layer: fine-grained routed experts chosen per token by the router, plus shared
// experts that every token uses (added unscaled).
#include <algorithm>  // copy, fill_n

#include "model/experts.h"  // ExpertJob, run_experts
#include "model/ffn.h"
#include "model/linear.h"  // linear
#include "model/ops.h"     // axpy, add
#include "model/router.h"  // route

namespace dsmoe {
namespace {

// Reference path: one expert after another, each through ffn() and added with its weight.
void experts_reference(const ModelConfig& c, const LayerWeights& w, int64_t n, Scratch& s) noexcept {
  const int64_t h = c.hidden_size, E = c.n_routed_experts, k = c.num_experts_per_tok;
  std::fill_n(s.y.data(), n * h, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t begin = s.expert_start[e], count = s.expert_start[e + 1] - begin;
    if (count == 0) continue;
    for (int64_t m = 0; m < count; ++m) {
      const float* src = s.xn.data() + (s.expert_slots[begin + m] / k) * h;
      std::copy(src, src + h, s.xe.data() + m * h);
    }
    ffn(w.experts[e], s.xe.data(), count, s.ye.data(), s);
    for (int64_t m = 0; m < count; ++m) {
      const int32_t slot = s.expert_slots[begin + m];
      axpy(s.topk_weights[slot], s.ye.data() + m * h, s.y.data() + (slot / k) * h, h);
    }
  }
  if (!w.shared.gate.empty()) {
    ffn(w.shared, s.xn.data(), n, s.ye.data(), s);
    add(s.ye.data(), s.y.data(), n * h);
  }
}

// Fast path: every chosen expert and the shared experts as jobs of one parallel region
// (experts.h). Inputs are quantized once per token and gathered per expert.
void experts_fast(const ModelConfig& c, const LayerWeights& w, int64_t n, Scratch& s) noexcept {
  const int64_t h = c.hidden_size, E = c.n_routed_experts, k = c.num_experts_per_tok;
  const int64_t ab = act_blocks(h);
  for (int64_t i = 0; i < n; ++i) s.fast->quantize_act_q8.fn(s.xn.data() + i * h, h, s.act.data() + i * ab);
  int64_t jobs = 0, hidden_at = 0, hq_at = 0;
  auto add_job = [&](const FfnWeights& fw, int64_t count, const int32_t* slots, Acts x) {
    const int64_t ffn = fw.gate.rows;
    ExpertJob& j = s.expert_jobs[jobs++];
    j.w = &fw;
    j.count = count;
    j.slots = slots;
    j.x = x;
    j.gate = s.gate.data() + hidden_at;
    j.up = s.up.data() + hidden_at;
    j.hq = qtype_is_quantized(fw.down.type) ? s.hq.data() + hq_at : nullptr;
    hidden_at += count * ffn;
    hq_at += count * act_blocks(ffn);
  };
  for (int64_t e = 0; e < E; ++e) {
    const int64_t begin = s.expert_start[e], count = s.expert_start[e + 1] - begin;
    if (count == 0) continue;
    const int32_t* slots = s.expert_slots.data() + begin;
    Acts x;
    if (qtype_is_quantized(w.experts[e].gate.type)) {
      for (int64_t m = 0; m < count; ++m) {
        const QActBlock* src = s.act.data() + (slots[m] / k) * ab;
        std::copy(src, src + ab, s.xq.data() + (begin + m) * ab);
      }
      x.q = s.xq.data() + begin * ab;
    } else {
      for (int64_t m = 0; m < count; ++m) {
        const float* src = s.xn.data() + (slots[m] / k) * h;
        std::copy(src, src + h, s.xg.data() + (begin + m) * h);
      }
      x.f = s.xg.data() + begin * h;
      x.ldf = h;
    }
    add_job(w.experts[e], count, slots, x);
  }
  if (!w.shared.gate.empty()) add_job(w.shared, n, nullptr, Acts{s.xn.data(), h, s.act.data()});
  run_experts(s, jobs, n, h, k, s.y.data());
}

}  // namespace

void moe_ffn(const ModelConfig& c, const LayerWeights& w, int64_t layer, int64_t pos, int64_t n,
             Scratch& s, RoutingObserver* observer) noexcept {
  const int64_t E = c.n_routed_experts, k = c.num_experts_per_tok;
  linear(w.router, s.xn.data(), n, s.router_logits.data(), s.linear_scratch());
  const RouterScratch rs{s.router_scores.data(), s.router_select.data(), s.router_groups.data()};
  for (int64_t i = 0; i < n; ++i) {
    route(c, s.router_logits.data() + i * E, w.router_bias, rs, s.topk_ids.data() + i * k,
          s.topk_weights.data() + i * k);
    if (observer) observer->on_route(layer, pos + i, s.topk_ids.data() + i * k, s.topk_weights.data() + i * k, k);
  }

  // Group the (token, rank) slots by expert: counting sort over the chosen ids.
  std::fill_n(s.expert_start.data(), E + 1, 0);
  for (int64_t j = 0; j < n * k; ++j) ++s.expert_start[s.topk_ids[j] + 1];
  for (int64_t e = 0; e < E; ++e) s.expert_start[e + 1] += s.expert_start[e];
  std::fill_n(s.expert_fill.data(), E, 0);
  for (int64_t j = 0; j < n * k; ++j) {
    const int32_t e = s.topk_ids[j];
    s.expert_slots[s.expert_start[e] + s.expert_fill[e]++] = static_cast<int32_t>(j);
  }
  for (int64_t e = 0; e < E; ++e) {
    if (s.expert_start[e + 1] == s.expert_start[e] || s.expert_used[layer * E + e]) continue;
    s.expert_used[layer * E + e] = 1;
    prefetch_expert(w.experts[e]);
  }

  if (s.fast != nullptr) experts_fast(c, w, n, s);
  else experts_reference(c, w, n, s);
}

}  // namespace dsmoe
