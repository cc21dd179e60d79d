#pragma once
// The forward pass of every supported architecture (forward.cpp reads top to bottom).
#include <cstdint>

#include "model/attention.h"  // MlaForm
#include "model/ffn.h"        // RoutingObserver
#include "model/kv_cache.h"   // KvCache
#include "model/model.h"      // Model
#include "model/scratch.h"    // Scratch

namespace dsmoe {

struct ForwardOptions {
  MlaForm mla_form = MlaForm::kAbsorbed;
  RoutingObserver* observer = nullptr;  // sees every routing decision when set
};

// Runs tokens[0..n) at positions [pos, pos + n) through the model, appending them to the cache.
// logits: [n, vocab] when all_logits, else [vocab] of the last token. The caller has checked
// 1 <= n <= s.max_batch, pos + n <= cache.ctx() and every token id < vocab.
void forward(const Model& model, KvCache& cache, Scratch& s, const int32_t* tokens, int64_t n,
             int64_t pos, float* logits, bool all_logits, const ForwardOptions& opt) noexcept;

}  // namespace dsmoe
