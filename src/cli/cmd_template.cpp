// `dsmoe template`: renders a conversation with a model's chat template exactly as Hugging Face's
// apply_chat_template does, printing the prompt text the model would see (no newline added).
#include <cstdio>    // fwrite
#include <fstream>   // ifstream
#include <iostream>  // cin
#include <memory>    // make_shared
#include <optional>
#include <sstream>   // stringstream
#include <string>

#include "chat/chat_template.h"  // ChatTemplate
#include "cli/commands.h"        // Commands
#include "format/dsmoe_file.h"   // DsmoeReader
#include "util/error.h"          // Error
#include "util/json.h"           // json::Document

namespace dsmoe::cli {
namespace {

struct TemplateArgs {
  std::string model;
  std::string tokenizer_config;
  std::string messages;
  bool add_generation_prompt = false;
};

std::string read_text(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, path + ": cannot open");
  ss << f.rdbuf();
  return ss.str();
}

chat::ChatTemplate load_template(const TemplateArgs& a) {
  if (!a.tokenizer_config.empty()) return chat::ChatTemplate::from_config_file(a.tokenizer_config);
  const DsmoeReader reader(a.model);
  std::optional<std::string_view> text = reader.embedded_file("tokenizer_config.json");
  if (!text) throw Error(ErrorCode::kFormat, a.model + ": no embedded tokenizer_config.json");
  return chat::ChatTemplate::from_config_text(*text, "tokenizer_config.json in " + a.model);
}

int run_template(const TemplateArgs& a) {
  chat::ChatTemplate t = load_template(a);
  std::string source = a.messages == "-" ? "messages (stdin)" : a.messages;
  json::Document doc = json::Document::parse(read_text(a.messages), source);
  // Either a message array, or {"messages": [...], "tools": [...], ...other template variables}.
  json::Element root = doc.root();
  jinja::Dict extra;
  json::Element messages = root;
  if (root.is_object()) {
    json::Object o = root.get_object().value();
    if (o.at_key("messages").get(messages) != simdjson::SUCCESS) {
      throw Error(ErrorCode::kFormat, source + ": expected a message array or an object with 'messages'");
    }
    for (auto field : o) {
      if (field.key != "messages") extra.set(std::string(field.key), jinja::Value::from_json(field.value));
    }
  }
  std::string text = t.render(chat::ChatTemplate::messages_from_json(messages, source),
                              a.add_generation_prompt, extra);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

void add_template(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<TemplateArgs>();
  CLI::App* sub = app.add_subcommand(
      "template", "Render a conversation with the model's chat template (as HF apply_chat_template)");
  CLI::Option_group* g = sub->add_option_group("template source");
  g->add_option("--model", args->model, "A packed .dsmoe model (its embedded tokenizer_config.json)");
  g->add_option("--tokenizer-config", args->tokenizer_config, "A Hugging Face tokenizer_config.json");
  g->require_option(1);
  sub->add_option("--messages", args->messages,
                  "JSON file ('-' for stdin): an array of {role, content, ...} messages, or an object "
                  "with 'messages' and further template variables such as 'tools'")
      ->required();
  sub->add_flag("--add-generation-prompt", args->add_generation_prompt,
                "End with the assistant prefix, as for generation");
  commands.push_back({sub, [args] { return run_template(*args); }});
}

}  // namespace dsmoe::cli
