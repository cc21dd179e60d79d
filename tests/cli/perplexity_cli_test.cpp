// `dsmoe perplexity` as a user runs it: the JSON result is consistent (ppl = exp(mean NLL), every
// token but the first scored), --compare against the model itself gives KL 0 and full agreement,
// and bad input fails with a clear message and the documented exit code (1 runtime, 2 usage).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "capi/tiny_model.h"  // tiny_chat_model
#include "util/json.h"        // json::Document
#include "support/run_command.h"

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

CommandResult perplexity(const std::string& args, bool with_stderr = true) {
  return test::run_command(std::string(DSMOE_CLI) + " perplexity " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

std::string quoted(const fs::path& p) {
  std::string out = "'";  // (not "'" + p.string(): GCC 12 warns falsely, -Wrestrict, bug 105329)
  out += p.string();
  out += '\'';
  return out;
}

fs::path text_file(const std::string& name, const std::string& content) {
  const fs::path p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

const std::string& model() {
  static const std::string m = quoted(tiny_chat_model());
  return m;
}

const fs::path& verses() {
  static const fs::path p = text_file(
      "verses.txt",
      "Genesis 1:1 In the beginning God created the heaven and the earth.\n"
      "Genesis 1:2 And the earth was without form, and void; and darkness was upon the face of the deep.\n"
      "Genesis 1:3 And God said, Let there be light: and there was light.\n");
  return p;
}

TEST(PerplexityCli, JsonResultIsConsistent) {
  const CommandResult r = perplexity(model() + " --file " + quoted(verses()) + " --ctx 16 --threads 1 --json", false);
  ASSERT_EQ(r.code, 0) << r.output;
  json::Document doc = json::Document::parse(r.output, "perplexity --json");
  const json::Object o = doc.root_object();
  const int64_t tokens = json::get_int(o, "tokens", "json");
  EXPECT_GT(tokens, 32);  // several windows of 16
  EXPECT_EQ(json::get_int(o, "scored", "json"), tokens - 1);
  EXPECT_EQ(json::get_int(o, "stride", "json"), 8);
  EXPECT_EQ(json::get_int(o, "windows", "json"), (tokens - 16 + 7) / 8 + 1);
  const double nll = json::get_double(o, "mean_nll", "json"), ppl = json::get_double(o, "ppl", "json");
  EXPECT_GT(nll, 0.0);
  EXPECT_NEAR(ppl, std::exp(nll), 1e-9 * ppl);
  EXPECT_NEAR(json::get_double(o, "ppl_se", "json"), ppl * json::get_double(o, "mean_nll_se", "json"), 1e-9 * ppl);
}

TEST(PerplexityCli, ComparedWithItselfAgreesFully) {
  const CommandResult r = perplexity(model() + " --file " + quoted(verses()) + " --ctx 32 --threads 1 --json --compare " +
                                     model(), false);
  ASSERT_EQ(r.code, 0) << r.output;
  json::Document doc = json::Document::parse(r.output, "perplexity --json");
  const json::Object o = doc.root_object();
  const json::Object c = json::get_object(o, "compare", "json");
  EXPECT_EQ(json::get_double(c, "mean_kl", "compare"), 0.0);
  EXPECT_EQ(json::get_double(c, "top1_agreement", "compare"), 1.0);
  EXPECT_EQ(json::get_double(json::get_object(c, "reference_ppl", "compare"), "ppl", "reference_ppl"),
            json::get_double(o, "ppl", "json"));
}

TEST(PerplexityCli, TextOutputShowsPerplexityWithItsError) {
  const CommandResult r = perplexity(model() + " -f " + quoted(verses()) + " --ctx 64 --threads 1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("perplexity  "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" ± "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("windows\r"), std::string::npos) << "no progress line when stderr is not a terminal";
}

TEST(PerplexityCli, BadInputIsAClearError) {
  struct Case {
    std::string args;
    int code;
    std::string message;
  };
  const fs::path bad_utf8 = text_file("bad.txt", "abc\xff" "def");
  const fs::path one_token = text_file("one.txt", "a");
  const fs::path empty = text_file("empty.txt", "");
  const std::string file = " --file " + quoted(verses());
  const Case cases[] = {
      {model() + " --file /nonexistent/text.txt", 1, "/nonexistent/text.txt: cannot open"},
      {model() + " --file " + quoted(bad_utf8), 1, "invalid UTF-8 at byte 3"},
      {model() + " --file " + quoted(one_token), 1, "1 token(s); perplexity needs at least 2"},
      {model() + " --file " + quoted(empty), 1, "0 token(s)"},
      {"/nonexistent/model.dsmoe" + file, 1, "/nonexistent/model.dsmoe"},
      {model() + file + " --compare /nonexistent/ref.dsmoe", 1, "/nonexistent/ref.dsmoe"},
      {model() + file + " --ctx 4096", 2, "above"},  // the tiny model's context is 2048
      {model() + file + " --ctx 32 --stride 33", 2, "--stride 33 is above --ctx 32"},
      {model() + file + " --ctx 1", 2, "--ctx"},
      {model() + file + " --kv-type f16", 2, "--kv-type"},
      {model(), 2, "--file"},
  };
  for (const Case& c : cases) {
    const CommandResult r = perplexity(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace dsmoe::test
