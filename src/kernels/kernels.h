#pragma once
// The kernel table: every matrix and vector kernel the forward pass calls, chosen once at start-up
// for the best ISA this CPU has (dispatch.cpp). Model code never names an ISA.
//
// Weight layouts are those of docs/FORMAT.md "## Weight types", read straight from the mapped
// file. Kernels are single-threaded, noexcept and never allocate; matrix kernels take a row range
// [r0, r1) so callers split rows across threads. r0 must be a multiple of the weight type's row
// tile (qtype_row_tile: 8 for q8/q4, 1 for f32/bf16), and r1 too unless it equals `rows`.
//
// Shapes: W is [rows, cols] (out x in). gemv: y[r] = W[r,:] · x for r in [r0, r1) (y indexed by
// absolute row). gemm: Y[t, r] = W[r,:] · X[t,:] for t < n, Y[t, r] at y[t*ldy + r].
#include <cstdint>
#include <string>

namespace dsmoe {

inline constexpr int64_t kActGroup = 32;  // activation quantization group = weight group (kGroupSize)

// One group of 32 activations quantized to int8 (atype q8): x ≈ d * q, |q| <= 127.
struct QActBlock {
  float d;
  int32_t sum;  // sum of q: lets q4 kernels multiply unsigned nibbles (sum((u-8)*a) = sum(u*a) - 8*sum)
  int8_t q[kActGroup];
};
static_assert(sizeof(QActBlock) == 40, "QActBlock is packed by hand in the SIMD kernels");

inline int64_t act_blocks(int64_t cols) { return (cols + kActGroup - 1) / kActGroup; }

// Quantizes x[0..cols) into act_blocks(cols) blocks (a partial last group is padded with zeros):
// d = max|x| / 127, q = round-to-nearest-even(x * (127 / max|x|)); an all-zero group has d = 0.
using QuantizeActFn = void (*)(const float* x, int64_t cols, QActBlock* out) noexcept;

// Quantized weights (q8 or q4) times q8 activations. gemm's X is n rows of act_blocks(cols)
// blocks, one after another.
using GemvQFn = void (*)(const void* w, int64_t rows, int64_t cols, const QActBlock* x, float* y,
                         int64_t r0, int64_t r1) noexcept;
using GemmQFn = void (*)(const void* w, int64_t rows, int64_t cols, const QActBlock* x, int64_t n,
                         float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept;
// f32 or bf16 weights times f32 activations; gemm's X[t, :] at x[t*ldx].
using GemvFFn = void (*)(const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                         int64_t r0, int64_t r1) noexcept;
using GemmFFn = void (*)(const void* w, int64_t rows, int64_t cols, const float* x, int64_t ldx,
                         int64_t n, float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept;
// Transposed product of quantized weights (q8 or q4) with f32 coefficients, accumulated:
// y[c] += sum_{r in [r0, r1)} x[r] * W[r, c] for every c < cols (x indexed by absolute row, y has
// cols values). MLA's q_lat = W_UK^T q_nope: the weights' scales fold into the coefficients, so a
// whole 8-row tile is read at once in the stored layout instead of one dequantized row at a time.
using GemvTFn = void (*)(const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                         int64_t r0, int64_t r1) noexcept;

// Portable vector kernels (xsimd).
// y = x / rms(x) * weight, rms = sqrt(mean(x^2) + eps); y may alias x.
using RmsNormFn = void (*)(const float* x, const float* weight, int64_t n, float eps,
                           float* y) noexcept;
// In place: x = exp(x - max) / sum.
using SoftmaxFn = void (*)(float* x, int64_t n) noexcept;
// out = silu(gate) * up, silu(g) = g / (1 + exp(-g)); out may alias gate or up.
using SiluMulFn = void (*)(const float* gate, const float* up, int64_t n, float* out) noexcept;
// Rotate-half RoPE on one head vector x[0..2*half): for i < half, with c = cos[i], s = sin[i],
// (x[i], x[i+half]) = (x[i]*c - x[i+half]*s, x[i+half]*c + x[i]*s).
using RopeFn = void (*)(float* x, const float* cos, const float* sin, int64_t half) noexcept;
using DotFn = float (*)(const float* a, const float* b, int64_t n) noexcept;
// y += a * x.
using AxpyFn = void (*)(float a, const float* x, float* y, int64_t n) noexcept;
// Absorbed MLA over nt cached latent rows (row t at c[t*w], w values): the scores of nh queries,
// s[h*lds + t] = scale * (q[h*w ..] · c_t) ...
using LatentScoresFn = void (*)(const float* q, int64_t nh, const float* c, int64_t nt, int64_t w,
                                float scale, float* s, int64_t lds) noexcept;
// ... and their weighted sums, o[h*r + j] += sum_t p[h*ldp + t] * c_t[j] for j < r <= w.
using LatentSumFn = void (*)(const float* p, int64_t ldp, int64_t nh, const float* c, int64_t nt,
                             int64_t w, int64_t r, float* o) noexcept;

template <typename Fn>
struct Kernel {
  Fn fn = nullptr;
  int mr = 1;          // tokens per step (gemm), 1 otherwise
  int nr = 1;          // rows per step
  const char* name = "";  // full name: <op>_<wtype>_<atype>_<MR>x<NR>__<isa>
};

struct KernelTable {
  Kernel<QuantizeActFn> quantize_act_q8;
  Kernel<GemvQFn> gemv_q8_q8, gemv_q4_q8;
  Kernel<GemmQFn> gemm_q8_q8, gemm_q4_q8;
  Kernel<GemvFFn> gemv_f32_f32, gemv_bf16_f32;
  Kernel<GemmFFn> gemm_f32_f32, gemm_bf16_f32;
  Kernel<GemvTFn> gemvt_q8_f32, gemvt_q4_f32;
  Kernel<RmsNormFn> rmsnorm_f32;
  Kernel<SoftmaxFn> softmax_f32;
  Kernel<SiluMulFn> silu_mul_f32;
  Kernel<RopeFn> rope_f32;
  Kernel<DotFn> dot_f32;
  Kernel<AxpyFn> axpy_f32;
  Kernel<LatentScoresFn> latent_scores_f32;
  Kernel<LatentSumFn> latent_sum_f32;
};

// Instruction-set levels, lowest first within each architecture.
enum class Isa { kScalar, kAvx2, kAvxVnni, kAvx512Vnni, kAvx512Bf16, kAmx, kNeon, kNeonDotprod };
// "scalar", "avx2", "avxvnni", "avx512vnni", "avx512bf16", "amx", "neon", "neon_dotprod"
const char* isa_name(Isa isa);

struct CpuFeatures {
  bool avx2_fma_f16c = false;
  bool avx_vnni = false;
  bool avx512_vnni = false;  // with AVX-512 F, BW, VL, DQ
  bool avx512_bf16 = false;
  bool amx_int8 = false;  // with AVX-512 VNNI, and Linux's permission to use the tile registers
  bool neon = false;
  bool neon_dotprod = false;
};
CpuFeatures detect_cpu();
// Whether this build contains the ISA's kernels and the CPU can run them.
bool isa_available(Isa isa, const CpuFeatures& cpu);

// The table for this CPU, filled once: scalar first, then every available ISA from lowest to
// highest overwriting what it implements, up to the cap DSMOE_ISA (an isa_name) if set.
const KernelTable& kernels();
// The same filling, capped at `cap` (tests and benchmarks compare ISAs this way).
KernelTable make_kernel_table(Isa cap);

// Detected features and the chosen kernel for each entry, one per line (`dsmoe info --cpu`).
std::string describe_cpu_and_kernels();

}  // namespace dsmoe
