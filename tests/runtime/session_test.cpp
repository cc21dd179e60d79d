// Sessions: both MLA forms agree, the KV cache carries state across many calls, rewinding,
// chunked prompts, context limits, bad token ids, and several sessions sharing one model.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "runtime/reference_fixture.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace dsmoe::test {
namespace {

// Exact logits: an f32 cache and the reference products (the fast path's bf16 kernels may round
// activations to bf16; fast_path_test.cpp holds it to its own bounds).
SessionOptions exact() {
  SessionOptions o;
  o.kv_type = KvType::kF32;
  o.kernels = Kernels::kReference;
  return o;
}

class SessionFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(SessionFixture, AbsorbedAndExpandedMlaAgree) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  SessionOptions a = exact(), e = exact();
  a.mla = SessionOptions::Mla::kAbsorbed;
  e.mla = SessionOptions::Mla::kExpanded;
  Session sa(model, a), se(model, e);
  const std::vector<float> la = run_prompt(sa, fx.tokens);
  const std::vector<float> le = run_prompt(se, fx.tokens);
  EXPECT_LT(max_abs_diff(la, le), 2e-5);
  // Expanded prefill after an absorbed start: the forms share one cache.
  Session mixed(model, e);
  std::vector<float> lm(fx.tokens.size() * fx.vocab);
  std::span<const int32_t> all(fx.tokens);
  for (size_t i = 0; i < 4; ++i) {
    std::span<const float> l = mixed.eval(all.subspan(i, 1));  // one token: absorbed
    std::copy(l.begin(), l.end(), lm.begin() + i * fx.vocab);
  }
  mixed.eval_all(all.subspan(4), std::span<float>(lm).subspan(4 * fx.vocab));  // expanded
  EXPECT_LT(max_abs_diff(lm, fx.logits), 1e-3);
}

// Absorbed MLA splits the cached positions across threads (each thread sums its share of the
// output): any thread count, including one that splits the positions unevenly, gives the same
// logits up to summation order, and matches the reference.
TEST_P(SessionFixture, AbsorbedMlaAgreesAcrossThreadCounts) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  std::vector<std::vector<float>> logits;
  for (int threads : {1, 2, 3}) {
    SessionOptions o = exact();
    o.mla = SessionOptions::Mla::kAbsorbed;
    o.threads = threads;
    Session s(model, o);
    std::vector<float> l(fx.tokens.size() * fx.vocab);
    std::span<const int32_t> all(fx.tokens);
    for (size_t i = 0; i < all.size(); ++i) {  // one token per call: the decode path
      std::span<const float> row = s.eval(all.subspan(i, 1));
      std::copy(row.begin(), row.end(), l.begin() + i * fx.vocab);
    }
    EXPECT_LT(max_abs_diff(l, fx.logits), 1e-3) << threads << " threads";
    logits.push_back(std::move(l));
  }
  EXPECT_LT(max_abs_diff(logits[1], logits[0]), 2e-5);
  EXPECT_LT(max_abs_diff(logits[2], logits[0]), 2e-5);
}

TEST_P(SessionFixture, CacheReusedAcrossManyCallsAndRewind) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  Session s(model, exact());
  std::span<const int32_t> all(fx.tokens);
  // Chunks of 1, 2, 3, ... tokens; the last logits of each chunk are that row of the reference.
  size_t at = 0;
  for (size_t len = 1; at < all.size(); ++len) {
    const size_t n = std::min(len, all.size() - at);
    std::span<const float> l = s.eval(all.subspan(at, n));
    at += n;
    std::vector<float> row(l.begin(), l.end());
    std::vector<float> ref(fx.logits.begin() + (at - 1) * fx.vocab, fx.logits.begin() + at * fx.vocab);
    EXPECT_LT(max_abs_diff(row, ref), 1e-3) << "after " << at << " tokens";
  }
  EXPECT_EQ(s.position(), static_cast<int64_t>(all.size()));
  // Rewind and replay a different continuation, then the original one again.
  s.rewind(10);
  s.eval(std::vector<int32_t>{7, 8, 9});
  s.rewind(10);
  std::vector<float> tail(14 * fx.vocab);
  s.eval_all(all.subspan(10), tail);
  std::vector<float> ref(fx.logits.begin() + 10 * fx.vocab, fx.logits.end());
  EXPECT_LT(max_abs_diff(tail, ref), 1e-3);
  s.reset();
  EXPECT_EQ(s.position(), 0);
}

