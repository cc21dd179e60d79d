#pragma once
// The KV cache of one session: per layer and position, kv_values_per_token_per_layer() values.
// MLA stores only what attention needs, [normalized latent (kv_lora_rank) | rotated rope key
// (qk_rope_head_dim)]; multi-head attention stores [K (kv_heads * head_dim) | V (same)].
// f32 is exact (what `dsmoe logits` uses); bf16 halves the memory (the chat default).
// It lives in model/ because the forward blocks write and read it; runtime::Session owns it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "model/config.h"  // ModelConfig

namespace dsmoe {

enum class KvType { kF32, kBF16 };
const char* to_string(KvType t);
std::optional<KvType> parse_kv_type(std::string_view s);  // "f32" | "bf16"

class KvCache {
 public:
  // Throws Error(kInvalidArgument) when ctx is not positive.
  KvCache(const ModelConfig& c, int64_t ctx, KvType type);

  int64_t ctx() const { return ctx_; }
  int64_t width() const { return width_; }  // values per position per layer
  KvType type() const { return type_; }
  size_t bytes() const { return f32_.size() * 4 + bf16_.size() * 2; }

  // Stores `width()` values for (layer, pos).
  void store(int64_t layer, int64_t pos, const float* values) noexcept;
  // The values of (layer, pos) as f32: a pointer into the cache (f32) or into tmp (bf16,
  // converted; tmp holds width() floats).
  const float* load(int64_t layer, int64_t pos, float* tmp) const noexcept;
  // The values of positions [pos, pos + count) of a layer, row after row, as f32: into the cache
  // (f32) or into tmp (bf16, converted; tmp holds count * width() floats).
  const float* load_rows(int64_t layer, int64_t pos, int64_t count, float* tmp) const noexcept;

 private:
  size_t index(int64_t layer, int64_t pos) const {
    return (static_cast<size_t>(layer) * ctx_ + pos) * width_;
  }
  int64_t ctx_, width_;
  KvType type_;
  std::vector<float> f32_;
  std::vector<uint16_t> bf16_;
};

}  // namespace dsmoe
