// `dsmoe convert`, `dsmoe info`, `dsmoe synth` as a user runs them: help, exit codes (0 ok,
// 1 runtime error, 2 usage error), output, --force, --verify, and a conversion killed part-way.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "convert/tiny_checkpoint.h"  // kTinyV3Config, make_hf_checkpoint
#include "format/dsmoe_file.h"        // DsmoeReader
#include "support/fixtures.h"         // temp_dir
#include "util/json.h"                // json::Document
#include "support/run_command.h"

namespace dsmoe {
namespace {

namespace fs = std::filesystem;

// Runs `dsmoe ARGS` through the shell; returns stdout and stderr together.
std::string dsmoe(const std::string& args, int* rc) {
  const std::string cmd = std::string(DSMOE_CLI) + " " + args + " 2>&1";
  const test::CommandResult r = test::run_command(cmd);
  *rc = r.code;
  return r.output;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

const fs::path& tiny_hf() {
  static const fs::path dir = test::make_hf_checkpoint("cli-tiny-hf", test::kTinyV3Config);
  return dir;
}

TEST(ConvertCli, HelpOnEverySubcommand) {
  for (const char* sub : {"convert", "info", "synth"}) {
    int rc = -1;
    const std::string out = dsmoe(std::string(sub) + " --help", &rc);
    EXPECT_EQ(rc, 0) << sub << "\n" << out;
    EXPECT_NE(out.find("Usage"), std::string::npos) << sub << "\n" << out;
  }
}

TEST(ConvertCli, InfoCpuNamesTheChosenKernels) {
  int rc = -1;
  const std::string out = dsmoe("info --cpu", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("gemv_q4"), std::string::npos) << out;
  EXPECT_NE(out.find("gemv_q8"), std::string::npos) << out;
}

TEST(ConvertCli, UsageErrorsExitTwo) {
  const std::string hf = q(tiny_hf()), out = q(test::temp_dir() / "usage.dsmoe");
  for (const std::string& args : std::vector<std::string>{
           "convert",
           "convert " + hf + " --quant q4",                       // no -o
           "convert " + hf + " -o " + out,                        // no --quant
           "convert " + hf + " -o " + out + " --quant q3",        // unknown recipe
           "convert " + hf + " -o " + out + " --quant q4 --tensor-type experts",       // no =TYPE
           "convert " + hf + " -o " + out + " --quant q4 --tensor-type 'experts=q5'",  // bad type
           "convert " + hf + " -o " + out + " --quant q4 --tensor-type '([=q8'",       // bad regex
           "convert " + hf + " -o " + out + " --quant q4 --threads 0",
           "convert " + hf + " -o " + out + " --quant q4 --scales max",             // mse or absmax
           "info",
           "synth -o " + out,                                     // no shapes
           "synth --preset deepseek-v3",                          // no destination
           "synth --preset deepseek-v3 --config x.json -o " + out,
           "synth --preset deepseek-v3 -o " + out + " --hf-out d",
           "synth --preset deepseek-v3 -o " + out + " --quant q2",
       }) {
    int rc = -1;
    const std::string text = dsmoe(args, &rc);
    EXPECT_EQ(rc, 2) << args << "\n" << text;
  }
  EXPECT_FALSE(fs::exists(test::temp_dir() / "usage.dsmoe"));
}

TEST(ConvertCli, RuntimeErrorsExitOneWithAMessage) {
  const fs::path garbage = test::temp_dir() / "garbage.dsmoe";
  test::write_text(garbage, std::string(4096, 'x'));
  const fs::path out = test::temp_dir() / "runtime.dsmoe";
  struct Case {
    std::string args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"convert " + q(test::temp_dir() / "nope") + " -o " + q(out) + " --quant q8", "nope"},
           {"info " + q(test::temp_dir() / "nope.dsmoe"), "nope.dsmoe"},
           {"info " + q(garbage), "garbage.dsmoe"},
           {"synth --preset gpt-2 -o " + q(out), "deepseek-v2-lite"},
           {"synth --config " + q(test::temp_dir() / "nope.json") + " -o " + q(out), "nope.json"},
       }) {
    int rc = -1;
    const std::string text = dsmoe(c.args, &rc);
    EXPECT_EQ(rc, 1) << c.args << "\n" << text;
    EXPECT_NE(text.find("error"), std::string::npos) << text;
    EXPECT_NE(text.find(c.says), std::string::npos) << text;
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(ConvertCli, ConvertInfoVerifyAndForce) {
  const fs::path out = test::temp_dir() / "cli.dsmoe";
  const std::string convert = "convert " + q(tiny_hf()) + " -o " + q(out) +
                              " --quant q4 --tensor-type 'layers\\.2\\.mlp\\.experts\\.=q8' --threads 2";
  int rc = -1;
  std::string text = dsmoe(convert, &rc);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("bits/weight"), std::string::npos) << text;
  EXPECT_NE(text.find("routed_expert"), std::string::npos) << text;
  {
    DsmoeReader r(out);
    EXPECT_EQ(r.at("model.layers.1.mlp.experts.3.gate_proj.weight").type, QType::kQ4);
    EXPECT_EQ(r.at("model.layers.2.mlp.experts.3.gate_proj.weight").type, QType::kQ8);
  }

  text = dsmoe(convert, &rc);  // exists, no --force
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("--force"), std::string::npos) << text;
  text = dsmoe(convert + " --force --quiet", &rc);
  EXPECT_EQ(rc, 0) << text;
  EXPECT_EQ(text, "");  // --quiet and not a terminal: nothing printed

