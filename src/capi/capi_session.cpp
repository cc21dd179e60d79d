// C API: sessions, evaluation, sampling and generation.
#include <cstring>  // strlen
#include <string>
#include <vector>

#include "capi/guard.h"        // guard, require, read_options, write_result
#include "capi/handles.h"      // dsmoe_model, dsmoe_session
#include "runtime/generate.h"  // generate
#include "util/utf8.h"         // valid_prefix

using dsmoe::capi::guard;
using dsmoe::capi::require;

namespace dsmoe::capi {
namespace {

dsmoe_sampling_options default_sampling() {
  dsmoe_sampling_options o;
  dsmoe_sampling_options_default(&o);
  return o;
}

void check_utf8(std::string_view s, const std::string& what) {
  const size_t bad = utf8::valid_prefix(s);
  if (bad != s.size()) {
    invalid_argument(what + " is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
  }
}

}  // namespace
}  // namespace dsmoe::capi

extern "C" {

dsmoe_status dsmoe_session_create(const dsmoe_model* model, const dsmoe_session_options* options,
                                  dsmoe_session** out) {
  return guard([&] {
    dsmoe_session*& result = require(out, "out");
    result = nullptr;
    const dsmoe_model& m = require(model, "model");
    dsmoe_session_options defaults;
    dsmoe_session_options_default(&defaults);
    const dsmoe_session_options o =
        dsmoe::capi::read_options(options, defaults, "dsmoe_session_options");
    if (o.n_ctx < 0) dsmoe::capi::invalid_argument("dsmoe_session_options.n_ctx is negative");
    dsmoe::SessionOptions so;
    so.ctx = o.n_ctx;
    so.threads = m.n_threads;
    result = new dsmoe_session{m.loaded, dsmoe::Session(m.loaded->model(), so),
                               dsmoe::Sampler(m.loaded->vocab_size(),
                                              dsmoe::capi::sampler_params(dsmoe::capi::default_sampling())),
                               {}};
  });
}

void dsmoe_session_free(dsmoe_session* session) { delete session; }

dsmoe_status dsmoe_session_reset(dsmoe_session* session) {
  return guard([&] {
    dsmoe_session& s = require(session, "session");
    s.session.reset();
    s.sampler.reset();
    s.last_logits = {};
  });
}

dsmoe_status dsmoe_session_get_position(const dsmoe_session* session, size_t* position,
                                        size_t* n_ctx) {
  return guard([&] {
    const dsmoe_session& s = require(session, "session");
    if (position != nullptr) *position = static_cast<size_t>(s.session.position());
    if (n_ctx != nullptr) *n_ctx = static_cast<size_t>(s.session.ctx());
  });
}

dsmoe_status dsmoe_eval(dsmoe_session* session, const dsmoe_token* tokens, size_t n_tokens,
                        const float** logits) {
  return guard([&] {
    dsmoe_session& s = require(session, "session");
    if (tokens == nullptr && n_tokens > 0) dsmoe::capi::invalid_argument("tokens is NULL");
    if (logits != nullptr) *logits = nullptr;
    s.last_logits = s.session.eval({tokens, n_tokens});
    for (size_t i = 0; i < n_tokens; ++i) s.sampler.accept(tokens[i]);
    if (logits != nullptr) *logits = s.last_logits.data();
  });
}

dsmoe_status dsmoe_session_set_sampling(dsmoe_session* session,
                                        const dsmoe_sampling_options* options) {
  return guard([&] {
    dsmoe_session& s = require(session, "session");
    const dsmoe_sampling_options o = dsmoe::capi::read_options(
        &require(options, "options"), dsmoe::capi::default_sampling(), "dsmoe_sampling_options");
    s.sampler.set_params(dsmoe::capi::sampler_params(o));
  });
}

dsmoe_status dsmoe_sample(dsmoe_session* session, const float* logits, dsmoe_token* token) {
  return guard([&] {
    dsmoe_session& s = require(session, "session");
    dsmoe_token& out = require(token, "token");
    std::span<const float> l = s.last_logits;
    if (logits != nullptr) {
      l = {logits, static_cast<size_t>(s.loaded->vocab_size())};
    } else if (l.empty()) {
      throw dsmoe::Error(dsmoe::ErrorCode::kInvalidArgument,
                         "dsmoe_sample: no logits given and nothing evaluated yet");
    }
    out = s.sampler.sample(l);
  });
}

dsmoe_status dsmoe_generate(dsmoe_session* session, const char* prompt, size_t prompt_len,
                            const dsmoe_generate_options* options,
                            dsmoe_generate_result* result) {
  return guard([&] {
    dsmoe_session& s = require(session, "session");
    if (prompt == nullptr && prompt_len > 0) dsmoe::capi::invalid_argument("prompt is NULL");
    dsmoe_generate_options defaults;
    dsmoe_generate_options_default(&defaults);
    const dsmoe_generate_options o =
        dsmoe::capi::read_options(options, defaults, "dsmoe_generate_options");
    if (o.max_tokens < 0) dsmoe::capi::invalid_argument("dsmoe_generate_options.max_tokens is negative");
    if (o.stop_strings == nullptr && o.n_stop_strings > 0) {
      dsmoe::capi::invalid_argument("dsmoe_generate_options.stop_strings is NULL");
    }
    const std::string_view text(prompt == nullptr ? "" : prompt, prompt_len);
    dsmoe::capi::check_utf8(text, "prompt");

    dsmoe::GenerateOptions go;
    go.max_tokens = o.max_tokens;
    go.cancel = o.cancel;
    if (o.stop_at_end_token) go.end_tokens = s.loaded->end_tokens();
    for (size_t i = 0; i < o.n_stop_strings; ++i) {
      const std::string what = "stop_strings[" + std::to_string(i) + "]";
      if (o.stop_strings[i] == nullptr) dsmoe::capi::invalid_argument(what + " is NULL");
      go.stop_strings.emplace_back(o.stop_strings[i]);
      dsmoe::capi::check_utf8(go.stop_strings.back(), what);
    }
    if (o.sampling != nullptr) {
      const dsmoe_sampling_options so = dsmoe::capi::read_options(
          o.sampling, dsmoe::capi::default_sampling(), "dsmoe_sampling_options");
      s.sampler.set_params(dsmoe::capi::sampler_params(so));
    }
    std::vector<int32_t> tokens;
    const auto& bos = s.loaded->bos_token();
    if (o.add_bos && bos) tokens.push_back(*bos);
    s.loaded->tokenizer().encode_into(text, tokens);

    // Exceptions must not cross the C callback either: the callback is C code, so only its
    // return value is looked at.
    dsmoe::PieceSink sink = [&](std::string_view piece) {
      return o.on_piece == nullptr || o.on_piece(piece.data(), piece.size(), o.user_data) == 0;
    };
    s.last_logits = {};  // the session's logits buffer is reused by the loop
    const dsmoe::GenerateStats st =
        dsmoe::generate(s.session, s.loaded->tokenizer(), s.sampler, tokens, go, sink);
    if (result != nullptr) {
      dsmoe_generate_result full{};
      full.struct_size = sizeof full;
      full.stop_reason = static_cast<dsmoe_stop_reason>(st.stop);
      full.prompt_tokens = static_cast<size_t>(st.prompt_tokens);
      full.generated_tokens = static_cast<size_t>(st.generated_tokens);
      full.prompt_seconds = st.prompt_seconds;
      full.generate_seconds = st.generate_seconds;
      dsmoe::capi::write_result(result, full, "dsmoe_generate_result");
    }
  });
}

}  // extern "C"