TEST_P(SessionFixture, PromptLongerThanBatchRunsInChunks) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  SessionOptions o = exact();
  o.max_batch = 5;
  Session s(Model::load_hf(dir), o);
  EXPECT_LT(max_abs_diff(run_prompt(s, fx.tokens), fx.logits), 1e-3);
}

TEST_P(SessionFixture, Bf16CacheStaysClose) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + GetParam());
  const Fixture fx = load_fixture(dir);
  // The cache's rounding alone, on the reference products: the fast kernels' own differences
  // (bf16 activations at the AVX-512 BF16 level can flip a near-tied expert choice) are
  // fast_path_test's subject.
  SessionOptions o;
  o.kernels = Kernels::kReference;
  Session s(Model::load_hf(dir), o);
  EXPECT_EQ(s.kv_cache().type(), KvType::kBF16);  // the default
  const std::vector<float> got = run_prompt(s, fx.tokens, 16);
  EXPECT_LT(max_abs_diff(got, fx.logits), 0.1);
  EXPECT_GE(kl_and_top1(fx.logits, got, fx.vocab).second, 0.9);
  // A context shorter than one block of absorbed MLA's positions, on two threads: each thread's
  // buffer of converted cache rows holds only ctx rows (thread 1 once wrote past its end, which
  // the sanitizer build reports).
  o.ctx = static_cast<int64_t>(fx.tokens.size());
  o.threads = 2;
  Session small(Model::load_hf(dir), o);
  EXPECT_EQ(run_prompt(small, fx.tokens, 16), got);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SessionFixture, ::testing::Values("v3-tiny", "v2-lite-tiny", "dsmoe16b-tiny"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Session, ContextOverflowIsAnErrorAndLeavesStateUnchanged) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v3-tiny");
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  SessionOptions o = exact();
  o.ctx = 20;
  Session s(model, o);
  EXPECT_EQ(s.ctx(), 20);
  try {
    s.eval(fx.tokens);  // 24 > 20
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfRange);
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.position(), 0);
  std::span<const int32_t> all(fx.tokens);
  std::vector<float> l(20 * fx.vocab);
  s.eval_all(all.first(20), l);
  EXPECT_EQ(s.position(), 20);
  EXPECT_THROW(s.eval(all.subspan(20, 1)), Error);
  EXPECT_EQ(s.position(), 20);
  std::vector<float> ref(fx.logits.begin(), fx.logits.begin() + 20 * fx.vocab);
  EXPECT_LT(max_abs_diff(l, ref), 1e-3);

  SessionOptions big;
  big.ctx = model->config().max_position_embeddings + 1;
  try {
    Session too_big(model, big);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

TEST(Session, BadTokensAreErrors) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-lite-tiny");
  Session s(Model::load_hf(dir), exact());
  try {
    s.eval(std::vector<int32_t>{1, 1024});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfRange);
  }
  EXPECT_THROW(s.eval(std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(s.eval(std::vector<int32_t>{}), Error);
  EXPECT_EQ(s.position(), 0);
}

TEST(Session, SessionsShareOneModelAcrossThreads) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v3-tiny");
  const Fixture fx = load_fixture(dir);
  auto model = Model::load_hf(dir);
  constexpr int kSessions = 3;
  std::vector<std::vector<float>> out(kSessions);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] {
      SessionOptions o = exact();
      o.threads = 1;
      Session s(model, o);
      out[i] = run_prompt(s, fx.tokens, i == 0 ? -1 : 8 * i);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kSessions; ++i) EXPECT_LT(max_abs_diff(out[i], fx.logits), 1e-3) << "session " << i;
}

}  // namespace
}  // namespace dsmoe::test
