#include "chat/jinja_expr_parser.h"

namespace dsmoe::jinja {

using K = Token::Kind;

std::string describe(const Token& t) {
  switch (t.kind) {
    case K::kText: return "template text";
    case K::kVarBegin: return "'{{'";
    case K::kVarEnd: return "'}}'";
    case K::kBlockBegin: return "'{%'";
    case K::kBlockEnd: return "'%}'";
    case K::kName:
    case K::kOperator: return "'" + t.text + "'";
    case K::kString: return "string literal";
    case K::kInt: return "integer";
    case K::kFloat: return "number";
    case K::kEnd: return "end of template";
  }
  return "token";
}

ExprPtr ExprParser::parse_tuple(bool with_condition) {
  const Token& at = cur();
  ExprPtr first = with_condition ? parse_expression() : parse_or();
  if (!is_op(",")) return first;
  auto t = node<Expr>(Expr::Type::kTuple, at);
  t->args.push_back(std::move(first));
  while (skip_op(",")) {
    if (cur().kind == K::kVarEnd || cur().kind == K::kBlockEnd) break;
    t->args.push_back(with_condition ? parse_expression() : parse_or());
  }
  return t;
}

ExprPtr ExprParser::parse_expression() {
  Nesting guard(*this);
  ExprPtr e = parse_or();
  while (is_name("if")) {
    auto c = node<Expr>(Expr::Type::kCondition, next());
    c->args.push_back(std::move(e));
    c->args.push_back(parse_or());
    c->args.push_back(skip_name("else") ? parse_expression() : nullptr);
    e = std::move(c);
  }
  return e;
}

ExprPtr ExprParser::binary(const Token& at, std::string op, ExprPtr left, ExprPtr right) {
  auto b = node<Expr>(Expr::Type::kBinary, at);
  b->name = std::move(op);
  b->args.push_back(std::move(left));
  b->args.push_back(std::move(right));
  return b;
}

ExprPtr ExprParser::parse_or() {
  ExprPtr e = parse_and();
  while (is_name("or")) {
    const Token& at = next();
    e = binary(at, "or", std::move(e), parse_and());
  }
  return e;
}

ExprPtr ExprParser::parse_and() {
  ExprPtr e = parse_not();
  while (is_name("and")) {
    const Token& at = next();
    e = binary(at, "and", std::move(e), parse_not());
  }
  return e;
}

ExprPtr ExprParser::parse_not() {
  Nesting guard(*this);
  if (!is_name("not")) return parse_compare();
  auto u = node<Expr>(Expr::Type::kUnary, next());
  u->name = "not";
  u->args.push_back(parse_not());
  return u;
}

ExprPtr ExprParser::parse_compare() {
  ExprPtr e = parse_math1();
  while (true) {
    const Token& at = cur();
    std::string op;
    if (at.kind == K::kOperator && (at.text == "==" || at.text == "!=" || at.text == "<" ||
                                    at.text == "<=" || at.text == ">" || at.text == ">=")) {
      op = at.text;
      next();
    } else if (is_name("in")) {
      op = "in";
      next();
    } else if (is_name("not") && peek().kind == K::kName && peek().text == "in") {
      op = "not in";
      next();
      next();
    } else {
      return e;
    }
    e = binary(at, op, std::move(e), parse_math1());
  }
}

ExprPtr ExprParser::parse_math1() {
  ExprPtr e = parse_concat();
  while (is_op("+") || is_op("-")) {
    const Token& at = next();
    e = binary(at, at.text, std::move(e), parse_concat());
  }
  return e;
}

ExprPtr ExprParser::parse_concat() {
  ExprPtr e = parse_math2();
  while (is_op("~")) {
    const Token& at = next();
    e = binary(at, "~", std::move(e), parse_math2());
  }
  return e;
}

ExprPtr ExprParser::parse_math2() {
  ExprPtr e = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const Token& at = next();
    e = binary(at, at.text, std::move(e), parse_pow());
  }
  return e;
}

ExprPtr ExprParser::parse_pow() {
  ExprPtr e = parse_unary(true);
  while (is_op("**")) {
    const Token& at = next();
    e = binary(at, "**", std::move(e), parse_unary(true));
  }
  return e;
}

ExprPtr ExprParser::parse_unary(bool with_filter) {
  Nesting guard(*this);
  ExprPtr e;
  if (is_op("-") || is_op("+")) {
    e = node<Expr>(Expr::Type::kUnary, cur());
    e->name = next().text;
    e->args.push_back(parse_unary(false));
  } else {
    e = parse_postfix(parse_primary());
  }
  return with_filter ? parse_filters(std::move(e)) : std::move(e);
}

ExprPtr ExprParser::literal(const Token& at, Value v) {
  auto e = node<Expr>(Expr::Type::kLiteral, at);
  e->value = std::move(v);
  return e;
}

ExprPtr ExprParser::parse_primary() {
  const Token& t = cur();
  switch (t.kind) {
    case K::kName: {
      next();
      if (t.text == "true" || t.text == "True") return literal(t, Value(true));
      if (t.text == "false" || t.text == "False") return literal(t, Value(false));
      if (t.text == "none" || t.text == "None") return literal(t, Value::none());
      auto e = node<Expr>(Expr::Type::kName, t);
      e->name = t.text;
      return e;
    }
    case K::kString: {
      std::string s = next().text;
      while (cur().kind == K::kString) s += next().text;  // adjacent literals concatenate
      return literal(t, Value(std::move(s)));
    }
    case K::kInt: next(); return literal(t, Value(t.int_value));
    case K::kFloat: next(); return literal(t, Value(t.float_value));
    case K::kOperator:
      if (t.text == "(") return parse_parenthesized();
      if (t.text == "[") return parse_list();
      if (t.text == "{") return parse_dict();
      break;
    default: break;
  }
  expected("an expression");
}

