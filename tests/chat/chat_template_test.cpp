// The chat-template front end: tokenizer_config.json parsing, the variables apply_chat_template
// provides, and byte-exact agreement with Hugging Face on the DeepSeek-V3 fixtures.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "chat/chat_template.h"
#include "support/fixtures.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/json.h"

namespace dsmoe::chat {
namespace {

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(ChatTemplate, ReproducesDeepSeekV3Fixtures) {
  DSMOE_FIXTURE_OR_SKIP(dir, "tokenizer/deepseek-v3");
  ChatTemplate t = ChatTemplate::from_config_file(dir / "tokenizer_config.json");
  auto lines = read_lines(dir / "chat_cases.jsonl");
  ASSERT_GE(lines.size(), 10u);
  for (const std::string& line : lines) {
    json::Document doc = json::Document::parse(line, "chat_cases.jsonl");
    json::Object c = doc.root_object();
    std::string name(json::get_string(c, "name", "case"));
    jinja::Value messages = jinja::Value::from_json(c["messages"].value());
    bool gen = json::get_bool(c, "add_generation_prompt", name);
    EXPECT_EQ(t.render(messages, gen), json::get_string(c, "rendered", name)) << name;
  }
}

// The rendered prompt tokenizes to the fixture's ids: special tokens the template writes (BOS,
// <｜User｜>, <｜Assistant｜>) must come out as single special-token ids.
TEST(ChatTemplate, RenderedFixturesTokenizeToReferenceIds) {
  DSMOE_FIXTURE_OR_SKIP(dir, "tokenizer/deepseek-v3");
  ChatTemplate t = ChatTemplate::from_config_file(dir / "tokenizer_config.json");
  Tokenizer tok = Tokenizer::load(dir / "tokenizer.json");
  for (const std::string& line : read_lines(dir / "chat_cases.jsonl")) {
    json::Document doc = json::Document::parse(line, "chat_cases.jsonl");
    json::Object c = doc.root_object();
    std::string name(json::get_string(c, "name", "case"));
    std::vector<int32_t> expected;
    for (json::Element id : json::get_array(c, "ids", name)) expected.push_back(static_cast<int32_t>(json::as_int(id, name)));
    std::string rendered = t.render(jinja::Value::from_json(c["messages"].value()), json::get_bool(c, "add_generation_prompt", name));
    EXPECT_EQ(tok.encode(rendered), expected) << name;
  }
}

TEST(ChatTemplate, ReadsSpecialTokensFromConfig) {
  DSMOE_FIXTURE_OR_SKIP(dir, "tokenizer/deepseek-v3/tokenizer_config.json");
  ChatTemplate t = ChatTemplate::from_config_file(dir);
  EXPECT_EQ(t.special_tokens().bos, "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(t.special_tokens().eos, "<｜end▁of▁sentence｜>");
  EXPECT_EQ(t.special_tokens().pad, "<｜end▁of▁sentence｜>");
  EXPECT_FALSE(t.special_tokens().unk.has_value());  // null in the config
  EXPECT_TRUE(t.add_bos_token());
}

TEST(ChatTemplate, ConfigForms) {
  // Plain-string tokens and a list of named templates, of which "default" is used.
  ChatTemplate t = ChatTemplate::from_config_text(R"({
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": {"__type": "AddedToken", "content": "<unk>"},
    "chat_template": [{"name": "tool_use", "template": "TOOLS"},
                      {"name": "default", "template": "{{ bos_token }}{{ unk_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"}]
  })");
  EXPECT_EQ(t.render({{"user", "a"}, {"assistant", "b"}}, false), "<s><unk>a</s>b</s>");
  EXPECT_FALSE(t.add_bos_token());

  EXPECT_THROW(ChatTemplate::from_config_text(R"({"bos_token": "<s>"})"), Error);
  EXPECT_THROW(ChatTemplate::from_config_text(R"({"chat_template": [{"name": "x", "template": "y"}]})"), Error);
  EXPECT_THROW(ChatTemplate::from_config_text(R"({"chat_template": "{% if %}"})"), Error);
  EXPECT_THROW(ChatTemplate::from_config_text(R"({"chat_template": "x", "bos_token": 3})"), Error);
  EXPECT_THROW(ChatTemplate::from_config_text("not json"), Error);
  EXPECT_THROW(ChatTemplate::from_config_file("/nonexistent/tokenizer_config.json"), Error);
}

TEST(ChatTemplate, VariablesLikeApplyChatTemplate) {
  SpecialTokens tokens;
  tokens.bos = "<B>";
  ChatTemplate t(
      "{{ bos_token }}|{{ eos_token is defined }}|{{ tools is none }}|{{ documents is none }}|"
      "{{ add_generation_prompt }}|{{ messages | length }}|{{ flag | default('no') }}",
      tokens);
  EXPECT_EQ(t.render(std::vector<Message>{{"user", "x"}}, true), "<B>|False|True|True|True|1|no");
  jinja::Dict extra;
  extra.set("flag", jinja::Value("yes"));
  extra.set("tools", jinja::Value::list({jinja::Value("t")}));
  ChatTemplate u("{{ tools[0] }}{{ flag }}", tokens);
  EXPECT_EQ(u.render(std::vector<Message>{}, false, extra), "tyes");
}

TEST(ChatTemplate, RaiseExceptionBecomesError) {
  ChatTemplate t(
      "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}"
      "{{ raise_exception('Unknown role: ' + m.role) }}{% endif %}{% endfor %}",
      {}, false, "test template");
  EXPECT_EQ(t.render(std::vector<Message>{{"user", "x"}}, false), "");
  try {
    t.render(std::vector<Message>{{"wizard", "x"}}, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("test template"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Unknown role: wizard"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("line 1"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, StrftimeNowFormatsTheDate) {
  ChatTemplate t("{{ strftime_now('%Y') | length }}", {});
  EXPECT_EQ(t.render(std::vector<Message>{}, false), "4");
}

TEST(ChatTemplate, MessagesFromJson) {
  ChatTemplate t("{% for m in messages %}[{{ m.role }}:{{ m.content }}{{ m.tool_calls | length }}]{% endfor %}", {});
  EXPECT_EQ(t.render_json(R"([{"role": "user", "content": "hi"},
                              {"role": "assistant", "content": null, "tool_calls": [{"a": 1}]}])",
                          false),
            "[user:hi0][assistant:None1]");
  EXPECT_THROW(t.render_json(R"({"role": "user"})", false), Error);
  EXPECT_THROW(t.render_json(R"([{"content": "no role"}])", false), Error);
  EXPECT_THROW(t.render_json(R"([1])", false), Error);
}

}  // namespace
}  // namespace dsmoe::chat
