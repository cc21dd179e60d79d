// The tree-walking renderer. Scopes follow Jinja: a for loop gives each iteration a fresh scope
// (so `set` inside a loop is invisible after it, which is why templates use namespace()), if blocks
// share their enclosing scope, and a macro body sees its parameters and the template's globals.
#include <cmath>  // floor, fmod, pow

#include "chat/jinja_builtins.h"
#include "chat/jinja_parser.h"    // parse
#include "chat/jinja_template.h"
#include "util/error.h"           // Error

namespace dsmoe::jinja {
namespace {

constexpr int kMaxCallDepth = 256;  // macro recursion deeper than this is a template bug

struct Scope {
  Dict vars;
  const Scope* parent = nullptr;

  const Value* lookup(std::string_view name) const {
    for (const Scope* s = this; s; s = s->parent) {
      if (const Value* v = s->vars.find(name)) return v;
    }
    return nullptr;
  }
};

enum class Flow { kNormal, kBreak, kContinue };

bool has_location(const Error& e) { return std::string_view(e.what()).starts_with("template line "); }

[[noreturn]] void rethrow_located(const Error& e, int line, int column) {
  if (has_location(e)) throw e;
  throw Error(e.code(), location_prefix(line, column) + e.what());
}

[[noreturn]] void unsupported_operands(const std::string& op, const Value& a, const Value& b) {
  fail("unsupported operand types for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out));
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return Value::list(std::move(out));
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (op == "+" && a.is_string() && b.is_string()) return Value(a.str() + b.str());
  if (op == "+" && a.is_list() && b.is_list()) {
    List out = a.list();
    out.insert(out.end(), b.list().begin(), b.list().end());
    return Value::list(std::move(out));
  }
  if (op == "*" && (a.is_string() || a.is_list()) && b.is_int()) return repeat(a, b.as_int());
  if (op == "*" && a.is_int() && (b.is_string() || b.is_list())) return repeat(b, a.as_int());
  if (!a.is_number() || !b.is_number()) unsupported_operands(op, a, b);
  if (a.is_int() && b.is_int() && op != "/") {
    int64_t x = a.as_int(), y = b.as_int();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "**") {
      if (y < 0) return Value(std::pow(double(x), double(y)));
      int64_t r = 1;
      for (int64_t i = 0; i < y; ++i) r *= x;
      return Value(r);
    }
    if (y == 0) fail("integer division or modulo by zero");
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {  // Python floors toward negative infinity
      q -= 1;
      r += y;
    }
    return Value(op == "//" ? q : r);
  }
  double x = a.as_float(), y = b.as_float();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "**") return Value(std::pow(x, y));
  if (y == 0) fail("float division by zero");
  if (op == "/") return Value(x / y);
  if (op == "//") return Value(std::floor(x / y));
  double r = std::fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return Value(r);
}

class Evaluator {
 public:
  explicit Evaluator(Scope& root) : root_(root) {}

