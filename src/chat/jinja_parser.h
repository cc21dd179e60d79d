#pragma once
// Parses a Jinja template into statements (jinja_ast.h), following the grammar and operator
// precedence of the Python library's parser. Syntax errors throw dsmoe::Error(kFormat) naming the
// line, the column and what was expected.
#include <string_view>

#include "chat/jinja_ast.h"    // Body
#include "chat/jinja_lexer.h"  // Options

namespace dsmoe::jinja {

Body parse(std::string_view source, const Options& options);

}  // namespace dsmoe::jinja
