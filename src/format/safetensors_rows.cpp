// Safetensors element types and reading rows of a tensor as float32 (the converter's input path).
#include <algorithm>  // min
#include <cstring>  // memcpy

#include "format/safetensors.h"
#include "util/error.h"  // Error
#include "util/half.h"   // bf16_to_f32, f32_from_bits, fp8_e4m3_to_f32

namespace dsmoe {
namespace {

struct DtypeInfo {
  StDtype dtype;
  const char* name;
  size_t size;
  bool is_float;
};

constexpr DtypeInfo kDtypes[] = {
    {StDtype::kF32, "F32", 4, true},      {StDtype::kF16, "F16", 2, true},
    {StDtype::kBF16, "BF16", 2, true},    {StDtype::kF8E4M3, "F8_E4M3", 1, true},
    {StDtype::kF64, "F64", 8, true},      {StDtype::kI64, "I64", 8, false},
    {StDtype::kI32, "I32", 4, false},     {StDtype::kI16, "I16", 2, false},
    {StDtype::kI8, "I8", 1, false},       {StDtype::kU8, "U8", 1, false},
    {StDtype::kBool, "BOOL", 1, false},
};

const DtypeInfo& info(StDtype t) { return kDtypes[static_cast<size_t>(t)]; }

void convert_bf16(const std::byte* src, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    out[i] = bf16_to_f32(h);
  }
}

// IEEE binary16 -> f32 by bit arithmetic (branch-free, so the loop vectorizes; f16_to_f32's
// branches keep it scalar). The exponent and mantissa move into the f32 fields and the bias
// difference (127 - 15) is added; infinities and NaNs (exponent 31) get the rest of the way to
// exponent 255; subnormals and zero (exponent 0) are rebuilt as 2^-14 * (1 + m/1024) - 2^-14,
// which is exact. Equal to f16_to_f32, bit for bit, for all 65536 codes (tested).
inline float f16_to_f32_fast(uint16_t h) {
  const uint32_t em = static_cast<uint32_t>(h & 0x7fffu) << 13;
  const uint32_t exp = em & 0x0f800000u;
  const uint32_t is_inf_nan = 0u - static_cast<uint32_t>(exp == 0x0f800000u);
  const uint32_t is_subnormal = 0u - static_cast<uint32_t>(exp == 0);
  uint32_t bits = em + (112u << 23) + ((112u << 23) & is_inf_nan);
  const float subnormal = f32_from_bits(bits + (1u << 23)) - f32_from_bits(113u << 23);
  bits = (bits & ~is_subnormal) | (bits_from_f32(subnormal) & is_subnormal);
  return f32_from_bits(bits | static_cast<uint32_t>(h & 0x8000u) << 16);
}

void convert_f16(const std::byte* src, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    out[i] = f16_to_f32_fast(h);
  }
}

void convert_f64(const std::byte* src, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    double d;
    std::memcpy(&d, src + 8 * i, 8);
    out[i] = static_cast<float>(d);
  }
}

// e4m3fn -> f32 by bit arithmetic (branch-free, so the row loop vectorizes; a table lookup
// would be a gather, measured 5x slower). Normal codes: the 4-bit exponent and 3-bit mantissa move
// into the f32 fields and the bias difference (127 - 7) is added. Subnormal codes (exponent 0) are
// mant * 2^-9. 0x7f/0xff are NaN. Equal to fp8_e4m3_to_f32 for all 256 codes (tested).
inline float e4m3_to_f32_fast(uint8_t b) {
  const uint32_t mag = b & 0x7fu;
  const uint32_t normal_bits = (mag << 20) + (120u << 23);
  const float subnormal = static_cast<float>(mag) * (1.0f / 512.0f);
  uint32_t subnormal_bits;
  std::memcpy(&subnormal_bits, &subnormal, 4);
  // Masks instead of branches: gcc if-converts these into vector blends.
  const uint32_t is_subnormal = 0u - static_cast<uint32_t>(mag < 8);
  const uint32_t is_nan = 0u - static_cast<uint32_t>(mag == 0x7fu);
  uint32_t bits = (normal_bits & ~is_subnormal) | (subnormal_bits & is_subnormal);
  bits = (bits & ~is_nan) | (0x7fc00000u & is_nan);
  bits |= static_cast<uint32_t>(b & 0x80u) << 24;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

// One row of an F8_E4M3 weight: value = float32(code) * scale of its 128-column block.
void convert_fp8_row(const uint8_t* src, int64_t cols, const std::byte* scale_row, float* out) {
  for (int64_t c0 = 0; c0 < cols; c0 += kFp8Block) {
    float s;
    std::memcpy(&s, scale_row + 4 * (c0 / kFp8Block), 4);  // safetensors data may be unaligned
    const int64_t c1 = std::min(cols, c0 + kFp8Block);
    for (int64_t c = c0; c < c1; ++c) out[c] = e4m3_to_f32_fast(src[c]) * s;
  }
}

}  // namespace

const char* st_dtype_name(StDtype t) { return info(t).name; }
size_t st_dtype_size(StDtype t) { return info(t).size; }
bool st_dtype_is_float(StDtype t) { return info(t).is_float; }

std::optional<StDtype> parse_st_dtype(std::string_view s) {
  for (const DtypeInfo& d : kDtypes) {
    if (s == d.name) return d.dtype;
  }
  return std::nullopt;
}

int64_t StTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t StTensor::rows() const { return shape.size() >= 2 ? shape[0] : 1; }

int64_t StTensor::cols() const {
  if (shape.size() < 2) return shape.empty() ? 1 : shape[0];
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

void read_rows_f32(const StTensor& t, int64_t r0, int64_t r1, float* out) {
  const int64_t rows = t.rows(), cols = t.cols();
  if (r0 < 0 || r1 < r0 || r1 > rows) {
    throw Error(ErrorCode::kInvalidArgument,
                (t.file ? *t.file + ": " : std::string()) + "tensor '" + t.name + "': rows [" +
                    std::to_string(r0) + ", " + std::to_string(r1) + ") outside [0, " +
                    std::to_string(rows) + ")");
  }
  const size_t n = static_cast<size_t>((r1 - r0) * cols);
  const size_t first = static_cast<size_t>(r0 * cols);
  switch (t.dtype) {
    case StDtype::kF32: std::memcpy(out, t.data + 4 * first, 4 * n); return;
    case StDtype::kBF16: convert_bf16(t.data + 2 * first, n, out); return;
    case StDtype::kF16: convert_f16(t.data + 2 * first, n, out); return;
    case StDtype::kF64: convert_f64(t.data + 8 * first, n, out); return;
    case StDtype::kF8E4M3: {
      if (!t.scale_inv) {
        throw Error(ErrorCode::kFormat, "tensor '" + t.name + "': F8_E4M3 without a scale_inv");
      }
      const auto* codes = reinterpret_cast<const uint8_t*>(t.data);
      const std::byte* scales = t.scale_inv->data;
      const int64_t scale_cols = t.scale_inv->cols();
      for (int64_t r = r0; r < r1; ++r) {
        convert_fp8_row(codes + r * cols, cols, scales + 4 * (r / kFp8Block) * scale_cols,
                        out + (r - r0) * cols);
      }
      return;
    }
    default:
      throw Error(ErrorCode::kUnsupported,
                  (t.file ? *t.file + ": " : std::string()) + "tensor '" + t.name + "': dtype " +
                      st_dtype_name(t.dtype) + " cannot be read as float");
  }
}

}  // namespace dsmoe
