#pragma once
// The model's weights as non-owning views, built once at load by walking model_schema() against a
// TensorSource. Matrices stay where the source keeps them (the mapped .dsmoe file, or a mapped
// safetensors checkpoint); only small vectors (norms, router, bias) that a source stores in another
// type are converted once into owned f32 buffers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"  // ModelConfig
#include "quant/qtypes.h"  // QType

namespace dsmoe {

// A [rows, cols] = [out, in] matrix in one of the QType layouts (docs/FORMAT.md).
struct QTensor {
  QType type = QType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const std::byte* data = nullptr;
  bool empty() const { return data == nullptr; }
};

// Rows [r0, r0 + rows) of `w` as a tensor of their own, for the kernels to read in place (MLA's
// per-head W_UK and W_UV inside kv_b). r0 must be a multiple of qtype_row_tile(w.type), so the
// view starts at a whole q8/q4 tile; `rows` may end inside a tile (kernels read the tile's other
// rows but write and use only the view's).
QTensor row_slice(const QTensor& w, int64_t r0, int64_t rows) noexcept;

// One tensor as a source holds it.
struct SourceTensor {
  QType type = QType::kF32;
  std::vector<int64_t> shape;  // Hugging Face order
  const std::byte* data = nullptr;
};

// Where weights come from: a .dsmoe file (the product) or a Hugging Face checkpoint (tests, tools).
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // Names the source in error messages (a path).
  virtual const std::string& describe() const = 0;
  // The tensor `name`, or throws Error(kFormat) naming the source when it is absent or stored in a
  // type the runtime cannot read. The view stays valid as long as the source lives.
  virtual SourceTensor get(const std::string& name) = 0;
};

// A SwiGLU MLP: down(silu(gate x) * up x). Dense FFNs, shared experts and routed experts.
struct FfnWeights {
  QTensor gate, up, down;
};

struct LayerWeights {
  const float* attn_norm = nullptr;  // [hidden]
  const float* ffn_norm = nullptr;   // [hidden]

  // Multi-head latent attention (V2/V3). q_a/q_a_norm/q_b with a q LoRA, else q.
  QTensor q_a, q_b;
  const float* q_a_norm = nullptr;  // [q_lora_rank]
  QTensor q;                        // MLA without q LoRA, and MHA: [heads * head_dim, hidden]
  QTensor kv_a;                     // [kv_lora_rank + qk_rope_head_dim, hidden]
  const float* kv_a_norm = nullptr; // [kv_lora_rank]
  QTensor kv_b;                     // [heads * (qk_nope_head_dim + v_head_dim), kv_lora_rank]
  // Multi-head attention (DeepSeekMoE).
  QTensor k, v;                     // [kv_heads * head_dim, hidden]
  QTensor o;                        // [hidden, heads * v_head_dim]

  bool moe = false;
  FfnWeights dense;                  // !moe
  QTensor router;                    // moe: [n_routed_experts, hidden], always f32
  const float* router_bias = nullptr;  // [n_routed_experts] (noaux_tc), else nullptr
  FfnWeights shared;                 // all shared experts as one MLP; empty gate when none
  std::vector<FfnWeights> experts;   // [n_routed_experts]
};

struct ModelWeights {
  QTensor embed;                       // [vocab, hidden]
  QTensor head;                        // [vocab, hidden] (the embedding when tied)
  const float* final_norm = nullptr;   // [hidden]
  std::vector<LayerWeights> layers;    // num_hidden_layers (multi-token-prediction layers unused)
  std::vector<std::vector<float>> owned;  // f32 copies of vectors the source stores otherwise
};

// Walks model_schema(c) and takes every tensor of the main layers from `src`, checking its shape.
// Throws Error(kFormat) naming the source and tensor on a missing tensor or a wrong shape.
ModelWeights build_weights(const ModelConfig& c, TensorSource& src);

}  // namespace dsmoe
