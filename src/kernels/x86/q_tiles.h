#pragma once
// The x86 tiled int8 kernels (gemv/gemm of q8 and q4 weights with q8 activations), shared by the
// AVX2, AVX-VNNI and AVX-512 VNNI translation units, which differ only in the int8 dot-product
// instruction (the `Dot` policy). Include ONLY from kernels/<x86 isa>/*.cpp, inside an anonymous
// namespace, after <immintrin.h>: every function here must be compiled with that file's flags and
// stay local to it (an inline function shared across ISA flags is an ODR hazard, STYLE.md §5).
//
// Layout (docs/FORMAT.md): per 8-row tile, f16 scales [groups][8], then per group the quants in
// 4-input chunks interleaved across rows, so a 32-byte load holds 4 inputs of each of 8 rows and a
// dot product with 4 broadcast activation bytes gives each row's partial sum in its own lane.
//
// Dot policy: `static __m256i dot(__m256i acc, __m256i u, __m256i s)` adds, per 32-bit lane, the
// sum of the 4 products u8 * s8 (AVX2 emulates it; VNNI is one vpdpbusd). For q4 an AVX2-only
// fast path sums the 8 maddubs products of a group in int16 first (Dot::kInt16Sums).

// Activation bytes 4v..4v+3 of a block, broadcast to all lanes (a plain load on modern cores).
inline __m256i bcast4(const int8_t* a) {
  int32_t v;
  __builtin_memcpy(&v, a, 4);
  return _mm256_set1_epi32(v);
}

// q4: one group of TP tiles against NT token blocks; isum[t*TP + p] gets the per-row int32 sums of
// level * q of tile p and token t (broadcast activations are shared by the TP tiles).
template <class Dot, int NT, int TP>
inline void q4_group(const uint8_t* const* wq, const QActBlock* const* xb, int64_t g, __m256i* isum) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  if constexpr (Dot::kInt16Sums) {
    // Unsigned nibble (0..15) * int8 (|q| <= 127): each maddubs lane is at most 2*15*127 = 3810,
    // so the 8 of a group sum to at most 30480 and fit int16 without saturating.
    __m256i s16[NT * TP];
    for (int i = 0; i < NT * TP; ++i) s16[i] = _mm256_setzero_si256();
    for (int v = 0; v < 4; ++v) {
      __m256i lo[TP], hi[TP];
      for (int p = 0; p < TP; ++p) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq[p] + 32 * v));
        lo[p] = _mm256_and_si256(raw, m4);
        hi[p] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      }
      for (int t = 0; t < NT; ++t) {
        const __m256i alo = bcast4(xb[t][g].q + 4 * v), ahi = bcast4(xb[t][g].q + 16 + 4 * v);
        for (int p = 0; p < TP; ++p) {
          s16[t * TP + p] = _mm256_add_epi16(
              s16[t * TP + p], _mm256_add_epi16(_mm256_maddubs_epi16(lo[p], alo),
                                                _mm256_maddubs_epi16(hi[p], ahi)));
        }
      }
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < NT * TP; ++i) isum[i] = _mm256_madd_epi16(s16[i], ones);
  } else {
    for (int i = 0; i < NT * TP; ++i) isum[i] = _mm256_setzero_si256();
    for (int v = 0; v < 4; ++v) {
      __m256i lo[TP], hi[TP];
      for (int p = 0; p < TP; ++p) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq[p] + 32 * v));
        lo[p] = _mm256_and_si256(raw, m4);
        hi[p] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      }
      for (int t = 0; t < NT; ++t) {
        const __m256i alo = bcast4(xb[t][g].q + 4 * v), ahi = bcast4(xb[t][g].q + 16 + 4 * v);
        for (int p = 0; p < TP; ++p) {
          isum[t * TP + p] = Dot::dot(Dot::dot(isum[t * TP + p], lo[p], alo), hi[p], ahi);
        }
      }
    }
  }
  // Levels are nibble - 8: subtract 8 * sum(q) of each token's block.
  for (int t = 0; t < NT; ++t) {
    const __m256i corr = _mm256_set1_epi32(8 * xb[t][g].sum);
    for (int p = 0; p < TP; ++p) isum[t * TP + p] = _mm256_sub_epi32(isum[t * TP + p], corr);
  }
}

// q8: signed * signed through |w| * (q with w's sign): |w| <= 127 by construction of the format.
template <class Dot, int NT, int TP>
inline void q8_group(const uint8_t* const* wq, const QActBlock* const* xb, int64_t g, __m256i* isum) {
  for (int i = 0; i < NT * TP; ++i) isum[i] = _mm256_setzero_si256();
  for (int v = 0; v < 8; ++v) {
    __m256i w[TP], aw[TP];
    for (int p = 0; p < TP; ++p) {
      w[p] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq[p] + 32 * v));
      aw[p] = _mm256_abs_epi8(w[p]);
    }
    for (int t = 0; t < NT; ++t) {
      const __m256i a = bcast4(xb[t][g].q + 4 * v);
      for (int p = 0; p < TP; ++p) {
        isum[t * TP + p] = Dot::dot(isum[t * TP + p], aw[p], _mm256_sign_epi8(a, w[p]));
      }
    }
  }
}

