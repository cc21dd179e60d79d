#include "util/json.h"

#include <charconv>  // to_chars
#include <cmath>     // isfinite
#include <fstream>

#include "util/error.h"  // Error

namespace dsmoe::json {
namespace {

[[noreturn]] void fail(std::string_view ctx, std::string_view key, std::string_view what) {
  std::string msg(ctx);
  if (!key.empty()) msg += ": field '" + std::string(key) + "'";
  msg += ": ";
  msg += what;
  throw Error(ErrorCode::kFormat, msg);
}

const char* type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "array";
    case T::OBJECT: return "object";
    case T::INT64:
    case T::UINT64: return "integer";
    case T::DOUBLE: return "number";
    case T::STRING: return "string";
    case T::BOOL: return "boolean";
    case T::NULL_VALUE: return "null";
  }
  return "unknown";
}

Element field(Object o, std::string_view key, std::string_view ctx) {
  Element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) fail(ctx, key, "missing");
  return e;
}

int64_t to_int(Element e, std::string_view ctx, std::string_view key) {
  int64_t v;
  if (e.get_int64().get(v) == simdjson::SUCCESS) return v;
  double d;
  // Some configs write integers as 4096.0.
  if (e.get_double().get(d) == simdjson::SUCCESS && d == static_cast<double>(static_cast<int64_t>(d)))
    return static_cast<int64_t>(d);
  fail(ctx, key, std::string("expected an integer, got ") + type_name(e.type()));
}

double to_double(Element e, std::string_view ctx, std::string_view key) {
  double d;
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  fail(ctx, key, std::string("expected a number, got ") + type_name(e.type()));
}

}  // namespace

Document Document::parse(std::string_view text, std::string source) {
  Document d;
  d.parser_ = std::make_unique<simdjson::dom::parser>();
  d.source_ = std::move(source);
  simdjson::padded_string padded(text);
  auto err = d.parser_->parse(padded).get(d.root_);
  if (err) {
    throw Error(ErrorCode::kFormat,
                d.source_ + ": invalid JSON: " + simdjson::error_message(err));
  }
  return d;
}

Document Document::load(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, path.string() + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ErrorCode::kIo, path.string() + ": read failed");
  return parse(text, path.string());
}

Object Document::root_object() const {
  Object o;
  if (root_.get_object().get(o) != simdjson::SUCCESS)
    fail(source_, "", std::string("expected a JSON object at the top level, got ") +
                          type_name(root_.type()));
  return o;
}

bool has(Object o, std::string_view key) {
  Element e;
  return o.at_key(key).get(e) == simdjson::SUCCESS;
}

bool is_null(Object o, std::string_view key) {
  Element e;
  return o.at_key(key).get(e) != simdjson::SUCCESS || e.is_null();
}

int64_t get_int(Object o, std::string_view key, std::string_view ctx) {
  return to_int(field(o, key, ctx), ctx, key);
}
double get_double(Object o, std::string_view key, std::string_view ctx) {
  return to_double(field(o, key, ctx), ctx, key);
}
bool get_bool(Object o, std::string_view key, std::string_view ctx) {
  bool b;
  Element e = field(o, key, ctx);
  if (e.get_bool().get(b) != simdjson::SUCCESS)
    fail(ctx, key, std::string("expected a boolean, got ") + type_name(e.type()));
  return b;
}
std::string_view get_string(Object o, std::string_view key, std::string_view ctx) {
  return as_string(field(o, key, ctx), std::string(ctx) + ": field '" + std::string(key) + "'");
}
Object get_object(Object o, std::string_view key, std::string_view ctx) {
  Object r;
  Element e = field(o, key, ctx);
  if (e.get_object().get(r) != simdjson::SUCCESS)
    fail(ctx, key, std::string("expected an object, got ") + type_name(e.type()));
  return r;
}
Array get_array(Object o, std::string_view key, std::string_view ctx) {
  Array r;
  Element e = field(o, key, ctx);
  if (e.get_array().get(r) != simdjson::SUCCESS)
    fail(ctx, key, std::string("expected an array, got ") + type_name(e.type()));
  return r;
}
std::optional<int64_t> opt_int(Object o, std::string_view key, std::string_view ctx) {
  if (is_null(o, key)) return std::nullopt;
  return get_int(o, key, ctx);
}
std::optional<double> opt_double(Object o, std::string_view key, std::string_view ctx) {
  if (is_null(o, key)) return std::nullopt;
  return get_double(o, key, ctx);
}
std::optional<bool> opt_bool(Object o, std::string_view key, std::string_view ctx) {
  if (is_null(o, key)) return std::nullopt;
  return get_bool(o, key, ctx);
}
std::optional<std::string_view> opt_string(Object o, std::string_view key, std::string_view ctx) {
  if (is_null(o, key)) return std::nullopt;
  return get_string(o, key, ctx);
}

int64_t as_int(Element e, std::string_view ctx) { return to_int(e, ctx, ""); }
double as_double(Element e, std::string_view ctx) { return to_double(e, ctx, ""); }
std::string_view as_string(Element e, std::string_view ctx) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS)
    fail(ctx, "", std::string("expected a string, got ") + type_name(e.type()));
  return s;
}

void append_quoted(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string to_string(Element e) { return simdjson::minify(e); }

void Writer::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(2 * first_.size(), ' ');
}

void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
}

Writer& Writer::begin_object() {
  before_value();
  out_ += '{';
  first_.push_back(true);
  return *this;
}
Writer& Writer::end_object() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += '}';
  return *this;
}
Writer& Writer::begin_array() {
  before_value();
  out_ += '[';
  first_.push_back(true);
  return *this;
}
Writer& Writer::end_array() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += ']';
  return *this;
}
Writer& Writer::key(std::string_view k) {
  before_value();
  append_quoted(out_, k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
  return *this;
}
Writer& Writer::value(std::string_view s) {
  before_value();
  append_quoted(out_, s);
  return *this;
}
Writer& Writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}
Writer& Writer::value(int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::value(uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::value(double v) {
  before_value();
  if (!std::isfinite(v)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}
Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}
Writer& Writer::raw(std::string_view json_text) {
  before_value();
  out_ += json_text;
  return *this;
}

}  // namespace dsmoe::json