  text = dsmoe("info " + q(out), &rc);
  EXPECT_EQ(rc, 0) << text;
  for (const char* want : {"deepseek-v3", "kv_lora_rank", "routed expert", "KV cache", "bits/weight"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }

  text = dsmoe("info --json " + q(out), &rc);
  ASSERT_EQ(rc, 0) << text;
  json::Document doc = json::Document::parse(text, "info --json");
  json::Object root = doc.root_object();
  DsmoeReader r(out);
  EXPECT_EQ(json::get_int(root, "tensor_count", "info"), static_cast<int64_t>(r.tensors().size()));
  // MLA: (kv_lora_rank 32 + qk_rope_head_dim 8) x 3 layers.
  json::Object kv = json::get_object(root, "kv_cache", "info");
  EXPECT_EQ(json::get_int(kv, "bytes_per_token_f32", "kv"), 40 * 3 * 4);
  EXPECT_EQ(json::get_int(kv, "bytes_per_token_bf16", "kv"), 40 * 3 * 2);
  EXPECT_EQ(static_cast<uint64_t>(json::get_int(root, "routed_expert_bytes", "info")), r.expert_blocks()[0].size);
  json::Object routed = json::get_object(json::get_object(root, "components", "info"), "routed_expert", "c");
  EXPECT_GT(json::get_double(routed, "bits_per_weight", "routed"), 4.0);
  EXPECT_EQ(json::get_string(json::get_object(json::get_object(root, "metadata", "info"), "config", "m"),
                             "model_type", "config"),
            "deepseek_v3");

  text = dsmoe("info --verify " + q(out), &rc);
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("verified"), std::string::npos) << text;

  // Flip one byte inside the last tensor: --verify fails, naming it.
  const TensorInfo last = r.tensors().back();
  {
    std::fstream f(out, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(last.offset));
    char b = 0;
    f.read(&b, 1);
    b = static_cast<char>(b ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(last.offset));
    f.write(&b, 1);
  }
  text = dsmoe("info --verify " + q(out), &rc);
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find(last.name), std::string::npos) << text;
}

