// Templates written for these tests in the style of DeepSeek V2 (multi-line with trim/lstrip
// whitespace handling and raise_exception), R1 (namespace, a filtered loop, think-tag stripping with
// split('</think>')[-1]) and V3.1 (a thinking flag, tools rendered with tojson, dict.get, tool
// calls). Expected strings come from Python's jinja2 3.1.6 configured as apply_chat_template.
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "tests/chat/render_case.h"
#include "util/error.h"

namespace dsmoe::chat {
namespace {

const char* kV2Style =
    "{% if not add_generation_prompt is defined %}\n"
    "  {% set add_generation_prompt = false %}\n"
    "{% endif %}\n"
    "{{ bos_token }}\n"
    "{% for message in messages %}\n"
    "  {% if message['role'] == 'user' %}\n"
    "{{ 'User: ' + message['content'] + '\\n\\n' }}\n"
    "  {% elif message['role'] == 'assistant' %}\n"
    "{{ 'Assistant: ' + message['content'] + eos_token }}\n"
    "  {% elif message['role'] == 'system' %}\n"
    "{{ message['content'] + '\\n\\n' }}\n"
    "  {% else %}\n"
    "{{ raise_exception('Unsupported role: ' ~ message['role']) }}\n"
    "  {% endif %}\n"
    "{% endfor %}\n"
    "{% if add_generation_prompt %}\n"
    "{{ 'Assistant:' }}\n"
    "{% endif %}";

const char* kR1Style =
    "{%- set ns = namespace(sys='', first=true) -%}\n"
    "{%- for m in messages if m.role == 'system' -%}\n"
    "  {%- set ns.sys = ns.sys ~ ('' if ns.first else '\\n\\n') ~ m.content -%}\n"
    "  {%- set ns.first = false -%}\n"
    "{%- endfor -%}\n"
    "{{- bos_token ~ ns.sys -}}\n"
    "{%- for m in messages -%}\n"
    "  {%- if m.role == 'user' -%}\n"
    "    {{- '<｜User｜>' + m.content -}}\n"
    "  {%- elif m.role == 'assistant' -%}\n"
    "    {%- set content = m.content -%}\n"
    "    {%- if '</think>' in content -%}\n"
    "      {%- set content = content.split('</think>')[-1] -%}\n"
    "    {%- endif -%}\n"
    "    {{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' -}}\n"
    "  {%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "  {{- '<｜Assistant｜><think>\\n' -}}\n"
    "{%- endif -%}";

const char* kV31Style =
    "{%- if not thinking is defined -%}{%- set thinking = false -%}{%- endif -%}\n"
    "{%- set ns = namespace(sys='', last_user=false, tools_text='') -%}\n"
    "{%- for m in messages -%}\n"
    "  {%- if m['role'] == 'system' -%}\n"
    "    {%- set ns.sys = ns.sys + m['content'] -%}\n"
    "  {%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if tools is not none and tools | length > 0 -%}\n"
    "  {%- for tool in tools -%}\n"
    "    {%- set ns.tools_text = ns.tools_text ~ '\\n### ' ~ tool['function']['name'] ~ '\\n' ~ (tool['function'] | tojson) -%}\n"
    "  {%- endfor -%}\n"
    "  {%- set ns.sys = ns.sys ~ '\\n\\n## Tools' ~ ns.tools_text -%}\n"
    "{%- endif -%}\n"
    "{{ bos_token }}{{ ns.sys }}\n"
    "{%- for m in messages -%}\n"
    "  {%- if m['role'] == 'user' -%}\n"
    "    {%- set ns.last_user = true -%}\n"
    "    {{- '<｜User｜>' + m['content'] -}}\n"
    "  {%- elif m['role'] == 'assistant' -%}\n"
    "    {%- if ns.last_user -%}{{ '<｜Assistant｜></think>' }}{%- endif -%}\n"
    "    {%- set ns.last_user = false -%}\n"
    "    {%- if m.get('tool_calls') -%}\n"
    "      {%- for call in m['tool_calls'] -%}\n"
    "        {{- '<｜tool▁call▁begin｜>' + call['function']['name'] + '<｜tool▁sep｜>' + call['function']['arguments'] + '<｜tool▁call▁end｜>' -}}\n"
    "      {%- endfor -%}\n"
    "    {%- endif -%}\n"
    "    {%- set content = m['content'] if m['content'] is string else '' -%}\n"
    "    {{- content.split('</think>')[-1].strip() + '<｜end▁of▁sentence｜>' -}}\n"
    "  {%- elif m['role'] == 'tool' -%}\n"
    "    {{- '<｜tool▁output▁begin｜>' + m['content'] + '<｜tool▁output▁end｜>' -}}\n"
    "    {%- set ns.last_user = false -%}\n"
    "  {%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt and ns.last_user -%}\n"
    "  {{- '<｜Assistant｜>' ~ ('<think>' if thinking else '</think>') -}}\n"
    "{%- endif -%}";

struct StyleCase {
  const char* name;
  const char* source;
  const char* messages;
  bool add_generation_prompt;
  const char* extra;
  const char* expected;
};

const StyleCase kCases[] = {
    {"v2_generation", kV2Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}, {\"role\": \"user\", \"content\": \"Sum 2+2\"}]", true,
     "{}",
     "<｜begin▁of▁sentence｜>\n"
    "Be brief.\n"
    "\n"
    "\n"
    "User: Hi\n"
    "\n"
    "\n"
    "Assistant: <think>greeting</think>\n"
    "\n"
    "Hello!<｜end▁of▁sentence｜>\n"
    "User: Sum 2+2\n"
    "\n"
    "\n"
    "Assistant:\n"
    ""},
    {"v2_no_generation", kV2Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}, {\"role\": \"user\", \"content\": \"Sum 2+2\"}]", false,
     "{}",
     "<｜begin▁of▁sentence｜>\n"
    "Be brief.\n"
    "\n"
    "\n"
    "User: Hi\n"
    "\n"
    "\n"
    "Assistant: <think>greeting</think>\n"
    "\n"
    "Hello!<｜end▁of▁sentence｜>\n"
    "User: Sum 2+2\n"
    "\n"
    "\n"
    ""},
    {"r1_strips_thinking", kR1Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}, {\"role\": \"user\", \"content\": \"Sum 2+2\"}, {\"role\": \"system\", \"content\": \"Second system.\"}]", true,
     "{}",
     "<｜begin▁of▁sentence｜>Be brief.\n"
    "\n"
    "Second system.<｜User｜>Hi<｜Assistant｜>\n"
    "\n"
    "Hello!<｜end▁of▁sentence｜><｜User｜>Sum 2+2<｜Assistant｜><think>\n"
    ""},
    {"r1_no_generation", kR1Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}]", false,
     "{}",
     "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>\n"
    "\n"
    "Hello!<｜end▁of▁sentence｜>"},
    {"v31_thinking_off", kV31Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}, {\"role\": \"user\", \"content\": \"Sum 2+2\"}]", true,
     "{}",
     "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜><｜User｜>Sum 2+2<｜Assistant｜></think>"},
    {"v31_thinking_on", kV31Style, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"<think>greeting</think>\\n\\nHello!\"}, {\"role\": \"user\", \"content\": \"Sum 2+2\"}]", true,
     "{\"thinking\": true}",
     "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜><｜User｜>Sum 2+2<｜Assistant｜><think>"},
    {"v31_tools", kV31Style, "[{\"role\": \"user\", \"content\": \"Add 1\"}, {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 1}\"}}]}, {\"role\": \"tool\", \"content\": \"2\"}, {\"role\": \"assistant\", \"content\": \"It is 2.\"}, {\"role\": \"user\", \"content\": \"Thanks\"}]", true,
     "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"add\", \"description\": \"Adds\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}}}]}",
     "<｜begin▁of▁sentence｜>\n"
    "\n"
    "## Tools\n"
    "### add\n"
    "{\"name\": \"add\", \"description\": \"Adds\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}}<｜User｜>Add 1<｜Assistant｜></think><｜tool▁call▁begin｜>add<｜tool▁sep｜>{\"a\": 1}<｜tool▁call▁end｜><｜end▁of▁sentence｜><｜tool▁output▁begin｜>2<｜tool▁output▁end｜>It is 2.<｜end▁of▁sentence｜><｜User｜>Thanks<｜Assistant｜></think>"},
};

