#include "model/kv_cache.h"

#include <string>

#include "util/check.h"  // DSMOE_DCHECK
#include "util/error.h"  // Error
#include "util/half.h"   // bf16_to_f32, f32_to_bf16

namespace dsmoe {

const char* to_string(KvType t) { return t == KvType::kF32 ? "f32" : "bf16"; }

std::optional<KvType> parse_kv_type(std::string_view s) {
  if (s == "f32") return KvType::kF32;
  if (s == "bf16") return KvType::kBF16;
  return std::nullopt;
}

KvCache::KvCache(const ModelConfig& c, int64_t ctx, KvType type)
    : ctx_(ctx), width_(c.kv_values_per_token_per_layer()), type_(type) {
  if (ctx <= 0) throw Error(ErrorCode::kInvalidArgument, "context length must be positive, got " + std::to_string(ctx));
  const size_t n = static_cast<size_t>(c.num_hidden_layers) * ctx * width_;
  if (type == KvType::kF32) f32_.assign(n, 0.0f);
  else bf16_.assign(n, 0);
}

void KvCache::store(int64_t layer, int64_t pos, const float* values) noexcept {
  DSMOE_DCHECK(pos >= 0 && pos < ctx_);
  const size_t at = index(layer, pos);
  if (type_ == KvType::kF32) {
    for (int64_t i = 0; i < width_; ++i) f32_[at + i] = values[i];
  } else {
    for (int64_t i = 0; i < width_; ++i) bf16_[at + i] = f32_to_bf16(values[i]);
  }
}

const float* KvCache::load(int64_t layer, int64_t pos, float* tmp) const noexcept {
  return load_rows(layer, pos, 1, tmp);
}

const float* KvCache::load_rows(int64_t layer, int64_t pos, int64_t count, float* tmp) const noexcept {
  DSMOE_DCHECK(pos >= 0 && count >= 0 && pos + count <= ctx_);
  const size_t at = index(layer, pos);
  if (type_ == KvType::kF32) return f32_.data() + at;
  const uint16_t* in = bf16_.data() + at;
  for (int64_t i = 0; i < count * width_; ++i) tmp[i] = bf16_to_f32(in[i]);
  return tmp;
}

}  // namespace dsmoe
