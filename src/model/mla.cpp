// Multi-head latent attention (DeepSeek-V2 paper §2.1), as DeepSeek's inference/model.py runs it.
// Per token:  q = W_UQ rmsnorm(W_DQ x)  (or W_Q x without a q LoRA), split per head into
//             q_nope | q_pe;  [c | k_pe] = W_DKV x;  c = rmsnorm(c);  rope(q_pe), rope(k_pe).
// The cache keeps [c | k_pe]. kv_b_proj holds, per head, W_UK (qk_nope_head_dim rows) then W_UV
// (v_head_dim rows), each over the kv_lora_rank latent.
#include <omp.h>

#include <algorithm>  // copy_n, fill_n

#include "kernels/kernels.h"  // kernels: dot_f32, softmax_f32, axpy_f32
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
  const int64_t n = a.n, nh = d.nh, w = d.width;
  // q_lat[i, h] = [W_UK[h]^T q_nope[i, h] | q_pe[i, h]], laid out like a cache row.
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    float* buf = s.rows.data() + omp_get_thread_num() * s.rows_width;
    for (int64_t i = 0; i < n; ++i) {
      float* ql = s.q_lat.data() + (i * nh + h) * w;
      std::fill_n(ql, d.r, 0.0f);
      std::copy_n(s.q.data() + (i * nh + h) * d.qk + d.nope, d.rope, ql + d.r);
    }
    for (int64_t k = 0; k < d.nope; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uk_row(h, k), buf);
      for (int64_t i = 0; i < n; ++i) {
        axpy(s.q[(i * nh + h) * d.qk + k], row, s.q_lat.data() + (i * nh + h) * w, d.r);
      }
    }
  }
  // Scores over the cached [c | k_pe] rows, softmax, and o_lat = sum_t p_t c_t, one token at a
  // time. Positions are split across threads in blocks of kMlaPositionBlock; a thread converts a
  // block's cache rows to f32 once per pass and runs every head over them (latent_scores_f32 /
  // latent_sum_f32 keep several heads and rows in registers), so the cache is read from memory
  // once per pass whatever the thread count and the work stays balanced at long context
  // (splitting heads would make every thread read the whole cache). Each block sums its share of
  // o_lat; the shares are added in block order, so the result does not depend on the thread count.
  const KernelTable& kt = kernels();
#pragma omp parallel num_threads(s.threads)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    float* rows = s.kv_rows.data() + tid * std::min(s.ctx, kMlaPositionBlock) * w;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t len = a.pos + i + 1, blocks = (len + kMlaPositionBlock - 1) / kMlaPositionBlock;
      const int64_t b0 = blocks * tid / nt, b1 = blocks * (tid + 1) / nt;
      const float* qi = s.q_lat.data() + i * nh * w;
      const auto block_rows = [&](int64_t b, int64_t* t0, int64_t* count) {
        *t0 = b * kMlaPositionBlock;
        *count = std::min(len - *t0, kMlaPositionBlock);
        return cache.load_rows(a.layer, *t0, *count, rows);
      };
      for (int64_t b = b0; b < b1; ++b) {
        int64_t t0, count;
        const float* c = block_rows(b, &t0, &count);
        kt.latent_scores_f32.fn(qi, nh, c, count, w, scale, s.head_scores.data() + t0, s.ctx);
      }
#pragma omp barrier
#pragma omp for schedule(static)
      for (int64_t h = 0; h < nh; ++h) kt.softmax_f32.fn(s.head_scores.data() + h * s.ctx, len);
      for (int64_t b = b0; b < b1; ++b) {
        int64_t t0, count;
        const float* c = block_rows(b, &t0, &count);
        float* part = s.o_part.data() + b * nh * d.r;
        std::fill_n(part, nh * d.r, 0.0f);
        kt.latent_sum_f32.fn(s.head_scores.data() + t0, s.ctx, nh, c, count, w, d.r, part);
      }
#pragma omp barrier
#pragma omp for schedule(static)
      for (int64_t h = 0; h < nh; ++h) {
        float* ol = s.o_lat.data() + (i * nh + h) * d.r;
        std::copy_n(s.o_part.data() + h * d.r, d.r, ol);
        for (int64_t b = 1; b < blocks; ++b) kt.axpy_f32.fn(1.0f, s.o_part.data() + (b * nh + h) * d.r, ol, d.r);
      }
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
