#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "quant/qlayout.h"
#include "quant/qtypes.h"
#include "quant/scale_search.h"
#include "util/half.h"

namespace dsmoe {
namespace {

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Gaussian where each value is, with probability 1%, scaled by 20 (the heavy-tailed rows real
// checkpoints have): about 27% of groups of 32 hold an outlier.
std::vector<float> with_outliers(int64_t n, uint32_t seed) {
  std::vector<float> v = gaussian(n, seed);
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (auto& x : v) {
    if (u(rng) < 0.01f) x *= 20.0f;
  }
  return v;
}

std::vector<uint8_t> quantize(QType t, const std::vector<float>& x, int64_t rows, int64_t cols,
                              ScaleSearch s = ScaleSearch::kMse) {
  std::vector<uint8_t> buf(qtensor_bytes(t, rows, cols), 0xAB);
  quantize_rows(t, x.data(), 0, rows, rows, cols, buf.data(), s);
  return buf;
}

std::vector<float> dequantize(QType t, const std::vector<uint8_t>& buf, int64_t rows,
                              int64_t cols) {
  std::vector<float> y(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t, buf.data(), rows, cols, r, &y[r * cols]);
  return y;
}

double rel_rms(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, n = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    n += double(x[i]) * x[i];
  }
  return std::sqrt(e / n);
}

TEST(QType, NamesRoundTrip) {
  for (QType t : {QType::kF32, QType::kBF16, QType::kQ8, QType::kQ4}) {
    EXPECT_EQ(parse_qtype(qtype_name(t)), t);
  }
  EXPECT_FALSE(parse_qtype("q5").has_value());
  EXPECT_TRUE(qtype_is_quantized(QType::kQ4));
  EXPECT_FALSE(qtype_is_quantized(QType::kBF16));
}

TEST(QType, BitsPerWeight) {
  EXPECT_DOUBLE_EQ(qtype_bits_per_weight(QType::kF32, 2048, 1408), 32.0);
  EXPECT_DOUBLE_EQ(qtype_bits_per_weight(QType::kBF16, 2048, 1408), 16.0);
  EXPECT_DOUBLE_EQ(qtype_bits_per_weight(QType::kQ8, 2048, 1408), 8.5);
  EXPECT_DOUBLE_EQ(qtype_bits_per_weight(QType::kQ4, 1408, 2048), 4.5);  // = llama.cpp Q4_0
  // Padding: 13 rows occupy two tiles of 8, 40 inputs two groups of 32.
  EXPECT_EQ(qtensor_bytes(QType::kQ4, 13, 40), size_t(2 * 2 * 8 * (2 + 16)));
  EXPECT_EQ(qtensor_bytes(QType::kQ8, 13, 40), size_t(2 * 2 * 8 * (2 + 32)));
  EXPECT_EQ(qtype_row_tile(QType::kQ4), 8);
  EXPECT_EQ(qtype_row_tile(QType::kF32), 1);
}

TEST(Quantize, F32IsExactAndBf16RoundsToNearestEven) {
  std::vector<float> x = gaussian(3 * 37, 1);
  x[0] = 1.0f + 1.0f / 256;        // halfway between two bf16 values: rounds to even (1.0)
  x[1] = 1.0f + 3.0f / 256;        // halfway: rounds to even (1.015625)
  x[2] = 1.0f + 1.0f / 256 + 1e-6f;  // above halfway: rounds up
  EXPECT_EQ(dequantize(QType::kF32, quantize(QType::kF32, x, 3, 37), 3, 37), x);
  std::vector<float> b = dequantize(QType::kBF16, quantize(QType::kBF16, x, 3, 37), 3, 37);
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_EQ(b[1], 1.015625f);
  EXPECT_EQ(b[2], 1.0078125f);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * (1.0f / 256)) << i;
  }
}

// Error bounds (relative RMS error over the tensor), each about 1.3x what was measured:
//   q8: Gaussian 0.0054 -> bound 0.007, outliers 0.0111 -> 0.015;
//   q4: Gaussian 0.083 -> 0.105, outliers 0.142 -> 0.185.
struct Bound {
  QType t;
  bool outliers;
  double max_rel_rms;
};

class QuantBounds : public ::testing::TestWithParam<Bound> {};

TEST_P(QuantBounds, RelativeRmsErrorWithinBound) {
  const Bound b = GetParam();
  const int64_t rows = 64, cols = 1024;
  std::vector<float> x = b.outliers ? with_outliers(rows * cols, 7) : gaussian(rows * cols, 7);
  double mse = rel_rms(x, dequantize(b.t, quantize(b.t, x, rows, cols), rows, cols));
  double absmax = rel_rms(
      x, dequantize(b.t, quantize(b.t, x, rows, cols, ScaleSearch::kAbsmax), rows, cols));
  EXPECT_LE(mse, b.max_rel_rms);
  EXPECT_LE(mse, absmax);
  std::printf("%s %s: rel rms %.5f (absmax %.5f)\n", qtype_name(b.t),
              b.outliers ? "outliers" : "gaussian", mse, absmax);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantBounds,
                         ::testing::Values(Bound{QType::kQ8, false, 0.007},
                                           Bound{QType::kQ8, true, 0.015},
                                           Bound{QType::kQ4, false, 0.105},
                                           Bound{QType::kQ4, true, 0.185}));

TEST(Quantize, MseSearchNeverWorseThanAbsmaxPerGroup) {
  std::mt19937 rng(3);
  std::student_t_distribution<float> heavy(3.0f);
  constexpr int kN = kGroupBatch * kGroupSize;
  for (QGrid grid : {kQ8Grid, kQ4Grid}) {
    for (int trial = 0; trial < 500; ++trial) {
      float x[kN];
      for (auto& v : x) v = heavy(rng) * (trial % 7 == 0 ? 1e-3f : 1.0f);
      if (trial % 5 == 0) std::fill(x + 64, x + 96, 0.0f);  // an all-zero group in the batch
      int8_t qm[kN], qa[kN];
      uint16_t sm[kGroupBatch], sa[kGroupBatch];
      quantize_groups(x, grid, ScaleSearch::kMse, qm, sm);
      quantize_groups(x, grid, ScaleSearch::kAbsmax, qa, sa);
      for (int k = 0; k < kGroupBatch; ++k) {
        const double dm = f16_to_f32(sm[k]), da = f16_to_f32(sa[k]);
        double em = 0, ea = 0;
        for (int i = k * kGroupSize; i < (k + 1) * kGroupSize; ++i) {
          ASSERT_GE(qm[i], grid.qmin);
          ASSERT_LE(qm[i], grid.qmax);
          em += std::pow(double(x[i]) - dm * qm[i], 2);
          ea += std::pow(double(x[i]) - da * qa[i], 2);
        }
        ASSERT_LE(em, ea * (1 + 1e-5)) << "trial " << trial << " group " << k;
      }
    }
  }
}

TEST(Quantize, RepresentableGroupsAreExact) {
  // Values that are exactly 0.25 * level, including the extreme level, reconstruct exactly.
  for (QType t : {QType::kQ8, QType::kQ4}) {
    const int lo = t == QType::kQ8 ? -127 : -8, hi = t == QType::kQ8 ? 127 : 7;
    std::vector<float> x(kGroupSize);
    for (int i = 0; i < kGroupSize; ++i) x[i] = 0.25f * static_cast<float>(lo + (i * 5) % (hi - lo + 1));
    x[3] = 0.25f * static_cast<float>(t == QType::kQ8 ? 127 : -8);
    for (ScaleSearch s : {ScaleSearch::kMse, ScaleSearch::kAbsmax}) {
      EXPECT_EQ(dequantize(t, quantize(t, x, 1, kGroupSize, s), 1, kGroupSize), x) << qtype_name(t);
    }
  }
}

TEST(Quantize, ZeroGroupsGetZeroScale) {
  std::vector<float> x(2 * 64, 0.0f);
  for (int i = 64; i < 96; ++i) x[i] = 0.5f;  // row 1, group 0
  for (QType t : {QType::kQ8, QType::kQ4}) {
    auto buf = quantize(t, x, 2, 64);
    const uint16_t* scales = qlayout::tile_scales(buf.data());
    EXPECT_EQ(scales[0 * 8 + 0], 0);  // row 0, group 0
    EXPECT_EQ(scales[1 * 8 + 1], 0);  // row 1, group 1
    EXPECT_NE(scales[0 * 8 + 1], 0);
    auto y = dequantize(t, buf, 2, 64);
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] == 0) {
        EXPECT_EQ(y[i], 0.0f) << i;
      }
      EXPECT_NEAR(y[i], x[i], 1e-3) << i;
    }
  }
}

TEST(Quantize, PartialGroupsArePaddedWithZeroLevels) {
  for (QType t : {QType::kQ8, QType::kQ4}) {
    for (int64_t cols : {1, 5, 31, 33, 45, 70}) {
      const int64_t rows = 3;
      std::vector<float> x = gaussian(rows * cols, uint32_t(cols));
      auto buf = quantize(t, x, rows, cols);
      auto y = dequantize(t, buf, rows, cols);
      EXPECT_LT(rel_rms(x, y), t == QType::kQ8 ? 0.01 : 0.15) << qtype_name(t) << " cols " << cols;
      // Every stored level past `cols`, and in padding rows, is level 0.
      const int64_t ng = qlayout::groups(cols);
      const uint8_t* tile = buf.data();
      for (int64_t r = 0; r < qlayout::kTileRows; ++r) {
        for (int64_t c = 0; c < ng * kGroupSize; ++c) {
          if (r < rows && c < cols) continue;
          const uint8_t* gq = qlayout::tile_group_quants(t, tile, cols, c / kGroupSize);
          const int64_t i = c % kGroupSize;
          int q = t == QType::kQ8
                      ? static_cast<int8_t>(gq[qlayout::quant_byte(r, i)])
                      : ((i < 16 ? gq[qlayout::quant_byte(r, i)] & 0xf
                                 : gq[qlayout::quant_byte(r, i - 16)] >> 4) - 8);
          ASSERT_EQ(q, 0) << qtype_name(t) << " cols " << cols << " r " << r << " c " << c;
        }
        if (r >= rows) {
          for (int64_t g = 0; g < ng; ++g) ASSERT_EQ(qlayout::tile_scales(tile)[g * 8 + r], 0);
        }
      }
    }
  }
}

TEST(Quantize, RaggedRowRangesMatchWholeTensor) {
  // 21 rows = tiles of 8, 8 and a padded 5; quantized in pieces and at once: identical bytes.
  const int64_t rows = 21, cols = 77;
  std::vector<float> x = with_outliers(rows * cols, 11);
  for (QType t : {QType::kF32, QType::kBF16, QType::kQ8, QType::kQ4}) {
    auto whole = quantize(t, x, rows, cols);
    std::vector<uint8_t> parts(whole.size(), 0xCD);
    for (auto [a, b] : {std::pair<int64_t, int64_t>{8, 16}, {16, 21}, {0, 8}}) {
      quantize_rows(t, x.data() + a * cols, a, b, rows, cols, parts.data());
    }
    EXPECT_EQ(parts, whole) << qtype_name(t);
  }
}

// The reference the tiled packer must match byte for byte: each row's groups searched by
// quantize_groups (groups side by side in the lanes, where quantize_rows puts a tile's rows), then
// every scale and level placed one at a time by the qlayout rules.
std::vector<uint8_t> reference_packing(QType t, const std::vector<float>& x, int64_t rows,
                                       int64_t cols) {
  const QGrid grid = t == QType::kQ8 ? kQ8Grid : kQ4Grid;
  const int64_t ng = qlayout::groups(cols);
  std::vector<uint8_t> buf(qtensor_bytes(t, rows, cols), t == QType::kQ8 ? 0x00 : 0x88);
  for (int64_t tile = 0; tile < qlayout::tiles(rows); ++tile) {
    uint8_t* tp = buf.data() + tile * qlayout::tile_bytes(t, cols);
    std::memset(tp, 0, qlayout::scale_section_bytes(cols));
  }
  for (int64_t row = 0; row < rows; ++row) {
    uint8_t* tp = buf.data() + (row / qlayout::kTileRows) * qlayout::tile_bytes(t, cols);
    const int64_t r = row % qlayout::kTileRows;
    for (int64_t g0 = 0; g0 < ng; g0 += kGroupBatch) {
      float batch[kGroupBatch * kGroupSize] = {};
      for (int64_t c = g0 * kGroupSize; c < std::min(cols, (g0 + kGroupBatch) * kGroupSize); ++c) {
        batch[c - g0 * kGroupSize] = x[row * cols + c];
      }
      int8_t q[kGroupBatch * kGroupSize];
      uint16_t scales[kGroupBatch];
      quantize_groups(batch, grid, ScaleSearch::kMse, q, scales);
      for (int64_t g = g0; g < std::min(ng, g0 + kGroupBatch); ++g) {
        std::memcpy(tp + 2 * (g * qlayout::kTileRows + r), &scales[g - g0], 2);
        uint8_t* gq = tp + qlayout::scale_section_bytes(cols) + g * qlayout::group_tile_bytes(t);
        for (int64_t i = 0; i < kGroupSize; ++i) {
          const int level = q[(g - g0) * kGroupSize + i];
          if (t == QType::kQ8) {
            gq[qlayout::quant_byte(r, i)] = static_cast<uint8_t>(level);
          } else {
            uint8_t& b = gq[qlayout::quant_byte(r, i % (kGroupSize / 2))];
            b = i < kGroupSize / 2 ? (b & 0xf0) | (level + 8) : (b & 0x0f) | ((level + 8) << 4);
          }
        }
      }
    }
  }
  return buf;
}

TEST(Quantize, TiledPackingMatchesGroupwiseReference) {
  for (QType t : {QType::kQ8, QType::kQ4}) {
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{8, 256}, {21, 77}, {3, 45}, {16, 320}}) {
      std::vector<float> x = with_outliers(rows * cols, static_cast<uint32_t>(rows * 1000 + cols));
      EXPECT_EQ(quantize(t, x, rows, cols), reference_packing(t, x, rows, cols))
          << qtype_name(t) << " " << rows << "x" << cols;
    }
  }
}

TEST(Quantize, SameBytesOnEveryIsa) {
  // Inputs from integer arithmetic only (no libm), so every platform quantizes the same floats;
  // the expected hashes were taken on x86-64 (AVX2) and must hold on aarch64 (scripts/test_neon.sh).
  const int64_t rows = 24, cols = 96;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  uint32_t state = 12345;
  for (float& v : x) {
    int32_t sum = 0;
    for (int k = 0; k < 4; ++k) {
      state = state * 1664525u + 1013904223u;
      sum += static_cast<int32_t>(state >> 20) - 2048;  // roughly Gaussian sum of 4 uniforms
    }
    v = static_cast<float>(sum) * (1.0f / 4096.0f);
  }
  x[5] = 40.0f;  // an outlier
  for (auto [t, want] : {std::pair<QType, uint64_t>{QType::kQ8, 16851530186148132264ull},
                         {QType::kQ4, 10512925026820245440ull}}) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (uint8_t b : quantize(t, x, rows, cols)) h = (h ^ b) * 1099511628211ull;
    EXPECT_EQ(h, want) << qtype_name(t);
  }
}

TEST(Quantize, LayoutMatchesSpec) {
  // One tile, one group, q4: row r input c is level (r + c) % 16 - 8 times a power of two scale.
  std::vector<float> x(8 * 32);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 32; ++c) x[r * 32 + c] = 0.5f * static_cast<float>((r + c) % 16 - 8);
  for (int r = 0; r < 8; ++r) x[r * 32 + 8 - r] = -4.0f;  // level -8 present in each row
  auto buf = quantize(QType::kQ4, x, 8, 32, ScaleSearch::kAbsmax);
  const uint16_t* scales = qlayout::tile_scales(buf.data());
  for (int r = 0; r < 8; ++r) EXPECT_EQ(f16_to_f32(scales[r]), 0.5f);
  const uint8_t* q = buf.data() + 16;
  for (int r = 0; r < 8; ++r) {
    for (int c = 0; c < 16; ++c) {
      const uint8_t b = q[(c / 4) * 32 + r * 4 + c % 4];
      EXPECT_EQ((b & 0xf) - 8, static_cast<int>(x[r * 32 + c] / 0.5f));
      EXPECT_EQ((b >> 4) - 8, static_cast<int>(x[r * 32 + c + 16] / 0.5f));
    }
  }
}

}  // namespace
}  // namespace dsmoe
