// Jinja's filters and tests that chat templates use, with the Python library's semantics (tojson
// is Hugging Face's override: json.dumps with ensure_ascii=False and keys in insertion order).
#include <algorithm>  // reverse, all_of
#include <cctype>     // isspace
#include <cmath>      // trunc, isfinite
#include <cstdio>     // snprintf
#include <optional>
#include <unordered_map>

#include "chat/jinja_builtins.h"

namespace dsmoe::jinja {
namespace {

using FilterFn = Value (*)(const Value& v, const CallArgs& a);
using TestFn = bool (*)(const Value& v, const CallArgs& a);

std::string soft_str(const Value& v) { return to_str(v); }

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(utf8_length(v.str()));
    case Value::Kind::kList: return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict:
      if (!v.is_namespace()) return static_cast<int64_t>(v.dict().items.size());
      break;
    default: break;
  }
  fail("object of type '" + type_name(v) + "' has no len()");
}

// "a.b.0" looked up item by item, as Jinja's attribute getters do.
Value attribute_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = get_item(cur, digits ? Value(int64_t(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

CallArgs tail_args(const CallArgs& a, size_t from) {
  CallArgs out;
  for (size_t i = from; i < a.positional.size(); ++i) out.positional.push_back(a.positional[i]);
  out.keyword = a.keyword;
  return out;
}

// select/reject/selectattr/rejectattr: keep items where the test (or truthiness) equals `keep`.
Value select(const Value& v, const CallArgs& a, bool by_attr, bool keep) {
  size_t test_at = by_attr ? 1 : 0;
  if (by_attr && (a.positional.empty() || !a.positional[0].is_string())) {
    fail("selectattr/rejectattr: expected an attribute name");
  }
  std::string test;
  if (a.positional.size() > test_at) {
    if (!a.positional[test_at].is_string()) fail("select: the test name must be a string");
    test = a.positional[test_at].str();
    if (!has_test(test)) fail("no test named '" + test + "'");
  }
  CallArgs test_args = tail_args(a, test_at + 1);
  List out;
  for (const Value& item : iterate(v)) {
    Value x = by_attr ? attribute_path(item, a.positional[0].str()) : item;
    bool ok = test.empty() ? truthy(x) : apply_test(test, x, test_args);
    if (ok == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value map_filter(const Value& v, const CallArgs& a) {
  List out;
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [k, x] : a.keyword) {
    if (k == "attribute") attribute = &x;
    else if (k == "default") fallback = &x;
  }
  if (attribute) {
    if (!attribute->is_string()) fail("map: attribute must be a string");
    for (const Value& item : iterate(v)) {
      Value x = attribute_path(item, attribute->str());
      out.push_back(x.is_undefined() && fallback ? *fallback : x);
    }
    return Value::list(std::move(out));
  }
  if (a.positional.empty() || !a.positional[0].is_string()) fail("map: expected a filter name or attribute=");
  const std::string& filter = a.positional[0].str();
  if (!has_filter(filter)) fail("no filter named '" + filter + "'");
  CallArgs rest = tail_args(a, 1);
  for (const Value& item : iterate(v)) out.push_back(apply_filter(filter, item, rest));
  return Value::list(std::move(out));
}

Value tojson(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  int indent = b.has(1) && !b[1].is_none() ? static_cast<int>(b.integer(1)) : -1;
  if (b.has(2) && !b[2].is_none()) fail("tojson: separators are not supported");
  std::string text = to_json(v, indent, truthy(b[3]));
  if (!truthy(b[0])) return Value(std::move(text));
  std::string ascii;  // ensure_ascii=True: \uXXXX escapes, surrogate pairs above the BMP
  for (std::string_view ch : utf8_chars(text)) {
    if (ch.size() == 1) {
      ascii += ch;
      continue;
    }
    uint32_t cp = static_cast<unsigned char>(ch[0]) & (ch.size() == 2 ? 0x1F : ch.size() == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(ch[k]) & 0x3F);
    auto u = [&](uint32_t x) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", x);
      ascii += buf;
    };
    if (cp >= 0x10000) {
      u(0xD800 + ((cp - 0x10000) >> 10));
      u(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      u(cp);
    }
  }
  return Value(std::move(ascii));
}

std::optional<int64_t> parse_int(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  s = s.substr(i);
  std::erase(s, '_');
  if (s.empty()) return std::nullopt;
  size_t used = 0;
  try {
    int64_t v = std::stoll(s, &used, 10);
    if (used == s.size()) return v;
    double d = std::stod(s, &used);
    if (used == s.size() && std::isfinite(d)) return static_cast<int64_t>(std::trunc(d));
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

Value int_filter(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "int", {"default", "base"});
  Value fallback = b.get(0, Value(int64_t{0}));
  if (v.is_int()) return Value(v.as_int());
  if (v.kind() == Value::Kind::kFloat) {
    return std::isfinite(v.as_float()) ? Value(int64_t(std::trunc(v.as_float()))) : fallback;
  }
  if (v.is_string()) {
    if (auto i = parse_int(v.str())) return Value(*i);
  }
  return fallback;
}

Value float_filter(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "float", {"default"});
  if (v.is_number()) return Value(v.as_float());
  if (v.is_string()) {
    try {
      size_t used = 0;
      double d = std::stod(v.str(), &used);
      if (used == v.str().size()) return Value(d);
    } catch (const std::exception&) {
    }
  }
  return b.get(0, Value(0.0));
}

Value join(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "join", {"d", "attribute"});
  std::string sep = b.has(0) ? b.string(0) : "";
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    append_str(out, b.has(1) ? attribute_path(item, b.string(1)) : item);
  }
  return Value(std::move(out));
}

Value first_or_last(const Value& v, bool first) {
  List items = iterate(v);
  if (items.empty()) return Value::undefined(first ? "No first item, sequence was empty." : "No last item, sequence was empty.");
  return first ? items.front() : items.back();
}

Value indent(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "indent", {"width", "first", "blank"});
  std::string pad = b[0].is_string() ? b[0].str() : std::string(b.has(0) ? static_cast<size_t>(b.integer(0)) : 4, ' ');
  // Jinja appends a newline and uses splitlines(), so a trailing newline survives unindented.
  std::string s = soft_str(v) + "\n";
  std::vector<std::string> lines;
  for (size_t start = 0, nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(s.substr(start, nl - start));
  }
  std::string out = lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    out += '\n';
    if (truthy(b[2]) || !lines[i].empty()) out += pad;
    out += lines[i];
  }
  return Value(truthy(b[1]) ? pad + out : out);
}

Value default_filter(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "default", {"default_value", "boolean"});
  bool use_default = v.is_undefined() || (truthy(b[1]) && !truthy(v));
  return use_default ? b.get(0, Value("")) : v;
}

