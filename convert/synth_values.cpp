#include "convert/synth_values.h"

#include <cmath>  // sqrt

namespace dsmoe {
namespace {

// splitmix64's finalizer: a bijective mix with good avalanche, cheap enough to run per element.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

SynthScale synth_scale(const TensorSpec& t) {
  switch (t.role) {
    case TensorRole::kNorm: return {1.0f, 0.05f};
    case TensorRole::kRouterBias: return {0.0f, 0.001f};
    default: return {0.0f, 0.02f};
  }
}

void synth_rows(const TensorSpec& t, uint64_t seed, int64_t r0, int64_t r1, float* out) noexcept {
  const int64_t cols = t.shape.empty() ? 0 : t.shape.back();
  const SynthScale s = synth_scale(t);
  // Sum of four U(0,1) has mean 2 and variance 1/3: rescale to the requested std.
  const float k = s.std * std::sqrt(3.0f) / 65536.0f;
  const float offset = s.mean - 2.0f * s.std * std::sqrt(3.0f);
  const uint64_t key = mix64(seed ^ name_hash(t.name));
  const int64_t n = (r1 - r0) * cols;
  const uint64_t first = static_cast<uint64_t>(r0 * cols);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t h = mix64(key + first + static_cast<uint64_t>(i));
    const uint32_t sum = static_cast<uint32_t>(h & 0xffff) + static_cast<uint32_t>((h >> 16) & 0xffff) +
                         static_cast<uint32_t>((h >> 32) & 0xffff) + static_cast<uint32_t>(h >> 48);
    out[i] = static_cast<float>(sum) * k + offset;
  }
}

}  // namespace dsmoe
