#pragma once
// The syntax tree the parser builds and the evaluator walks. One node type per category keeps the
// tree small; the fields a node uses depend on its `type` (see the comments on each enum).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"  // Value

namespace dsmoe::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Type {
    kLiteral,    // value
    kName,       // name
    kList,       // args: items
    kTuple,      // args: items (evaluates to a list)
    kDict,       // kwargs-like pairs in `items` (key expr, value expr)
    kAttr,       // args[0].name
    kItem,       // args[0][args[1]]
    kSlice,      // args[0][args[1]:args[2]:args[3]] (null parts omitted)
    kCall,       // args[0](args[1..], kwargs)
    kFilter,     // args[0] | name(args[1..], kwargs)
    kTest,       // args[0] is [not] name(args[1..], kwargs); negated
    kUnary,      // name: "-", "+", "not"; args[0]
    kBinary,     // name: operator; args[0], args[1] (and, or, arithmetic, ~, comparisons, in)
    kCondition,  // args[0] if args[1] else args[2] (args[2] may be null)
  };
  Type type;
  int line = 0;
  int column = 0;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Branch {
  ExprPtr condition;  // null for a final else
  Body body;
};

struct Stmt {
  enum class Type {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // branches
    kFor,       // for targets in expr [if filter]: body [else else_body]
    kSet,       // set targets = expr, or set targets[0].attr = expr
    kSetBlock,  // set targets[0]: body captured as a string
    kMacro,     // macro name(params): body
    kBreak,
    kContinue,
    kScope,     // body only: {% generation %} (Hugging Face's assistant-mask tag)
  };
  Type type;
  int line = 0;
  int column = 0;
  std::string text;                  // kText data; kMacro name
  std::string attr;                  // kSet: namespace attribute
  std::vector<std::string> targets;  // kFor loop variables, kSet names
  ExprPtr expr;
  ExprPtr filter;
  std::vector<Branch> branches;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro: name, default (may be null)
};

}  // namespace dsmoe::jinja
