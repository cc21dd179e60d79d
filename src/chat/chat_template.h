#pragma once
// The model's chat template, rendered the way Hugging Face's apply_chat_template renders it: the
// Jinja template from tokenizer_config.json, run with trim_blocks and lstrip_blocks, seeing
// `messages`, `add_generation_prompt`, `tools` and `documents` (None unless given), every special
// token the config sets (bos_token, eos_token, ...), the globals raise_exception and
// strftime_now, and any extra variables the caller passes.
//
//   auto t = chat::ChatTemplate::from_config_file("tokenizer_config.json");
//   std::string prompt = t.render({{"system", "Be brief."}, {"user", "Hi"}}, true);
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_template.h"  // jinja::Template
#include "chat/jinja_value.h"     // jinja::Value, jinja::Dict
#include "util/json.h"            // json::Element

namespace dsmoe::chat {

struct Message {
  std::string role;
  std::string content;
};

// Special tokens as tokenizer_config.json declares them (plain strings or AddedToken objects).
struct SpecialTokens {
  std::optional<std::string> bos, eos, unk, pad, sep, cls, mask;
  std::vector<std::string> additional;
};

class ChatTemplate {
 public:
  // From the text of tokenizer_config.json; `source` names it in error messages. chat_template may
  // be a string or a list of {"name", "template"} objects, of which "default" is used.
  static ChatTemplate from_config_text(std::string_view json_text,
                                       std::string source = "tokenizer_config.json");
  static ChatTemplate from_config_file(const std::filesystem::path& path);

  // A template given directly (a chat_template.jinja file, tests). Throws on syntax errors.
  ChatTemplate(std::string_view template_source, SpecialTokens tokens, bool add_bos_token = false,
               std::string source = "chat template");

  // Renders `messages` (a list of message dicts). `extra` adds or overrides variables, e.g.
  // "tools" (a list of tool schemas) or "enable_thinking". Errors, including the template's own
  // raise_exception(), throw dsmoe::Error naming the source and the template line.
  std::string render(const jinja::Value& messages, bool add_generation_prompt,
                     const jinja::Dict& extra = {}) const;
  // Messages given as the JSON text of an array of message objects.
  std::string render_json(std::string_view messages_json, bool add_generation_prompt,
                          const jinja::Dict& extra = {}) const;
  // Plain {role, content} messages, as the chat REPL keeps them.
  std::string render(const std::vector<Message>& messages, bool add_generation_prompt,
                     const jinja::Dict& extra = {}) const;

  // Parses the JSON text of a message array into the value render() takes; `source` names it.
  static jinja::Value parse_messages(std::string_view messages_json, const std::string& source);
  // The same for an already parsed JSON array (the element must outlive nothing: values are copied).
  static jinja::Value messages_from_json(json::Element messages, const std::string& source);
  static jinja::Value to_value(const std::vector<Message>& messages);

  const std::string& template_source() const { return template_source_; }
  const SpecialTokens& special_tokens() const { return tokens_; }
  bool add_bos_token() const { return add_bos_token_; }

 private:
  std::string template_source_;
  jinja::Template template_;
  SpecialTokens tokens_;
  bool add_bos_token_;
  std::string source_;
};

}  // namespace dsmoe::chat
