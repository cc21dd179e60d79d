#pragma once
// Splits a Jinja template into text and tag tokens, applying Jinja's whitespace rules as the lexer
// of the Python library does: "-" strips all whitespace on that side of a tag, trim_blocks drops the
// first newline after a block or comment tag, lstrip_blocks drops spaces and tabs between the start
// of a line and a block or comment tag, and "+" turns the latter two off for one tag.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::jinja {

struct Options {
  bool trim_blocks = false;
  bool lstrip_blocks = false;
  bool keep_trailing_newline = false;
};

struct Token {
  enum class Kind {
    kText,        // template data, already whitespace-processed
    kVarBegin,    // {{
    kVarEnd,      // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,        // identifier or keyword
    kString,      // string literal, escapes already decoded
    kInt,
    kFloat,
    kOperator,    // + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
    kEnd,         // end of template
  };
  Kind kind;
  std::string text;  // data, name, decoded string or operator
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
  int column = 1;
};

// Throws dsmoe::Error(kFormat) naming the line and column of a lexical error.
std::vector<Token> tokenize(std::string_view source, const Options& options);

// "template line 3, column 7: " for messages.
std::string location_prefix(int line, int column);

}  // namespace dsmoe::jinja
