// Python's str methods as templates call them (s.strip(), s.split('</think>'), ...), working on
// code points as Python does. Case mapping uses the C library's Unicode tables (C.UTF-8 locale),
// which agree with Python for one-to-one mappings; Python's few one-to-many mappings (ß -> SS)
// are not reproduced.
#include <clocale>  // newlocale
#include <cwctype>  // towupper_l, towlower_l, iswupper_l, iswlower_l

#include "chat/jinja_builtins.h"

namespace dsmoe::jinja {
namespace {

std::vector<uint32_t> decode(std::string_view s) {
  std::vector<uint32_t> out;
  for (std::string_view ch : utf8_chars(s)) {
    unsigned char c = static_cast<unsigned char>(ch[0]);
    uint32_t cp = ch.size() == 1 ? c : c & (ch.size() == 2 ? 0x1F : ch.size() == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(ch[k]) & 0x3F);
    out.push_back(cp);
  }
  return out;
}

std::string encode(const std::vector<uint32_t>& cps, size_t begin = 0, size_t end = SIZE_MAX) {
  std::string out;
  for (size_t i = begin; i < cps.size() && i < end; ++i) append_utf8(out, cps[i]);
  return out;
}

locale_t utf8_locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

uint32_t map_case(uint32_t cp, bool upper) {
  if (cp < 0x80) {
    if (upper && cp >= 'a' && cp <= 'z') return cp - 32;
    if (!upper && cp >= 'A' && cp <= 'Z') return cp + 32;
    return cp;
  }
  locale_t loc = utf8_locale();
  if (!loc) return cp;
  wint_t w = static_cast<wint_t>(cp);
  return static_cast<uint32_t>(upper ? towupper_l(w, loc) : towlower_l(w, loc));
}

bool is_cased(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  locale_t loc = utf8_locale();
  wint_t w = static_cast<wint_t>(cp);
  return loc && (iswupper_l(w, loc) || iswlower_l(w, loc));
}

// strip/lstrip/rstrip: `chars` undefined or None strips whitespace.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::vector<uint32_t> cps = decode(s);
  std::vector<uint32_t> set;
  bool whitespace = chars.is_undefined() || chars.is_none();
  if (!whitespace) {
    if (!chars.is_string()) fail("strip: chars must be a string, got " + type_name(chars));
    set = decode(chars.str());
  }
  auto strip_it = [&](uint32_t cp) {
    if (whitespace) return is_python_space(cp);
    for (uint32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  size_t b = 0, e = cps.size();
  while (left && b < e && strip_it(cps[b])) ++b;
  while (right && e > b && strip_it(cps[e - 1])) --e;
  return encode(cps, b, e);
}

Value split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List out;
  if (sep.is_undefined() || sep.is_none()) {
    std::vector<uint32_t> cps = decode(s);
    size_t i = 0;
    while (true) {
      while (i < cps.size() && is_python_space(cps[i])) ++i;
      if (i == cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        out.emplace_back(encode(cps, i));  // Python keeps the remainder's trailing whitespace
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_python_space(cps[j])) ++j;
      out.emplace_back(encode(cps, i, j));
      i = j;
    }
    return Value::list(std::move(out));
  }
  if (!sep.is_string()) fail("split: separator must be a string, got " + type_name(sep));
  const std::string& d = sep.str();
  if (d.empty()) fail("split: empty separator");
  size_t start = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    size_t p = s.find(d, start);
    if (p == std::string::npos) break;
    out.emplace_back(s.substr(start, p - start));
    start = p + d.size();
  }
  out.emplace_back(s.substr(start));
  return Value::list(std::move(out));
}

std::string replace(const std::string& s, const std::string& old, const std::string& with,
                    int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts `with` before every character and at the end
    int64_t n = 0;
    for (std::string_view ch : utf8_chars(s)) {
      if (count < 0 || n++ < count) out += with;
      out += ch;
    }
    if (count < 0 || n < count) out += with;
    return out;
  }
  size_t start = 0;
  for (int64_t n = 0; count < 0 || n < count; ++n) {
    size_t p = s.find(old, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += with;
    start = p + old.size();
  }
  out.append(s, start);
  return out;
}

// startswith/endswith accept a string or a tuple (list) of strings.
bool affix(const std::string& s, const Value& what, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) fail(std::string(prefix ? "startswith" : "endswith") + ": expected a string, got " + type_name(a));
    const std::string& x = a.str();
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (what.is_list()) {
    for (const Value& a : what.list()) {
      if (one(a)) return true;
    }
    return false;
  }
  return one(what);
}

std::string title(const std::string& s, bool only_first) {
  std::vector<uint32_t> cps = decode(s);
  bool prev_cased = false;
  for (size_t i = 0; i < cps.size(); ++i) {
    bool cased = is_cased(cps[i]);
    cps[i] = map_case(cps[i], only_first ? i == 0 : !prev_cased);
    prev_cased = cased;
  }
  return encode(cps);
}

}  // namespace

bool is_python_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E:
    case 0x1F: case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string change_case(std::string_view s, bool upper) {
  std::vector<uint32_t> cps = decode(s);
  for (uint32_t& cp : cps) cp = map_case(cp, upper);
  return encode(cps);
}

// Returns the bound method `name` of string `self`, or undefined when str has no such method.
Value string_method(const Value& self, const std::string& name) {
  std::string s = self.str();
  auto method = [&](auto body) {
    return Value::function("str." + name, [s, name, body](const CallArgs& a) { return body(s, name, a); });
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"chars"});
      return Value(strip(s, b[0], n != "rstrip", n != "lstrip"));
    });
  }
  if (name == "split") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"sep", "maxsplit"});
      return split(s, b[0], b.has(1) ? b.integer(1) : -1);
    });
  }
  if (name == "startswith" || name == "endswith") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"prefix"});
      return Value(affix(s, b[0], n == "startswith"));
    });
  }
  if (name == "replace") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"old", "new", "count"});
      return Value(replace(s, b.string(0), b.string(1), b.has(2) ? b.integer(2) : -1));
    });
  }
  if (name == "upper" || name == "lower") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {});
      return Value(change_case(s, n == "upper"));
    });
  }
  if (name == "title" || name == "capitalize") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {});
      return Value(n == "title" ? title(s, false) : title(change_case(s, false), true));
    });
  }
  if (name == "find" || name == "count") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"sub"});
      std::string sub = b.string(0);
      if (n == "find") {
        size_t p = s.find(sub);
        return Value(p == std::string::npos ? int64_t{-1} : int64_t(utf8_length(std::string_view(s).substr(0, p))));
      }
      if (sub.empty()) return Value(int64_t(utf8_length(s) + 1));
      int64_t count = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++count;
      return Value(count);
    });
  }
  if (name == "join") {
    return method([](const std::string& s, const std::string& n, const CallArgs& a) {
      BoundArgs b(a, n, {"iterable"});
      std::string out;
      bool first = true;
      for (const Value& x : iterate(b[0])) {
        if (!x.is_string()) fail("str.join: expected str items, got " + type_name(x));
        if (!first) out += s;
        first = false;
        out += x.str();
      }
      return Value(std::move(out));
    });
  }
  return Value::undefined("'str object' has no attribute '" + name + "'");
}

}  // namespace dsmoe::jinja