ExprPtr ExprParser::parse_parenthesized() {
  const Token& at = next();
  if (skip_op(")")) return node<Expr>(Expr::Type::kTuple, at);
  ExprPtr e = parse_expression();
  if (is_op(",")) {
    auto t = node<Expr>(Expr::Type::kTuple, at);
    t->args.push_back(std::move(e));
    while (skip_op(",") && !is_op(")")) t->args.push_back(parse_expression());
    e = std::move(t);
  }
  expect_op(")");
  return e;
}

ExprPtr ExprParser::parse_list() {
  auto l = node<Expr>(Expr::Type::kList, next());
  while (!is_op("]")) {
    l->args.push_back(parse_expression());
    if (!skip_op(",")) break;
  }
  expect_op("]");
  return l;
}

ExprPtr ExprParser::parse_dict() {
  auto d = node<Expr>(Expr::Type::kDict, next());
  while (!is_op("}")) {
    ExprPtr key = parse_expression();
    expect_op(":");
    d->items.emplace_back(std::move(key), parse_expression());
    if (!skip_op(",")) break;
  }
  expect_op("}");
  return d;
}

ExprPtr ExprParser::parse_postfix(ExprPtr e) {
  while (true) {
    const Token& at = cur();
    if (skip_op(".")) {
      if (cur().kind == K::kInt) {  // x.0 is x[0]
        auto item = node<Expr>(Expr::Type::kItem, at);
        item->args.push_back(std::move(e));
        item->args.push_back(literal(cur(), Value(next().int_value)));
        e = std::move(item);
      } else {
        auto a = node<Expr>(Expr::Type::kAttr, at);
        a->name = expect_name();
        a->args.push_back(std::move(e));
        e = std::move(a);
      }
    } else if (skip_op("[")) {
      e = parse_subscript(at, std::move(e));
    } else if (is_op("(")) {
      e = parse_call(std::move(e));
    } else {
      return e;
    }
  }
}

ExprPtr ExprParser::parse_subscript(const Token& at, ExprPtr target) {
  ExprPtr parts[3];
  int colons = 0;
  while (true) {
    if (is_op(":")) {
      if (++colons > 2) expected("']'");
      next();
    } else if (is_op("]")) {
      break;
    } else {
      if (parts[colons]) expected("':' or ']'");
      parts[colons] = parse_expression();
    }
  }
  next();
  if (colons == 0 && !parts[0]) fail_at(at, "empty subscript");
  auto e = node<Expr>(colons == 0 ? Expr::Type::kItem : Expr::Type::kSlice, at);
  e->args.push_back(std::move(target));
  for (int i = 0; i < (colons == 0 ? 1 : 3); ++i) e->args.push_back(std::move(parts[i]));
  return e;
}

void ExprParser::parse_call_args(Expr& call) {
  expect_op("(");
  while (!is_op(")")) {
    if (cur().kind == K::kName && peek().kind == K::kOperator && peek().text == "=") {
      std::string key = next().text;
      next();
      call.kwargs.emplace_back(std::move(key), parse_expression());
    } else {
      if (!call.kwargs.empty()) expected("a keyword argument after keyword arguments");
      call.args.push_back(parse_expression());
    }
    if (!skip_op(",")) break;
  }
  expect_op(")");
}

ExprPtr ExprParser::parse_call(ExprPtr callee) {
  auto c = node<Expr>(Expr::Type::kCall, cur());
  c->args.push_back(std::move(callee));
  parse_call_args(*c);
  return c;
}

std::string ExprParser::dotted_name() {
  std::string name = expect_name();
  while (skip_op(".")) {
    name += '.';
    name += expect_name();
  }
  return name;
}

ExprPtr ExprParser::parse_filters(ExprPtr e) {
  while (true) {
    const Token& at = cur();
    if (skip_op("|")) {
      auto f = node<Expr>(Expr::Type::kFilter, at);
      f->name = dotted_name();
      f->args.push_back(std::move(e));
      if (is_op("(")) parse_call_args(*f);
      e = std::move(f);
    } else if (skip_name("is")) {
      auto t = node<Expr>(Expr::Type::kTest, at);
      t->negated = skip_name("not");
      t->name = dotted_name();
      t->args.push_back(std::move(e));
      const Token& a = cur();
      if (is_op("(")) {
        parse_call_args(*t);
      } else if ((a.kind == K::kName || a.kind == K::kString || a.kind == K::kInt ||
                  a.kind == K::kFloat || is_op("[") || is_op("{")) &&
                 !is_name("else") && !is_name("or") && !is_name("and")) {
        if (is_name("is")) fail_at(a, "tests cannot be chained with 'is'");
        t->args.push_back(parse_postfix(parse_primary()));
      }
      e = std::move(t);
    } else if (is_op("(")) {
      e = parse_call(std::move(e));
    } else {
      return e;
    }
  }
}

}  // namespace dsmoe::jinja
