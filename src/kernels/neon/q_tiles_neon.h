#pragma once
// The Arm tiled int8 kernels (gemv/gemm of q8 and q4 weights with q8 activations), shared by the
// plain NEON and the NEON dot-product translation units, which differ only in the `Dot` policy.
// Include ONLY from kernels/neon/*.cpp, inside an anonymous namespace, after <arm_neon.h> (each
// file's flags must stay local to it, STYLE.md §5).
//
// Layout (docs/FORMAT.md): a 32-byte chunk of a tile's group holds 4 consecutive inputs of each
// of the 8 rows; here it is two 16-byte registers (rows 0-3, rows 4-7), each multiplied by the 4
// activation bytes broadcast to every 32-bit lane, so each lane accumulates its own row.
//
// Dot policy: `State`, `static void add(State&, int8x16_t w03, int8x16_t w47, const int8_t* a4)`
// and `static void finish(const State&, int32x4_t& r03, int32x4_t& r47)`.

inline int32x4_t bcast4_s32(const int8_t* a) {
  int32_t v;
  __builtin_memcpy(&v, a, 4);
  return vdupq_n_s32(v);
}

// Levels of 4 chunks of a q4 group: low nibbles are inputs 0..15, high nibbles 16..31.
template <class Dot>
inline void q4_group(const uint8_t* wq, const int8_t* a, typename Dot::State& st) {
  const uint8x16_t m4 = vdupq_n_u8(0x0f);
  const int8x16_t eight = vdupq_n_s8(8);
  for (int v = 0; v < 4; ++v) {
    const uint8x16_t r03 = vld1q_u8(wq + 32 * v), r47 = vld1q_u8(wq + 32 * v + 16);
    const int8x16_t lo03 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(r03, m4)), eight);
    const int8x16_t lo47 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(r47, m4)), eight);
    const int8x16_t hi03 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(r03, 4)), eight);
    const int8x16_t hi47 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(r47, 4)), eight);
    Dot::add(st, lo03, lo47, a + 4 * v);
    Dot::add(st, hi03, hi47, a + 16 + 4 * v);
  }
}

template <class Dot>
inline void q8_group(const uint8_t* wq, const int8_t* a, typename Dot::State& st) {
  for (int v = 0; v < 8; ++v) {
    const int8x16_t w03 = vreinterpretq_s8_u8(vld1q_u8(wq + 32 * v));
    const int8x16_t w47 = vreinterpretq_s8_u8(vld1q_u8(wq + 32 * v + 16));
    Dot::add(st, w03, w47, a + 4 * v);
  }
}

// One 8-row tile against NT tokens: out[t][0] rows 0-3, out[t][1] rows 4-7.
template <class Dot, QType T, int NT>
inline void tile_dot(const uint8_t* tile, int64_t cols, const QActBlock* const* xb, float32x4_t (*out)[2]) {
  const int64_t ng = qlayout::groups(cols);
  const uint16_t* scales = qlayout::tile_scales(tile);
  const uint8_t* quants = tile + qlayout::scale_section_bytes(cols);
  constexpr int64_t gtb = T == QType::kQ8 ? 256 : 128;
  for (int t = 0; t < NT; ++t) out[t][0] = out[t][1] = vdupq_n_f32(0.0f);
  for (int64_t g = 0; g < ng; ++g) {
    const uint16_t* s = scales + g * qlayout::kTileRows;
    const float32x4_t ws03 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s)));
    const float32x4_t ws47 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + 4)));
    for (int t = 0; t < NT; ++t) {
      typename Dot::State st = Dot::init();
      if constexpr (T == QType::kQ8) {
        q8_group<Dot>(quants + g * gtb, xb[t][g].q, st);
      } else {
        q4_group<Dot>(quants + g * gtb, xb[t][g].q, st);
      }
      int32x4_t i03, i47;
      Dot::finish(st, i03, i47);
      const float d = xb[t][g].d;
      out[t][0] = vfmaq_f32(out[t][0], vcvtq_f32_s32(i03), vmulq_n_f32(ws03, d));
      out[t][1] = vfmaq_f32(out[t][1], vcvtq_f32_s32(i47), vmulq_n_f32(ws47, d));
    }
  }
}

inline void store_rows(float* y, const float32x4_t* v, int64_t valid) {
  if (valid >= 8) {
    vst1q_f32(y, v[0]);
    vst1q_f32(y + 4, v[1]);
  } else {
    float tmp[8];
    vst1q_f32(tmp, v[0]);
    vst1q_f32(tmp + 4, v[1]);
    for (int64_t i = 0; i < valid; ++i) y[i] = tmp[i];
  }
}

inline constexpr int kGemmTokens = 4;

template <class Dot, QType T, int NT>
inline void tile_tokens(const uint8_t* tile, int64_t rows, int64_t cols, const QActBlock* x,
                        int64_t t0, float* y, int64_t ldy, int64_t row0) {
  const int64_t ng = qlayout::groups(cols);
  const QActBlock* xb[NT];
  for (int t = 0; t < NT; ++t) xb[t] = x + (t0 + t) * ng;
  float32x4_t out[NT][2];
  tile_dot<Dot, T, NT>(tile, cols, xb, out);
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + row0, out[t], rows - row0);
}

template <class Dot, QType T>
void gemm_tiles(const void* w, int64_t rows, int64_t cols, const QActBlock* x, int64_t n,
                float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  const size_t tb = qlayout::tile_bytes(T, cols);
  for (int64_t row0 = r0; row0 < r1; row0 += qlayout::kTileRows) {
    const uint8_t* tile = static_cast<const uint8_t*>(w) + static_cast<size_t>(row0 / 8) * tb;
    int64_t t = 0;
    for (; t + kGemmTokens <= n; t += kGemmTokens) {
      tile_tokens<Dot, T, kGemmTokens>(tile, rows, cols, x, t, y, ldy, row0);
    }
    for (; t < n; ++t) tile_tokens<Dot, T, 1>(tile, rows, cols, x, t, y, ldy, row0);
  }
}

template <class Dot, QType T>
void gemv_tiles(const void* w, int64_t rows, int64_t cols, const QActBlock* x, float* y,
                int64_t r0, int64_t r1) noexcept {
  const size_t tb = qlayout::tile_bytes(T, cols);
  for (int64_t row0 = r0; row0 < r1; row0 += qlayout::kTileRows) {
    const uint8_t* tile = static_cast<const uint8_t*>(w) + static_cast<size_t>(row0 / 8) * tb;
    tile_tokens<Dot, T, 1>(tile, rows, cols, x, 0, y, 0, row0);
  }
}
