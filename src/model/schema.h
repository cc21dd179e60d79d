#pragma once
// The tensor list of a model, derived from its config: every tensor's Hugging Face name, shape
// and role, in .dsmoe file order. The converter, the loader and `dsmoe info` all walk this one
// list (gemma.cpp's ForEachTensor idea). Names are the Hugging Face names unchanged.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"  // ModelConfig

namespace dsmoe {

enum class TensorRole {
  kEmbedding,     // model.embed_tokens.weight
  kOutput,        // lm_head.weight
  kNorm,          // every RMSNorm weight (always f32)
  kAttention,     // attention projections
  kDenseFfn,      // the dense FFN of the first_k_dense_replace layers
  kRouter,        // mlp.gate.weight (always f32)
  kRouterBias,    // mlp.gate.e_score_correction_bias (always f32)
  kSharedExpert,  // mlp.shared_experts.*
  kRoutedExpert,  // mlp.experts.E.*
  kMtp,           // multi-token-prediction extras (enorm, hnorm, eh_proj, shared_head.*)
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;  // Hugging Face order: [out, in] for matrices
  TensorRole role;
  int layer = -1;      // -1 for embedding / final norm / head
  int expert = -1;     // routed expert id, else -1
  bool mtp = false;    // belongs to a multi-token-prediction layer (layer >= num_hidden_layers)
  bool is_matrix() const { return shape.size() == 2 && role != TensorRole::kRouter; }
};

// All tensors of `c`, including multi-token-prediction layers when include_mtp.
// Order: embedding, then per layer its non-expert tensors followed by its routed experts in id
// order (gate, up, down each), then final norm and head.
std::vector<TensorSpec> model_schema(const ModelConfig& c, bool include_mtp = true);

// Name of a tensor of layer `layer`, e.g. layer_tensor_name(3, "self_attn.o_proj.weight").
std::string layer_tensor_name(int layer, const std::string& suffix);
std::string expert_tensor_name(int layer, int expert, const char* proj);  // proj: gate_proj|up_proj|down_proj

const char* to_string(TensorRole r);

}  // namespace dsmoe
