// The sampler chain on hand-made distributions: each stage's effect, and determinism by seed.
#include "sample/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "util/error.h"

namespace dsmoe {
namespace {

// Logits whose softmax is exactly `probs` (up to a constant).
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? static_cast<float>(std::log(p)) : -1e30f);
  return l;
}

SamplerParams plain(uint64_t seed = 1) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

// How often each token comes out in `n` draws.
std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int n) {
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i) ++h[s.sample(logits)];
  return h;
}

const std::vector<double> kProbs = {0.05, 0.4, 0.3, 0.15, 0.1};

TEST(Sampler, GreedyPicksTheMaximum) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  Sampler s(5, p);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.sample(logits_of(kProbs)), 1);
}

TEST(Sampler, GreedyBreaksTiesByLowestId) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  Sampler s(4, p);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}), 1);
}

TEST(Sampler, PlainSamplingFollowsTheDistribution) {
  Sampler s(5, plain(7));
  const int n = 100000;
  auto h = histogram(s, logits_of(kProbs), n);
  for (size_t i = 0; i < kProbs.size(); ++i) {
    EXPECT_NEAR(h[static_cast<int32_t>(i)] / double(n), kProbs[i], 0.01) << "token " << i;
  }
}

TEST(Sampler, LowTemperatureSharpens) {
  SamplerParams p = plain(3);
  p.temperature = 0.25f;  // p^4 renormalized: 0.4 -> ~0.74
  Sampler s(5, p);
  const int n = 20000;
  auto h = histogram(s, logits_of(kProbs), n);
  double z = 0;
  for (double q : kProbs) z += std::pow(q, 4);
  EXPECT_NEAR(h[1] / double(n), std::pow(0.4, 4) / z, 0.015);
  EXPECT_GT(h[1], h[2] * 2);
}

TEST(Sampler, TopKKeepsOnlyTheKMostLikely) {
  SamplerParams p = plain(5);
  p.top_k = 2;
  Sampler s(5, p);
  const int n = 20000;
  auto h = histogram(s, logits_of(kProbs), n);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_NEAR(h[1] / double(n), 0.4 / 0.7, 0.015);
  EXPECT_NEAR(h[2] / double(n), 0.3 / 0.7, 0.015);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  SamplerParams p = plain(9);
  p.top_p = 0.8f;  // 0.4 + 0.3 = 0.7 < 0.8, + 0.15 = 0.85: tokens 1, 2, 3
  Sampler s(5, p);
  auto h = histogram(s, logits_of(kProbs), 20000);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_EQ(h.count(4), 0u);
  EXPECT_NEAR(h[3] / 20000.0, 0.15 / 0.85, 0.015);
}

TEST(Sampler, TopPOverALargeVocabularyWithALongTail) {
  // Mass spread thinly over many tokens forces the threshold search to widen.
  const int v = 20000;
  std::vector<double> probs(v, 0.5 / (v - 1));
  probs[123] = 0.5;
  SamplerParams p = plain(11);
  p.top_p = 0.9f;
  Sampler s(v, p);
  auto h = histogram(s, logits_of(probs), 2000);
  EXPECT_NEAR(h[123] / 2000.0, 0.5 / 0.9, 0.04);
  EXPECT_GT(h.size(), 500u);  // the tail is sampled too
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheMax) {
  SamplerParams p = plain(13);
  p.min_p = 0.3f;  // threshold 0.12: keeps 0.4, 0.3, 0.15
  Sampler s(5, p);
  auto h = histogram(s, logits_of(kProbs), 20000);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_EQ(h.count(4), 0u);
}

TEST(Sampler, MinPAndTopPIntersect) {
  SamplerParams p = plain(17);
  p.min_p = 0.2f;  // keeps 0.4, 0.3, 0.15, 0.1
  p.top_p = 0.6f;  // keeps 0.4, 0.3
  Sampler s(5, p);
  auto h = histogram(s, logits_of(kProbs), 5000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[2], 0);
}

