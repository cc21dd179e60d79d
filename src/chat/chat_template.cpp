#include "chat/chat_template.h"

#include <ctime>    // time, localtime_r, strftime
#include <fstream>  // ifstream

#include "chat/jinja_builtins.h"  // BoundArgs
#include "util/error.h"  // Error
#include "util/json.h"   // json::Document

namespace dsmoe::chat {
namespace {

// A special token is a string, an AddedToken object ({"__type": "AddedToken", "content": ...}),
// or null (not set).
std::optional<std::string> token_text(json::Object config, std::string_view key, const std::string& source) {
  json::Element e;
  if (config.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  if (e.is_string()) return std::string(json::as_string(e, source + ": field '" + std::string(key) + "'"));
  if (e.is_object()) {
    return std::string(json::get_string(e.get_object().value(), "content", source + ": field '" + std::string(key) + "'"));
  }
  throw Error(ErrorCode::kFormat, source + ": field '" + std::string(key) +
                                      "': expected a string, an AddedToken object or null");
}

std::string template_text(json::Object config, const std::string& source) {
  json::Element e;
  if (config.at_key("chat_template").get(e) != simdjson::SUCCESS || e.is_null()) {
    throw Error(ErrorCode::kFormat, source + ": no chat_template (the model declares no chat format)");
  }
  if (e.is_string()) return std::string(e.get_string().value());
  if (!e.is_array()) {
    throw Error(ErrorCode::kFormat, source + ": field 'chat_template': expected a string or a list of {name, template} objects");
  }
  std::string names;
  json::Array list = e.get_array().value();
  for (json::Element item : list) {
    std::string ctx = source + ": chat_template entry";
    if (!item.is_object()) throw Error(ErrorCode::kFormat, ctx + ": expected an object with name and template");
    json::Object o = item.get_object().value();
    std::string_view name = json::get_string(o, "name", ctx);
    if (name == "default") return std::string(json::get_string(o, "template", ctx));
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw Error(ErrorCode::kFormat, source + ": chat_template lists templates (" + names + ") but none named 'default'");
}

jinja::Value strftime_now(const jinja::CallArgs& a) {
  jinja::BoundArgs b(a, "strftime_now", {"format"});
  std::string format = b.string(0);
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(256 + format.size() * 8, '\0');
  size_t n = std::strftime(out.data(), out.size(), format.c_str(), &local);
  out.resize(n);
  return jinja::Value(std::move(out));
}

}  // namespace

ChatTemplate ChatTemplate::from_config_text(std::string_view json_text, std::string source) {
  json::Document doc = json::Document::parse(json_text, source);
  json::Object config = doc.root_object();
  SpecialTokens t;
  t.bos = token_text(config, "bos_token", source);
  t.eos = token_text(config, "eos_token", source);
  t.unk = token_text(config, "unk_token", source);
  t.pad = token_text(config, "pad_token", source);
  t.sep = token_text(config, "sep_token", source);
  t.cls = token_text(config, "cls_token", source);
  t.mask = token_text(config, "mask_token", source);
  json::Element extra;
  if (config.at_key("additional_special_tokens").get(extra) == simdjson::SUCCESS && extra.is_array()) {
    json::Array list = extra.get_array().value();
    for (json::Element x : list) {
      if (x.is_string()) {
        t.additional.emplace_back(x.get_string().value());
      } else if (x.is_object()) {
        t.additional.emplace_back(json::get_string(x.get_object().value(), "content", source + ": additional_special_tokens"));
      }
    }
  }
  bool add_bos = json::opt_bool(config, "add_bos_token", source).value_or(false);
  return ChatTemplate(template_text(config, source), std::move(t), add_bos, source);
}

ChatTemplate ChatTemplate::from_config_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, path.string() + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ErrorCode::kIo, path.string() + ": read failed");
  return from_config_text(text, path.string());
}

ChatTemplate::ChatTemplate(std::string_view template_source, SpecialTokens tokens, bool add_bos_token,
                           std::string source)
    : template_source_(template_source),
      template_([&] {
        try {
          return jinja::Template(template_source, {.trim_blocks = true, .lstrip_blocks = true});
        } catch (const Error& e) {
          throw Error(e.code(), source + ": chat_template: " + e.what());
        }
      }()),
      tokens_(std::move(tokens)),
      add_bos_token_(add_bos_token),
      source_(std::move(source)) {}

std::string ChatTemplate::render(const jinja::Value& messages, bool add_generation_prompt,
                                 const jinja::Dict& extra) const {
  jinja::Dict vars;
  // The order follows apply_chat_template: fixed arguments, special tokens, then caller's kwargs.
  vars.set("messages", messages);
  vars.set("tools", jinja::Value::none());
  vars.set("documents", jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value(add_generation_prompt));
  auto token = [&](const char* name, const std::optional<std::string>& v) {
    if (v) vars.set(name, jinja::Value(*v));
  };
  token("bos_token", tokens_.bos);
  token("eos_token", tokens_.eos);
  token("unk_token", tokens_.unk);
  token("sep_token", tokens_.sep);
  token("pad_token", tokens_.pad);
  token("cls_token", tokens_.cls);
  token("mask_token", tokens_.mask);
  if (!tokens_.additional.empty()) {
    jinja::List list(tokens_.additional.begin(), tokens_.additional.end());
    vars.set("additional_special_tokens", jinja::Value::list(std::move(list)));
  }
  vars.set("raise_exception", jinja::Value::function("raise_exception", [](const jinja::CallArgs& a) -> jinja::Value {
             jinja::BoundArgs b(a, "raise_exception", {"message"});
             jinja::fail(jinja::to_str(b[0]));
           }));
  vars.set("strftime_now", jinja::Value::function("strftime_now", strftime_now));
  for (const auto& [k, v] : extra.items) vars.set(k, v);
  try {
    return template_.render(vars);
  } catch (const Error& e) {
    throw Error(e.code(), source_ + ": chat_template: " + e.what());
  }
}

std::string ChatTemplate::render_json(std::string_view messages_json, bool add_generation_prompt,
                                      const jinja::Dict& extra) const {
  return render(parse_messages(messages_json, "messages"), add_generation_prompt, extra);
}

std::string ChatTemplate::render(const std::vector<Message>& messages, bool add_generation_prompt,
                                 const jinja::Dict& extra) const {
  return render(to_value(messages), add_generation_prompt, extra);
}

jinja::Value ChatTemplate::parse_messages(std::string_view messages_json, const std::string& source) {
  json::Document doc = json::Document::parse(messages_json, source);
  return messages_from_json(doc.root(), source);
}

jinja::Value ChatTemplate::messages_from_json(json::Element root, const std::string& source) {
  if (!root.is_array()) throw Error(ErrorCode::kFormat, source + ": expected a JSON array of message objects");
  size_t i = 0;
  json::Array list = root.get_array().value();
  for (json::Element m : list) {
    if (!m.is_object()) {
      throw Error(ErrorCode::kFormat, source + ": message " + std::to_string(i) + ": expected an object with 'role' and 'content'");
    }
    json::get_string(m.get_object().value(), "role", source + ": message " + std::to_string(i));
    ++i;
  }
  return jinja::Value::from_json(root);
}

jinja::Value ChatTemplate::to_value(const std::vector<Message>& messages) {
  jinja::List list;
  for (const Message& m : messages) {
    jinja::Dict d;
    d.set("role", jinja::Value(m.role));
    d.set("content", jinja::Value(m.content));
    list.push_back(jinja::Value::dict(std::move(d)));
  }
  return jinja::Value::list(std::move(list));
}

}  // namespace dsmoe::chat