  Flow exec(const Body& body, Scope& scope, std::string& out) {
    for (const StmtPtr& s : body) {
      Flow f;
      try {
        f = exec_stmt(*s, scope, out);
      } catch (const Error& e) {
        rethrow_located(e, s->line, s->column);
      }
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Value eval(const Expr& e, Scope& scope) {
    try {
      return eval_expr(e, scope);
    } catch (const Error& err) {
      rethrow_located(err, e.line, e.column);
    }
  }

 private:
  Flow exec_stmt(const Stmt& s, Scope& scope, std::string& out) {
    switch (s.type) {
      case Stmt::Type::kText: out += s.text; break;
      case Stmt::Type::kOutput: append_str(out, eval(*s.expr, scope)); break;
      case Stmt::Type::kIf:
        for (const Branch& b : s.branches) {
          if (!b.condition || truthy(eval(*b.condition, scope))) return exec(b.body, scope, out);
        }
        break;
      case Stmt::Type::kFor: exec_for(s, scope, out); break;
      case Stmt::Type::kSet: exec_set(s, scope); break;
      case Stmt::Type::kSetBlock: {
        Scope inner{{}, &scope};
        std::string captured;
        exec(s.body, inner, captured);
        scope.vars.set(s.targets[0], Value(std::move(captured)));
        break;
      }
      case Stmt::Type::kMacro:
        scope.vars.set(s.text, Value::function(s.text, [this, &s](const CallArgs& a) { return call_macro(s, a); }));
        break;
      case Stmt::Type::kBreak: return Flow::kBreak;
      case Stmt::Type::kContinue: return Flow::kContinue;
      case Stmt::Type::kScope: return exec(s.body, scope, out);
    }
    return Flow::kNormal;
  }

  static void bind(Scope& scope, const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
      scope.vars.set(targets[0], v);
      return;
    }
    if (!v.is_list()) fail("cannot unpack " + type_name(v) + " into " + std::to_string(targets.size()) + " names");
    if (v.list().size() != targets.size()) {
      fail(std::string(v.list().size() > targets.size() ? "too many" : "not enough") +
           " values to unpack (expected " + std::to_string(targets.size()) + ", got " +
           std::to_string(v.list().size()) + ")");
    }
    for (size_t i = 0; i < targets.size(); ++i) scope.vars.set(targets[i], v.list()[i]);
  }

  void exec_for(const Stmt& s, Scope& scope, std::string& out) {
    Value seq = eval(*s.expr, scope);
    if (seq.is_none()) fail("'NoneType' object is not iterable");
    List items = iterate(seq);
    if (s.filter) {
      List kept;
      for (const Value& item : items) {
        Scope probe{{}, &scope};
        bind(probe, s.targets, item);
        if (truthy(eval(*s.filter, probe))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      Scope inner{{}, &scope};
      exec(s.else_body, inner, out);
      return;
    }
    int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      Scope iter{{}, &scope};
      bind(iter, s.targets, items[static_cast<size_t>(i)]);
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(n - i));
      loop.set("revindex0", Value(n - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == n - 1));
      loop.set("length", Value(n));
      loop.set("depth", Value(int64_t{1}));
      loop.set("depth0", Value(int64_t{0}));
      loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
      loop.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
      loop.set("cycle", Value::function("loop.cycle", [i](const CallArgs& a) {
                 if (a.positional.empty()) fail("loop.cycle: no items given");
                 return a.positional[static_cast<size_t>(i) % a.positional.size()];
               }));
      iter.vars.set("loop", Value::dict(std::move(loop)));
      if (exec(s.body, iter, out) == Flow::kBreak) break;
    }
  }

  void exec_set(const Stmt& s, Scope& scope) {
    Value v = eval(*s.expr, scope);
    if (s.attr.empty()) {
      bind(scope, s.targets, v);
      return;
    }
    const Value* ns = scope.lookup(s.targets[0]);
    if (!ns || !ns->is_namespace()) {
      fail("cannot assign attribute '" + s.attr + "' on " +
           (ns ? "a " + type_name(*ns) : "undefined '" + s.targets[0] + "'") + ": only namespace() objects allow it");
    }
    ns->namespace_dict().set(s.attr, std::move(v));
  }

  Value call_macro(const Stmt& m, const CallArgs& a) {
    if (a.positional.size() > m.params.size()) {
      fail("macro '" + m.text + "' takes not more than " + std::to_string(m.params.size()) + " argument(s)");
    }
    if (depth_ >= kMaxCallDepth) fail("macro '" + m.text + "' recursed too deeply");
    Scope scope{{}, &root_};
    std::vector<bool> given(m.params.size(), false);
    for (size_t i = 0; i < a.positional.size(); ++i) {
      scope.vars.set(m.params[i].first, a.positional[i]);
      given[i] = true;
    }
    for (const auto& [k, v] : a.keyword) {
      size_t i = 0;
      while (i < m.params.size() && m.params[i].first != k) ++i;
      if (i == m.params.size()) fail("macro '" + m.text + "' has no parameter '" + k + "'");
      scope.vars.set(k, v);
      given[i] = true;
    }
    for (size_t i = 0; i < m.params.size(); ++i) {
      if (given[i]) continue;
      const auto& [name, def] = m.params[i];
      scope.vars.set(name, def ? eval(*def, scope) : Value::undefined("parameter '" + name + "' was not provided"));
    }
    std::string out;
    ++depth_;
    exec(m.body, scope, out);
    --depth_;
    return Value(std::move(out));
  }

  CallArgs eval_args(const Expr& e, size_t first, Scope& scope) {
    CallArgs a;
    for (size_t i = first; i < e.args.size(); ++i) a.positional.push_back(eval(*e.args[i], scope));
    for (const auto& [k, x] : e.kwargs) a.keyword.emplace_back(k, eval(*x, scope));
    return a;
  }

  Value eval_expr(const Expr& e, Scope& scope) {
    switch (e.type) {
      case Expr::Type::kLiteral: return e.value;
      case Expr::Type::kName: {
        const Value* v = scope.lookup(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case Expr::Type::kList:
      case Expr::Type::kTuple: {
        List items;
        for (const ExprPtr& x : e.args) items.push_back(eval(*x, scope));
        return e.type == Expr::Type::kTuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      case Expr::Type::kDict: {
        Dict d;
        for (const auto& [k, v] : e.items) {
          Value key = eval(*k, scope);
          if (!key.is_string()) fail("dict literal keys must be strings, got " + type_name(key));
          d.set(key.str(), eval(*v, scope));
        }
        return Value::dict(std::move(d));
      }
      case Expr::Type::kAttr: return get_attr(eval(*e.args[0], scope), e.name);
      case Expr::Type::kItem: return get_item(eval(*e.args[0], scope), eval(*e.args[1], scope));
      case Expr::Type::kSlice: {
        Value parts[3];
        for (int i = 0; i < 3; ++i) {
          if (e.args[i + 1]) parts[i] = eval(*e.args[i + 1], scope);
        }
        return get_slice(eval(*e.args[0], scope), parts[0], parts[1], parts[2]);
      }
      case Expr::Type::kCall: {
        Value callee = eval(*e.args[0], scope);
        return call_value(callee, eval_args(e, 1, scope));
      }
      case Expr::Type::kFilter: {
        Value v = eval(*e.args[0], scope);
        return apply_filter(e.name, v, eval_args(e, 1, scope));
      }
      case Expr::Type::kTest: {
        Value v = eval(*e.args[0], scope);
        return Value(apply_test(e.name, v, eval_args(e, 1, scope)) != e.negated);
      }
      case Expr::Type::kUnary: {
        Value v = eval(*e.args[0], scope);
        if (e.name == "not") return Value(!truthy(v));
        if (v.is_undefined()) fail_undefined(v);
        if (!v.is_number()) fail("bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
        if (e.name == "+") return v;
        return v.kind() == Value::Kind::kFloat ? Value(-v.as_float()) : Value(-v.as_int());
      }
      case Expr::Type::kBinary: return eval_binary(e, scope);
      case Expr::Type::kCondition:
        if (truthy(eval(*e.args[1], scope))) return eval(*e.args[0], scope);
        if (e.args[2]) return eval(*e.args[2], scope);
        return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                                " evaluated to false and no else section was defined");
    }
    return Value();
  }

  Value eval_binary(const Expr& e, Scope& scope) {
    const std::string& op = e.name;
    Value a = eval(*e.args[0], scope);
    if (op == "and") return truthy(a) ? eval(*e.args[1], scope) : a;
    if (op == "or") return truthy(a) ? a : eval(*e.args[1], scope);
    Value b = eval(*e.args[1], scope);
    if (op == "~") return Value(to_str(a) + to_str(b));
    if (op == "==") return Value(equals(a, b));
    if (op == "!=") return Value(!equals(a, b));
    if (op == "<") return Value(compare(a, b) < 0);
    if (op == "<=") return Value(compare(a, b) <= 0);
    if (op == ">") return Value(compare(a, b) > 0);
    if (op == ">=") return Value(compare(a, b) >= 0);
    if (op == "in") return Value(contains(b, a));
    if (op == "not in") return Value(!contains(b, a));
    return arithmetic(op, a, b);
  }

  Scope& root_;
  int depth_ = 0;
};

// Jinja rejects unknown filters and tests when compiling, even in branches never taken.
void check_names(const Expr* e) {
  if (!e) return;
  if (e->type == Expr::Type::kFilter && !has_filter(e->name)) {
    throw Error(ErrorCode::kFormat, location_prefix(e->line, e->column) + "no filter named '" + e->name + "'");
  }
  if (e->type == Expr::Type::kTest && !has_test(e->name)) {
    throw Error(ErrorCode::kFormat, location_prefix(e->line, e->column) + "no test named '" + e->name + "'");
  }
  for (const ExprPtr& a : e->args) check_names(a.get());
  for (const auto& kv : e->kwargs) check_names(kv.second.get());
  for (const auto& kv : e->items) {
    check_names(kv.first.get());
    check_names(kv.second.get());
  }
}

void check_names(const Body& body) {
  for (const StmtPtr& s : body) {
    check_names(s->expr.get());
    check_names(s->filter.get());
    for (const Branch& b : s->branches) {
      check_names(b.condition.get());
      check_names(b.body);
    }
    for (const auto& p : s->params) check_names(p.second.get());
    check_names(s->body);
    check_names(s->else_body);
  }
}

}  // namespace

Template::Template(std::string_view source, Options options)
    : body_(std::make_shared<const Body>(parse(source, options))) {
  check_names(*body_);
}

std::string Template::render(const Dict& variables) const {
  Scope root;
  add_builtin_globals(root.vars);
  for (const auto& [k, v] : variables.items) root.vars.set(k, v);
  Evaluator ev(root);
  std::string out;
  ev.exec(*body_, root, out);
  return out;
}

}  // namespace dsmoe::jinja
