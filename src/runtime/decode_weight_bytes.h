#pragma once
// The weight bytes one decode token reads, computed from the model's tensors as stored: the
// yardstick `dsmoe bench` divides by to say how close decode runs to the memory bandwidth.
#include <cstdint>

#include "model/model.h"  // Model

namespace dsmoe {

struct DecodeWeightBytes {
  uint64_t attention = 0;       // every attention matrix and norm of every layer
  uint64_t dense_ffn = 0;       // the FFNs (and their norms) of dense layers
  uint64_t router = 0;          // the routers, their bias and the FFN norms of MoE layers
  uint64_t shared_experts = 0;  // all shared experts of every MoE layer (they run for every token)
  uint64_t routed_experts = 0;  // per MoE layer, num_experts_per_tok times its mean expert size
  uint64_t head = 0;            // the output head and the final norm
  uint64_t embedding = 0;       // the one embedding row a token looks up
  uint64_t total() const {
    return attention + dense_ffn + router + shared_experts + routed_experts + head + embedding;
  }
};

// Counts bytes as the tensors occupy them (quantization scales and padding included). Routed
// experts count as exactly num_experts_per_tok distinct experts per MoE layer, which is what one
// token reads; a batch of tokens shares experts and reads less per token.
DecodeWeightBytes decode_weight_bytes(const Model& model);

}  // namespace dsmoe
