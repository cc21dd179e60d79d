#pragma once
// Rotary position embedding, with YaRN (DeepSeek-V2/V3) as Hugging Face and DeepSeek's reference
// define it: inverse frequencies blended between interpolation (÷factor) and extrapolation over
// the dimensions whose wavelength falls between beta_fast and beta_slow rotations within
// original_max_position_embeddings, and cos/sin scaled by mscale(factor, mscale) /
// mscale(factor, mscale_all_dim). (The softmax scale's correction is ModelConfig::softmax_scale.)
#include <cstdint>
#include <vector>

#include "model/config.h"  // ModelConfig

namespace dsmoe {

// yarn_get_mscale: 0.1 * mscale * ln(factor) + 1 for factor > 1, else 1.
double yarn_mscale(double factor, double mscale);

struct RopeFreqs {
  std::vector<double> inv_freq;  // [rope_dim / 2]
  double mscale = 1.0;           // multiplies cos and sin
  bool interleaved = true;       // MLA: pairs (2i, 2i+1); MHA (Llama): pairs (j, j + dim/2)

  static RopeFreqs from_config(const ModelConfig& c);
  int64_t half() const { return static_cast<int64_t>(inv_freq.size()); }
  // cos/sin of position `pos` for every frequency, times mscale: cs[0..half) cos, cs[half..2 half) sin.
  void angles(int64_t pos, float* cs) const noexcept;
};

// Rotates x[0 .. 2 half) by the angles of RopeFreqs::angles, pairing as rope.interleaved says.
void apply_rope(const RopeFreqs& rope, const float* cs, float* x) noexcept;

}  // namespace dsmoe
