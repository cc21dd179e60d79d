// dsmoe: a header-only C++ wrapper over the C API (dsmoe.h). Handles become move-only RAII
// objects, status codes become dsmoe::api::Error exceptions, buffers become std::string and
// std::vector. Same thread-safety rules as the C API: a Model may be shared by many threads, a
// Session is used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsmoe/dsmoe.h"

namespace dsmoe::api {

class Error : public std::runtime_error {
 public:
  Error(dsmoe_status status, const std::string& message)
      : std::runtime_error(std::string(dsmoe_status_name(status)) + ": " + message),
        status_(status) {}
  dsmoe_status status() const noexcept { return status_; }

 private:
  dsmoe_status status_;
};

inline void check(dsmoe_status status) {
  if (status != DSMOE_OK) throw Error(status, dsmoe_last_error());
}

inline std::string version() { return dsmoe_version(); }

struct ModelOptions : dsmoe_model_options {
  ModelOptions() { dsmoe_model_options_default(this); }
};
struct SessionOptions : dsmoe_session_options {
  SessionOptions() { dsmoe_session_options_default(this); }
};
struct SamplingOptions : dsmoe_sampling_options {
  SamplingOptions() { dsmoe_sampling_options_default(this); }
};

struct Message {
  std::string role;
  std::string content;
};

// A cancellation flag another thread may raise while generate() runs.
class CancelFlag {
 public:
  void cancel() noexcept { std::atomic_ref<int>(value_).store(1, std::memory_order_relaxed); }
  void clear() noexcept { std::atomic_ref<int>(value_).store(0, std::memory_order_relaxed); }
  const int* get() const noexcept { return &value_; }

