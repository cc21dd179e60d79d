#include "chat/jinja_lexer.h"

#include <algorithm>  // upper_bound
#include <cstdio>     // snprintf

#include "chat/jinja_value.h"  // append_utf8, utf8_length
#include "util/error.h"        // Error

namespace dsmoe::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Jinja reads the source with universal newlines and drops one trailing newline.
std::string normalize_newlines(std::string_view src, bool keep_trailing_newline) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string src, const Options& options) : src_(std::move(src)), opt_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;  // the previous token ended at the start of a line
    while (pos < src_.size()) {
      size_t tag = src_.find('{', pos);
      while (tag != std::string::npos && tag + 1 < src_.size() && src_[tag + 1] != '{' &&
             src_[tag + 1] != '%' && src_[tag + 1] != '#') {
        tag = src_.find('{', tag + 1);
      }
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        emit_text(pos, src_.substr(pos));
        break;
      }
      char type = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      std::string text = src_.substr(pos, tag - pos);
      if (sign == '-') {
        size_t end = text.size();
        while (end > 0 && is_space(text[end - 1])) --end;
        text.resize(end);
      } else if (sign != '+' && opt_.lstrip_blocks && type != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
            std::all_of(text.begin() + l_pos, text.end(), [](char c) { return is_space(c) && c != '\n'; })) {
          text.resize(l_pos);
        }
      }
      emit_text(pos, std::move(text));
      size_t body = tag + 2 + (sign == '-' || sign == '+');
      if (type == '#') {
        pos = comment(tag, body);
      } else if (type == '%' && is_raw_begin(body, &pos)) {
        pos = raw(pos);
      } else {
        pos = tag_tokens(tag, body, type == '{');
      }
      line_starting = pos > 0 && src_[pos - 1] == '\n';
    }
    tokens_.push_back(make(Token::Kind::kEnd, "", src_.size()));
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(size_t at, const std::string& what) {
    auto [line, col] = where(at);
    throw Error(ErrorCode::kFormat, location_prefix(line, col) + what);
  }

  // Line and column (in characters) of byte offset `at`. Tokens are made in increasing order, so
  // the column is counted on from the previous query instead of from the line start each time
  // (which made long one-line templates quadratic).
  std::pair<int, int> where(size_t at) {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at) - 1;
    size_t start = *it;
    if (cached_at_ < start || cached_at_ > at) {
      cached_at_ = start;
      cached_col_ = 1;
    }
    cached_col_ += static_cast<int>(utf8_length(std::string_view(src_).substr(cached_at_, at - cached_at_)));
    cached_at_ = at;
    return {static_cast<int>(it - line_starts_.begin()) + 1, cached_col_};
  }

  Token make(Token::Kind kind, std::string text, size_t at) {
    Token t{kind, std::move(text)};
    std::tie(t.line, t.column) = where(at);
    return t;
  }

  void emit_text(size_t at, std::string text) {
    if (!text.empty()) tokens_.push_back(make(Token::Kind::kText, std::move(text), at));
  }

  // After a tag's closing delimiter at `end` (one past it), with `sign` the character before it.
  size_t after_tag_end(size_t end, char sign, bool block_like) const {
    if (sign == '-') {
      while (end < src_.size() && is_space(src_[end])) ++end;
    } else if (sign != '+' && block_like && opt_.trim_blocks && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  size_t comment(size_t tag, size_t body) {
    size_t close = src_.find("#}", body);
    if (close == std::string::npos) error(tag, "missing end of comment tag '#}'");
    char sign = close > body && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
    return after_tag_end(close + 2, sign, true);
  }

  // `{% raw %}` (optionally with -): sets *pos past the opening tag.
  bool is_raw_begin(size_t body, size_t* pos) const {
    size_t i = body;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") != 0 || (i + 3 < src_.size() && is_name_char(src_[i + 3]))) return false;
    i += 3;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (src_.compare(i, 3, "-%}") == 0) {
      *pos = after_tag_end(i + 3, '-', true);
    } else if (src_.compare(i, 2, "%}") == 0) {
      *pos = i + 2;  // Jinja applies no trim_blocks after {% raw %}
    } else {
      return false;
    }
    return true;
  }

  size_t raw(size_t pos) {
    for (size_t tag = src_.find("{%", pos); tag != std::string::npos; tag = src_.find("{%", tag + 2)) {
      size_t i = tag + 2;
      char sign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i++] : 0;
      while (i < src_.size() && is_space(src_[i])) ++i;
      if (src_.compare(i, 6, "endraw") != 0) continue;
      i += 6;
      while (i < src_.size() && is_space(src_[i])) ++i;
      char end_sign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i] : 0;
      if (src_.compare(i + (end_sign != 0), 2, "%}") != 0) continue;
      std::string text = src_.substr(pos, tag - pos);
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      emit_text(pos, std::move(text));
      return after_tag_end(i + (end_sign != 0) + 2, end_sign, true);
    }
    error(pos, "missing end of raw directive '{% endraw %}'");
  }

  size_t tag_tokens(size_t tag, size_t pos, bool is_var) {
    tokens_.push_back(make(is_var ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "", tag));
    const char* close = is_var ? "}}" : "%}";
    std::string balance;  // expected closing brackets
    while (true) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
      if (pos >= src_.size()) {
        error(tag, std::string("unexpected end of template, expected '") + close + "'");
      }
      if (balance.empty()) {
        char sign = src_[pos] == '-' || (!is_var && src_[pos] == '+') ? src_[pos] : 0;
        if (src_.compare(pos + (sign != 0), 2, close) == 0) {
          tokens_.push_back(make(is_var ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "", pos));
          return after_tag_end(pos + (sign != 0) + 2, sign, !is_var);
        }
      }
      char c = src_[pos];
      if (c == '\'' || c == '"') {
        pos = string_literal(pos);
      } else if (is_digit(c)) {
        pos = number(pos);
      } else if (is_name_start(c)) {
        size_t end = pos;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        tokens_.push_back(make(Token::Kind::kName, src_.substr(pos, end - pos), pos));
        pos = end;
      } else {
        pos = operator_token(pos, balance);
      }
    }
  }

  size_t operator_token(size_t pos, std::string& balance) {
    static const char* kOps[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~",
                                 "[",  "]",  "(",  ")",  "{",  "}",  ">", "<", "=", ".", ":", "|",
                                 ",",  ";"};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (src_.compare(pos, o.size(), o) != 0) continue;
      char c = o[0];
      if (c == '(' || c == '[' || c == '{') {
        balance += c == '(' ? ')' : c == '[' ? ']' : '}';
      } else if (c == ')' || c == ']' || c == '}') {
        if (balance.empty()) error(pos, std::string("unexpected '") + c + "'");
        if (balance.back() != c) {
          error(pos, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
        }
        balance.pop_back();
      }
      tokens_.push_back(make(Token::Kind::kOperator, std::string(o), pos));
      return pos + o.size();
    }
    error(pos, std::string("unexpected character '") + src_[pos] + "'");
  }

  size_t number(size_t pos) {
    size_t start = pos;
    auto digits = [&] {
      while (pos < src_.size() && (is_digit(src_[pos]) || (src_[pos] == '_' && pos + 1 < src_.size() && is_digit(src_[pos + 1])))) ++pos;
    };
    digits();
    bool is_float = false;
    // After "x." a number is an attribute index, never a float (Jinja's (?<!\.) look-behind).
    bool after_dot = start > 0 && src_[start - 1] == '.';
    if (!after_dot && pos + 1 < src_.size() && src_[pos] == '.' && is_digit(src_[pos + 1])) {
      ++pos;
      digits();
      is_float = true;
    }
    if (!after_dot && pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
      size_t e = pos + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && is_digit(src_[e])) {
        pos = e;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = start; i < pos; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Token t = make(is_float ? Token::Kind::kFloat : Token::Kind::kInt, text, start);
    try {
      if (is_float) t.float_value = std::stod(text);
      else t.int_value = std::stoll(text);
    } catch (const std::exception&) {
      error(start, "number out of range: " + text);
    }
    tokens_.push_back(std::move(t));
    return pos;
  }

  // Decodes escapes the way Jinja does (Python's "unicode-escape" codec).
  size_t string_literal(size_t pos) {
    char quote = src_[pos];
    std::string out;
    size_t i = pos + 1;
    while (true) {
      if (i >= src_.size()) error(pos, "unterminated string literal");
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) error(pos, "unterminated string literal");
      char e = src_[i + 1];
      i += 2;
      auto hex = [&](int n) {
        uint32_t cp = 0;
        for (int k = 0; k < n; ++k, ++i) {
          int h = i < src_.size() ? hex_value(src_[i]) : -1;
          if (h < 0) error(i, std::string("truncated \\") + e + " escape in string literal");
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF) error(i, "illegal Unicode character in string literal");
        append_utf8(out, cp);
      };
      switch (e) {
        case '\n': break;
        case '\\': case '\'': case '"': out += e; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        case 'N': error(i - 2, "\\N{...} escapes are not supported"); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[i] - '0');
            }
            append_utf8(out, cp);
          } else if (static_cast<unsigned char>(e) >= 0x80) {
            // Jinja first turns non-ASCII characters into \x/\u/\U escapes, so "\" before one
            // survives as a backslash followed by that escape's text.
            size_t len = utf8_chars(std::string_view(src_).substr(i - 1)).front().size();
            out += '\\';
            out += escaped_code_point(std::string_view(src_).substr(i - 1, len));
            i += len - 1;
          } else {
            out += '\\';  // Python keeps unknown escapes as written
            out += e;
          }
      }
    }
    tokens_.push_back(make(Token::Kind::kString, std::move(out), pos));
    return i + 1;
  }

  static std::string escaped_code_point(std::string_view ch) {
    uint32_t cp = static_cast<unsigned char>(ch[0]) & (ch.size() == 2 ? 0x1F : ch.size() == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(ch[k]) & 0x3F);
    char buf[16];
    if (cp < 0x100) std::snprintf(buf, sizeof buf, "x%02x", cp);
    else if (cp < 0x10000) std::snprintf(buf, sizeof buf, "u%04x", cp);
    else std::snprintf(buf, sizeof buf, "U%08x", cp);
    return buf;
  }

  std::string src_;
  Options opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t cached_at_ = 0;  // where(): the last offset asked for and its column
  int cached_col_ = 1;
};

}  // namespace

std::string location_prefix(int line, int column) {
  return "template line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
}

std::vector<Token> tokenize(std::string_view source, const Options& options) {
  return Lexer(normalize_newlines(source, options.keep_trailing_newline), options).run();
}

}  // namespace dsmoe::jinja
