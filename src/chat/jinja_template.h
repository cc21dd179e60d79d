#pragma once
// A parsed Jinja template: the interpreter's public entry point.
//
//   jinja::Template t("{% for m in messages %}{{ m.role }}{% endfor %}", {.trim_blocks = true});
//   jinja::Dict vars;
//   vars.set("messages", jinja::Value::from_json(doc.root()));
//   std::string text = t.render(vars);
//
// Covers the subset of Jinja that chat templates use: {{ }}, {% %} and {# #} with whitespace
// control; if/elif/else; for with loop.*, else, an `if` filter, break and continue; set (also on
// namespace attributes and as a block); macro; raw; Hugging Face's {% generation %}; the
// operators, filters, tests, str/dict methods and globals (range, namespace, dict) of
// jinja_builtins.h. Parse errors throw dsmoe::Error(kFormat), render errors
// dsmoe::Error(kInvalidArgument); both name the template line and column.
#include <memory>
#include <string>
#include <string_view>

#include "chat/jinja_ast.h"    // Body
#include "chat/jinja_lexer.h"  // Options
#include "chat/jinja_value.h"  // Dict, Value

namespace dsmoe::jinja {

class Template {
 public:
  explicit Template(std::string_view source, Options options = {});

  // Renders with `variables` visible as globals beside range, namespace and dict. Thread-safe:
  // rendering never modifies the template.
  std::string render(const Dict& variables) const;

 private:
  std::shared_ptr<const Body> body_;
};

}  // namespace dsmoe::jinja
