// Multi-head latent attention (DeepSeek-V2 paper §2.1), as DeepSeek's inference/model.py runs it.
// Per token:  q = W_UQ rmsnorm(W_DQ x)  (or W_Q x without a q LoRA), split per head into
//             q_nope | q_pe;  [c | k_pe] = W_DKV x;  c = rmsnorm(c);  rope(q_pe), rope(k_pe).
// The cache keeps [c | k_pe]. kv_b_proj holds, per head, W_UK (qk_nope_head_dim rows) then W_UV
// (v_head_dim rows), each over the kv_lora_rank latent.
#include <omp.h>

#include <algorithm>  // copy_n, fill_n, min, max

#include "kernels/kernels.h"  // kernels, act_blocks: dot_f32, softmax_f32, axpy_f32, quantize_act_q8
#include "model/attention.h"
#include "model/linear.h"   // linear, matmul_rows, matmul_transposed, Acts
#include "model/ops.h"      // rmsnorm, dot, axpy, softmax, weight_row
#include "model/weights.h"  // row_slice
#include "quant/qtypes.h"   // dequantize_row, qtype_is_quantized, qtype_row_tile

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

// Whether products with kv_b run on the kernel table, reading each head's W_UK and W_UV in place
// as row slices (which must start at whole tiles); otherwise, the reference path: rows dequantized
// one at a time.
bool kernel_products(const LayerWeights& w, const Dims& d, const Scratch& s) {
  const int64_t tile = qtype_row_tile(w.kv_b.type);
  return s.fast != nullptr && d.nope % tile == 0 && d.v % tile == 0;
}

// q_lat[i, h] = [W_UK[h]^T q_nope[i, h] | q_pe[i, h]], laid out like a cache row.
void absorb_queries(const AttentionArgs& a, const Dims& d, Scratch& s) noexcept {
  const int64_t n = a.n, nh = d.nh, w = d.width;
  const bool kernel = kernel_products(a.w, d, s);
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    float* buf = s.rows.data() + omp_get_thread_num() * s.rows_width;
    for (int64_t i = 0; i < n; ++i) {
      float* ql = s.q_lat.data() + (i * nh + h) * w;
      std::fill_n(ql, d.r, 0.0f);
      std::copy_n(s.q.data() + (i * nh + h) * d.qk + d.nope, d.rope, ql + d.r);
    }
    if (kernel) {
      const QTensor uk = row_slice(a.w.kv_b, d.uk_row(h, 0), d.nope);
      for (int64_t i = 0; i < n; ++i) {
        matmul_transposed(*s.fast, uk, s.q.data() + (i * nh + h) * d.qk, s.q_lat.data() + (i * nh + h) * w, buf);
      }
      continue;
    }
    for (int64_t k = 0; k < d.nope; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uk_row(h, k), buf);
      for (int64_t i = 0; i < n; ++i) {
        axpy(s.q[(i * nh + h) * d.qk + k], row, s.q_lat.data() + (i * nh + h) * w, d.r);
      }
    }
  }
}

// attn[i, h] = W_UV[h] o_lat[i, h]. On the kernels each head is one gemv/gemm on its W_UV rows,
// o_lat quantized to q8 head by head (a head's tokens one after another, as the gemm reads them)
// for q8/q4 weights.
void expand_values(const AttentionArgs& a, const Dims& d, Scratch& s) noexcept {
  const int64_t n = a.n, nh = d.nh;
  const bool kernel = kernel_products(a.w, d, s), quantized = qtype_is_quantized(a.w.kv_b.type);
#pragma omp parallel for num_threads(s.threads) schedule(static)
  for (int64_t h = 0; h < nh; ++h) {
    if (kernel) {
      Acts x{s.o_lat.data() + h * d.r, nh * d.r, nullptr};
      if (quantized) {
        const int64_t ab = act_blocks(d.r);
        QActBlock* xq = s.lat_q.data() + h * n * ab;
        for (int64_t i = 0; i < n; ++i) s.fast->quantize_act_q8.fn(s.o_lat.data() + (i * nh + h) * d.r, d.r, xq + i * ab);
        x.q = xq;
      }
      matmul_rows(*s.fast, row_slice(a.w.kv_b, d.uv_row(h, 0), d.v), x, n, s.attn.data() + h * d.v, nh * d.v, 0, d.v);
      continue;
    }
    float* buf = s.rows.data() + omp_get_thread_num() * s.rows_width;
    for (int64_t k = 0; k < d.v; ++k) {
      const float* row = weight_row(a.w.kv_b, d.uv_row(h, k), buf);
      for (int64_t i = 0; i < n; ++i) {
        s.attn[(i * nh + h) * d.v + k] = dot(row, s.o_lat.data() + (i * nh + h) * d.r, d.r);
      }
    }
  }
}

