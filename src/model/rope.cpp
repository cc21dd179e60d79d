#include "model/rope.h"

#include <algorithm>  // clamp, max, min
#include <cmath>      // cos, sin, pow, log, floor, ceil

#include "util/error.h"  // Error

namespace dsmoe {

double yarn_mscale(double factor, double mscale) {
  return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

namespace {
constexpr double kPi = 3.14159265358979323846;

// The dimension index whose frequency makes `rotations` full turns over `max_pos` positions.
double correction_dim(double rotations, double dim, double base, double max_pos) {
  return dim * std::log(max_pos / (rotations * 2 * kPi)) / (2 * std::log(base));
}
}  // namespace

RopeFreqs RopeFreqs::from_config(const ModelConfig& c) {
  RopeFreqs r;
  const int64_t dim = c.rope_dim();
  const double base = c.rope_theta;
  r.interleaved = c.is_mla();
  r.inv_freq.resize(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) r.inv_freq[i] = 1.0 / std::pow(base, 2.0 * i / dim);
  const RopeScaling& y = c.rope_scaling;
  if (!y.yarn) return r;
  if (!c.is_mla()) {
    throw Error(ErrorCode::kUnsupported, "YaRN rope_scaling is only supported with MLA models");
  }
  const double orig = static_cast<double>(y.original_max_position_embeddings);
  double low = std::floor(correction_dim(y.beta_fast, dim, base, orig));
  double high = std::ceil(correction_dim(y.beta_slow, dim, base, orig));
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoid a zero-width ramp
  for (int64_t i = 0; i < dim / 2; ++i) {
    // extrapolate = 1 keeps the original frequency (high-frequency dims), 0 interpolates.
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    const double extrapolate = 1.0 - ramp;
    const double f = r.inv_freq[i];
    r.inv_freq[i] = f / y.factor * (1.0 - extrapolate) + f * extrapolate;
  }
  r.mscale = yarn_mscale(y.factor, y.mscale) / yarn_mscale(y.factor, y.mscale_all_dim);
  return r;
}

void RopeFreqs::angles(int64_t pos, float* cs) const noexcept {
  const int64_t h = half();
  for (int64_t i = 0; i < h; ++i) {
    const double a = static_cast<double>(pos) * inv_freq[i];
    cs[i] = static_cast<float>(std::cos(a) * mscale);
    cs[h + i] = static_cast<float>(std::sin(a) * mscale);
  }
}

void apply_rope(const RopeFreqs& rope, const float* cs, float* x) noexcept {
  const int64_t h = rope.half();
  for (int64_t i = 0; i < h; ++i) {
    float* a = rope.interleaved ? x + 2 * i : x + i;
    float* b = rope.interleaved ? x + 2 * i + 1 : x + h + i;
    const float c = cs[i], s = cs[h + i];
    const float x0 = *a, x1 = *b;
    *a = x0 * c - x1 * s;
    *b = x0 * s + x1 * c;
  }
}

}  // namespace dsmoe
