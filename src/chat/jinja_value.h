#pragma once
// Values of the Jinja interpreter, with Python semantics where templates can observe them
// (truthiness, equality, str(), repr(), json.dumps). Lists and dicts are shared and immutable, as
// in Hugging Face's ImmutableSandboxedEnvironment; a namespace() is the one mutable container.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json.h"  // json::Element

namespace dsmoe::jinja {

class Value;
using List = std::vector<Value>;

// An insertion-ordered string-keyed map (Python dicts keep insertion order; JSON keys are strings).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);  // replaces an existing key in place
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using Function = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  Value(bool b) : kind_(Kind::kBool), int_(b) {}
  Value(int v) : kind_(Kind::kInt), int_(v) {}
  Value(int64_t v) : kind_(Kind::kInt), int_(v) {}
  Value(double v) : kind_(Kind::kFloat), float_(v) {}
  Value(std::string s) : kind_(Kind::kString), str_(std::move(s)) {}
  Value(std::string_view s) : kind_(Kind::kString), str_(s) {}
  Value(const char* s) : kind_(Kind::kString), str_(s) {}

  // `hint` says what was missing ("'x' is undefined"); it becomes the message of any error the
  // undefined value causes later, as with Jinja's Undefined.
  static Value undefined(std::string hint);
  static Value none();
  static Value list(List items);
  static Value tuple(List items);  // a list that prints as a Python tuple
  static Value dict(Dict d);
  static Value make_namespace(Dict d);
  static Value function(std::string name, Function f);
  static Value from_json(json::Element e);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }  // bool is int
  bool is_number() const { return is_int() || kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }  // namespaces included
  bool is_namespace() const { return kind_ == Kind::kDict && is_namespace_; }
  bool is_tuple() const { return kind_ == Kind::kList && is_tuple_; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& str() const { return str_; }  // string; undefined hint; function name
  const List& list() const { return *list_; }
  const Dict& dict() const { return *dict_; }
  Dict& namespace_dict() const { return *dict_; }  // only for is_namespace()
  const Function& function() const { return *fn_; }

 private:
  Kind kind_ = Kind::kUndefined;
  bool is_namespace_ = false;
  bool is_tuple_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Function> fn_;
};

// Python's bool(v); undefined is false.
bool truthy(const Value& v);
// Python's str(v) as Jinja prints it: undefined prints nothing, None prints "None".
std::string to_str(const Value& v);
void append_str(std::string& out, const Value& v);
// Python's repr(v) (used for lists and dicts printed whole).
std::string repr(const Value& v);
// Python's float repr: shortest round-trip digits, "1.0", "1e+16", "inf".
std::string format_float(double d);
// Python's == (1 == 1.0, True == 1; undefined equals only undefined).
bool equals(const Value& a, const Value& b);
// Python's ordering for numbers, strings and lists; throws for anything else.
int compare(const Value& a, const Value& b);
// Python's json.dumps(v, ensure_ascii=False, indent=indent), as Hugging Face's tojson filter calls
// it: separators ", " and ": " without indent, "," and ": " with one; keys keep their order.
std::string to_json(const Value& v, int indent = -1, bool sort_keys = false);
// A short type name for messages, in Jinja's wording ("dict object", "str object").
std::string type_name(const Value& v);

// Throws dsmoe::Error(kInvalidArgument) for a failure while rendering; the renderer prefixes the
// template line.
[[noreturn]] void fail(const std::string& message);
// Throws the error an undefined value raises when used (attribute access, arithmetic, ...).
[[noreturn]] void fail_undefined(const Value& v);

// Concatenates message parts (GCC 12 flags "lit" + std::string chains with a false -Wrestrict).
std::string cat(std::initializer_list<std::string_view> parts);

// UTF-8 helpers: Python indexes strings by code point.
std::vector<std::string_view> utf8_chars(std::string_view s);
size_t utf8_length(std::string_view s);
void append_utf8(std::string& out, uint32_t cp);

}  // namespace dsmoe::jinja
