// Error reporting: syntax errors name the line, the column and what was expected; render errors
// happen exactly where Jinja's Undefined and Python's operators raise, and name the line too.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/chat/render_case.h"
#include "util/error.h"

namespace dsmoe::jinja::test {
namespace {

// The message of the dsmoe::Error that rendering `source` throws, or "" when it renders.
std::string error_of(std::string_view source, std::string_view variables = "{}",
                     ErrorCode* code = nullptr) {
  try {
    render(source, variables);
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "";
}

struct ErrorCase {
  const char* name;
  const char* source;
  const char* message;  // the whole expected message
};

const ErrorCase kSyntaxErrors[] = {
    {"unclosed_if", "a\n{% if x %}b",
     "template line 2, column 12: unexpected end of template, expected 'elif' or 'else' or 'endif' "
     "for the block opened at line 2"},
    {"unclosed_for", "{% for x in y %}\n", "template line 1, column 17: unexpected end of template, "
                                           "expected 'else' or 'endfor' for the block opened at line 1"},
    {"unclosed_variable", "ab {{ x ", "template line 1, column 4: unexpected end of template, expected '}}'"},
    {"unclosed_block_tag", "{% if x", "template line 1, column 1: unexpected end of template, expected '%}'"},
    {"unclosed_comment", "x\n {# note", "template line 2, column 2: missing end of comment tag '#}'"},
    {"stray_end_tag", "{% endif %}", "template line 1, column 4: unexpected 'endif' with no block open that it could end"},
    {"unknown_tag", "\n  {% frobnicate %}", "template line 2, column 6: unknown tag 'frobnicate'"},
    {"missing_expression", "{{ }}", "template line 1, column 4: expected an expression, got '}}'"},
    {"missing_in", "{% for x y %}{% endfor %}", "template line 1, column 10: expected 'in', got 'y'"},
    {"bad_close", "{{ (1 + 2] }}", "template line 1, column 10: unexpected ']', expected ')'"},
    {"unexpected_close", "{{ 1) }}", "template line 1, column 5: unexpected ')'"},
    {"trailing_tokens", "{{ a b }}", "template line 1, column 6: expected '}}', got 'b'"},
    {"unterminated_string", "{{ 'abc }}", "template line 1, column 4: unterminated string literal"},
    {"bad_character", "{{ a ? b }}", "template line 1, column 6: unexpected character '?'"},
    {"break_outside_loop", "{% break %}", "template line 1, column 4: 'break' outside of a for loop"},
    {"unknown_filter", "{% if false %}{{ x | nosuch }}{% endif %}", "template line 1, column 20: no filter named 'nosuch'"},
    {"unknown_test", "{{ x is nosuch }}", "template line 1, column 6: no test named 'nosuch'"},
    {"bad_hex_escape", "{{ '\\xZZ' }}", "template line 1, column 7: truncated \\x escape in string literal"},
    {"chained_tests", "{{ x is defined is none }}", "template line 1, column 17: tests cannot be chained with 'is'"},
    {"column_counts_characters", "äö {{ ) }}", "template line 1, column 7: unexpected ')'"},
};

class SyntaxError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SyntaxError, NamesLineColumnAndExpectation) {
  const ErrorCase& c = GetParam();
  ErrorCode code{};
  EXPECT_EQ(error_of(c.source, "{}", &code), c.message);
  EXPECT_EQ(code, ErrorCode::kFormat);
}

INSTANTIATE_TEST_SUITE_P(Jinja, SyntaxError, ::testing::ValuesIn(kSyntaxErrors),
                         [](const auto& info) { return std::string(info.param.name); });

const ErrorCase kRenderErrors[] = {
    {"attribute_of_undefined", "{{ x.y }}", "template line 1, column 5: 'x' is undefined"},
    {"item_of_undefined", "\n{{ x['y'] }}", "template line 2, column 5: 'x' is undefined"},
    {"undefined_in_arithmetic", "{{ 'a' + x }}", "template line 1, column 8: 'x' is undefined"},
    {"chained_missing_attribute", "{{ d.a.b }}", "template line 1, column 7: 'dict object' has no attribute 'a'"},
    {"call_undefined", "{{ nosuch() }}", "template line 1, column 10: 'nosuch' is undefined"},
    {"mixed_plus", "{{ 'a' + 1 }}", "template line 1, column 8: unsupported operand types for +: 'str object' and 'int object'"},
    {"compare_mixed", "{{ 'a' < 1 }}", "template line 1, column 8: comparison not supported between str object and int object"},
    {"division_by_zero", "{{ 1 // 0 }}", "template line 1, column 6: integer division or modulo by zero"},
    {"length_of_int", "{{ 3 | length }}", "template line 1, column 6: object of type 'int object' has no len()"},
    {"tojson_undefined", "{{ x | tojson }}", "template line 1, column 6: tojson: object of type Undefined is not JSON serializable"},
    {"iterate_none", "{% for x in none %}{% endfor %}", "template line 1, column 4: 'NoneType' object is not iterable"},
    {"set_attr_on_dict", "{% set d = {} %}{% set d.x = 1 %}",
     "template line 1, column 20: cannot assign attribute 'x' on a dict object: only namespace() objects allow it"},
    {"unpack_mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", "template line 1, column 4: too many values to unpack (expected 2, got 3)"},
    {"macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "template line 1, column 35: macro 'm' takes not more than 1 argument(s)"},
    {"method_bad_argument", "{{ 'a'.split(1) }}", "template line 1, column 13: split: separator must be a string, got int object"},
    {"empty_separator", "{{ 'a'.split('') }}", "template line 1, column 13: split: empty separator"},
    {"slice_step_zero", "{{ [1][::0] }}", "template line 1, column 7: slice step cannot be zero"},
    {"inline_if_without_else_used", "{{ ('a' if false).upper() }}",
     "template line 1, column 18: the inline if-expression on line 1 evaluated to false and no else section was defined"},
    {"method_unknown_keyword", "{{ 'a'.strip(x=1) }}", "template line 1, column 13: strip() got an unexpected keyword argument 'x'"},
};

class RenderError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(RenderError, FailsWhereJinjaFails) {
  const ErrorCase& c = GetParam();
  ErrorCode code{};
  EXPECT_EQ(error_of(c.source, "{\"d\": {}}", &code), c.message);
  EXPECT_EQ(code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Jinja, RenderError, ::testing::ValuesIn(kRenderErrors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SyntaxLimits, DeepNestingIsAnErrorNotACrash) {
  std::string parens = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_NE(error_of(parens).find("template nested too deeply"), std::string::npos);
  std::string nots = "{{ " ;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_NE(error_of(nots + "1 }}").find("template nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 100000; ++i) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs).find("template nested too deeply"), std::string::npos);
  // Nesting that real templates use is fine.
  EXPECT_EQ(render("{{ ((((1)))) }}{% if 1 %}{% for x in [1] %}{% if x %}ok{% endif %}{% endfor %}{% endif %}"), "1ok");
}

TEST(Undefined, PrintsEmptyAndIsFalsyWhereJinjaAllowsIt) {
  // None of these raise in Jinja: printing, testing, defaults, iteration, `in`, concatenation.
  EXPECT_EQ(render("[{{ x }}][{{ d.missing }}][{{ x ~ 'a' }}]{{ x is defined }}{{ x | default(1) }}"
                   "{% for i in x %}no{% endfor %}{{ 'a' in x }}{% if x %}no{% endif %}",
                   R"({"d": {}})"),
            "[][][a]False1False");
  // Attribute access on a defined object that lacks the attribute yields undefined, not an error.
  EXPECT_EQ(render("{{ m.tool_calls is defined }}{% for t in m.tool_calls %}x{% endfor %}", R"({"m": {}})"),
            "False");
}

TEST(Generation, HuggingFaceGenerationTagRendersItsBody) {
  EXPECT_EQ(render("a{% generation %}{{ 'b' }}{% endgeneration %}c"), "abc");
}

TEST(Template, RendersRepeatedlyAndConcurrently) {
  Template t("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}",
             {.trim_blocks = true, .lstrip_blocks = true});
  Dict vars = variables_from_json(R"({"xs": [1, 2, 3]})");
  EXPECT_EQ(t.render(vars), "6");
  EXPECT_EQ(t.render(vars), "6");  // a namespace is created per render, never shared
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) results[i] += t.render(vars);
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& r : results) EXPECT_EQ(r, std::string(50, '6'));
}

TEST(Template, OptionsDefaultToJinjaDefaults) {
  // Without trim_blocks/lstrip_blocks (Jinja's defaults) the whitespace around tags stays.
  Template t("a\n  {% if true %}\nb\n  {% endif %}\n");
  EXPECT_EQ(t.render({}), "a\n  \nb\n  ");
  Template keep("x\n", {.keep_trailing_newline = true});
  EXPECT_EQ(keep.render({}), "x\n");
}

}  // namespace
}  // namespace dsmoe::jinja::test
