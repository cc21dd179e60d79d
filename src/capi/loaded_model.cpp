// Loading a model with its tokenizer and chat template (see loaded_model.h).
#include "capi/loaded_model.h"

#include <algorithm>  // find

#include "util/error.h"  // Error
#include "util/json.h"   // Document

namespace dsmoe {

namespace {

// A special token in tokenizer_config.json: a string, an AddedToken object, or null.
std::optional<std::string> special_token(json::Object config, std::string_view key, const std::string& src) {
  if (json::is_null(config, key)) return std::nullopt;
  json::Element e = config.at_key(key).value();
  if (e.is_string()) return std::string(json::as_string(e, src + ": field '" + std::string(key) + "'"));
  if (e.is_object()) return std::string(json::get_string(e.get_object().value(), "content", src + ": field '" + std::string(key) + "'"));
  throw Error(ErrorCode::kFormat, src + ": field '" + std::string(key) + "': expected a string or an object with 'content'");
}

}  // namespace

std::shared_ptr<const LoadedModel> LoadedModel::load(const std::filesystem::path& path) {
  std::shared_ptr<const Model> model = Model::load(path);
  const DsmoeReader& file = *model->file();
  const std::optional<std::string_view> tokenizer_json = file.embedded_file("tokenizer.json");
  if (!tokenizer_json) {
    throw Error(ErrorCode::kFormat, path.string() + " carries no tokenizer.json: convert the checkpoint "
                                                    "with its tokenizer files next to config.json");
  }
  Tokenizer tokenizer = Tokenizer::from_json(*tokenizer_json, "tokenizer.json in " + path.string());
  return std::make_shared<const LoadedModel>(std::move(model), std::move(tokenizer),
                                             file.embedded_file("tokenizer_config.json"),
                                             "tokenizer_config.json in " + path.string());
}

LoadedModel::LoadedModel(std::shared_ptr<const Model> model, Tokenizer tokenizer,
                         std::optional<std::string_view> tokenizer_config, const std::string& source)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  const int64_t vocab = model_->config().vocab_size;
  const auto id_of = [&](const std::optional<std::string>& text, const char* what) -> std::optional<int32_t> {
    if (!text) return std::nullopt;
    std::optional<int32_t> id = tokenizer_.token_id(*text);
    if (!id || *id >= vocab) {
      throw Error(ErrorCode::kFormat, source + ": " + what + " '" + *text + "' is not a token of the model's vocabulary");
    }
    return id;
  };
  if (tokenizer_config) {
    const json::Document doc = json::Document::parse(*tokenizer_config, source);
    const json::Object config = doc.root_object();
    bos_ = id_of(special_token(config, "bos_token", source), "bos_token");
    eos_ = id_of(special_token(config, "eos_token", source), "eos_token");
    add_bos_ = json::opt_bool(config, "add_bos_token", source).value_or(false);
    if (!json::is_null(config, "chat_template")) {
      chat_template_ = std::make_unique<chat::ChatTemplate>(
          chat::ChatTemplate::from_config_text(*tokenizer_config, source));
    }
  }
  const ModelConfig& c = model_->config();
  if (!bos_ && c.bos_token_id >= 0 && c.bos_token_id < vocab) bos_ = static_cast<int32_t>(c.bos_token_id);
  if (!eos_ && c.eos_token_id >= 0 && c.eos_token_id < vocab) eos_ = static_cast<int32_t>(c.eos_token_id);
  if (eos_) end_tokens_.push_back(*eos_);
  if (c.eos_token_id >= 0 && c.eos_token_id < vocab && !is_end_token(static_cast<int32_t>(c.eos_token_id))) {
    end_tokens_.push_back(static_cast<int32_t>(c.eos_token_id));
  }
}

bool LoadedModel::is_end_token(int32_t token) const {
  return std::find(end_tokens_.begin(), end_tokens_.end(), token) != end_tokens_.end();
}

std::string LoadedModel::render_chat(const std::vector<ChatMessage>& messages,
                                     bool add_generation_prompt) const {
  if (chat_template_ == nullptr) {
    throw Error(ErrorCode::kUnsupported, "the model has no chat template (tokenizer_config.json with chat_template)");
  }
  return chat_template_->render(messages, add_generation_prompt);
}

}  // namespace dsmoe
