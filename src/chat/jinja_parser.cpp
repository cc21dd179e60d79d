#include "chat/jinja_parser.h"

#include <initializer_list>

#include "chat/jinja_expr_parser.h"  // ExprParser

namespace dsmoe::jinja {
namespace {

// Statements on top of the expression grammar.
class Parser : public ExprParser {
 public:
  using ExprParser::ExprParser;

  Body parse_template() { return parse_body({}); }

 private:
  // Parses statements until a block tag whose keyword is in `ends` (left unconsumed, after '{%').
  Body parse_body(std::initializer_list<const char*> ends) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == K::kEnd) {
        if (ends.size() == 0) return body;
        std::string list;
        for (const char* e : ends) list += (list.empty() ? "'" : " or '") + std::string(e) + "'";
        fail_at(t, "unexpected end of template, expected " + list + " for the block opened at line " +
                       std::to_string(open_lines_.empty() ? 0 : open_lines_.back()));
      }
      if (t.kind == K::kText) {
        auto s = node<Stmt>(Stmt::Type::kText, t);
        s->text = next().text;
        body.push_back(std::move(s));
      } else if (t.kind == K::kVarBegin) {
        auto s = node<Stmt>(Stmt::Type::kOutput, t);
        next();
        s->expr = parse_tuple();
        if (cur().kind != K::kVarEnd) expected("'}}'");
        next();
        body.push_back(std::move(s));
      } else if (t.kind == K::kBlockBegin) {
        const Token& kw = peek();
        for (const char* e : ends) {
          if (kw.kind == K::kName && kw.text == e) {
            next();  // '{%'; the caller consumes the keyword
            return body;
          }
        }
        next();
        body.push_back(parse_statement());
      } else {
        fail_at(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    Nesting guard(*this);
    const Token& kw = cur();
    if (kw.kind != K::kName) expected("a statement keyword");
    std::string k = kw.text;
    if (k == "if") return parse_if();
    if (k == "for") return parse_for();
    if (k == "set") return parse_set();
    if (k == "macro") return parse_macro();
    if (k == "generation") {
      auto s = node<Stmt>(Stmt::Type::kScope, next());
      expect_block_end();
      s->body = parse_block_body({"endgeneration"}, s->line);
      return s;
    }
    if (k == "break" || k == "continue") {
      if (loop_depth_ == 0) fail_at(kw, "'" + k + "' outside of a for loop");
      auto s = node<Stmt>(k == "break" ? Stmt::Type::kBreak : Stmt::Type::kContinue, next());
      expect_block_end();
      return s;
    }
    if (k.rfind("end", 0) == 0 || k == "else" || k == "elif") {
      fail_at(kw, "unexpected '" + k + "' with no block open that it could end");
    }
    fail_at(kw, "unknown tag '" + k + "'");
  }

  // Body of a block through its end keyword (consumed with its '%}').
  Body parse_block_body(std::initializer_list<const char*> ends, int open_line) {
    open_lines_.push_back(open_line);
    Body body = parse_body(ends);
    open_lines_.pop_back();
    next();  // the end keyword
    expect_block_end();
    return body;
  }

  StmtPtr parse_if() {
    auto s = node<Stmt>(Stmt::Type::kIf, next());
    int open_line = s->line;
    while (true) {
      Branch b;
      b.condition = parse_tuple();
      expect_block_end();
      open_lines_.push_back(open_line);
      b.body = parse_body({"elif", "else", "endif"});
      open_lines_.pop_back();
      s->branches.push_back(std::move(b));
      std::string k = next().text;
      if (k == "elif") continue;
      if (k == "else") {
        expect_block_end();
        Branch e;
        e.body = parse_block_body({"endif"}, open_line);
        s->branches.push_back(std::move(e));
      } else {
        expect_block_end();
      }
      return s;
    }
  }

  StmtPtr parse_for() {
    auto s = node<Stmt>(Stmt::Type::kFor, next());
    bool paren = skip_op("(");
    do {
      s->targets.push_back(expect_name());
    } while (skip_op(","));
    if (paren) expect_op(")");
    if (!skip_name("in")) expected("'in'");
    s->expr = parse_tuple(/*with_condition=*/false);
    if (skip_name("if")) s->filter = parse_expression();
    if (is_name("recursive")) fail_at(cur(), "recursive for loops are not supported");
    expect_block_end();
    ++loop_depth_;
    open_lines_.push_back(s->line);
    s->body = parse_body({"else", "endfor"});
    open_lines_.pop_back();
    --loop_depth_;
    std::string k = next().text;
    expect_block_end();
    if (k == "else") s->else_body = parse_block_body({"endfor"}, s->line);
    return s;
  }

  StmtPtr parse_set() {
    auto s = node<Stmt>(Stmt::Type::kSet, next());
    s->targets.push_back(expect_name());
    if (skip_op(".")) {
      s->attr = expect_name();
    } else {
      while (skip_op(",")) s->targets.push_back(expect_name());
    }
    if (skip_op("=")) {
      s->expr = parse_tuple();
      expect_block_end();
      return s;
    }
    if (cur().kind != K::kBlockEnd || !s->attr.empty() || s->targets.size() != 1) expected("'='");
    next();
    s->type = Stmt::Type::kSetBlock;
    s->body = parse_block_body({"endset"}, s->line);
    return s;
  }

  StmtPtr parse_macro() {
    auto s = node<Stmt>(Stmt::Type::kMacro, next());
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      std::string param = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression();
      s->params.emplace_back(std::move(param), std::move(def));
      if (!skip_op(",")) break;
    }
    expect_op(")");
    expect_block_end();
    int saved_depth = loop_depth_;
    loop_depth_ = 0;  // a macro body cannot break out of the caller's loop
    s->body = parse_block_body({"endmacro"}, s->line);
    loop_depth_ = saved_depth;
    return s;
  }

  int loop_depth_ = 0;
  std::vector<int> open_lines_;  // lines of the blocks being parsed, for "never closed" messages
};

}  // namespace

Body parse(std::string_view source, const Options& options) {
  return Parser(tokenize(source, options)).parse_template();
}

}  // namespace dsmoe::jinja
