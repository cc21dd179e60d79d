// Multi-head latent attention (DeepSeek-V2 paper §2.1), as DeepSeek's inference/model.py runs it.
// Per token:  q = W_UQ rmsnorm(W_DQ x)  (or W_Q x without a q LoRA), split per head into
//             q_nope | q_pe;  [c | k_pe] = W_DKV x;  c = rmsnorm(c);  rope(q_pe), rope(k_pe).
// The cache keeps [c | k_pe]. kv_b_proj holds, per head, W_UK (qk_nope_head_dim rows) then W_UV
// (v_head_dim rows), each over the kv_lora_rank latent.
#include <omp.h>

#include <algorithm>  // fill_n

#include "model/attention.h"
#include "model/linear.h"  // linear
#include "model/ops.h"     // rmsnorm, dot, axpy, softmax, weight_row

namespace dsmoe {
namespace {

struct Dims {
  int64_t nh, nope, rope, qk, v, r, width;
  explicit Dims(const ModelConfig& c)
      : nh(c.num_attention_heads), nope(c.qk_nope_head_dim), rope(c.qk_rope_head_dim),
        qk(c.qk_head_dim()), v(c.v_head_dim), r(c.kv_lora_rank),
        width(c.kv_lora_rank + c.qk_rope_head_dim) {}
  int64_t uk_row(int64_t h, int64_t d) const { return h * (nope + v) + d; }
  int64_t uv_row(int64_t h, int64_t d) const { return h * (nope + v) + nope + d; }
};

// Queries, and the cache entries of the new tokens.
void project(const AttentionArgs& a, const Dims& d, KvCache& cache, Scratch& s) noexcept {
  const ModelConfig& c = a.c;
  const LinearScratch rb = s.linear_scratch();
  if (!a.w.q_a.empty()) {
    linear(a.w.q_a, s.xn.data(), a.n, s.q_a.data(), rb);
    for (int64_t i = 0; i < a.n; ++i) {
      float* qa = s.q_a.data() + i * c.q_lora_rank;
      rmsnorm(qa, a.w.q_a_norm, c.q_lora_rank, c.rms_norm_eps, qa);
    }
    linear(a.w.q_b, s.q_a.data(), a.n, s.q.data(), rb);
  } else {
    linear(a.w.q, s.xn.data(), a.n, s.q.data(), rb);
  }
  linear(a.w.kv_a, s.xn.data(), a.n, s.kv.data(), rb);
  for (int64_t i = 0; i < a.n; ++i) {
    const float* cs = s.cs.data() + i * c.rope_dim();
    float* kv = s.kv.data() + i * d.width;
    rmsnorm(kv, a.w.kv_a_norm, d.r, c.rms_norm_eps, kv);
    apply_rope(a.rope, cs, kv + d.r);
    for (int64_t h = 0; h < d.nh; ++h) apply_rope(a.rope, cs, s.q.data() + (i * d.nh + h) * d.qk + d.nope);
    cache.store(a.layer, a.pos + i, kv);
  }
}

void absorbed(const AttentionArgs& a, const Dims& d, const KvCache& cache, Scratch& s) noexcept {
  const float scale = static_cast<float>(a.c.softmax_scale());
  const int64_t n = a.n, nh = d.nh;
  // q_lat[i, h] = W_UK[h]^T q_nope[i, h]
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    float* buf = s.rows.data() + omp_get_thread_num() * s.rows_width;
    for (int64_t i = 0; i < n; ++i) std::fill_n(s.q_lat.data() + (i * nh + h) * d.r, d.r, 0.0f);
    for (int64_t k = 0; k < d.nope; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uk_row(h, k), buf);
      for (int64_t i = 0; i < n; ++i) {
        axpy(s.q[(i * nh + h) * d.qk + k], row, s.q_lat.data() + (i * nh + h) * d.r, d.r);
      }
    }
  }
  // Scores over the cached latents and rope keys; o_lat = sum_t p_t c_t.
#pragma omp parallel for collapse(2) num_threads(s.threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t h = 0; h < nh; ++h) {
      const int tid = omp_get_thread_num();
      float* p = s.scores.data() + tid * s.ctx;
      float* tmp = s.kv_tmp.data() + tid * d.width;
      const float* ql = s.q_lat.data() + (i * nh + h) * d.r;
      const float* qpe = s.q.data() + (i * nh + h) * d.qk + d.nope;
      const int64_t len = a.pos + i + 1;
      for (int64_t t = 0; t < len; ++t) {
        const float* kv = cache.load(a.layer, t, tmp);
        p[t] = (dot(ql, kv, d.r) + dot(qpe, kv + d.r, d.rope)) * scale;
      }
      softmax(p, len);
      float* ol = s.o_lat.data() + (i * nh + h) * d.r;
      std::fill_n(ol, d.r, 0.0f);
      for (int64_t t = 0; t < len; ++t) axpy(p[t], cache.load(a.layer, t, tmp), ol, d.r);
    }
  }
  // attn[i, h] = W_UV[h] o_lat[i, h]
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    float* buf = s.rows.data() + omp_get_thread_num() * s.rows_width;
    for (int64_t k = 0; k < d.v; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uv_row(h, k), buf);
      for (int64_t i = 0; i < n; ++i) {
        s.attn[(i * nh + h) * d.v + k] = dot(row, s.o_lat.data() + (i * nh + h) * d.r, d.r);
      }
    }
  }
}

void expanded(const AttentionArgs& a, const Dims& d, const KvCache& cache, Scratch& s) noexcept {
  const float scale = static_cast<float>(a.c.softmax_scale());
  const int64_t n = a.n, nh = d.nh, kvw = d.nope + d.v, len_all = a.pos + n;
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    const int tid = omp_get_thread_num();
    float* buf = s.rows.data() + tid * s.rows_width;
    float* tmp = s.kv_tmp.data() + tid * d.width;
    float* p = s.scores.data() + tid * s.ctx;
    float* e = s.kv_exp.data() + tid * s.ctx * kvw;  // [t, k_nope | v] of head h
    for (int64_t k = 0; k < kvw; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uk_row(h, k), buf);  // uk rows then uv rows
      for (int64_t t = 0; t < len_all; ++t) e[t * kvw + k] = dot(row, cache.load(a.layer, t, tmp), d.r);
    }
    for (int64_t i = 0; i < n; ++i) {
      const float* q = s.q.data() + (i * nh + h) * d.qk;
      const int64_t len = a.pos + i + 1;
      for (int64_t t = 0; t < len; ++t) {
        const float* kpe = cache.load(a.layer, t, tmp) + d.r;
        p[t] = (dot(q, e + t * kvw, d.nope) + dot(q + d.nope, kpe, d.rope)) * scale;
      }
      softmax(p, len);
      float* out = s.attn.data() + (i * nh + h) * d.v;
      std::fill_n(out, d.v, 0.0f);
      for (int64_t t = 0; t < len; ++t) axpy(p[t], e + t * kvw + d.nope, out, d.v);
    }
  }
}

}  // namespace

void mla_attention(const AttentionArgs& a, MlaForm form, KvCache& cache, Scratch& s) noexcept {
  const Dims d(a.c);
  project(a, d, cache, s);
  if (form == MlaForm::kAbsorbed) absorbed(a, d, cache, s);
  else expanded(a, d, cache, s);
  linear(a.w.o, s.attn.data(), a.n, s.y.data(), s.linear_scratch());
}

}  // namespace dsmoe