TEST(Sampler, RepetitionPenaltyDemotesRecentTokens) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  Sampler s(3, p);
  const std::vector<float> logits = {1.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(1);  // 1.5 / 2 = 0.75 < 1.0
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // both halved: 0.5 vs 0.75
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, RepetitionPenaltyMultipliesNegativeLogits) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  p.repeat_penalty = 3.0f;
  Sampler s(2, p);
  const std::vector<float> logits = {-1.0f, -2.5f};
  s.accept(0);  // -1 * 3 = -3 < -2.5
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, PresencePenaltyIsAppliedOncePerToken) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  p.presence_penalty = 1.0f;
  Sampler s(2, p);
  const std::vector<float> logits = {2.0f, 0.5f};
  for (int i = 0; i < 5; ++i) s.accept(0);  // 2 - 1 = 1 > 0.5, however often it appeared
  EXPECT_EQ(s.sample(logits), 0);
  p.presence_penalty = 2.0f;
  s.set_params(p);
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  p.presence_penalty = 10.0f;
  p.penalty_window = 2;
  Sampler s(3, p);
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(2);
  s.accept(2);  // token 0 has left the window
  EXPECT_EQ(s.sample(logits), 0);
}

TEST(Sampler, SameSeedSameTokens) {
  const std::vector<float> logits = logits_of(kProbs);
  SamplerParams p = plain(42);
  p.top_p = 0.9f;
  Sampler a(5, p), b(5, p);
  std::vector<int32_t> ta, tb;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
  }
  EXPECT_EQ(ta, tb);
  a.reset();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(a.sample(logits), ta[static_cast<size_t>(i)]);
  p.seed = 43;
  Sampler c(5, p);
  std::vector<int32_t> tc;
  for (int i = 0; i < 200; ++i) tc.push_back(c.sample(logits));
  EXPECT_NE(ta, tc);
}

TEST(Sampler, SeedGivesAFixedSequence) {
  // Pinned values: the Rng and the chain are specified bit for bit, so these must not change
  // across compilers or standard libraries.
  Sampler s(5, plain(2024));
  std::vector<int32_t> got;
  for (int i = 0; i < 12; ++i) got.push_back(s.sample(logits_of(kProbs)));
  Rng rng(2024);
  std::vector<int32_t> expected;
  const double cum[] = {0.05, 0.45, 0.75, 0.9, 1.0};
  for (int i = 0; i < 12; ++i) {
    const double u = rng.next_double();
    int32_t t = 0;
    while (t < 4 && u >= cum[t]) ++t;
    expected.push_back(t);
  }
  EXPECT_EQ(got, expected);
}

TEST(Rng, MatchesTheReferenceXoshiro256StarStar) {
  // SplitMix64(0) seeding then xoshiro256**; first outputs computed from the reference C code.
  Rng rng(0);
  EXPECT_EQ(rng.next_u64(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(rng.next_u64(), 0xbf6e1f784956452aull);
}

TEST(Sampler, RejectsBadParameters) {
  SamplerParams p = plain();
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler(5, p), Error);
  p = plain();
  p.min_p = 1.5f;
  EXPECT_THROW(Sampler(5, p), Error);
  p = plain();
  p.temperature = NAN;
  EXPECT_THROW(Sampler(5, p), Error);
  EXPECT_THROW(Sampler(0, plain()), Error);
}

}  // namespace
}  // namespace dsmoe

namespace dsmoe {
namespace {

TEST(Sampler, ShrinkingThePenaltyWindowKeepsTheMostRecentTokens) {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  p.presence_penalty = 10.0f;
  p.penalty_window = 4;
  Sampler s(3, p);
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f};
  s.accept(0);
  s.accept(1);
  EXPECT_EQ(s.sample(logits), 2);  // 0 and 1 penalized
  p.penalty_window = 1;            // only the latest (1) remains
  s.set_params(p);
  EXPECT_EQ(s.sample(logits), 0);
}

}  // namespace
}  // namespace dsmoe
