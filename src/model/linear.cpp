#include "model/linear.h"

#include <omp.h>

#include <algorithm>  // min

#include "model/ops.h"    // dot, weight_row
#include "util/error.h"  // Error

namespace dsmoe {
namespace {

// Rows per unit of work a thread takes: whole q8/q4 tiles, in pairs (the gemv kernels walk two
// tiles per step), and a whole activation group when the output is itself quantized next.
constexpr int64_t kRowUnit = 32;

void linear_reference(const QTensor& w, const float* x, int64_t n, float* y, const LinearScratch& ls,
                      int64_t ldy) noexcept {
  const int64_t rows = w.rows, cols = w.cols;
#pragma omp parallel for num_threads(ls.threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* wr = weight_row(w, r, ls.rows + omp_get_thread_num() * ls.width);
    for (int64_t i = 0; i < n; ++i) y[i * ldy + r] = dot(wr, x + i * cols, cols);
  }
}

void linear_fast(const QTensor& w, const float* x, int64_t n, float* y, const LinearScratch& ls,
                 int64_t ldy) noexcept {
  if (n > 1 && ls.onednn != nullptr &&
      ls.onednn->run(w.type, w.data, w.rows, w.cols, x, w.cols, n, y, ldy, ls.threads)) {
    return;
  }
  const KernelTable& k = *ls.fast;
  const bool quantized = qtype_is_quantized(w.type);
  const int64_t ab = act_blocks(w.cols), units = (w.rows + kRowUnit - 1) / kRowUnit;
  // One token is quantized here; several in parallel inside the region (one barrier).
  if (quantized && n == 1) k.quantize_act_q8.fn(x, w.cols, ls.act);
  const Acts acts{x, w.cols, ls.act};
#pragma omp parallel num_threads(ls.threads)
  {
    if (quantized && n > 1) {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < n; ++i) k.quantize_act_q8.fn(x + i * w.cols, w.cols, ls.act + i * ab);
    }
    int64_t u0, u1;
    split_units(units, omp_get_thread_num(), omp_get_num_threads(), u0, u1);
    const int64_t r0 = u0 * kRowUnit, r1 = std::min(w.rows, u1 * kRowUnit);
    if (r0 < r1) matmul_rows(k, w, acts, n, y, ldy, r0, r1);
  }
}

void prepare_one(const QTensor& t, OnednnMatmul& mm, int& count) {
  if (t.empty() || !OnednnMatmul::supports(t.type) || t.rows * t.cols < kOnednnMinWeights) return;
  if (mm.prepared(t.type, t.rows, t.cols)) return;
  try {
    mm.prepare(t.type, t.rows, t.cols);
    ++count;
  } catch (const Error&) {
    // This shape keeps the native kernels.
  }
}

void prepare_ffn(const FfnWeights& f, OnednnMatmul& mm, int& count) {
  for (const QTensor* t : {&f.gate, &f.up, &f.down}) prepare_one(*t, mm, count);
}

}  // namespace

int prepare_onednn(const ModelWeights& w, OnednnMatmul& mm) {
  int count = 0;
  for (const LayerWeights& l : w.layers) {
    for (const QTensor* t : {&l.q_a, &l.q_b, &l.q, &l.kv_a, &l.kv_b, &l.k, &l.v, &l.o, &l.router}) {
      prepare_one(*t, mm, count);
    }
    prepare_ffn(l.dense, mm, count);
    prepare_ffn(l.shared, mm, count);
    for (const FfnWeights& e : l.experts) prepare_ffn(e, mm, count);
  }
  prepare_one(w.head, mm, count);
  return count;
}

void linear(const QTensor& w, const float* x, int64_t n, float* y, const LinearScratch& ls,
            int64_t ldy) noexcept {
  if (ldy == 0) ldy = w.rows;
  if (ls.fast != nullptr) linear_fast(w, x, n, y, ls, ldy);
  else linear_reference(w, x, n, y, ls, ldy);
}

void matmul_rows(const KernelTable& k, const QTensor& w, Acts x, int64_t n, float* y, int64_t ldy,
                 int64_t r0, int64_t r1) noexcept {
  const void* d = w.data;
  const int64_t rows = w.rows, cols = w.cols;
  switch (w.type) {
    case QType::kQ8:
      if (n == 1) k.gemv_q8_q8.fn(d, rows, cols, x.q, y, r0, r1);
      else k.gemm_q8_q8.fn(d, rows, cols, x.q, n, y, ldy, r0, r1);
      break;
    case QType::kQ4:
      if (n == 1) k.gemv_q4_q8.fn(d, rows, cols, x.q, y, r0, r1);
      else k.gemm_q4_q8.fn(d, rows, cols, x.q, n, y, ldy, r0, r1);
      break;
    case QType::kF32:
      if (n == 1) k.gemv_f32_f32.fn(d, rows, cols, x.f, y, r0, r1);
      else k.gemm_f32_f32.fn(d, rows, cols, x.f, x.ldf, n, y, ldy, r0, r1);
      break;
    case QType::kBF16:
      if (n == 1) k.gemv_bf16_f32.fn(d, rows, cols, x.f, y, r0, r1);
      else k.gemm_bf16_f32.fn(d, rows, cols, x.f, x.ldf, n, y, ldy, r0, r1);
      break;
  }
}

void matmul_transposed(const KernelTable& k, const QTensor& w, const float* x, float* y,
                       float* buf) noexcept {
  switch (w.type) {
    case QType::kQ8: k.gemvt_q8_f32.fn(w.data, w.rows, w.cols, x, y, 0, w.rows); break;
    case QType::kQ4: k.gemvt_q4_f32.fn(w.data, w.rows, w.cols, x, y, 0, w.rows); break;
    case QType::kF32:
    case QType::kBF16:
      for (int64_t r = 0; r < w.rows; ++r) k.axpy_f32.fn(x[r], weight_row(w, r, buf), y, w.cols);
      break;
  }
}

}  // namespace dsmoe
