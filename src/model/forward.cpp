// The forward pass: what a DeepSeek model computes, in the order it computes it.
//
//   x = embed(tokens)
//   for each layer:
//     x += attention(rmsnorm(x))      multi-head latent attention (V2/V3) or MHA (DeepSeekMoE)
//     x += ffn(rmsnorm(x))            dense SwiGLU in the first layers, then the mixture of experts
//   logits = head(rmsnorm(x))
//
// Shapes: n tokens, hidden size h; every buffer is in Scratch, allocated once by the session.
#include "model/forward.h"

#include <algorithm>  // copy

#include "model/linear.h"  // linear
#include "model/ops.h"     // add, rmsnorm, weight_row

namespace dsmoe {
namespace {

// x[i] = embed[tokens[i]]
void embed(const QTensor& table, const int32_t* tokens, int64_t n, float* x) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    float* row = x + i * table.cols;
    const float* e = weight_row(table, tokens[i], row);
    if (e != row) std::copy(e, e + table.cols, row);
  }
}

// out[i] = rmsnorm(x[i]) for n rows of h values
void rmsnorm_rows(const Scratch& s, const float* x, const float* w, int64_t n, int64_t h, double eps,
                  float* out) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    if (s.fast != nullptr) s.fast->rmsnorm_f32.fn(x + i * h, w, h, static_cast<float>(eps), out + i * h);
    else rmsnorm(x + i * h, w, h, eps, out + i * h);
  }
}

}  // namespace

void forward(const Model& model, KvCache& cache, Scratch& s, const int32_t* tokens, int64_t n,
             int64_t pos, float* logits, bool all_logits, const ForwardOptions& opt) noexcept {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int64_t h = c.hidden_size;
  const double eps = c.rms_norm_eps;

  // cos/sin of every token's position, shared by all layers.
  for (int64_t i = 0; i < n; ++i) model.rope().angles(pos + i, s.cs.data() + i * c.rope_dim());

  embed(w.embed, tokens, n, s.x.data());  // x: [n, h]

  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& L = w.layers[l];

    rmsnorm_rows(s, s.x.data(), L.attn_norm, n, h, eps, s.xn.data());
    const AttentionArgs a{c, L, model.rope(), l, pos, n};
    if (c.is_mla()) mla_attention(a, opt.mla_form, cache, s);
    else mha_attention(a, cache, s);
    add(s.y.data(), s.x.data(), n * h);  // x += attention

    rmsnorm_rows(s, s.x.data(), L.ffn_norm, n, h, eps, s.xn.data());
    if (L.moe) moe_ffn(c, L, l, pos, n, s, opt.observer);
    else ffn(L.dense, s.xn.data(), n, s.y.data(), s);
    add(s.y.data(), s.x.data(), n * h);  // x += ffn
  }

  // Only the rows whose logits are wanted go through the final norm and the head.
  const int64_t first = all_logits ? 0 : n - 1;
  rmsnorm_rows(s, s.x.data() + first * h, w.final_norm, n - first, h, eps, s.xn.data());
  linear(w.head, s.xn.data(), n - first, logits, s.linear_scratch());
}

}  // namespace dsmoe
