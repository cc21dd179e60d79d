// `dsmoe bench`: one JSON row per (threads, depth, test) with the documented keys and sane values,
// the weight bytes per decode token as the file's tensor directory gives them, and usage errors.
// No timing is asserted: only that speeds are positive and finite.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "capi/tiny_model.h"
#include "format/dsmoe_file.h"  // DsmoeReader
#include "util/json.h"          // json::Document
#include "support/run_command.h"

namespace {

std::string bench(const std::string& args, int* rc, bool stderr_too = true) {
  const std::string cmd = std::string(DSMOE_CLI) + " bench " + dsmoe::test::tiny_chat_model().string() +
                          " --bandwidth-mib 8 " + args + (stderr_too ? " 2>&1" : " 2>/dev/null");
  const dsmoe::test::CommandResult r = dsmoe::test::run_command(cmd);
  *rc = r.code;
  return r.output;
}

// What one decode token reads, from the file's directory: every non-expert tensor, one embedding
// row, and num_experts_per_tok / n_routed_experts of each layer's routed experts.
uint64_t expected_weight_bytes(const std::filesystem::path& path) {
  dsmoe::DsmoeReader r(path);
  const int64_t k = 2, experts = 4;  // tests/capi/tiny_chat_config.json
  uint64_t total = 0, routed = 0;
  for (const dsmoe::TensorInfo& t : r.tensors()) {
    if (t.expert >= 0) routed += t.size;
    else if (t.name == "model.embed_tokens.weight") total += t.size / t.rows();
    else total += t.size;
  }
  return total + routed * k / experts;  // one MoE layer: first_k_dense_replace 1 of 2
}

TEST(Bench, JsonRowsHaveTheDocumentedKeysAndSaneValues) {
  int rc = -1;
  const std::string out = bench("-p 4 -n 3 -t 1,2 -r 2 --depth 0,8 --json", &rc, false);
  ASSERT_EQ(rc, 0) << out;
  const dsmoe::json::Document doc = dsmoe::json::Document::parse(out, "bench output");
  const dsmoe::json::Array rows = doc.root().get_array().value();
  ASSERT_EQ(rows.size(), 8u);  // 2 thread counts x 2 depths x (pp4, tg3)
  const uint64_t bytes = expected_weight_bytes(dsmoe::test::tiny_chat_model());
  std::set<std::string> seen;
  for (dsmoe::json::Element e : rows) {
    const dsmoe::json::Object o = e.get_object().value();
    for (const char* key : {"threads", "test", "tokens_per_s_mean", "tokens_per_s_sd",
                            "weight_bytes_per_token", "gbps_effective", "gbps_measured"}) {
      EXPECT_TRUE(dsmoe::json::has(o, key)) << key;
    }
    const int64_t threads = dsmoe::json::get_int(o, "threads", "row");
    const std::string test(dsmoe::json::get_string(o, "test", "row"));
    seen.insert(std::to_string(threads) + " " + test);
    const double mean = dsmoe::json::get_double(o, "tokens_per_s_mean", "row");
    EXPECT_TRUE(std::isfinite(mean) && mean > 0) << test;
    EXPECT_GE(dsmoe::json::get_double(o, "tokens_per_s_sd", "row"), 0.0) << test;
    EXPECT_EQ(static_cast<uint64_t>(dsmoe::json::get_int(o, "weight_bytes_per_token", "row")), bytes);
    EXPECT_GT(dsmoe::json::get_double(o, "gbps_measured", "row"), 0.0);
    EXPECT_EQ(dsmoe::json::get_int(o, "major_faults", "row"), 0) << "the model is warmed first";
    // Every page of the file is touched before timing, so the peak holds the whole mapping, plus
    // the process's own memory.
    const int64_t peak = dsmoe::json::get_int(o, "peak_rss_bytes", "row");
    const int64_t anon = dsmoe::json::get_int(o, "anon_rss_bytes", "row");
    EXPECT_GT(anon, 0) << test;
    EXPECT_GE(peak, static_cast<int64_t>(std::filesystem::file_size(dsmoe::test::tiny_chat_model())) + anon / 2)
        << test;
    if (test.starts_with("tg")) {
      // Effective bandwidth is decode speed times bytes per token.
      EXPECT_NEAR(dsmoe::json::get_double(o, "gbps_effective", "row"), mean * static_cast<double>(bytes) / 1e9,
                  1e-9 * mean * static_cast<double>(bytes) / 1e9);
    } else {
      EXPECT_TRUE(dsmoe::json::is_null(o, "gbps_effective")) << "prompt rows have no per-token weight stream";
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"1 pp4", "1 tg3", "1 pp4@d8", "1 tg3@d8", "2 pp4", "2 tg3",
                                         "2 pp4@d8", "2 tg3@d8"}));
}

TEST(Bench, TableByDefault) {
  int rc = -1;
  const std::string out = bench("-p 0 -n 2 -t 1 -r 1", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("weight bytes per decode token"), std::string::npos) << out;
  EXPECT_NE(out.find("tg2"), std::string::npos) << out;
  EXPECT_EQ(out.find("pp"), std::string::npos) << "-p 0 skips the prompt test\n" << out;
}

TEST(Bench, UsageErrors) {
  for (const char* args : {"-t 0", "-r 0", "-p x", "--depth -1", "-p 0 -n 0", "--kv-type f16", "--bogus"}) {
    int rc = -1;
    const std::string out = bench(args, &rc);
    EXPECT_EQ(rc, 2) << args << "\n" << out;
  }
}

TEST(Bench, ContextBeyondTheModelIsARuntimeError) {
  int rc = -1;
  const std::string out = bench("-p 4 -n 0 -t 1 -r 1 --depth 4096", &rc);  // max_position_embeddings 2048
  EXPECT_EQ(rc, 1) << out;
}

}  // namespace
