// C API: models, text (tokenize, detokenize, chat template) and option defaults.
#include <cstring>  // memcpy, strlen
#include <string>
#include <string_view>
#include <utility>  // move
#include <vector>

#include "capi/guard.h"    // guard, require, read_options, write_result
#include "capi/handles.h"  // dsmoe_model
#include "util/utf8.h"     // valid_prefix

using dsmoe::capi::guard;
using dsmoe::capi::require;

namespace dsmoe::capi {

namespace {

std::string_view text_arg(const char* text, size_t len, const char* what) {
  if (text == nullptr && len > 0) invalid_argument(std::string(what) + " is NULL");
  std::string_view s(text == nullptr ? "" : text, len);
  const size_t bad = utf8::valid_prefix(s);
  if (bad != s.size()) {
    invalid_argument(std::string(what) + " is not valid UTF-8 (bad byte at offset " +
                     std::to_string(bad) + ")");
  }
  return s;
}

// Copies `s` and its terminator into the caller's buffer (see the buffer rules in dsmoe.h).
void write_text(const std::string& s, char* out, size_t capacity, size_t* len) {
  require(len, "text_len");
  *len = s.size();
  if (out == nullptr && capacity == 0) return;
  require(out, "text");
  if (capacity < s.size() + 1) {
    throw Error(ErrorCode::kOutOfRange, "text buffer too small: " + std::to_string(capacity) +
                                            " bytes for " + std::to_string(s.size() + 1));
  }
  std::memcpy(out, s.c_str(), s.size() + 1);
}

}  // namespace

SamplerParams sampler_params(const dsmoe_sampling_options& o) {
  SamplerParams p;
  p.temperature = o.temperature;
  p.top_k = o.top_k;
  p.top_p = o.top_p;
  p.min_p = o.min_p;
  p.repeat_penalty = o.repeat_penalty;
  p.presence_penalty = o.presence_penalty;
  p.penalty_window = o.penalty_window;
  p.seed = o.seed;
  p.validate();
  return p;
}

}  // namespace dsmoe::capi

