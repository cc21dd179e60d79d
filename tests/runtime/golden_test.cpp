// The forward pass against the reference fixtures (../shared/fixtures/models): every row of the
// logits within 1e-3 of the reference in full and incremental mode, and the router choosing the
// reference's experts at every position of every MoE layer. Weights read straight from the
// Hugging Face checkpoint (bf16 as stored; fp8 dequantized in f32) with an f32 KV cache.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "runtime/reference_fixture.h"
#include "support/fixtures.h"

namespace dsmoe::test {
namespace {

constexpr double kTolerance = 1e-3;

void expect_routing(const RoutingMap& want, const RoutingMap& got, const std::string& what) {
  ASSERT_FALSE(want.empty());
  for (const auto& [key, r] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << what << ": no routing for layer " << key.first << " position " << key.second;
    EXPECT_EQ(it->second.experts, r.experts) << what << ": layer " << key.first << " position " << key.second;
    if (it->second.experts != r.experts) continue;
    for (size_t i = 0; i < r.weights.size(); ++i) {
      EXPECT_NEAR(it->second.weights[i], r.weights[i], 1e-4)
          << what << ": weight of expert " << r.experts[i] << " at layer " << key.first << " position " << key.second;
    }
  }
}

class GoldenHf : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenHf, FullAndIncrementalMatchReference) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  SessionOptions opt;
  opt.kv_type = KvType::kF32;
  opt.kernels = Kernels::kReference;  // the specification; fast_path_test.cpp compares the fast path

  Session full(model, opt);
  RoutingRecorder rec;
  full.set_routing_observer(&rec);
  const std::vector<float> got = run_prompt(full, fx.tokens);
  const double d_full = max_abs_diff(got, fx.logits);
  EXPECT_LT(d_full, kTolerance) << "full";
  expect_routing(fx.routing, rec.routing, "full");

  Session inc(model, opt);
  RoutingRecorder rec_inc;
  inc.set_routing_observer(&rec_inc);
  const std::vector<float> got_inc = run_prompt(inc, fx.tokens, 16);
  const double d_inc = max_abs_diff(got_inc, fx.logits);
  EXPECT_LT(d_inc, kTolerance) << "incremental";
  std::printf("%s (checkpoint): max |diff| full %.3g, incremental %.3g\n", GetParam(), d_full, d_inc);
  expect_routing(fx.routing, rec_inc.routing, "incremental");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenHf,
                         ::testing::Values("v3-tiny", "v2-tiny", "v2-lite-tiny", "dsmoe16b-tiny", "v3-tiny-fp8"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace dsmoe::test