TEST(ConvertCli, ScalesAreStoredInTheRecipe) {
  for (const char* scales : {"mse", "absmax"}) {
    const fs::path out = test::temp_dir() / (std::string("scales-") + scales + ".dsmoe");
    int rc = -1;
    std::string text = dsmoe("convert " + q(tiny_hf()) + " -o " + q(out) + " --quant q8 -q --scales " + scales, &rc);
    ASSERT_EQ(rc, 0) << text;
    text = dsmoe("info " + q(out), &rc);
    EXPECT_EQ(rc, 0) << text;
    EXPECT_NE(text.find(std::string("\"scale_search\":\"") + scales + "\""), std::string::npos) << text;
  }
}

TEST(ConvertCli, SynthDirectAndHfOut) {
  const fs::path config = test::temp_dir() / "synth-config.json";
  test::write_text(config, test::kTinyV3Config);
  const fs::path out = test::temp_dir() / "synth.dsmoe", hf = test::temp_dir() / "synth-hf";
  int rc = -1;
  std::string text = dsmoe("synth --config " + q(config) + " --quant bf16 --seed 5 -o " + q(out), &rc);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_EQ(DsmoeReader(out).at("model.embed_tokens.weight").type, QType::kBF16);
  text = dsmoe("synth --config " + q(config) + " --seed 5 --hf-out " + q(hf), &rc);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_TRUE(fs::exists(hf / "config.json"));
  const fs::path converted = test::temp_dir() / "synth-converted.dsmoe";
  text = dsmoe("convert " + q(hf) + " -o " + q(converted) + " --quant bf16", &rc);
  ASSERT_EQ(rc, 0) << text;
  DsmoeReader a(out), b(converted);
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) EXPECT_EQ(a.tensors()[i].checksum, b.tensors()[i].checksum);
  text = dsmoe("synth --config " + q(config) + " --hf-out " + q(hf), &rc);  // not empty, no --force
  EXPECT_EQ(rc, 1) << text;
}

// A conversion killed part-way leaves no output file (only its temporary, which a later run
// ignores), because the writer renames the temporary into place only at the end.
TEST(ConvertCli, KilledConversionLeavesNoOutput) {
  const std::string medium = R"({
    "model_type": "deepseek_v3", "vocab_size": 8192, "hidden_size": 1024, "intermediate_size": 2048,
    "moe_intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 8,
    "q_lora_rank": 256, "kv_lora_rank": 128, "qk_nope_head_dim": 64, "qk_rope_head_dim": 32,
    "v_head_dim": 64, "n_routed_experts": 16, "n_shared_experts": 1, "num_experts_per_tok": 2,
    "n_group": 1, "topk_group": 1, "first_k_dense_replace": 1, "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-6
  })";
  const fs::path hf = test::make_hf_checkpoint("killed-hf", medium);
  const fs::path dir = test::temp_dir() / "killed";
  fs::create_directories(dir);
  const fs::path out = dir / "killed.dsmoe";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(DSMOE_CLI, DSMOE_CLI, "convert", hf.c_str(), "-o", out.c_str(), "--quant", "q4", "--threads", "1",
          "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill once the temporary file has grown past a few MB (the conversion is under way).
  bool started = false;
  for (int i = 0; i < 20000 && !started; ++i) {
    for (const auto& e : fs::directory_iterator(dir)) {
      std::error_code ec;
      if (e.path().filename().string().rfind("killed.dsmoe.tmp", 0) == 0 && fs::file_size(e.path(), ec) > (8u << 20))
        started = true;
    }
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(started) << "the conversion never started writing";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the conversion finished before it could be killed";
  EXPECT_FALSE(fs::exists(out));
  // A new run succeeds beside the stale temporary.
  int rc = -1;
  const std::string text =
      dsmoe("convert " + q(hf) + " -o " + q(out) + " --quant q4 --quiet", &rc);
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NO_THROW(DsmoeReader{out}.verify_checksums());
}

}  // namespace
}  // namespace dsmoe
