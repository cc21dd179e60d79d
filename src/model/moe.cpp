// The DeepSeekMoE layer: fine-grained routed experts chosen per token by the router, plus shared
// experts that every token uses (added unscaled).
#include <algorithm>  // fill_n

#include "model/ffn.h"
#include "model/ops.h"     // linear, axpy, add
#include "model/router.h"  // route

namespace dsmoe {

void moe_ffn(const ModelConfig& c, const LayerWeights& w, int64_t layer, int64_t pos, int64_t n,
             Scratch& s, RoutingObserver* observer) noexcept {
  const int64_t h = c.hidden_size, E = c.n_routed_experts, k = c.num_experts_per_tok;
  linear(w.router, s.xn.data(), n, s.router_logits.data(), s.row_buffers());
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

  std::fill_n(s.y.data(), n * h, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t begin = s.expert_start[e], count = s.expert_start[e + 1] - begin;
    if (count == 0) continue;
    if (!s.expert_used[layer * E + e]) {
      s.expert_used[layer * E + e] = 1;
      prefetch_expert(w.experts[e]);
    }
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

}  // namespace dsmoe
