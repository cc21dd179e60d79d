// `dsmoe template`: runs the built CLI on the DeepSeek-V3 fixtures.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/fixtures.h"
#include "support/run_command.h"
#include "util/json.h"

namespace {

struct Result {
  int status;
  std::string out;
};

Result run(const std::string& args) {
  const dsmoe::test::CommandResult c = dsmoe::test::run_command(std::string(DSMOE_CLI) + " " + args + " 2>&1");
  return {c.code, c.output};
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  std::filesystem::path p = dsmoe::test::temp_dir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

TEST(CmdTemplate, PrintsRenderedFixtureExactly) {
  ASSERT_TRUE(std::filesystem::exists(DSMOE_CLI)) << "build the dsmoe binary first: " << DSMOE_CLI;
  DSMOE_FIXTURE_OR_SKIP(dir, "tokenizer/deepseek-v3");
  std::ifstream cases(dir / "chat_cases.jsonl");
  int checked = 0;
  for (std::string line; std::getline(cases, line);) {
    if (line.empty()) continue;
    dsmoe::json::Document doc = dsmoe::json::Document::parse(line, "chat_cases.jsonl");
    dsmoe::json::Object c = doc.root_object();
    std::string name(dsmoe::json::get_string(c, "name", "case"));
    auto messages = write_file(name + ".json", dsmoe::json::to_string(c["messages"].value()));
    bool gen = dsmoe::json::get_bool(c, "add_generation_prompt", name);
    Result r = run("template --tokenizer-config " + (dir / "tokenizer_config.json").string() +
                   " --messages " + messages.string() + (gen ? " --add-generation-prompt" : ""));
    EXPECT_EQ(r.status, 0) << name << ": " << r.out;
    EXPECT_EQ(r.out, dsmoe::json::get_string(c, "rendered", name)) << name;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// --model reads the tokenizer_config.json that `dsmoe convert` embeds in the packed file.
TEST(CmdTemplate, ReadsTemplateEmbeddedInModel) {
  ASSERT_TRUE(std::filesystem::exists(DSMOE_CLI)) << DSMOE_CLI;
  DSMOE_FIXTURE_OR_SKIP(fixtures, "");
  std::filesystem::path hf = dsmoe::test::temp_dir() / "hf";
  std::filesystem::create_directories(hf);
  for (const char* f : {"config.json", "model.safetensors"}) {
    std::filesystem::copy_file(fixtures / "models/v3-tiny" / f, hf / f);
  }
  auto model = dsmoe::test::temp_dir() / "tiny.dsmoe";
  auto messages = write_file("hello.json", R"([{"role": "user", "content": "Hello!"}])");
  // Without tokenizer files nothing is embedded: a clear error.
  ASSERT_EQ(run("convert " + hf.string() + " -o " + model.string() + " --quant f32 -q --threads 1").status, 0);
  Result r = run("template --model " + model.string() + " --messages " + messages.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no embedded tokenizer_config.json"), std::string::npos) << r.out;

  std::filesystem::copy_file(fixtures / "tokenizer/deepseek-v3/tokenizer_config.json", hf / "tokenizer_config.json");
  std::filesystem::copy_file(fixtures / "tokenizer/deepseek-v3/tokenizer.json", hf / "tokenizer.json");
  ASSERT_EQ(run("convert " + hf.string() + " -o " + model.string() + " --quant f32 -q --threads 1 --force").status, 0);
  r = run("template --model " + model.string() + " --messages " + messages.string() + " --add-generation-prompt");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜>");
}

TEST(CmdTemplate, ObjectFormPassesExtraVariables) {
  ASSERT_TRUE(std::filesystem::exists(DSMOE_CLI)) << DSMOE_CLI;
  auto config = write_file("tc.json", R"({"chat_template": "{{ messages[0].content }}|{{ tools | length }}|{{ thinking }}"})");
  auto messages = write_file("m.json", R"({"messages": [{"role": "user", "content": "hi"}], "tools": [1, 2], "thinking": true})");
  Result r = run("template --tokenizer-config " + config.string() + " --messages " + messages.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "hi|2|True");
  r = run("template --tokenizer-config " + config.string() + " --messages - < " + messages.string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "hi|2|True");  // the same read from stdin
}

TEST(CmdTemplate, ErrorsAndUsage) {
  ASSERT_TRUE(std::filesystem::exists(DSMOE_CLI)) << DSMOE_CLI;
  auto config = write_file("tc2.json", R"({"chat_template": "{{ raise_exception('no system role') }}"})");
  auto messages = write_file("m2.json", R"([{"role": "system", "content": "x"}])");
  Result r = run("template --tokenizer-config " + config.string() + " --messages " + messages.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no system role"), std::string::npos) << r.out;

  auto bad = write_file("bad.json", "[{\"role\": ");
  r = run("template --tokenizer-config " + config.string() + " --messages " + bad.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("bad.json"), std::string::npos) << r.out;

  EXPECT_EQ(run("template --messages " + messages.string()).status, 2);  // no template source
  EXPECT_EQ(run("template --tokenizer-config " + config.string()).status, 2);  // no --messages
}

}  // namespace
