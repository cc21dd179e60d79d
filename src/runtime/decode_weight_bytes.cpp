#include "runtime/decode_weight_bytes.h"

#include "quant/qtypes.h"  // qtensor_bytes

namespace dsmoe {
namespace {

uint64_t bytes(const QTensor& t) { return t.empty() ? 0 : qtensor_bytes(t.type, t.rows, t.cols); }
uint64_t bytes(const FfnWeights& f) { return bytes(f.gate) + bytes(f.up) + bytes(f.down); }
uint64_t vector_bytes(const float* v, int64_t n) { return v == nullptr ? 0 : static_cast<uint64_t>(n) * 4; }

}  // namespace

DecodeWeightBytes decode_weight_bytes(const Model& model) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  DecodeWeightBytes b;
  for (const LayerWeights& l : w.layers) {
    b.attention += bytes(l.q_a) + bytes(l.q_b) + bytes(l.q) + bytes(l.kv_a) + bytes(l.kv_b) +
                   bytes(l.k) + bytes(l.v) + bytes(l.o) + vector_bytes(l.attn_norm, c.hidden_size) +
                   vector_bytes(l.q_a_norm, c.q_lora_rank) + vector_bytes(l.kv_a_norm, c.kv_lora_rank);
    if (!l.moe) {
      b.dense_ffn += bytes(l.dense) + vector_bytes(l.ffn_norm, c.hidden_size);
      continue;
    }
    b.router += bytes(l.router) + vector_bytes(l.router_bias, c.n_routed_experts) +
                vector_bytes(l.ffn_norm, c.hidden_size);
    b.shared_experts += bytes(l.shared);
    uint64_t all = 0;
    for (const FfnWeights& e : l.experts) all += bytes(e);
    if (!l.experts.empty()) b.routed_experts += all * c.num_experts_per_tok / l.experts.size();
  }
  b.head = bytes(w.head) + vector_bytes(w.final_norm, c.hidden_size);
  if (w.embed.rows > 0) b.embedding = bytes(w.embed) / w.embed.rows;
  return b;
}

}  // namespace dsmoe
