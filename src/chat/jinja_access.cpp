// Attribute, item and slice access, calls, iteration and the global functions. Lookups that find
// nothing give undefined values carrying Jinja's message, so a template fails only where Jinja does.
#include <optional>  // optional

#include "chat/jinja_builtins.h"

namespace dsmoe::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // the sandbox's limit on range() sizes

Value dict_method(const Value& self, const std::string& name) {
  if (name != "get" && name != "items" && name != "keys" && name != "values") return Value();
  return Value::function("dict." + name, [self, name](const CallArgs& a) {
    if (name == "get") {
      BoundArgs b(a, "dict.get", {"key", "default"});
      const Value* v = b[0].is_string() ? self.dict().find(b[0].str()) : nullptr;
      return v ? *v : b.get(1, Value::none());
    }
    BoundArgs b(a, "dict." + name, {});
    List out;
    for (const auto& [k, v] : self.dict().items) {
      if (name == "items") out.push_back(Value::tuple({Value(k), v}));
      else if (name == "keys") out.emplace_back(k);
      else out.push_back(v);
    }
    return Value::list(std::move(out));
  });
}

std::string key_text(const Value& key) { return key.is_string() ? "'" + key.str() + "'" : repr(key); }

Value range(const CallArgs& a) {
  BoundArgs b(a, "range", {"start", "stop", "step"});
  int64_t start = 0, stop = 0, step = 1;
  if (b.has(1)) {
    start = b.integer(0);
    stop = b.integer(1);
    if (b.has(2)) step = b.integer(2);
  } else {
    stop = b.integer(0);
  }
  if (step == 0) fail("range: step must not be zero");
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(out.size()) >= kMaxRange) fail("range: too many items (limit 100000)");
    out.emplace_back(i);
  }
  return Value::list(std::move(out));
}

Dict keyword_dict(const CallArgs& a, std::string_view function) {
  Dict d;
  for (const Value& p : a.positional) {
    if (!p.is_dict()) fail(std::string(function) + ": positional argument must be a dict");
    for (const auto& [k, v] : p.dict().items) d.set(k, v);
  }
  for (const auto& [k, v] : a.keyword) d.set(k, v);
  return d;
}

}  // namespace

BoundArgs::BoundArgs(const CallArgs& args, std::string_view function,
                     std::initializer_list<std::string_view> params, size_t skip)
    : function_(function), params_(params), values_(params.size()) {
  if (args.positional.size() + skip > params_.size()) {
    fail(function_ + "() takes at most " + std::to_string(params_.size() - skip) +
         " argument(s), got " + std::to_string(args.positional.size()));
  }
  for (size_t i = 0; i < args.positional.size(); ++i) values_[i + skip] = args.positional[i];
  for (const auto& [k, v] : args.keyword) {
    size_t i = skip;
    while (i < params_.size() && params_[i] != k) ++i;
    if (i == params_.size()) fail(function_ + "() got an unexpected keyword argument '" + k + "'");
    values_[i] = v;
  }
}

std::string BoundArgs::string(size_t i) const {
  if (!values_[i].is_string()) {
    fail(function_ + "(): argument '" + std::string(params_[i]) + "' must be a string, got " +
         type_name(values_[i]));
  }
  return values_[i].str();
}

int64_t BoundArgs::integer(size_t i) const {
  if (!values_[i].is_int()) {
    fail(function_ + "(): argument '" + std::string(params_[i]) + "' must be an integer, got " +
         type_name(values_[i]));
  }
  return values_[i].as_int();
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_string()) return string_method(obj, name);
  if (obj.is_dict()) {
    if (!obj.is_namespace()) {
      Value m = dict_method(obj, name);
      if (m.is_function()) return m;
    }
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return Value::undefined(cat({"'", type_name(obj), "' has no attribute '", name, "'"}));
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict().find(key.str())) return *v;
  } else if ((obj.is_list() || obj.is_string()) && key.is_int()) {
    int64_t n = obj.is_list() ? static_cast<int64_t>(obj.list().size())
                              : static_cast<int64_t>(utf8_length(obj.str()));
    int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
    if (i >= 0 && i < n) {
      if (obj.is_list()) return obj.list()[static_cast<size_t>(i)];
      return Value(utf8_chars(obj.str())[static_cast<size_t>(i)]);
    }
    return Value::undefined(cat({"'", type_name(obj), "' has no element ", repr(key)}));
  }
  if (key.is_string()) {
    Value attr = get_attr(obj, key.str());
    if (!attr.is_undefined()) return attr;
  }
  return Value::undefined(cat({"'", type_name(obj), "' has no attribute ", key_text(key)}));
}

Value get_slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (!obj.is_list() && !obj.is_string()) fail("'" + type_name(obj) + "' cannot be sliced");
  auto as_index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int()) fail(std::string("slice ") + what + " must be an integer, got " + type_name(v));
    return v.as_int();
  };
  std::vector<std::string_view> chars;
  if (obj.is_string()) chars = utf8_chars(obj.str());
  int64_t n = obj.is_list() ? static_cast<int64_t>(obj.list().size()) : static_cast<int64_t>(chars.size());
  int64_t step = as_index(step_v, "step").value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v < 0 ? *v + n : *v;
    if (i < 0) return step < 0 ? int64_t{-1} : int64_t{0};
    if (i >= n) return step < 0 ? n - 1 : n;
    return i;
  };
  int64_t start = clamp(as_index(start_v, "start"), step < 0 ? n - 1 : 0);
  int64_t stop = clamp(as_index(stop_v, "stop"), step < 0 ? -1 : n);
  List items;
  std::string text;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (obj.is_list()) items.push_back(obj.list()[static_cast<size_t>(i)]);
    else text += chars[static_cast<size_t>(i)];
  }
  return obj.is_list() ? Value::list(std::move(items)) : Value(std::move(text));
}

Value call_value(const Value& callee, const CallArgs& args) {
  if (callee.is_function()) return callee.function()(args);
  if (callee.is_undefined()) fail_undefined(callee);
  fail(cat({"'", type_name(callee), "' is not callable"}));
}

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return {};
    case Value::Kind::kList: return v.list();
    case Value::Kind::kString: {
      List out;
      for (std::string_view ch : utf8_chars(v.str())) out.emplace_back(ch);
      return out;
    }
    case Value::Kind::kDict:
      if (!v.is_namespace()) {
        List out;
        for (const auto& kv : v.dict().items) out.emplace_back(kv.first);
        return out;
      }
      break;
    default: break;
  }
  fail("'" + type_name(v) + "' is not iterable");
}

bool contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string()) fail("'in <string>' requires a string as left operand, not " + type_name(needle));
    return haystack.str().find(needle.str()) != std::string::npos;
  }
  if (haystack.is_dict() && !haystack.is_namespace()) {
    return needle.is_string() && haystack.dict().find(needle.str()) != nullptr;
  }
  for (const Value& x : iterate(haystack)) {
    if (equals(x, needle)) return true;
  }
  return false;
}

void add_builtin_globals(Dict& globals) {
  globals.set("range", Value::function("range", range));
  globals.set("namespace", Value::function("namespace", [](const CallArgs& a) {
                return Value::make_namespace(keyword_dict(a, "namespace"));
              }));
  globals.set("dict", Value::function("dict", [](const CallArgs& a) {
                return Value::dict(keyword_dict(a, "dict"));
              }));
}

}  // namespace dsmoe::jinja