// TP tiles (8 rows each) against NT tokens: out[t*TP + p] = tile p's 8 rows dotted with token t.
template <class Dot, QType T, int NT, int TP>
inline void tile_dot(const uint8_t* const* tiles, int64_t cols, const QActBlock* const* xb, __m256* out) {
  const int64_t ng = qlayout::groups(cols);
  constexpr int64_t gtb = T == QType::kQ8 ? 256 : 128;
  const uint16_t* scales[TP];
  const uint8_t* wq[TP];
  for (int p = 0; p < TP; ++p) {
    scales[p] = qlayout::tile_scales(tiles[p]);
    wq[p] = tiles[p] + qlayout::scale_section_bytes(cols);
  }
  for (int i = 0; i < NT * TP; ++i) out[i] = _mm256_setzero_ps();
  for (int64_t g = 0; g < ng; ++g) {
    __m256 ws[TP];
    for (int p = 0; p < TP; ++p) {
      ws[p] = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales[p] + g * qlayout::kTileRows)));
    }
    __m256i isum[NT * TP];
    if constexpr (T == QType::kQ8) {
      q8_group<Dot, NT, TP>(wq, xb, g, isum);
    } else {
      q4_group<Dot, NT, TP>(wq, xb, g, isum);
    }
    for (int p = 0; p < TP; ++p) wq[p] += gtb;
    for (int t = 0; t < NT; ++t) {
      const __m256 d = _mm256_set1_ps(xb[t][g].d);
      for (int p = 0; p < TP; ++p) {
        out[t * TP + p] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t * TP + p]),
                                          _mm256_mul_ps(ws[p], d), out[t * TP + p]);
      }
    }
  }
}

inline void store_rows(float* y, __m256 v, int64_t valid) {
  if (valid >= 8) {
    _mm256_storeu_ps(y, v);
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int64_t i = 0; i < valid; ++i) y[i] = tmp[i];
  }
}

// Tokens per step of gemm: 4 keeps decoded weights, 4 int and 4 float accumulators in registers.
inline constexpr int kGemmTokens = 4;

// TP consecutive tiles starting at row0 against tokens [t0, t0+NT).
template <class Dot, QType T, int NT, int TP>
inline void tile_tokens(const void* w, int64_t rows, int64_t cols, const QActBlock* x, int64_t t0,
                        float* y, int64_t ldy, int64_t row0) {
  const int64_t ng = qlayout::groups(cols);
  const size_t tb = qlayout::tile_bytes(T, cols);
  const uint8_t* tiles[TP];
  for (int p = 0; p < TP; ++p) {
    tiles[p] = static_cast<const uint8_t*>(w) + static_cast<size_t>(row0 / 8 + p) * tb;
  }
  const QActBlock* xb[NT];
  for (int t = 0; t < NT; ++t) xb[t] = x + (t0 + t) * ng;
  __m256 out[NT * TP];
  tile_dot<Dot, T, NT, TP>(tiles, cols, xb, out);
  for (int t = 0; t < NT; ++t) {
    for (int p = 0; p < TP; ++p) {
      store_rows(y + (t0 + t) * ldy + row0 + 8 * p, out[t * TP + p], rows - row0 - 8 * p);
    }
  }
}

template <class Dot, QType T>
void gemm_tiles(const void* w, int64_t rows, int64_t cols, const QActBlock* x, int64_t n,
                float* y, int64_t ldy, int64_t r0, int64_t r1) noexcept {
  for (int64_t row0 = r0; row0 < r1; row0 += qlayout::kTileRows) {
    int64_t t = 0;
    for (; t + kGemmTokens <= n; t += kGemmTokens) {
      tile_tokens<Dot, T, kGemmTokens, 1>(w, rows, cols, x, t, y, ldy, row0);
    }
    for (; t < n; ++t) tile_tokens<Dot, T, 1, 1>(w, rows, cols, x, t, y, ldy, row0);
  }
}

// Decode: two tiles per step share the activation broadcasts (16 rows per step).
template <class Dot, QType T>
void gemv_tiles(const void* w, int64_t rows, int64_t cols, const QActBlock* x, float* y,
                int64_t r0, int64_t r1) noexcept {
  int64_t row0 = r0;
  for (; row0 + 2 * qlayout::kTileRows <= r1; row0 += 2 * qlayout::kTileRows) {
    tile_tokens<Dot, T, 1, 2>(w, rows, cols, x, 0, y, 0, row0);
  }
  for (; row0 < r1; row0 += qlayout::kTileRows) tile_tokens<Dot, T, 1, 1>(w, rows, cols, x, 0, y, 0, row0);
}
