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
// 32 (optimum near 1.2) and a little for q8; docs/kernels.md has the measured gains. Trimmed to
// what wins: dropping q4's 1.4 and q8's 1.02 and 1.07 left the relative RMS errors of the tests'
// Gaussian and outlier data unchanged to 5 digits (q4 -4.1% / -1.2% against absmax, q8 -0.4% /
// -0.1%), while keeping 1.05 and 1.15/1.25 is worth 0.1-0.2 points of the q4 gain.
constexpr float kQ4Factors[] = {1.05f, 1.1f, 1.15f, 1.2f, 1.25f, 1.3f};
constexpr float kQ8Factors[] = {1.01f, 1.04f};

using Lanes = GroupLanes;

static_assert(kB == 8, "splat lists kB lanes");
// A lane-by-lane loop here compiles to element inserts inside the hot loops (measured 2x slower).
inline Lanes splat(float v) { return Lanes{v, v, v, v, v, v, v, v}; }

// Round to nearest even for |v| < 2^22 (levels are at most a few hundred).
inline Lanes round_small(Lanes v) {
  const Lanes magic = splat(12582912.0f);  // 1.5 * 2^23
  return (v + magic) - magic;
}

inline Lanes clamp_level(Lanes v, Lanes lo, Lanes hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

// sum(x*q) and sum(q*q) of the levels for K candidates' reciprocal scales iscale[0..K) at once;
// xt[i] = input i of each group. K independent accumulator chains hide the add latency that
// bounds a single candidate's loop, without changing any sum's order.
template <int K>
inline void level_sums(const Lanes* xt, const Lanes* iscale, Lanes lo, Lanes hi, Lanes* sxq,
                       Lanes* sqq) {
  Lanes a[K], b[K];
  for (int k = 0; k < K; ++k) a[k] = b[k] = splat(0);
  for (int i = 0; i < kN; ++i) {
    for (int k = 0; k < K; ++k) {
      const Lanes v = clamp_level(round_small(xt[i] * iscale[k]), lo, hi);
      a[k] += xt[i] * v;
      b[k] += v * v;
    }
  }
  for (int k = 0; k < K; ++k) {
    sxq[k] = a[k];
    sqq[k] = b[k];
  }
}

// Levels for the (f16-rounded) scales d, and their squared errors.
inline Lanes final_levels(const Lanes* xt, Lanes d, Lanes lo, Lanes hi, Lanes* qt) {
  const Lanes zero = splat(0);
  const Lanes inv = d == zero ? zero : splat(1.0f) / (d == zero ? splat(1.0f) : d);
  Lanes e = zero;
  for (int i = 0; i < kN; ++i) {
    const Lanes v = clamp_level(round_small(xt[i] * inv), lo, hi);
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

void search_scales(const Lanes* xt, QGrid grid, ScaleSearch search, Lanes* levels,
                   uint16_t* scales) {
  const Lanes zero = splat(0);
  const Lanes lo = splat(static_cast<float>(grid.qmin)), hi = splat(static_cast<float>(grid.qmax));
  // m: each group's first value of largest magnitude, with its sign.
  Lanes amax = zero, m = zero;
  for (int i = 0; i < kN; ++i) {
    const Lanes a = xt[i] < zero ? -xt[i] : xt[i];
    m = a > amax ? xt[i] : m;
    amax = a > amax ? a : amax;
  }
  const Lanes ext = splat(static_cast<float>(grid.qext));
  const Lanes d = round_scales(m / ext, scales);
  const Lanes err = final_levels(xt, d, lo, hi, levels);
  if (search == ScaleSearch::kAbsmax) return;
  const bool q4 = grid.qmax < 127;
  const float* factors = q4 ? kQ4Factors : kQ8Factors;
  const int nf = static_cast<int>(q4 ? std::size(kQ4Factors) : std::size(kQ8Factors));
  const Lanes safe_m = m == zero ? splat(1.0f) : m;
  // Least-squares scale of each candidate's levels; sxq^2/sqq is the error reduction it buys.
  Lanes best_score = splat(-1.0f), best_d = d;
  // Candidates two at a time (16 vector registers on AVX2 hold two candidates' state).
  constexpr int kPair = 2;
  for (int f0 = 0; f0 < nf; f0 += kPair) {
    const int count = nf - f0 < kPair ? nf - f0 : kPair;
    Lanes iscale[kPair], sxq[kPair], sqq[kPair];
    for (int k = 0; k < count; ++k) iscale[k] = ext * splat(factors[f0 + k]) / safe_m;
    if (count == kPair) {
      level_sums<kPair>(xt, iscale, lo, hi, sxq, sqq);
    } else {
      level_sums<1>(xt, iscale, lo, hi, sxq, sqq);
    }
    for (int k = 0; k < count; ++k) {
      const Lanes safe_sqq = sqq[k] > zero ? sqq[k] : splat(1.0f);
      const Lanes score = sqq[k] > zero ? sxq[k] * sxq[k] / safe_sqq : splat(-1.0f);
      best_d = score > best_score ? sxq[k] / safe_sqq : best_d;
      best_score = score > best_score ? score : best_score;
    }
  }
  uint16_t cand_bits[kB];
  Lanes cand_qt[kN];
  const Lanes cand_err = final_levels(xt, round_scales(best_d, cand_bits), lo, hi, cand_qt);
  const auto better = cand_err < err;
  for (int i = 0; i < kN; ++i) levels[i] = better ? cand_qt[i] : levels[i];
  for (int k = 0; k < kB; ++k) {
    if (better[k]) scales[k] = cand_bits[k];
  }
}

void quantize_groups(const float* x, QGrid grid, ScaleSearch search, int8_t* q, uint16_t* scales) {
  Lanes xt[kN], qt[kN];
  for (int i = 0; i < kN; ++i) {
    for (int k = 0; k < kB; ++k) xt[i][k] = x[k * kN + i];
  }
  search_scales(xt, grid, search, qt, scales);
  for (int k = 0; k < kB; ++k) {
    for (int i = 0; i < kN; ++i) q[k * kN + i] = static_cast<int8_t>(qt[i][k]);
  }
}

}  // namespace dsmoe