SpecialTokens deepseek_tokens() {
  SpecialTokens t;
  t.bos = "<｜begin▁of▁sentence｜>";
  t.eos = "<｜end▁of▁sentence｜>";
  t.pad = t.eos;
  return t;
}

class StyleCaseTest : public ::testing::TestWithParam<StyleCase> {};

TEST_P(StyleCaseTest, MatchesJinja) {
  const StyleCase& c = GetParam();
  ChatTemplate t(c.source, deepseek_tokens());
  EXPECT_EQ(t.render_json(c.messages, c.add_generation_prompt, jinja::test::variables_from_json(c.extra)),
            c.expected);
}

INSTANTIATE_TEST_SUITE_P(DeepSeekStyles, StyleCaseTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DeepSeekStyles, V2RejectsUnknownRoles) {
  ChatTemplate t(kV2Style, deepseek_tokens(), true, "v2");
  EXPECT_THROW(t.render(std::vector<Message>{{"narrator", "x"}}, false), Error);
}

TEST(DeepSeekStyles, StructMessagesRenderLikeJson) {
  ChatTemplate t(kR1Style, deepseek_tokens());
  std::vector<Message> messages = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(t.render(messages, true),
            t.render_json(R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])", true));
}

}  // namespace
}  // namespace dsmoe::chat
