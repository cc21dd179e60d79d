#pragma once
// Absorbed-MLA attention over a block of cached latent rows (kernels.h LatentScoresFn /
// LatentSumFn) in xsimd, written once and compiled at each vector width: vec_ops.cpp (baseline
// flags: AVX2 or NEON) and avx512/latent_attention.cpp (AVX-512, twice the lanes). Include ONLY
// inside an anonymous namespace of such a file, after <xsimd/xsimd.hpp> and with `B` (the
// xsimd::batch<float> of that file's flags) and `kW` (its lane count) declared: every function
// here must stay local to the translation unit and its flags (STYLE.md §5).

// Absorbed MLA: every head's query against every cached row of a block. Blocks of kHeads heads ×
// kRows rows keep 8 accumulators in registers, so each vector load feeds two or four FMAs (one
// dot product at a time is bound by its two loads per FMA).
constexpr int64_t kHeads = 4, kRows = 2, kCols = 2;

template <int64_t NH, int64_t NT>
void scores_block(const float* q, const float* c, int64_t w, float scale, float* s, int64_t lds) {
  B acc[NH][NT];
  for (auto& a : acc) {
    for (B& v : a) v = B(0.0f);
  }
  int64_t k = 0;
  for (; k + kW <= w; k += kW) {
    B cv[NT];
    for (int64_t t = 0; t < NT; ++t) cv[t] = B::load_unaligned(c + t * w + k);
    for (int64_t h = 0; h < NH; ++h) {
      const B qv = B::load_unaligned(q + h * w + k);
      for (int64_t t = 0; t < NT; ++t) acc[h][t] = xsimd::fma(qv, cv[t], acc[h][t]);
    }
  }
  for (int64_t h = 0; h < NH; ++h) {
    for (int64_t t = 0; t < NT; ++t) {
      float v = xsimd::hadd(acc[h][t]);
      for (int64_t i = k; i < w; ++i) v += q[h * w + i] * c[t * w + i];
      s[h * lds + t] = scale * v;
    }
  }
}

void latent_scores(const float* q, int64_t nh, const float* c, int64_t nt, int64_t w, float scale,
                         float* s, int64_t lds) noexcept {
  int64_t h = 0;
  for (; h + kHeads <= nh; h += kHeads) {
    int64_t t = 0;
    for (; t + kRows <= nt; t += kRows) scores_block<kHeads, kRows>(q + h * w, c + t * w, w, scale, s + h * lds + t, lds);
    for (; t < nt; ++t) scores_block<kHeads, 1>(q + h * w, c + t * w, w, scale, s + h * lds + t, lds);
  }
  for (; h < nh; ++h) {
    for (int64_t t = 0; t < nt; ++t) scores_block<1, 1>(q + h * w, c + t * w, w, scale, s + h * lds + t, lds);
  }
}

// o[h, j..j + NC*kW) += sum_t p[h, t] c_t[j..]: the accumulators stay in registers for the whole
// block of rows, and each row's vector load feeds NH FMAs.
template <int64_t NH, int64_t NC>
void sum_block(const float* p, int64_t ldp, const float* c, int64_t nt, int64_t w, int64_t r, float* o) {
  B acc[NH][NC];
  for (int64_t h = 0; h < NH; ++h) {
    for (int64_t m = 0; m < NC; ++m) acc[h][m] = B::load_unaligned(o + h * r + m * kW);
  }
  for (int64_t t = 0; t < nt; ++t) {
    B cv[NC];
    for (int64_t m = 0; m < NC; ++m) cv[m] = B::load_unaligned(c + t * w + m * kW);
    for (int64_t h = 0; h < NH; ++h) {
      const B pv(p[h * ldp + t]);
      for (int64_t m = 0; m < NC; ++m) acc[h][m] = xsimd::fma(pv, cv[m], acc[h][m]);
    }
  }
  for (int64_t h = 0; h < NH; ++h) {
    for (int64_t m = 0; m < NC; ++m) acc[h][m].store_unaligned(o + h * r + m * kW);
  }
}

template <int64_t NH>
void sum_heads(const float* p, int64_t ldp, const float* c, int64_t nt, int64_t w, int64_t r, float* o) {
  int64_t j = 0;
  for (; j + kCols * kW <= r; j += kCols * kW) sum_block<NH, kCols>(p, ldp, c + j, nt, w, r, o + j);
  for (; j + kW <= r; j += kW) sum_block<NH, 1>(p, ldp, c + j, nt, w, r, o + j);
  for (; j < r; ++j) {
    for (int64_t h = 0; h < NH; ++h) {
      float v = o[h * r + j];
      for (int64_t t = 0; t < nt; ++t) v += p[h * ldp + t] * c[t * w + j];
      o[h * r + j] = v;
    }
  }
}

void latent_sum(const float* p, int64_t ldp, int64_t nh, const float* c, int64_t nt, int64_t w,
                      int64_t r, float* o) noexcept {
  int64_t h = 0;
  for (; h + kHeads <= nh; h += kHeads) sum_heads<kHeads>(p + h * ldp, ldp, c, nt, w, r, o + h * r);
  for (; h < nh; ++h) sum_heads<1>(p + h * ldp, ldp, c, nt, w, r, o + h * r);
}
