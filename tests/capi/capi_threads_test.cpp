// One model, several sessions generating at once on different threads: each thread's output must
// equal what the same session settings give when run alone (run this under ThreadSanitizer too:
// scripts/test.sh with DSMOE_TSAN=1).
#include "dsmoe/dsmoe.h"
#include "dsmoe/dsmoe.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "capi/tiny_model.h"

namespace {

std::string run_session(const dsmoe_model* model, uint64_t seed, std::string* error) {
  dsmoe_session_options so;
  dsmoe_session_options_default(&so);
  so.n_ctx = 128;
  dsmoe_session* s = nullptr;
  if (dsmoe_session_create(model, &so, &s) != DSMOE_OK) {
    *error = dsmoe_last_error();
    return {};
  }
  dsmoe_sampling_options sampling;
  dsmoe_sampling_options_default(&sampling);
  sampling.seed = seed;
  dsmoe_generate_options o;
  dsmoe_generate_options_default(&o);
  o.max_tokens = 32;
  o.sampling = &sampling;
  o.stop_at_end_token = 0;
  std::string text;
  o.user_data = &text;
  o.on_piece = [](const char* p, size_t n, void* user) {
    static_cast<std::string*>(user)->append(p, n);
    return 0;
  };
  const std::string prompt = "Seed " + std::to_string(seed) + " says:";
  if (dsmoe_generate(s, prompt.data(), prompt.size(), &o, nullptr) != DSMOE_OK) {
    *error = dsmoe_last_error();  // thread-local: this thread's own message
  }
  dsmoe_session_free(s);
  return text;
}

TEST(CApiThreads, SessionsOnOneModelRunConcurrently) {
  dsmoe_model_options mo;
  dsmoe_model_options_default(&mo);
  mo.n_threads = 1;
  dsmoe_model* model = nullptr;
  ASSERT_EQ(dsmoe_model_load(dsmoe::test::tiny_chat_model().c_str(), &mo, &model), DSMOE_OK)
      << dsmoe_last_error();
  constexpr int kThreads = 4;
  std::vector<std::string> alone(kThreads), together(kThreads), errors(kThreads);
  for (int i = 0; i < kThreads; ++i) alone[i] = run_session(model, 100 + i, &errors[i]);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 3; ++round) {
        together[i] = run_session(model, 100 + i, &errors[i]);
        if (together[i] != alone[i]) break;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[i], "") << "thread " << i;
    EXPECT_FALSE(alone[i].empty());
    EXPECT_EQ(together[i], alone[i]) << "thread " << i;
  }
  dsmoe_model_free(model);
}

TEST(CApiThreads, LastErrorIsPerThread) {
  dsmoe_model* m = nullptr;
  ASSERT_EQ(dsmoe_model_load("/nonexistent/a.dsmoe", nullptr, &m), DSMOE_ERR_IO);
  std::string other;
  std::thread([&] { other = dsmoe_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_NE(std::string(dsmoe_last_error()).find("a.dsmoe"), std::string::npos);
}

TEST(CApiCpp, WrapperThrowsAndStreams) {
  EXPECT_THROW(dsmoe::api::Model("/nonexistent/b.dsmoe"), dsmoe::api::Error);
  try {
    dsmoe::api::Model bad("/nonexistent/b.dsmoe");
  } catch (const dsmoe::api::Error& e) {
    EXPECT_EQ(e.status(), DSMOE_ERR_IO);
    EXPECT_NE(std::string(e.what()).find("b.dsmoe"), std::string::npos);
  }
  dsmoe::api::ModelOptions mo;
  mo.n_threads = 1;
  dsmoe::api::Model model(dsmoe::test::tiny_chat_model().string(), mo);
  EXPECT_EQ(model.info().vocab_size, 4096);
  const std::vector<dsmoe_token> ids = model.tokenize("Hello world");
  EXPECT_EQ(model.detokenize(ids), "Hello world");
  const std::string prompt = model.apply_chat_template({{"user", "Hi"}});
  EXPECT_EQ(prompt, "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");

  dsmoe::api::SessionOptions so;
  so.n_ctx = 64;
  dsmoe::api::Session session(model, so);
  dsmoe::api::GenerateOptions g;
  g.max_tokens = 8;
  g.sampling.emplace();
  g.sampling->seed = 9;
  std::string text;
  const dsmoe_generate_result r = session.generate(prompt, g, [&](std::string_view p) {
    text += p;
    return true;
  });
  EXPECT_GE(r.generated_tokens, 1u);
  // Every token but the last sampled one has been evaluated.
  EXPECT_EQ(session.position(), r.prompt_tokens + r.generated_tokens - 1);

  // An exception thrown by the callback stops generation and reaches the caller intact.
  session.reset();
  EXPECT_THROW(session.generate(prompt, g, [](std::string_view) -> bool { throw std::runtime_error("from callback"); }),
               std::runtime_error);
  // Errors from the library arrive as dsmoe::api::Error with the status.
  std::string longer;
  for (int i = 0; i < 100; ++i) longer += " word";
  try {
    session.generate(longer, g, [](std::string_view) { return true; });
    ADD_FAILURE() << "an over-long prompt must fail";
  } catch (const dsmoe::api::Error& e) {
    EXPECT_EQ(e.status(), DSMOE_ERR_OUT_OF_RANGE);
  }
}

}  // namespace
