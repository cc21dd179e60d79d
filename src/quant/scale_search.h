#pragma once
// Choosing groups' scales and integer levels (the numerical core of quantize_rows).
//
// The search works on kGroupBatch groups at once, one group per SIMD lane (GCC/Clang vector
// extension: one AVX register on x86, two NEON registers on Arm), so it needs no horizontal sums.
// Every step is a plain IEEE operation per lane and the quant library is built without
// floating-point contraction (-ffp-contract=off), so the chosen levels and scales are the same
// bytes on every ISA, compiler optimization level and thread count.
#include <cstdint>

#include "quant/qtypes.h"

namespace dsmoe {

// Symmetric integer grid of a quantized type: levels qmin..qmax; the group's value of largest
// magnitude maps to `qext` under plain absmax scaling (q8: 127, q4: -8, so the scale may be
// negative and the grid's extra negative level is used).
struct QGrid {
  int qmin;
  int qmax;
  int qext;
};

inline constexpr QGrid kQ8Grid{-127, 127, 127};  // -128 unused: keeps |q| <= 127 for sign tricks
inline constexpr QGrid kQ4Grid{-8, 7, -8};

// Groups quantized together, one per SIMD lane.
inline constexpr int kGroupBatch = 8;

// One value (an input, or a level) of each of the kGroupBatch groups.
typedef float GroupLanes __attribute__((vector_size(kGroupBatch * sizeof(float))));

// Quantizes kGroupBatch groups held transposed: xt[i][k] is input i (0..31) of group k. Writes
// levels[i][k] (integers in grid.qmin..grid.qmax, as floats) and scales[k] (f16 bits) such that
// input ≈ f16(scale) * level. kMse tries a handful of candidate scales (each refined by least
// squares) and keeps, per group, the one with the least squared error after f16 rounding: never
// worse than kAbsmax's. An all-zero group gets scale 0 and levels 0.
void search_scales(const GroupLanes* xt, QGrid grid, ScaleSearch search, GroupLanes* levels,
                   uint16_t* scales);

// The same for kGroupBatch groups stored one after another: x[k*32 .. k*32+32) is group k, its
// levels go to q[k*32 ..] (tests and tools; quantize_rows transposes tiles itself).
void quantize_groups(const float* x, QGrid grid, ScaleSearch search, int8_t* q, uint16_t* scales);

}  // namespace dsmoe
