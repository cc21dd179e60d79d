// The generation loop (see generate.h).
#include "runtime/generate.h"

#include <algorithm>  // find
#include <chrono>     // steady_clock

#include "sample/stop_strings.h"  // StopStrings
#include "util/error.h"           // Error

namespace dsmoe {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The flag is an int shared with C callers, who set it with an atomic store.
bool cancelled(const int* flag) { return flag != nullptr && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0; }

}  // namespace

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::kEndToken: return "end token";
    case StopReason::kMaxTokens: return "max tokens";
    case StopReason::kStopString: return "stop string";
    case StopReason::kContextFull: return "context full";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kCallback: return "stopped by caller";
  }
  return "unknown";
}

GenerateStats generate(Session& session, const Tokenizer& tokenizer, Sampler& sampler,
                       std::span<const int32_t> prompt, const GenerateOptions& options,
                       const PieceSink& sink) {
  if (prompt.empty()) throw Error(ErrorCode::kInvalidArgument, "generate: the prompt is empty");
  const int64_t free_positions = session.ctx() - session.position();
  if (static_cast<int64_t>(prompt.size()) > free_positions) {
    throw Error(ErrorCode::kOutOfRange,
                "the prompt is " + std::to_string(prompt.size()) + " tokens but only " +
                    std::to_string(free_positions) + " of the context's " +
                    std::to_string(session.ctx()) + " positions are free");
  }
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  StreamDecoder decoder(tokenizer);
  StopStrings stops(options.stop_strings);

  auto t0 = std::chrono::steady_clock::now();
  std::span<const float> logits = session.eval(prompt);
  for (int32_t t : prompt) sampler.accept(t);
  stats.prompt_seconds = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  bool stopped_by_string = false;
  for (;;) {
    if (cancelled(options.cancel)) {
      stats.stop = StopReason::kCancelled;
      break;
    }
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    ++stats.generated_tokens;
    if (options.tokens_out != nullptr) options.tokens_out->push_back(token);
    if (std::find(options.end_tokens.begin(), options.end_tokens.end(), token) !=
        options.end_tokens.end()) {
      stats.stop = StopReason::kEndToken;
      break;
    }
    std::string_view piece = decoder.push(token);
    if (!stops.empty()) stopped_by_string = stops.push(piece, piece);
    if (!piece.empty() && !sink(piece)) {
      stats.stop = StopReason::kCallback;
      break;
    }
    if (stopped_by_string) {
      stats.stop = StopReason::kStopString;
      break;
    }
    if (options.max_tokens > 0 && stats.generated_tokens >= options.max_tokens) {
      stats.stop = StopReason::kMaxTokens;  // checked before evaluating: no wasted forward pass
      break;
    }
    if (session.position() >= session.ctx()) {
      stats.stop = StopReason::kContextFull;
      break;
    }
    const int32_t next[1] = {token};
    logits = session.eval(next);
  }
  if (!stopped_by_string && stats.stop != StopReason::kCallback) {
    // Text held back for an unfinished character or a possible stop string.
    std::string_view tail = decoder.flush();
    if (!stops.empty()) {
      std::string_view emit;
      const bool hit = stops.push(tail, emit);
      if (!emit.empty()) sink(emit);
      tail = hit ? std::string_view() : stops.flush();
    }
    if (!tail.empty()) sink(tail);
  }
  stats.generate_seconds = seconds_since(t0);
  return stats;
}

}  // namespace dsmoe
