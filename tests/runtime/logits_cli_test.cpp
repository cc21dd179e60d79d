// `dsmoe logits` end to end: the file it writes matches the reference (full and incremental),
// --stats reports per MoE layer, and bad input gives the documented exit codes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>  // setenv
#include <fstream>
#include <string>

#include "runtime/reference_fixture.h"
#include "support/fixtures.h"
#include "support/run_command.h"

namespace dsmoe::test {
namespace {

using CliResult = test::CommandResult;

CliResult cli(const std::string& args) { return test::run_command(std::string(DSMOE_CLI) + " " + args + " 2>&1"); }

std::vector<float> read_f32(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary | std::ios::ate);
  std::vector<float> v(static_cast<size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

std::string join(const std::vector<int32_t>& t) {
  std::string s;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(t[i]);  // (not "," + to_string(...): GCC 12 warns falsely, -Wrestrict)
  }
  return s;
}

TEST(LogitsCli, WritesReferenceLogitsInBothModes) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-tiny");
  const Fixture fx = load_fixture(dir);
  const std::filesystem::path model = convert_fixture(dir, "cli-v2-tiny-bf16", "bf16");
  const std::filesystem::path out = temp_dir() / "cli-logits.f32";
  for (const char* mode : {"full", "incremental"}) {
    CliResult r = cli("logits " + model.string() + " --tokens " + join(fx.tokens) + " --out " + out.string() +
                " --mode " + mode + " --stats");
    ASSERT_EQ(r.code, 0) << r.output;
    const std::vector<float> got = read_f32(out);
    ASSERT_EQ(got.size(), fx.logits.size());
    EXPECT_LT(max_abs_diff(got, fx.logits), 1e-3) << mode;
    // v2-tiny: layers 1 and 2 are MoE layers, 16 experts each.
    EXPECT_NE(r.output.find("distinct_experts"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("\n    0 "), std::string::npos) << "layer 0 is dense:\n" << r.output;
  }
  // --tokens-file, whitespace separated, straight from the checkpoint folder.
  const std::filesystem::path tf = temp_dir() / "cli-tokens.txt";
  {
    std::ofstream f(tf);
    for (int32_t t : fx.tokens) f << t << "\n";
  }
  CliResult r = cli("logits " + dir.string() + " --tokens-file " + tf.string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_LT(max_abs_diff(read_f32(out), fx.logits), 1e-3);
}

// The fast path through the CLI, with the kernel table capped at the scalar references
// (DSMOE_ISA=scalar) and at the best ISA of this CPU. Float operations run in another order, which
// moves an activation across a q8 rounding boundary now and then, so the bound is statistical
// (as in fast_path_test.cpp; measured here: mean KL under 1e-3).
TEST(LogitsCli, FastKernelsAgreeAcrossIsas) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-lite-tiny");
  const Fixture fx = load_fixture(dir);
  const std::filesystem::path model = convert_fixture(dir, "cli-v2-lite-tiny-q4", "q4");
  const std::filesystem::path out = temp_dir() / "cli-isa.f32";
  const std::string args = "logits " + model.string() + " --kernels fast --tokens " + join(fx.tokens) + " --out " + out.string();
  CliResult r = cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::vector<float> best = read_f32(out);
  ::setenv("DSMOE_ISA", "scalar", 1);  // read by the child only
  r = cli(args);
  ::unsetenv("DSMOE_ISA");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::vector<float> scalar = read_f32(out);
  ASSERT_EQ(best.size(), scalar.size());
  const auto [kl, top1] = kl_and_top1(scalar, best, fx.vocab);
  std::printf("v2-lite-tiny q4, fast path, best ISA vs scalar: max |diff| %.3g, mean KL %.3g, top-1 %.3f\n",
              max_abs_diff(best, scalar), kl, top1);
  EXPECT_LT(kl, 0.01);
  EXPECT_GE(top1, 0.75);
}

TEST(LogitsCli, BadInputExitCodes) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-tiny");
  const std::string out = (temp_dir() / "cli-bad.f32").string();
  EXPECT_EQ(cli("logits " + dir.string() + " --out " + out).code, 2);  // no tokens
  EXPECT_EQ(cli("logits " + dir.string() + " --tokens 1 --out " + out + " --mode sideways").code, 2);
  CliResult r = cli("logits " + dir.string() + " --tokens 1,5000 --out " + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("5000"), std::string::npos) << r.output;
  r = cli("logits " + dir.string() + " --tokens 1,2,3 --ctx 2 --out " + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("context"), std::string::npos) << r.output;
  EXPECT_EQ(cli("logits " + dir.string() + " --tokens 1,x --out " + out).code, 1);
  EXPECT_EQ(cli("logits " + dir.string() + " --tokens 1 --kv-type f16 --out " + out).code, 1);
  EXPECT_EQ(cli("logits /nonexistent.dsmoe --tokens 1 --out " + out).code, 1);
}

}  // namespace
}  // namespace dsmoe::test
