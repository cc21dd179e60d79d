#pragma once
// JSON reading (simdjson DOM) with typed accessors that throw dsmoe::Error naming the source and
// the field, and a small streaming writer. simdjson was chosen over nlohmann-json by measurement:
// parsing the 8 MB DeepSeek-V3 tokenizer.json takes 5 ms against 115 ms (docs/ARCHITECTURE.md).
#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::json {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
using Array = simdjson::dom::array;

// An owned, parsed JSON document. `source` names where the text came from (a file path, or
// "config.json in model.dsmoe") and prefixes every error message.
class Document {
 public:
  static Document parse(std::string_view text, std::string source);
  static Document load(const std::filesystem::path& path);

  Element root() const { return root_; }
  Object root_object() const;  // throws when the root is not an object
  const std::string& source() const { return source_; }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  Element root_;
  std::string source_;
};

// Typed field access. `ctx` is used in messages: "<ctx>: field 'key' ...".
bool has(Object o, std::string_view key);
bool is_null(Object o, std::string_view key);  // true when missing or null
int64_t get_int(Object o, std::string_view key, std::string_view ctx);
double get_double(Object o, std::string_view key, std::string_view ctx);  // accepts ints too
bool get_bool(Object o, std::string_view key, std::string_view ctx);
std::string_view get_string(Object o, std::string_view key, std::string_view ctx);
Object get_object(Object o, std::string_view key, std::string_view ctx);
Array get_array(Object o, std::string_view key, std::string_view ctx);
std::optional<int64_t> opt_int(Object o, std::string_view key, std::string_view ctx);
std::optional<double> opt_double(Object o, std::string_view key, std::string_view ctx);
std::optional<bool> opt_bool(Object o, std::string_view key, std::string_view ctx);
std::optional<std::string_view> opt_string(Object o, std::string_view key, std::string_view ctx);

// Element conversions with the same error style ("<ctx>: expected an integer, got string").
int64_t as_int(Element e, std::string_view ctx);
double as_double(Element e, std::string_view ctx);
std::string_view as_string(Element e, std::string_view ctx);

// Appends `s` to `out` as a quoted JSON string (UTF-8 passed through, control characters escaped).
void append_quoted(std::string& out, std::string_view s);

// Serializes an element back to compact JSON text.
std::string to_string(Element e);

// Streaming writer producing compact or indented JSON. Commas are inserted automatically.
//   Writer w; w.begin_object(); w.key("a"); w.value(1); w.end_object(); w.str();
class Writer {
 public:
  explicit Writer(bool pretty = false) : pretty_(pretty) {}
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(bool b);
  Writer& value(int64_t v);
  Writer& value(int v) { return value(static_cast<int64_t>(v)); }
  Writer& value(uint64_t v);
  Writer& value(double v);  // shortest text that round-trips; NaN/inf become null
  Writer& null();
  Writer& raw(std::string_view json_text);  // an already-serialized value
  const std::string& str() const { return out_; }

 private:
  void before_value();
  void newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool pretty_;
  bool after_key_ = false;
};

}  // namespace dsmoe::json