// Jinja's title filter is not str.title(): words start after runs of whitespace, '-', '(', '{',
// '[' or '<', and each word is its first character upper-cased plus the rest lower-cased.
Value title_filter(const Value& v, const CallArgs& a) {
  BoundArgs b(a, "title", {});
  std::string text = soft_str(v), out;
  bool word_start = true;
  for (std::string_view ch : utf8_chars(text)) {
    char c = ch[0];
    bool separator = ch.size() == 1 && (std::isspace(static_cast<unsigned char>(c)) || c == '-' ||
                                        c == '(' || c == '{' || c == '[' || c == '<');
    if (separator) {
      out += ch;
      word_start = true;
    } else {
      out += change_case(ch, word_start);
      word_start = false;
    }
  }
  return Value(std::move(out));
}

Value escape(const Value& v, const CallArgs&) {
  std::string out;
  for (char c : soft_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"length", [](const Value& v, const CallArgs&) { return Value(length_of(v)); }},
      {"count", [](const Value& v, const CallArgs&) { return Value(length_of(v)); }},
      {"trim", [](const Value& v, const CallArgs& a) {
         return string_method(Value(soft_str(v)), "strip").function()(a);
       }},
      {"upper", [](const Value& v, const CallArgs&) { return Value(change_case(soft_str(v), true)); }},
      {"lower", [](const Value& v, const CallArgs&) { return Value(change_case(soft_str(v), false)); }},
      {"title", title_filter},
      {"capitalize", [](const Value& v, const CallArgs& a) {
         return string_method(Value(soft_str(v)), "capitalize").function()(a);
       }},
      {"replace", [](const Value& v, const CallArgs& a) {
         return string_method(Value(soft_str(v)), "replace").function()(a);
       }},
      {"tojson", tojson},
      {"join", join},
      {"default", default_filter},
      {"d", default_filter},
      {"first", [](const Value& v, const CallArgs&) { return first_or_last(v, true); }},
      {"last", [](const Value& v, const CallArgs&) { return first_or_last(v, false); }},
      {"list", [](const Value& v, const CallArgs&) { return Value::list(iterate(v)); }},
      {"string", [](const Value& v, const CallArgs&) { return Value(soft_str(v)); }},
      {"int", int_filter},
      {"float", float_filter},
      {"abs", [](const Value& v, const CallArgs&) {
         if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
         if (v.is_number()) return Value(std::fabs(v.as_float()));
         fail("bad operand type for abs(): '" + type_name(v) + "'");
       }},
      {"items", [](const Value& v, const CallArgs&) {
         if (v.is_undefined()) return Value::list({});
         if (!v.is_dict() || v.is_namespace()) fail("items: expected a mapping, got " + type_name(v));
         List out;
         for (const auto& [k, x] : v.dict().items) out.push_back(Value::tuple({Value(k), x}));
         return Value::list(std::move(out));
       }},
      {"reverse", [](const Value& v, const CallArgs&) {
         if (v.is_string()) return get_slice(v, Value(), Value(), Value(int64_t{-1}));
         List items = iterate(v);
         std::reverse(items.begin(), items.end());
         return Value::list(std::move(items));
       }},
      {"select", [](const Value& v, const CallArgs& a) { return select(v, a, false, true); }},
      {"reject", [](const Value& v, const CallArgs& a) { return select(v, a, false, false); }},
      {"selectattr", [](const Value& v, const CallArgs& a) { return select(v, a, true, true); }},
      {"rejectattr", [](const Value& v, const CallArgs& a) { return select(v, a, true, false); }},
      {"map", map_filter},
      {"safe", [](const Value& v, const CallArgs&) { return v; }},
      {"escape", escape},
      {"e", escape},
      {"indent", indent},
  };
  return table;
}

