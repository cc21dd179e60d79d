#pragma once
// Prompt-processing matmuls through oneDNN, for f32 and bf16 weights: Y[t, r] = W[r, :] · X[t, :]
// for t < n, the same contract as the table's gemm_f32_f32 / gemm_bf16_f32 over all rows.
//
// oneDNN reads W in place from the mapped file (row-major [rows, cols] is its "ba" weights layout)
// and picks its best implementation for the CPU: AMX or AVX-512 BF16 for bf16 weights, where the
// native kernels have only FMA. bf16 weights take bf16 activations (oneDNN's bf16 matmul has no
// f32 source), so X is rounded to bf16 first: the result differs from the native f32-activation
// kernels by that rounding. Quantized weights (q8/q4) have 32-wide group scales, which oneDNN 2.6
// cannot apply; they always run natively.
//
// oneDNN threads the call itself with OpenMP (`threads` threads): call it from outside any parallel
// region. One object per session: it is not thread-safe. Primitives are created by prepare(), once
// per weight shape (the token count is a run-time dimension), so that run() is noexcept like the
// rest of the forward pass.
#include <cstdint>
#include <memory>

#include "quant/qtypes.h"  // QType

namespace dsmoe {

class OnednnMatmul {
 public:
  // Whether this build has oneDNN (DSMOE_HAVE_ONEDNN); without it, run() throws.
  static bool available();
  static bool supports(QType t) { return t == QType::kF32 || t == QType::kBF16; }

  // `max_tokens` x `max_cols` bounds the X that run() takes: the bf16 copy of X is allocated
  // here, never per call.
  OnednnMatmul(int64_t max_tokens, int64_t max_cols);
  ~OnednnMatmul();
  OnednnMatmul(const OnednnMatmul&) = delete;
  OnednnMatmul& operator=(const OnednnMatmul&) = delete;

  // Creates the primitive for [rows, cols] weights of type t (idempotent). Throws
  // Error(kUnsupported) for a type oneDNN cannot take or a build without oneDNN.
  void prepare(QType t, int64_t rows, int64_t cols);
  bool prepared(QType t, int64_t rows, int64_t cols) const;

  // X is [n, cols] with rows ldx apart, n <= max_tokens; Y[t, r] at y[t * ldy + r]. Returns false,
  // having written nothing, when the shape was not prepared or oneDNN failed: the caller then
  // runs the native kernel.
  bool run(QType t, const void* w, int64_t rows, int64_t cols, const float* x, int64_t ldx,
           int64_t n, float* y, int64_t ldy, int threads) noexcept;

  // The implementation oneDNN chose for the last run() (e.g. "brg:avx512_core_amx_bf16").
  const char* last_impl() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsmoe
