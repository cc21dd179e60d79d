// row_slice: a view of whole rows of a tensor reads exactly those rows, for every weight type,
// through dequantize_row and through the kernels (MLA reads its per-head W_UK and W_UV this way).
#include <gtest/gtest.h>

#include <vector>

#include "kernels/kernel_test_util.h"  // random_vec, random_weights
#include "model/weights.h"             // row_slice

namespace dsmoe {
namespace {

QTensor tensor(QType t, int64_t rows, int64_t cols, const std::vector<uint8_t>& bytes) {
  return {t, rows, cols, reinterpret_cast<const std::byte*>(bytes.data())};
}

TEST(RowSlice, ReadsTheSameRowsAsTheWholeTensor) {
  const int64_t rows = 37, cols = 45;
  for (QType t : {QType::kF32, QType::kBF16, QType::kQ8, QType::kQ4}) {
    const std::vector<uint8_t> bytes = test::random_weights(t, rows, cols, 3);
    const QTensor w = tensor(t, rows, cols, bytes);
    // Starting at a tile, ending inside one, inside the tensor and at its end.
    for (auto [r0, n] : {std::pair<int64_t, int64_t>{0, 37}, {8, 16}, {16, 5}, {32, 5}, {24, 13}}) {
      const QTensor s = row_slice(w, r0, n);
      ASSERT_EQ(s.rows, n);
      ASSERT_EQ(s.cols, cols);
      std::vector<float> want(cols), got(cols);
      for (int64_t r = 0; r < n; ++r) {
        dequantize_row(t, w.data, w.rows, cols, r0 + r, want.data());
        dequantize_row(t, s.data, s.rows, cols, r, got.data());
        ASSERT_EQ(got, want) << qtype_name(t) << " slice at " << r0 << ", row " << r;
      }
    }
  }
}

TEST(RowSlice, GemvOfASliceGivesThoseRowsOfTheWhole) {
  const KernelTable& k = kernels();
  const int64_t rows = 40, cols = 96, r0 = 16, n = 16;
  const std::vector<uint8_t> bytes = test::random_weights(QType::kQ8, rows, cols, 4);
  const QTensor w = tensor(QType::kQ8, rows, cols, bytes), s = row_slice(w, r0, n);
  const std::vector<float> x = test::random_vec(cols, 5);
  std::vector<QActBlock> xq(act_blocks(cols));
  k.quantize_act_q8.fn(x.data(), cols, xq.data());
  std::vector<float> whole(rows), part(n);
  k.gemv_q8_q8.fn(w.data, rows, cols, xq.data(), whole.data(), 0, rows);
  k.gemv_q8_q8.fn(s.data, n, cols, xq.data(), part.data(), 0, n);
  for (int64_t r = 0; r < n; ++r) EXPECT_EQ(part[r], whole[r0 + r]) << r;
}

}  // namespace
}  // namespace dsmoe
