#pragma once
// What templates can reach besides operators: attribute and item access (with the methods of
// str and dict that chat templates call), slicing, filters, tests and the global functions range,
// namespace and dict. Internal to the interpreter; jinja_eval.cpp is the caller.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_value.h"  // Value, CallArgs

namespace dsmoe::jinja {

// Binds a call's arguments to named parameters as Python does (positional first, then keywords).
class BoundArgs {
 public:
  BoundArgs(const CallArgs& args, std::string_view function,
            std::initializer_list<std::string_view> params, size_t skip = 0);
  bool has(size_t i) const { return !values_[i].is_undefined(); }
  const Value& operator[](size_t i) const { return values_[i]; }
  const Value& get(size_t i, const Value& fallback) const { return has(i) ? values_[i] : fallback; }
  // Typed access with a message naming the function and parameter.
  std::string string(size_t i) const;
  int64_t integer(size_t i) const;

 private:
  std::string function_;
  std::vector<std::string_view> params_;
  std::vector<Value> values_;
};

// obj.name: Jinja tries the attribute (a method) first, then the item.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: Jinja tries the item first, then the attribute.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] on lists and strings (undefined parts are omitted ones).
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

bool has_filter(std::string_view name);
Value apply_filter(std::string_view name, const Value& v, const CallArgs& args);
bool has_test(std::string_view name);
bool apply_test(std::string_view name, const Value& v, const CallArgs& args);

// Calls a function value; anything else is an error ("'str object' is not callable").
Value call_value(const Value& callee, const CallArgs& args);

// The items a for loop or a filter iterates: list items, dict keys, string characters; undefined
// iterates as empty. Anything else is an error.
List iterate(const Value& v);
// Python's `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

// range, namespace, dict.
void add_builtin_globals(Dict& globals);

// Python's str methods that depend on Unicode tables (whitespace; case via the C library).
bool is_python_space(uint32_t cp);
std::string change_case(std::string_view s, bool upper);
// The bound str method `name` of `self` (a string), or undefined when str has none.
Value string_method(const Value& self, const std::string& name);

}  // namespace dsmoe::jinja