extern "C" {

void dsmoe_model_options_default(dsmoe_model_options* options) {
  if (options == nullptr) return;
  *options = {};
  options->struct_size = sizeof *options;
}

void dsmoe_session_options_default(dsmoe_session_options* options) {
  if (options == nullptr) return;
  *options = {};
  options->struct_size = sizeof *options;
}

void dsmoe_sampling_options_default(dsmoe_sampling_options* options) {
  if (options == nullptr) return;
  const dsmoe::SamplerParams p;
  *options = {};
  options->struct_size = sizeof *options;
  options->temperature = p.temperature;
  options->top_k = p.top_k;
  options->top_p = p.top_p;
  options->min_p = p.min_p;
  options->repeat_penalty = p.repeat_penalty;
  options->presence_penalty = p.presence_penalty;
  options->penalty_window = p.penalty_window;
  options->seed = p.seed;
}

void dsmoe_generate_options_default(dsmoe_generate_options* options) {
  if (options == nullptr) return;
  *options = {};
  options->struct_size = sizeof *options;
  options->stop_at_end_token = 1;
}

dsmoe_status dsmoe_model_load(const char* path, const dsmoe_model_options* options,
                              dsmoe_model** out) {
  return guard([&] {
    dsmoe_model*& result = require(out, "out");
    result = nullptr;
    require(path, "path");
    dsmoe_model_options defaults;
    dsmoe_model_options_default(&defaults);
    const dsmoe_model_options o = dsmoe::capi::read_options(options, defaults, "dsmoe_model_options");
    if (o.n_threads < 0) dsmoe::capi::invalid_argument("dsmoe_model_options.n_threads is negative");
    auto model = std::make_unique<dsmoe_model>();
    model->loaded = dsmoe::LoadedModel::load(path);
    model->n_threads = o.n_threads;
    result = model.release();
  });
}

void dsmoe_model_free(dsmoe_model* model) { delete model; }

dsmoe_status dsmoe_model_get_info(const dsmoe_model* model, dsmoe_model_info* info) {
  return guard([&] {
    const dsmoe::LoadedModel& m = *require(model, "model").loaded;
    require(info, "info");
    dsmoe_model_info full{};
    full.struct_size = sizeof full;
    full.vocab_size = m.vocab_size();
    full.max_context = static_cast<int32_t>(m.config().max_position_embeddings);
    full.n_layers = static_cast<int32_t>(m.config().num_hidden_layers);
    full.bos_token = m.bos_token().value_or(-1);
    full.eos_token = m.eos_token().value_or(-1);
    full.has_chat_template = m.chat_template() != nullptr;
    full.model_type = m.config().model_type.c_str();
    dsmoe::capi::write_result(info, full, "dsmoe_model_info");
  });
}

dsmoe_status dsmoe_token_is_end(const dsmoe_model* model, dsmoe_token token, int* out) {
  return guard([&] {
    const dsmoe::LoadedModel& m = *require(model, "model").loaded;
    require(out, "out") = m.is_end_token(token) ? 1 : 0;
  });
}

dsmoe_status dsmoe_tokenize(const dsmoe_model* model, const char* text, size_t text_len,
                            int add_bos, dsmoe_token* tokens, size_t capacity, size_t* n_tokens) {
  return guard([&] {
    const dsmoe::LoadedModel& m = *require(model, "model").loaded;
    require(n_tokens, "n_tokens");
    const std::string_view s = dsmoe::capi::text_arg(text, text_len, "text");
    std::vector<int32_t> ids;
    if (add_bos && m.bos_token()) ids.push_back(*m.bos_token());
    m.tokenizer().encode_into(s, ids);
    *n_tokens = ids.size();
    if (tokens == nullptr && capacity == 0) return;
    require(tokens, "tokens");
    if (capacity < ids.size()) {
      throw dsmoe::Error(dsmoe::ErrorCode::kOutOfRange,
                         "token buffer too small: room for " + std::to_string(capacity) +
                             " tokens, the text has " + std::to_string(ids.size()));
    }
    std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
  });
}

dsmoe_status dsmoe_detokenize(const dsmoe_model* model, const dsmoe_token* tokens,
                              size_t n_tokens, char* text, size_t capacity, size_t* text_len) {
  return guard([&] {
    const dsmoe::LoadedModel& m = *require(model, "model").loaded;
    if (tokens == nullptr && n_tokens > 0) dsmoe::capi::invalid_argument("tokens is NULL");
    const std::string s = m.tokenizer().decode({tokens, n_tokens});
    dsmoe::capi::write_text(s, text, capacity, text_len);
  });
}

dsmoe_status dsmoe_apply_chat_template(const dsmoe_model* model, const dsmoe_message* messages,
                                       size_t n_messages, int add_generation_prompt, char* text,
                                       size_t capacity, size_t* text_len) {
  return guard([&] {
    const dsmoe::LoadedModel& m = *require(model, "model").loaded;
    if (messages == nullptr && n_messages > 0) dsmoe::capi::invalid_argument("messages is NULL");
    std::vector<dsmoe::ChatMessage> conv;
    conv.reserve(n_messages);
    for (size_t i = 0; i < n_messages; ++i) {
      const std::string what = "messages[" + std::to_string(i) + "]";
      const char* role = messages[i].role;
      const char* content = messages[i].content;
      if (role == nullptr) dsmoe::capi::invalid_argument(what + ".role is NULL");
      if (content == nullptr) dsmoe::capi::invalid_argument(what + ".content is NULL");
      dsmoe::ChatMessage msg;
      msg.role = dsmoe::capi::text_arg(role, std::strlen(role), (what + ".role").c_str());
      msg.content = dsmoe::capi::text_arg(content, std::strlen(content), (what + ".content").c_str());
      conv.push_back(std::move(msg));
    }
    dsmoe::capi::write_text(m.render_chat(conv, add_generation_prompt != 0), text, capacity,
                            text_len);
  });
}

}  // extern "C"
