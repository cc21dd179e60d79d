#include "quant/scale_search.h"

#include <iterator>  // std::size

#include "util/half.h"  // f32_to_f16, f16_to_f32

namespace dsmoe {
namespace {

constexpr int kN = static_cast<int>(kGroupSize);
constexpr int kB = kGroupBatch;
constexpr float kF16Max = 65504.0f;

// Candidate reciprocal scales, as factors of absmax's (1.0). Above 1 the group's extreme values
// are clipped to the grid's ends in exchange for finer steps, which pays for q4 Gaussian groups of
// 32 (optimum near 1.2) and a little for q8; docs/kernels.md has the measured gains.
constexpr float kQ4Factors[] = {1.05f, 1.1f, 1.15f, 1.2f, 1.25f, 1.3f, 1.4f};
constexpr float kQ8Factors[] = {1.01f, 1.02f, 1.04f, 1.07f};

// One lane per group of the batch (GCC/Clang vector extension: AVX on x86, two NEON registers on
// Arm), so the search needs no horizontal sums. The converter's throughput depends on this.
typedef float Lanes __attribute__((vector_size(kB * sizeof(float))));

inline Lanes splat(float v) {
  Lanes r;
  for (int k = 0; k < kB; ++k) r[k] = v;
  return r;
}

// Round to nearest even for |v| < 2^22 (levels are at most a few hundred).
inline Lanes round_small(Lanes v) {
  const Lanes magic = splat(12582912.0f);  // 1.5 * 2^23
  return (v + magic) - magic;
}

inline Lanes clamp_level(Lanes v, QGrid g) {
  const Lanes lo = splat(static_cast<float>(g.qmin)), hi = splat(static_cast<float>(g.qmax));
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

// sum(x*q) and sum(q*q) of the levels for reciprocal scales `iscale`; xt[i] = input i of each group.
inline void level_sums(const Lanes* xt, Lanes iscale, QGrid g, Lanes& sxq, Lanes& sqq) {
  Lanes a = splat(0), b = splat(0);
  for (int i = 0; i < kN; ++i) {
    const Lanes v = clamp_level(round_small(xt[i] * iscale), g);
    a += xt[i] * v;
    b += v * v;
  }
  sxq = a;
  sqq = b;
}

// Levels for the (f16-rounded) scales d, and their squared errors.
inline Lanes final_levels(const Lanes* xt, Lanes d, QGrid g, Lanes* qt) {
  const Lanes zero = splat(0);
  const Lanes inv = d == zero ? zero : splat(1.0f) / (d == zero ? splat(1.0f) : d);
  Lanes e = zero;
  for (int i = 0; i < kN; ++i) {
    const Lanes v = clamp_level(round_small(xt[i] * inv), g);
    const Lanes r = xt[i] - d * v;
    qt[i] = v;
    e += r * r;
  }
  return e;
}

// f16-rounded scales (saturated at the f16 range) and their bits.
inline Lanes round_scales(Lanes d, uint16_t* bits) {
  Lanes r;
  for (int k = 0; k < kB; ++k) {
    const float v = d[k] < -kF16Max ? -kF16Max : (d[k] > kF16Max ? kF16Max : d[k]);
    bits[k] = v == 0.0f ? 0 : f32_to_f16(v);  // 0, not -0
    r[k] = f16_to_f32(bits[k]);
  }
  return r;
}

}  // namespace

void quantize_groups(const float* x, QGrid grid, ScaleSearch search, int8_t* q, uint16_t* scales) {
  Lanes xt[kN];
  for (int i = 0; i < kN; ++i) {
    for (int k = 0; k < kB; ++k) xt[i][k] = x[k * kN + i];
  }
  const Lanes zero = splat(0);
  // m: each group's first value of largest magnitude, with its sign.
  Lanes amax = zero, m = zero;
  for (int i = 0; i < kN; ++i) {
    const Lanes a = xt[i] < zero ? -xt[i] : xt[i];
    m = a > amax ? xt[i] : m;
    amax = a > amax ? a : amax;
  }
  const Lanes ext = splat(static_cast<float>(grid.qext));
  uint16_t bits[kB];
  Lanes qt[kN];
  const Lanes d = round_scales(m / ext, bits);
  Lanes err = final_levels(xt, d, grid, qt);
  if (search == ScaleSearch::kMse) {
    const bool q4 = grid.qmax < 127;
    const float* factors = q4 ? kQ4Factors : kQ8Factors;
    const int nf = static_cast<int>(q4 ? std::size(kQ4Factors) : std::size(kQ8Factors));
    const Lanes safe_m = m == zero ? splat(1.0f) : m;
    // Least-squares scale of each candidate's levels; sxq^2/sqq is the error reduction it buys.
    Lanes best_score = splat(-1.0f), best_d = d;
    for (int f = 0; f < nf; ++f) {
      Lanes sxq, sqq;
      level_sums(xt, ext * splat(factors[f]) / safe_m, grid, sxq, sqq);
      const Lanes safe_sqq = sqq > zero ? sqq : splat(1.0f);
      const Lanes score = sqq > zero ? sxq * sxq / safe_sqq : splat(-1.0f);
      best_d = score > best_score ? sxq / safe_sqq : best_d;
      best_score = score > best_score ? score : best_score;
    }
    uint16_t cand_bits[kB];
    Lanes cand_qt[kN];
    const Lanes cand_err = final_levels(xt, round_scales(best_d, cand_bits), grid, cand_qt);
    const auto better = cand_err < err;
    for (int i = 0; i < kN; ++i) qt[i] = better ? cand_qt[i] : qt[i];
    for (int k = 0; k < kB; ++k) {
      if (better[k]) bits[k] = cand_bits[k];
    }
  }
  for (int k = 0; k < kB; ++k) {
    scales[k] = bits[k];
    for (int i = 0; i < kN; ++i) q[k * kN + i] = static_cast<int8_t>(qt[i][k]);
  }
}

}  // namespace dsmoe
