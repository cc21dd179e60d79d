#pragma once
// The generation loop shared by the C API, `dsmoe run` and `dsmoe chat`: evaluate the prompt,
// then sample → stream-decode → check stop conditions → evaluate, one token at a time, handing
// UTF-8-complete text to a sink. Buffers are sized before the loop: nothing allocates per token.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/session.h"      // Session
#include "sample/sampler.h"       // Sampler
#include "tokenizer/tokenizer.h"  // Tokenizer

namespace dsmoe {

// Same order and meaning as dsmoe_stop_reason in include/dsmoe/dsmoe.h.
enum class StopReason { kEndToken, kMaxTokens, kStopString, kContextFull, kCancelled, kCallback };
const char* to_string(StopReason r);

struct GenerateOptions {
  int64_t max_tokens = 0;                // 0: no limit but the context
  std::span<const int32_t> end_tokens;   // EOS / end-of-turn ids; empty: never stops on a token
  std::vector<std::string> stop_strings; // never shown; the text before them is
  const int* cancel = nullptr;           // polled (atomically) before each token; non-zero stops
  // Receives every generated token id (the end token included), e.g. a conversation's history.
  // Reserve room beforehand to keep the loop allocation-free.
  std::vector<int32_t>* tokens_out = nullptr;
};

struct GenerateStats {
  StopReason stop = StopReason::kEndToken;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_seconds = 0;    // evaluating the prompt
  double generate_seconds = 0;  // sampling and evaluating the reply
};

// Receives a piece of generated text (complete UTF-8 characters); returns false to stop.
using PieceSink = std::function<bool(std::string_view)>;

// Appends `prompt` (not empty) to the session and generates until a stop condition. The sampler
// sees the prompt's tokens first (for its penalty window). Throws Error(kOutOfRange) before
// evaluating anything when the prompt does not fit in the context, Error(kInvalidArgument) when it
// is empty; exceptions thrown by `sink` propagate.
GenerateStats generate(Session& session, const Tokenizer& tokenizer, Sampler& sampler,
                       std::span<const int32_t> prompt, const GenerateOptions& options,
                       const PieceSink& sink);

}  // namespace dsmoe
