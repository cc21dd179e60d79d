#pragma once
// Everything a program needs to talk to a model, loaded from one .dsmoe file: the weights (Model),
// the tokenizer and chat template embedded at conversion, and the tokens that end a reply.
// Immutable after load and shared (by shared_ptr) by every session, on any thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.h"   // chat::ChatTemplate, chat::Message
#include "model/model.h"          // Model
#include "tokenizer/tokenizer.h"  // Tokenizer

namespace dsmoe {

using ChatMessage = chat::Message;

class LoadedModel {
 public:
  // Throws Error naming the file: kIo/kFormat/kUnsupported from the model, kFormat when the file
  // carries no tokenizer.json (convert the checkpoint with its tokenizer files).
  static std::shared_ptr<const LoadedModel> load(const std::filesystem::path& path);

  const std::shared_ptr<const Model>& model() const { return model_; }
  const ModelConfig& config() const { return model_->config(); }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  // nullptr when tokenizer_config.json is missing or has no chat_template.
  const chat::ChatTemplate* chat_template() const { return chat_template_.get(); }
  std::optional<int32_t> bos_token() const { return bos_; }
  std::optional<int32_t> eos_token() const { return eos_; }
  // Tokens at which generation stops: EOS from config.json and tokenizer_config.json.
  std::span<const int32_t> end_tokens() const { return end_tokens_; }
  bool is_end_token(int32_t token) const;
  int32_t vocab_size() const { return static_cast<int32_t>(config().vocab_size); }

  // Renders `messages` with the chat template; Error(kUnsupported) when the model has none.
  std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  // Whether raw prompts start with BOS (tokenizer_config.json's add_bos_token).
  bool add_bos() const { return add_bos_; }

  LoadedModel(std::shared_ptr<const Model> model, Tokenizer tokenizer,
              std::optional<std::string_view> tokenizer_config, const std::string& source);

 private:
  std::shared_ptr<const Model> model_;
  Tokenizer tokenizer_;
  std::unique_ptr<chat::ChatTemplate> chat_template_;
  std::optional<int32_t> bos_, eos_;
  bool add_bos_ = false;
  std::vector<int32_t> end_tokens_;
};

}  // namespace dsmoe
