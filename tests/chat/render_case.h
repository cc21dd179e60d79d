#pragma once
// Shared by the interpreter tests: render a template with Hugging Face's settings (trim_blocks,
// lstrip_blocks) and variables given as a JSON object.
#include <string>
#include <string_view>

#include "chat/jinja_template.h"
#include "util/json.h"

namespace dsmoe::jinja::test {

// A template, its variables (a JSON object) and what Python's jinja2, configured as
// apply_chat_template configures it, renders.
struct Case {
  const char* name;
  const char* source;
  const char* variables;
  const char* expected;
};

inline Dict variables_from_json(std::string_view json_text) {
  json::Document doc = json::Document::parse(json_text, "variables");
  Value v = Value::from_json(doc.root());
  return v.is_dict() ? v.dict() : Dict{};
}

inline std::string render(std::string_view source, std::string_view variables = "{}") {
  Template t(source, {.trim_blocks = true, .lstrip_blocks = true});
  return t.render(variables_from_json(variables));
}

}  // namespace dsmoe::jinja::test