void absorbed(const AttentionArgs& a, const Dims& d, const KvCache& cache, Scratch& s) noexcept {
  const float scale = static_cast<float>(a.c.softmax_scale());
  const int64_t n = a.n, nh = d.nh, w = d.width;
  absorb_queries(a, d, s);
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
      const auto span = [&](int64_t b, int64_t* t0, int64_t* count) {
        *t0 = b * kMlaPositionBlock;
        *count = std::min(len - *t0, kMlaPositionBlock);
      };
      const float* last_rows = nullptr;  // block b1 - 1, converted last
      for (int64_t b = b0; b < b1; ++b) {
        int64_t t0, count;
        span(b, &t0, &count);
        last_rows = cache.load_rows(a.layer, t0, count, rows);
        kt.latent_scores_f32.fn(qi, nh, last_rows, count, w, scale, s.head_scores.data() + t0, s.ctx);
      }
#pragma omp barrier
#pragma omp for schedule(static)
      for (int64_t h = 0; h < nh; ++h) kt.softmax_f32.fn(s.head_scores.data() + h * s.ctx, len);
      // Backwards, so the first block is the one whose rows are still converted: each block
      // writes only its own share, so the order does not change the result.
      for (int64_t b = b1 - 1; b >= b0; --b) {
        int64_t t0, count;
        span(b, &t0, &count);
        const float* c = b == b1 - 1 ? last_rows : cache.load_rows(a.layer, t0, count, rows);
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
  expand_values(a, d, s);
}

// The expanded form as the reference path runs it: per head and each of its kv_b rows, the row
// dequantized and dotted with every cached latent.
void expanded_reference(const AttentionArgs& a, const Dims& d, const KvCache& cache, Scratch& s) noexcept {
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

// Attention of head h for the call's queries, given E = [k_nope | v] of every position (e, [len,
// kvw]) and the cached rows (lat, for k_pe). Queries go kMlaQueryBlock at a time, so each E row is
// read from memory once per block; each query's numbers are those of one query alone.
void attend_expanded(const AttentionArgs& a, const Dims& d, const KernelTable& kt, int64_t h,
                     const float* e, const float* lat, float* p, Scratch& s) noexcept {
  const float scale = static_cast<float>(a.c.softmax_scale());
  const int64_t nh = d.nh, kvw = d.nope + d.v, ctx = s.ctx;
  for (int64_t i0 = 0; i0 < a.n; i0 += kMlaQueryBlock) {
    const int64_t nb = std::min(kMlaQueryBlock, a.n - i0), seen = a.pos + i0 + nb;
    // Query i0 + j sees positions [0, pos + i0 + j].
    auto first_query = [&](int64_t t) { return std::max<int64_t>(0, t - a.pos - i0); };
    for (int64_t t = 0; t < seen; ++t) {
      const float* et = e + t * kvw;
      const float* kpe = lat + t * d.width + d.r;
      for (int64_t j = first_query(t); j < nb; ++j) {
        const float* q = s.q.data() + ((i0 + j) * nh + h) * d.qk;
        p[j * ctx + t] = (kt.dot_f32.fn(q, et, d.nope) + kt.dot_f32.fn(q + d.nope, kpe, d.rope)) * scale;
      }
    }
    for (int64_t j = 0; j < nb; ++j) {
      kt.softmax_f32.fn(p + j * ctx, a.pos + i0 + j + 1);
      std::fill_n(s.attn.data() + ((i0 + j) * nh + h) * d.v, d.v, 0.0f);
    }
    for (int64_t t = 0; t < seen; ++t) {
      const float* vt = e + t * kvw + d.nope;
      for (int64_t j = first_query(t); j < nb; ++j) {
        kt.axpy_f32.fn(p[j * ctx + t], vt, s.attn.data() + ((i0 + j) * nh + h) * d.v, d.v);
      }
    }
  }
}

// The expanded form on the kernels. The layer's cached rows are read as f32 once per call;
// then each thread takes whole heads: E = [K_nope | V] of every position is one f32 gemm of the
// head's kv_b rows (a row slice; q8/q4 rows dequantized once per call into the thread's buffer)
// against the latents, in blocks of positions that stay in cache with the weights, followed by the
// head's attention. The latents stay f32 rather than q8 like other activations: every head's K
// and V come from them, and quantizing them moved the fixtures' logits several times further from
// the reference than the rest of the fast path (v3-tiny-fp8 q8: mean KL 0.037 against 0.006).
// Every head is computed whole by one thread, so results do not depend on the thread count.
void expanded_kernels(const AttentionArgs& a, const Dims& d, const KvCache& cache, Scratch& s) noexcept {
  constexpr int64_t kPositionBlock = 128;  // 288 KB of latents: L2-resident with a head's weights
  const KernelTable& kt = *s.fast;
  const int64_t kvw = d.nope + d.v, len_all = a.pos + a.n;
  const float* lat = cache.load_rows(a.layer, 0, len_all, s.lat.data());
#pragma omp parallel num_threads(s.threads)
  {
    const int tid = omp_get_thread_num();
    float* e = s.kv_exp.data() + tid * s.ctx * kvw;
    float* p = s.block_scores.data() + tid * kMlaQueryBlock * s.ctx;
#pragma omp for schedule(static)
    for (int64_t h = 0; h < d.nh; ++h) {
      QTensor ukv = row_slice(a.w.kv_b, d.uk_row(h, 0), kvw);
      if (qtype_is_quantized(ukv.type)) {
        float* wf = s.head_w.data() + tid * kvw * d.r;
        for (int64_t k = 0; k < kvw; ++k) dequantize_row(ukv.type, ukv.data, ukv.rows, ukv.cols, k, wf + k * d.r);
        ukv = {QType::kF32, kvw, d.r, reinterpret_cast<const std::byte*>(wf)};
      }
      for (int64_t t0 = 0; t0 < len_all; t0 += kPositionBlock) {
        const Acts x{lat + t0 * d.width, d.width, nullptr};
        matmul_rows(kt, ukv, x, std::min(kPositionBlock, len_all - t0), e + t0 * kvw, kvw, 0, kvw);
      }
      attend_expanded(a, d, kt, h, e, lat, p, s);
    }
  }
}

}  // namespace

bool mla_expanded_cheaper(const ModelConfig& c, int64_t pos, int64_t n) {
  // The expanded form's multiply-adds (an f32 gemm per head, then dot/axpy of 128- and 64-wide
  // rows per query and position) run at about 1/1.7 the rate of the absorbed form's (the latent
  // kernels on 576-wide rows): bench_mla on V2-Lite, 2 threads, 64-512 tokens after 1-4096
  // positions, gave 1.5-2.1.
  constexpr double kExpandedMadCost = 1.7;
  const Dims d(c);
  const double lat_mads = static_cast<double>((d.nope + d.v) * d.r);  // W_UK and W_UV of one head over one latent
  // Pairs (token, position seen) of the chunk: token i sees pos + i + 1 positions.
  const double pairs = static_cast<double>(n) * (static_cast<double>(pos) + static_cast<double>(n + 1) / 2.0);
  const double expanded = static_cast<double>(pos + n) * lat_mads + pairs * static_cast<double>(d.nope + d.rope + d.v);
  const double absorbed = static_cast<double>(n) * lat_mads + pairs * static_cast<double>(d.width + d.r);
  return kExpandedMadCost * expanded < absorbed;
}

void mla_attention(const AttentionArgs& a, MlaForm form, KvCache& cache, Scratch& s) noexcept {
  const Dims d(a.c);
  project(a, d, cache, s);
  if (form == MlaForm::kAbsorbed) absorbed(a, d, cache, s);
  else if (kernel_products(a.w, d, s)) expanded_kernels(a, d, cache, s);
  else expanded_reference(a, d, cache, s);
  linear(a.w.o, s.attn.data(), a.n, s.y.data(), s.linear_scratch());
}

}  // namespace dsmoe
