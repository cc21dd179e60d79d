// Multi-head attention of DeepSeekMoE 16B (Llama style): q, k, v projections, rotate_half RoPE on
// the whole head (pairs j, j + head_dim/2), causal softmax(q·k / sqrt(head_dim)), o projection.
// The cache keeps [K | V] of every kv head, K rotated.
#include <omp.h>

#include <algorithm>  // fill_n

#include "kernels/kernels.h"  // DotFn, SoftmaxFn, AxpyFn
#include "model/attention.h"
#include "model/linear.h"     // linear
#include "model/ops.h"        // dot, axpy, softmax

namespace dsmoe {

void mha_attention(const AttentionArgs& a, KvCache& cache, Scratch& s) noexcept {
  const ModelConfig& c = a.c;
  const int64_t nh = c.num_attention_heads, kvh = c.num_key_value_heads, hd = c.head_dim;
  const int64_t width = cache.width(), n = a.n, group = nh / kvh;
  const LinearScratch rb = s.linear_scratch();
  // Vector operations: the kernel table's on the fast path, the plain ones on the reference path.
  const DotFn dot_fn = s.fast != nullptr ? s.fast->dot_f32.fn : dot;
  const SoftmaxFn softmax_fn = s.fast != nullptr ? s.fast->softmax_f32.fn : softmax;
  const AxpyFn axpy_fn = s.fast != nullptr ? s.fast->axpy_f32.fn : axpy;
  const int64_t half = a.rope.half();
  auto rope = [&](const float* cs, float* x) {
    if (s.fast != nullptr && !a.rope.interleaved) s.fast->rope_f32.fn(x, cs, cs + half, half);
    else apply_rope(a.rope, cs, x);
  };
  linear(a.w.q, s.xn.data(), n, s.q.data(), rb);
  linear(a.w.k, s.xn.data(), n, s.kv.data(), rb, width);
  linear(a.w.v, s.xn.data(), n, s.kv.data() + kvh * hd, rb, width);
  for (int64_t i = 0; i < n; ++i) {
    const float* cs = s.cs.data() + i * c.rope_dim();
    for (int64_t h = 0; h < nh; ++h) rope(cs, s.q.data() + (i * nh + h) * hd);
    for (int64_t g = 0; g < kvh; ++g) rope(cs, s.kv.data() + i * width + g * hd);
    cache.store(a.layer, a.pos + i, s.kv.data() + i * width);
  }
  const float scale = static_cast<float>(c.softmax_scale());
#pragma omp parallel for collapse(2) num_threads(s.threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t h = 0; h < nh; ++h) {
      const int tid = omp_get_thread_num();
      float* p = s.scores.data() + tid * s.ctx;
      float* tmp = s.kv_tmp.data() + tid * width;
      const float* q = s.q.data() + (i * nh + h) * hd;
      const int64_t g = h / group, len = a.pos + i + 1;
      for (int64_t t = 0; t < len; ++t) p[t] = dot_fn(q, cache.load(a.layer, t, tmp) + g * hd, hd) * scale;
      softmax_fn(p, len);
      float* out = s.attn.data() + (i * nh + h) * hd;
      std::fill_n(out, hd, 0.0f);
      for (int64_t t = 0; t < len; ++t) axpy_fn(p[t], cache.load(a.layer, t, tmp) + (kvh + g) * hd, out, hd);
    }
  }
  linear(a.w.o, s.attn.data(), n, s.y.data(), rb);
}

}  // namespace dsmoe
