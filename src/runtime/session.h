#pragma once
// A session: one conversation's state over a shared Model — KV cache, scratch buffers, position.
// Sessions are independent: several may run on one Model at once, each from its own thread.
// A session itself is not thread-safe.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/forward.h"   // MlaForm, RoutingObserver
#include "model/kv_cache.h"  // KvCache, KvType
#include "model/model.h"     // Model
#include "model/scratch.h"   // Scratch

namespace dsmoe {

inline constexpr int64_t kDefaultContext = 4096;

struct SessionOptions {
  int64_t ctx = 0;                 // positions; 0: min(kDefaultContext, max_position_embeddings)
  KvType kv_type = KvType::kBF16;  // kF32 for exact logits (`dsmoe logits`)
  int64_t max_batch = 256;         // tokens per forward call; longer inputs run in chunks
  int threads = 0;                 // OpenMP threads; 0: OpenMP's default
  // Matrix and vector products: the SIMD kernel table (default), or the plain f32 reference path
  // the fast one is tested against (model/linear.h).
  Kernels kernels = Kernels::kFast;
  Gemm gemm = Gemm::kOnednn;       // fast path: who runs prompt products of f32/bf16 weights
  // MLA: which form runs a chunk of several tokens (one token always runs absorbed). Auto picks
  // expanded for chunks of kExpandedMinTokens or more that it runs in fewer multiply-adds
  // (mla_expanded_cheaper: not a short chunk after a long context), when its per-thread buffers
  // (threads x ctx x (qk_nope_head_dim + v_head_dim) floats) fit in kExpandedScratchBytes.
  enum class Mla { kAuto, kAbsorbed, kExpanded } mla = Mla::kAuto;
};

class Session {
 public:
  static constexpr int64_t kExpandedMinTokens = 64;
  static constexpr int64_t kExpandedScratchBytes = int64_t{256} << 20;

  // Throws Error(kInvalidArgument) for ctx above the model's max_position_embeddings, or a
  // non-positive max_batch.
  explicit Session(std::shared_ptr<const Model> model, const SessionOptions& options = {});

  // Evaluates `tokens` at positions [position(), position() + n) and returns the logits of the
  // last one ([vocab], valid until the next call). Throws Error(kOutOfRange) when the tokens do
  // not fit in the context or an id is outside the vocabulary, Error(kInvalidArgument) when empty;
  // nothing is evaluated then and the session is unchanged.
  std::span<const float> eval(std::span<const int32_t> tokens);
  // The same, writing the logits of every position into `out` ([n, vocab]).
  void eval_all(std::span<const int32_t> tokens, std::span<float> out);

  int64_t position() const { return pos_; }
  int64_t ctx() const { return cache_.ctx(); }
  // Forgets every position from `position` on (0 <= position <= position()).
  void rewind(int64_t position);
  void reset() { rewind(0); }

  const Model& model() const { return *model_; }
  const KvCache& kv_cache() const { return cache_; }

  // Distinct routed experts run in MoE layer `layer` since creation or reset_expert_stats().
  int64_t distinct_experts(int64_t layer) const;
  void reset_expert_stats();
  // Sees every routing decision from now on (nullptr: none). Not owned.
  void set_routing_observer(RoutingObserver* observer) { observer_ = observer; }

 private:
  void check(std::span<const int32_t> tokens) const;
  void run(std::span<const int32_t> tokens, float* out, bool all);

  std::shared_ptr<const Model> model_;
  SessionOptions options_;
  KvCache cache_;
  Scratch scratch_;
  int64_t pos_ = 0;
  RoutingObserver* observer_ = nullptr;
  bool expanded_ok_ = false;  // the expanded MLA form's buffers exist
};

}  // namespace dsmoe
