#pragma once
// What the opaque C handles are. A dsmoe_model shares its LoadedModel with every session made
// from it; a session owns its KV cache, sampler and the logits of its last evaluation.
#include <memory>
#include <span>

#include "capi/loaded_model.h"  // LoadedModel
#include "dsmoe/dsmoe.h"
#include "runtime/session.h"    // Session
#include "sample/sampler.h"     // Sampler

struct dsmoe_model {
  std::shared_ptr<const dsmoe::LoadedModel> loaded;
  int32_t n_threads = 0;
};

struct dsmoe_session {
  std::shared_ptr<const dsmoe::LoadedModel> loaded;
  dsmoe::Session session;
  dsmoe::Sampler sampler;
  std::span<const float> last_logits;  // empty until the first eval; cleared by reset
};

namespace dsmoe::capi {

// The sampler parameters a C options struct describes (validated).
SamplerParams sampler_params(const dsmoe_sampling_options& o);

}  // namespace dsmoe::capi
