#include "runtime/session.h"

#include <omp.h>

#include <algorithm>  // min
#include <string>

#include "model/attention.h"  // mla_expanded_cheaper
#include "util/error.h"        // Error

namespace dsmoe {
namespace {

int64_t context_length(const ModelConfig& c, int64_t requested) {
  if (requested == 0) return std::min(kDefaultContext, c.max_position_embeddings);
  if (requested < 0 || requested > c.max_position_embeddings) {
    throw Error(ErrorCode::kInvalidArgument,
                "context length " + std::to_string(requested) + " is outside 1.." +
                    std::to_string(c.max_position_embeddings) + " (the model's max_position_embeddings)");
  }
  return requested;
}

// Whether the session sizes the expanded MLA form's buffers (see SessionOptions::mla).
bool use_expanded(const ModelConfig& c, const SessionOptions& o, int64_t ctx) {
  if (!c.is_mla() || o.mla == SessionOptions::Mla::kAbsorbed) return false;
  if (o.mla == SessionOptions::Mla::kExpanded) return true;
  const int64_t threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  return threads * ctx * (c.qk_nope_head_dim + c.v_head_dim) * 4 <= Session::kExpandedScratchBytes;
}

int64_t checked_batch(int64_t b) {
  if (b <= 0) throw Error(ErrorCode::kInvalidArgument, "max_batch must be positive, got " + std::to_string(b));
  return b;
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)),
      options_(options),
      cache_(model_->config(), context_length(model_->config(), options.ctx), options.kv_type),
      scratch_(model_->config(), checked_batch(options.max_batch), cache_.ctx(), options.threads,
               use_expanded(model_->config(), options, cache_.ctx()), options.kernels),
      expanded_ok_(use_expanded(model_->config(), options, cache_.ctx())) {
  if (options.kernels == Kernels::kFast && options.gemm == Gemm::kOnednn && OnednnMatmul::available()) {
    scratch_.onednn = std::make_unique<OnednnMatmul>(scratch_.max_batch, scratch_.rows_width);
    if (prepare_onednn(model_->weights(), *scratch_.onednn) == 0) scratch_.onednn.reset();
  }
}

void Session::check(std::span<const int32_t> tokens) const {
  if (tokens.empty()) throw Error(ErrorCode::kInvalidArgument, "no tokens to evaluate");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (pos_ + n > cache_.ctx()) {
    throw Error(ErrorCode::kOutOfRange,
                "context full: " + std::to_string(pos_) + " positions used, " + std::to_string(n) +
                    " more do not fit in a context of " + std::to_string(cache_.ctx()) +
                    " (raise --ctx, up to " + std::to_string(model_->config().max_position_embeddings) + ")");
  }
  const int64_t vocab = model_->config().vocab_size;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      throw Error(ErrorCode::kOutOfRange, "token id " + std::to_string(tokens[i]) + " at index " +
                                              std::to_string(i) + " is outside the vocabulary (0.." +
                                              std::to_string(vocab - 1) + ")");
    }
  }
}

void Session::run(std::span<const int32_t> tokens, float* out, bool all) {
  const int64_t vocab = model_->config().vocab_size;
  const int64_t total = static_cast<int64_t>(tokens.size());
  for (int64_t done = 0; done < total;) {
    const int64_t n = std::min(scratch_.max_batch, total - done);
    ForwardOptions opt;
    opt.observer = observer_;
    const bool expanded =
        expanded_ok_ && (options_.mla == SessionOptions::Mla::kExpanded ||
                         (n >= kExpandedMinTokens && mla_expanded_cheaper(model_->config(), pos_, n)));
    opt.mla_form = (expanded && n > 1) ? MlaForm::kExpanded : MlaForm::kAbsorbed;
    float* logits = all ? out + done * vocab : scratch_.logits.data();
    // Chunks before the last of eval() write logits too (one row each): simpler, and negligible.
    forward(*model_, cache_, scratch_, tokens.data() + done, n, pos_, logits, all, opt);
    pos_ += n;
    done += n;
  }
}

std::span<const float> Session::eval(std::span<const int32_t> tokens) {
  check(tokens);
  run(tokens, nullptr, false);
  return {scratch_.logits.data(), scratch_.logits.size()};
}

void Session::eval_all(std::span<const int32_t> tokens, std::span<float> out) {
  check(tokens);
  const size_t need = tokens.size() * static_cast<size_t>(model_->config().vocab_size);
  if (out.size() < need) {
    throw Error(ErrorCode::kInvalidArgument, "logits buffer holds " + std::to_string(out.size()) +
                                                 " floats, " + std::to_string(need) + " needed");
  }
  run(tokens, out.data(), true);
}

void Session::rewind(int64_t position) {
  if (position < 0 || position > pos_) {
    throw Error(ErrorCode::kOutOfRange, "cannot rewind to position " + std::to_string(position) +
                                            " (session at " + std::to_string(pos_) + ")");
  }
  pos_ = position;
}

int64_t Session::distinct_experts(int64_t layer) const {
  const int64_t E = model_->config().n_routed_experts;
  if (E == 0 || layer < 0 || layer >= model_->config().num_hidden_layers) return 0;
  int64_t count = 0;
  for (int64_t e = 0; e < E; ++e) count += scratch_.expert_used[layer * E + e];
  return count;
}

void Session::reset_expert_stats() { std::fill(scratch_.expert_used.begin(), scratch_.expert_used.end(), 0); }

}  // namespace dsmoe
