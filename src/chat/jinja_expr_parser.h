#pragma once
// The expression half of the Jinja parser (internal to src/chat): a cursor over the lexer's tokens
// and the expression grammar with the Python library's precedence, from conditional expressions
// down to primaries, postfix access, calls, filters and tests. jinja_parser.cpp adds statements.
#include <algorithm>  // min
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_ast.h"    // Expr, ExprPtr
#include "chat/jinja_lexer.h"  // Token, location_prefix
#include "util/error.h"        // Error

namespace dsmoe::jinja {

// "'%}'", "end of template", ... for "expected X, got Y" messages.
std::string describe(const Token& t);

// Deeper nesting than this is not a real template; refusing it keeps the recursive parser and
// evaluator far from the stack limit.
constexpr int kMaxNesting = 200;

class ExprParser {
 public:
  explicit ExprParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  // expression (',' expression)*: a bare tuple where Jinja allows one ({{ }}, set, for ... in).
  ExprPtr parse_tuple(bool with_condition = true);
  // A conditional expression (`a if b else c`) or anything below it.
  ExprPtr parse_expression();
  // An expression without a trailing `if` (the iterable of a for loop).
  ExprPtr parse_or();

 protected:
  using K = Token::Kind;

  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool is_op(const char* op) const { return cur().kind == K::kOperator && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == K::kName && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  [[noreturn]] void fail_at(const Token& t, const std::string& what) const {
    throw Error(ErrorCode::kFormat, location_prefix(t.line, t.column) + what);
  }
  [[noreturn]] void expected(const std::string& what) const {
    fail_at(cur(), "expected " + what + ", got " + describe(cur()));
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) expected(std::string("'") + op + "'");
  }
  std::string expect_name() {
    if (cur().kind != K::kName) expected("a name");
    return next().text;
  }
  void expect_block_end() {
    if (cur().kind != K::kBlockEnd) expected("'%}'");
    next();
  }

  template <typename Node>
  std::unique_ptr<Node> node(typename Node::Type type, const Token& at) {
    auto n = std::make_unique<Node>();
    n->type = type;
    n->line = at.line;
    n->column = at.column;
    return n;
  }

  // Counts recursion depth for the lifetime of one parse function call.
  struct Nesting {
    ExprParser& p;
    explicit Nesting(ExprParser& parser) : p(parser) {
      if (++p.nesting_ > kMaxNesting) p.fail_at(p.cur(), "template nested too deeply");
    }
    ~Nesting() { --p.nesting_; }
  };

 private:
  ExprPtr binary(const Token& at, std::string op, ExprPtr left, ExprPtr right);
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr literal(const Token& at, Value v);
  ExprPtr parse_primary();
  ExprPtr parse_parenthesized();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_subscript(const Token& at, ExprPtr target);
  // '(' args ')' appended to `call` (whose args[0] may already hold the callee or filtered value).
  void parse_call_args(Expr& call);
  ExprPtr parse_call(ExprPtr callee);
  std::string dotted_name();
  ExprPtr parse_filters(ExprPtr e);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int nesting_ = 0;
};

}  // namespace dsmoe::jinja