bool compare_test(const Value& v, const CallArgs& a, std::string_view name, int want_lo, int want_hi) {
  BoundArgs b(a, name, {"other"});
  int c = compare(v, b[0]);
  return c >= want_lo && c <= want_hi;
}

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"defined", [](const Value& v, const CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, const CallArgs&) { return v.is_undefined(); }},
      {"none", [](const Value& v, const CallArgs&) { return v.is_none(); }},
      {"string", [](const Value& v, const CallArgs&) { return v.is_string(); }},
      {"mapping", [](const Value& v, const CallArgs&) { return v.is_dict() && !v.is_namespace(); }},
      {"iterable", [](const Value& v, const CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
       }},
      {"sequence", [](const Value& v, const CallArgs&) {
         return v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
       }},
      {"number", [](const Value& v, const CallArgs&) { return v.is_number(); }},
      {"integer", [](const Value& v, const CallArgs&) { return v.kind() == Value::Kind::kInt; }},
      {"float", [](const Value& v, const CallArgs&) { return v.kind() == Value::Kind::kFloat; }},
      {"boolean", [](const Value& v, const CallArgs&) { return v.is_bool(); }},
      {"true", [](const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }},
      {"callable", [](const Value& v, const CallArgs&) { return v.is_function(); }},
      {"lower", [](const Value& v, const CallArgs&) { return v.is_string() && change_case(v.str(), false) == v.str(); }},
      {"upper", [](const Value& v, const CallArgs&) { return v.is_string() && change_case(v.str(), true) == v.str(); }},
      {"equalto", [](const Value& v, const CallArgs& a) { return equals(v, BoundArgs(a, "equalto", {"other"})[0]); }},
      {"eq", [](const Value& v, const CallArgs& a) { return equals(v, BoundArgs(a, "eq", {"other"})[0]); }},
      {"==", [](const Value& v, const CallArgs& a) { return equals(v, BoundArgs(a, "==", {"other"})[0]); }},
      {"ne", [](const Value& v, const CallArgs& a) { return !equals(v, BoundArgs(a, "ne", {"other"})[0]); }},
      {"!=", [](const Value& v, const CallArgs& a) { return !equals(v, BoundArgs(a, "!=", {"other"})[0]); }},
      {"sameas", [](const Value& v, const CallArgs& a) {
         BoundArgs b(a, "sameas", {"other"});
         const Value& o = b[0];
         return v.kind() == o.kind() && equals(v, o);
       }},
      {"lt", [](const Value& v, const CallArgs& a) { return compare_test(v, a, "lt", -1, -1); }},
      {"le", [](const Value& v, const CallArgs& a) { return compare_test(v, a, "le", -1, 0); }},
      {"gt", [](const Value& v, const CallArgs& a) { return compare_test(v, a, "gt", 1, 1); }},
      {"ge", [](const Value& v, const CallArgs& a) { return compare_test(v, a, "ge", 0, 1); }},
      {"in", [](const Value& v, const CallArgs& a) { return contains(BoundArgs(a, "in", {"seq"})[0], v); }},
      {"odd", [](const Value& v, const CallArgs&) {
         if (!v.is_int()) fail("odd: expected an integer, got " + type_name(v));
         return v.as_int() % 2 != 0;
       }},
      {"even", [](const Value& v, const CallArgs&) {
         if (!v.is_int()) fail("even: expected an integer, got " + type_name(v));
         return v.as_int() % 2 == 0;
       }},
      {"divisibleby", [](const Value& v, const CallArgs& a) {
         BoundArgs b(a, "divisibleby", {"num"});
         int64_t d = b.integer(0);
         if (!v.is_int()) fail("divisibleby: expected an integer, got " + type_name(v));
         if (d == 0) fail("divisibleby: division by zero");
         return v.as_int() % d == 0;
       }},
  };
  return table;
}

}  // namespace

bool has_filter(std::string_view name) { return filters().count(name) != 0; }

Value apply_filter(std::string_view name, const Value& v, const CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) fail("no filter named '" + std::string(name) + "'");
  return it->second(v, args);
}

bool has_test(std::string_view name) { return tests().count(name) != 0; }

bool apply_test(std::string_view name, const Value& v, const CallArgs& args) {
  auto it = tests().find(name);
  if (it == tests().end()) fail("no test named '" + std::string(name) + "'");
  return it->second(v, args);
}

}  // namespace dsmoe::jinja
