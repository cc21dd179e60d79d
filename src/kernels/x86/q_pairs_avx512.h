#pragma once
// Loads shared by the AVX-512 VNNI and AMX int8 kernels, which both put two 8-row weight tiles
// side by side in 64 bytes: lanes 0-7 (as int32 or f32) one tile's rows, lanes 8-15 the next's.
// Include ONLY from kernels/<x86 isa>/*.cpp built with AVX-512 flags, inside an anonymous
// namespace, after <immintrin.h> (q_tiles.h says why).

// The zero-masked forms below compute the same as the plain ones; GCC 12 warns about the plain
// ones' undefined pass-through operand (-Wmaybe-uninitialized, GCC bug 105593).
constexpr __mmask16 kAll16 = 0xffff;

// 32 quant bytes of tile a (lanes 0-7) and of tile b (lanes 8-15).
inline __m512i load_pair(const uint8_t* a, const uint8_t* b) {
  const __m512i lo = _mm512_maskz_inserti64x4(0xff, _mm512_setzero_si512(),
                                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)), 0);
  return _mm512_maskz_inserti64x4(0xff, lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}

// The 8 f16 scales of one group of tile a (lanes 0-7) and of tile b (lanes 8-15), as f32.
inline __m512 load_scales_pair(const uint16_t* a, const uint16_t* b) {
  return _mm512_maskz_cvtph_ps(kAll16, _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)),
                                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(a))));
}
