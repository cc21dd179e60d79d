#include "quant/qtypes.h"

#include "quant/qlayout.h"  // tile_bytes, tiles

namespace dsmoe {

const char* qtype_name(QType t) {
  switch (t) {
    case QType::kF32: return "f32";
    case QType::kBF16: return "bf16";
    case QType::kQ8: return "q8";
    case QType::kQ4: return "q4";
  }
  return "?";
}

std::optional<QType> parse_qtype(std::string_view s) {
  for (QType t : {QType::kF32, QType::kBF16, QType::kQ8, QType::kQ4}) {
    if (s == qtype_name(t)) return t;
  }
  return std::nullopt;
}

bool qtype_is_quantized(QType t) { return t == QType::kQ8 || t == QType::kQ4; }

int64_t qtype_row_tile(QType t) { return qtype_is_quantized(t) ? qlayout::kTileRows : 1; }

size_t qtensor_bytes(QType t, int64_t rows, int64_t cols) {
  const size_t n = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  switch (t) {
    case QType::kF32: return n * 4;
    case QType::kBF16: return n * 2;
    case QType::kQ8:
    case QType::kQ4: return static_cast<size_t>(qlayout::tiles(rows)) * qlayout::tile_bytes(t, cols);
  }
  return 0;
}

double qtype_bits_per_weight(QType t, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return 0.0;
  return static_cast<double>(qtensor_bytes(t, rows, cols)) * 8.0 /
         (static_cast<double>(rows) * static_cast<double>(cols));
}

}  // namespace dsmoe