 private:
  alignas(std::atomic_ref<int>::required_alignment) int value_ = 0;
};

class Model {
 public:
  explicit Model(const std::string& path, const ModelOptions& options = {}) {
    check(dsmoe_model_load(path.c_str(), &options, &handle_));
  }
  Model(Model&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Model& operator=(Model&& other) noexcept {
    if (this != &other) {
      dsmoe_model_free(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() { dsmoe_model_free(handle_); }

  dsmoe_model_info info() const {
    dsmoe_model_info info{};
    info.struct_size = sizeof info;
    check(dsmoe_model_get_info(handle_, &info));
    return info;
  }
  bool is_end(dsmoe_token token) const {
    int end = 0;
    check(dsmoe_token_is_end(handle_, token, &end));
    return end != 0;
  }

  std::vector<dsmoe_token> tokenize(std::string_view text, bool add_bos = false) const {
    size_t n = 0;
    std::vector<dsmoe_token> tokens(text.size() + 2);  // a token covers at least one byte
    check(dsmoe_tokenize(handle_, text.data(), text.size(), add_bos, tokens.data(), tokens.size(),
                         &n));
    tokens.resize(n);
    return tokens;
  }
  std::string detokenize(std::span<const dsmoe_token> tokens) const {
    return fill_string([&](char* buf, size_t cap, size_t* len) {
      return dsmoe_detokenize(handle_, tokens.data(), tokens.size(), buf, cap, len);
    });
  }
  std::string apply_chat_template(const std::vector<Message>& messages,
                                  bool add_generation_prompt = true) const {
    std::vector<dsmoe_message> c;
    c.reserve(messages.size());
    for (const auto& m : messages) c.push_back({m.role.c_str(), m.content.c_str()});
    return fill_string([&](char* buf, size_t cap, size_t* len) {
      return dsmoe_apply_chat_template(handle_, c.data(), c.size(), add_generation_prompt, buf,
                                       cap, len);
    });
  }

  const dsmoe_model* get() const noexcept { return handle_; }

 private:
  // Asks for the length first, then fills a string of exactly that size.
  template <class F>
  static std::string fill_string(F&& call) {
    size_t len = 0;
    check(call(nullptr, 0, &len));
    std::string s(len, '\0');
    check(call(s.data(), len + 1, &len));  // writes the terminator into s[len]
    return s;
  }
  dsmoe_model* handle_ = nullptr;
};

struct GenerateOptions {
  int32_t max_tokens = 0;  // 0: until a stop condition or a full context
  bool add_bos = false;
  std::optional<SamplingOptions> sampling;  // empty: keep the session's
  std::vector<std::string> stop_strings;
  bool stop_at_end_token = true;
  const CancelFlag* cancel = nullptr;
};

class Session {
 public:
  explicit Session(const Model& model, const SessionOptions& options = {}) {
    check(dsmoe_session_create(model.get(), &options, &handle_));
    dsmoe_model_info info = model.info();
    vocab_size_ = static_cast<size_t>(info.vocab_size);
  }
  Session(Session&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), vocab_size_(other.vocab_size_) {}
  Session& operator=(Session&& other) noexcept {
    if (this != &other) {
      dsmoe_session_free(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
      vocab_size_ = other.vocab_size_;
    }
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { dsmoe_session_free(handle_); }

  void reset() { check(dsmoe_session_reset(handle_)); }
  size_t position() const {
    size_t pos = 0, n_ctx = 0;
    check(dsmoe_session_get_position(handle_, &pos, &n_ctx));
    return pos;
  }
  size_t context_size() const {
    size_t pos = 0, n_ctx = 0;
    check(dsmoe_session_get_position(handle_, &pos, &n_ctx));
    return n_ctx;
  }

  // Logits of the last token, valid until the session changes.
  std::span<const float> eval(std::span<const dsmoe_token> tokens) {
    const float* logits = nullptr;
    check(dsmoe_eval(handle_, tokens.data(), tokens.size(), &logits));
    return {logits, vocab_size_};
  }
  void set_sampling(const SamplingOptions& options) {
    check(dsmoe_session_set_sampling(handle_, &options));
  }
  dsmoe_token sample() {
    dsmoe_token t = 0;
    check(dsmoe_sample(handle_, nullptr, &t));
    return t;
  }

  // Streams pieces to `on_piece` (return false to stop). An exception thrown by on_piece stops
  // generation and is rethrown here, after the C call has returned.
  dsmoe_generate_result generate(std::string_view prompt, const GenerateOptions& options,
                                 const std::function<bool(std::string_view)>& on_piece) {
    std::vector<const char*> stops;
    for (const auto& s : options.stop_strings) stops.push_back(s.c_str());
    struct Context {
      const std::function<bool(std::string_view)>* fn;
      std::exception_ptr error;
    } ctx{&on_piece, nullptr};
    dsmoe_generate_options c;
    dsmoe_generate_options_default(&c);
    c.max_tokens = options.max_tokens;
    c.add_bos = options.add_bos;
    c.sampling = options.sampling ? &*options.sampling : nullptr;
    c.stop_strings = stops.data();
    c.n_stop_strings = stops.size();
    c.stop_at_end_token = options.stop_at_end_token;
    c.cancel = options.cancel ? options.cancel->get() : nullptr;
    c.user_data = &ctx;
    c.on_piece = [](const char* piece, size_t len, void* user) -> int {
      auto* x = static_cast<Context*>(user);
      try {
        return (*x->fn)(std::string_view(piece, len)) ? 0 : 1;
      } catch (...) {
        x->error = std::current_exception();
        return 1;
      }
    };
    dsmoe_generate_result result{};
    result.struct_size = sizeof result;
    const dsmoe_status status = dsmoe_generate(handle_, prompt.data(), prompt.size(), &c, &result);
    if (ctx.error) std::rethrow_exception(ctx.error);
    check(status);
    return result;
  }

  dsmoe_session* get() const noexcept { return handle_; }

 private:
  dsmoe_session* handle_ = nullptr;
  size_t vocab_size_ = 0;
};

}  // namespace dsmoe::api
