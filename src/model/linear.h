#pragma once
// Matrix products of the forward pass: y = W x for n tokens, on one of two paths.
//   fast       the kernel table (kernels/kernels.h): q8/q4 weights read in place against the
//              activations quantized once per call to q8 blocks; f32/bf16 weights against f32
//   reference  each weight row dequantized to f32 and dotted in plain C++: the specification the
//              fast path is tested against (and the exact path for f32/bf16 fixtures)
#include <cstdint>

#include "kernels/kernels.h"        // KernelTable, QActBlock
#include "kernels/onednn_matmul.h"  // OnednnMatmul
#include "model/weights.h"          // QTensor

namespace dsmoe {

enum class Kernels { kFast, kReference };
// Who runs the fast path's prompt products (several tokens) of f32/bf16 weights: oneDNN
// (kernels/onednn_matmul.h, faster on every CPU measured, docs/benchmarks.md) or the native
// kernels. q8/q4 weights and single tokens always run natively.
enum class Gemm { kOnednn, kNative };

// oneDNN is given only matrices of at least this many weights: below it, its call overhead
// outweighs what it gains (and tiny test models stay on the native kernels).
inline constexpr int64_t kOnednnMinWeights = int64_t{1} << 16;

// What linear() needs besides its operands: the path, and buffers allocated once by Scratch.
struct LinearScratch {
  const KernelTable* fast = nullptr;  // the fast path's kernels; nullptr: the reference path
  OnednnMatmul* onednn = nullptr;     // fast, Gemm::kOnednn: prompt products of prepared shapes
  QActBlock* act = nullptr;           // fast: [B, act_blocks(width)] the input quantized to q8
  float* rows = nullptr;              // reference: [threads, width] dequantized weight rows
  int64_t width = 0;                  // the widest input (cols) of any matrix linear() sees
  int threads = 1;
};

// Prepares `mm` for every f32/bf16 matrix of the model with at least kOnednnMinWeights weights
// (a shape oneDNN refuses stays native). Returns how many shapes it prepared.
int prepare_onednn(const ModelWeights& w, OnednnMatmul& mm);

// y[i, r] = sum_c w[r, c] * x[i, c] for i < n tokens, r < w.rows: x is [n, w.cols], y is
// [n, ldy] (ldy 0: w.rows). Parallel over rows (OpenMP); must not be called from inside a
// parallel region.
void linear(const QTensor& w, const float* x, int64_t n, float* y, const LinearScratch& ls,
            int64_t ldy = 0) noexcept;

// An activation matrix of n rows as the weights' kernel reads it: f32 rows for f32/bf16 weights,
// q8 blocks (act_blocks(cols) per row, one row after another) for q8/q4 weights.
struct Acts {
  const float* f = nullptr;
  int64_t ldf = 0;
  const QActBlock* q = nullptr;
};

// Rows [r0, r1) of Y = W X for n tokens through the kernel table, on the calling thread. r0 a
// multiple of qtype_row_tile(w.type), r1 too unless it equals w.rows.
void matmul_rows(const KernelTable& k, const QTensor& w, Acts x, int64_t n, float* y, int64_t ldy,
                 int64_t r0, int64_t r1) noexcept;

// y[c] += sum_r w[r, c] * x[r] for c < w.cols over all rows of w (a transposed product), on the
// calling thread: the gemvt kernels for q8/q4 weights; for f32/bf16 each row (bf16 converted into
// buf, w.cols floats) added with axpy_f32.
void matmul_transposed(const KernelTable& k, const QTensor& w, const float* x, float* y,
                       float* buf) noexcept;

// [begin, end) of thread t of `threads` over `units` equal units of work (contiguous, balanced).
inline void split_units(int64_t units, int t, int threads, int64_t& begin, int64_t& end) {
  begin = units * t / threads;
  end = units * (t + 1) / threads;
}

}  // namespace dsmoe
