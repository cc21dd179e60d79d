#pragma once
// Choosing groups' scales and integer levels (the numerical core of quantize_rows).
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

// Groups quantized together, one per SIMD lane (no horizontal sums in the search).
inline constexpr int kGroupBatch = 8;

// Quantizes kGroupBatch groups x[k*32 .. k*32+32) to levels q[k*32 ..] of `grid` and scales[k]
// (f16 bits) such that x ≈ f16(scale) * q. kMse tries a handful of candidate scales (each refined
// by least squares) and keeps, per group, the one with the least squared error after f16
// rounding: never worse than kAbsmax's. An all-zero group gets scale 0 and levels 0.
void quantize_groups(const float* x, QGrid grid, ScaleSearch search, int8_t* q, uint16_t* scales);

}  // namespace dsmoe
