#include "model/weights.h"

#include <string_view>

#include "model/schema.h"  // model_schema, TensorSpec
#include "util/check.h"    // DSMOE_CHECK
#include "util/error.h"    // Error

namespace dsmoe {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Builder {
 public:
  Builder(TensorSource& src, ModelWeights& w) : src_(src), w_(w) {}

  SourceTensor fetch(const TensorSpec& spec) {
    SourceTensor t = src_.get(spec.name);
    if (t.shape != spec.shape) {
      throw Error(ErrorCode::kFormat, src_.describe() + ": tensor '" + spec.name + "' has shape " +
                                          shape_text(t.shape) + ", expected " + shape_text(spec.shape));
    }
    return t;
  }

  QTensor matrix(const SourceTensor& t) {
    return {t.type, t.shape[0], t.shape.size() > 1 ? t.shape[1] : 1, t.data};
  }

  // A vector or small matrix as f32, converted once when the source stores another type.
  const float* f32(const SourceTensor& t) {
    if (t.type == QType::kF32) return reinterpret_cast<const float*>(t.data);
    const int64_t rows = t.shape.size() > 1 ? t.shape[0] : 1;
    const int64_t cols = t.shape.back();
    std::vector<float>& buf = w_.owned.emplace_back(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data, rows, cols, r, buf.data() + r * cols);
    return buf.data();
  }

  void assign(const TensorSpec& spec) {
    SourceTensor t = fetch(spec);
    if (spec.layer < 0) {
      if (spec.role == TensorRole::kEmbedding) w_.embed = matrix(t);
      else if (spec.role == TensorRole::kOutput) w_.head = matrix(t);
      else if (spec.role == TensorRole::kNorm) w_.final_norm = f32(t);
      return;
    }
    LayerWeights& L = w_.layers[spec.layer];
    const std::string prefix = layer_tensor_name(spec.layer, "");
    std::string_view s(spec.name);
    s.remove_prefix(prefix.size());
    if (spec.expert >= 0) {
      FfnWeights& e = L.experts[spec.expert];
      s.remove_prefix(std::string_view("mlp.experts.").size());  // "E.gate_proj.weight"
      proj(e, s.substr(s.find('.') + 1), t);
      return;
    }
    if (s == "input_layernorm.weight") L.attn_norm = f32(t);
    else if (s == "post_attention_layernorm.weight") L.ffn_norm = f32(t);
    else if (s == "self_attn.q_a_proj.weight") L.q_a = matrix(t);
    else if (s == "self_attn.q_a_layernorm.weight") L.q_a_norm = f32(t);
    else if (s == "self_attn.q_b_proj.weight") L.q_b = matrix(t);
    else if (s == "self_attn.q_proj.weight") L.q = matrix(t);
    else if (s == "self_attn.kv_a_proj_with_mqa.weight") L.kv_a = matrix(t);
    else if (s == "self_attn.kv_a_layernorm.weight") L.kv_a_norm = f32(t);
    else if (s == "self_attn.kv_b_proj.weight") L.kv_b = matrix(t);
    else if (s == "self_attn.k_proj.weight") L.k = matrix(t);
    else if (s == "self_attn.v_proj.weight") L.v = matrix(t);
    else if (s == "self_attn.o_proj.weight") L.o = matrix(t);
    else if (s == "mlp.gate.weight") L.router = {QType::kF32, t.shape[0], t.shape[1], reinterpret_cast<const std::byte*>(f32(t))};
    else if (s == "mlp.gate.e_score_correction_bias") L.router_bias = f32(t);
    else if (s.starts_with("mlp.shared_experts.")) proj(L.shared, s.substr(19), t);
    else if (s.starts_with("mlp.")) proj(L.dense, s.substr(4), t);
    else throw Error(ErrorCode::kInternal, "schema tensor not mapped to a weight: " + spec.name);
  }

  void proj(FfnWeights& f, std::string_view s, const SourceTensor& t) {
    if (s == "gate_proj.weight") f.gate = matrix(t);
    else if (s == "up_proj.weight") f.up = matrix(t);
    else if (s == "down_proj.weight") f.down = matrix(t);
    else throw Error(ErrorCode::kInternal, "schema MLP tensor not mapped: " + std::string(s));
  }

 private:
  TensorSource& src_;
  ModelWeights& w_;
};

}  // namespace

QTensor row_slice(const QTensor& w, int64_t r0, int64_t rows) noexcept {
  DSMOE_CHECK(r0 >= 0 && rows >= 0 && r0 + rows <= w.rows && r0 % qtype_row_tile(w.type) == 0);
  // The first r0 rows, whole tiles, take exactly the bytes of an [r0, cols] tensor.
  return {w.type, rows, w.cols, w.data + qtensor_bytes(w.type, r0, w.cols)};
}

ModelWeights build_weights(const ModelConfig& c, TensorSource& src) {
  ModelWeights w;
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    w.layers[l].moe = c.is_moe_layer(l);
    if (w.layers[l].moe) w.layers[l].experts.resize(static_cast<size_t>(c.n_routed_experts));
  }
  Builder b(src, w);
  for (const TensorSpec& spec : model_schema(c, /*include_mtp=*/false)) b.assign(spec);
  if (c.tie_word_embeddings) w.head = w.embed;
  return w;
}

}  // namespace dsmoe
