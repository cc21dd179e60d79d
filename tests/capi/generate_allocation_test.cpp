// No allocation per token in generation (STYLE.md §4): once a reply is streaming, producing more
// tokens (sampling with every stage on, stream decoding, stop-string matching, evaluation) calls
// operator new zero times. This file replaces the global operator new of test_capi with a
// counting one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "capi/tiny_model.h"
#include "dsmoe/dsmoe.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_news{0};
}  // namespace

// GCC warns that free() meets memory from operator new: here that pairing is the point.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
// The nothrow forms too (simdjson uses them): every allocation must pair with the free() below.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

struct Counter {
  int pieces = 0;
  long at_start = -1;  // allocations counted when the warm-up pieces have passed
  long at_end = -1;
};

TEST(Generate, TokensAfterTheFirstFewDoNotAllocate) {
  dsmoe_model_options mo;
  dsmoe_model_options_default(&mo);
  mo.n_threads = 1;
  dsmoe_model* model = nullptr;
  ASSERT_EQ(dsmoe_model_load(dsmoe::test::tiny_chat_model().c_str(), &mo, &model), DSMOE_OK);
  dsmoe_session* session = nullptr;
  ASSERT_EQ(dsmoe_session_create(model, nullptr, &session), DSMOE_OK);

  dsmoe_sampling_options s;
  dsmoe_sampling_options_default(&s);  // top-k, top-p and min-p on
  s.repeat_penalty = 1.1f;
  s.presence_penalty = 0.2f;
  s.seed = 21;
  const char* stops[] = {"never appears \x01", "\x02 nor this"};
  dsmoe_generate_options o;
  dsmoe_generate_options_default(&o);
  o.max_tokens = 96;
  o.stop_at_end_token = 0;
  o.sampling = &s;
  o.stop_strings = stops;
  o.n_stop_strings = 2;
  Counter c;
  o.user_data = &c;
  o.on_piece = [](const char*, size_t, void* user) {
    Counter& k = *static_cast<Counter*>(user);
    if (++k.pieces == 16) k.at_start = g_news.load();
    k.at_end = g_news.load();
    return 0;
  };
  const std::string prompt = "The quick brown fox";
  g_news = 0;
  g_counting = true;
  const dsmoe_status st = dsmoe_generate(session, prompt.data(), prompt.size(), &o, nullptr);
  g_counting = false;
  ASSERT_EQ(st, DSMOE_OK) << dsmoe_last_error();
  ASSERT_GT(c.pieces, 48);
  EXPECT_GT(g_news.load(), 0);  // the counter works: setting up a reply does allocate
  EXPECT_EQ(c.at_end - c.at_start, 0) << "allocations between piece 16 and piece " << c.pieces;
  dsmoe_session_free(session);
  dsmoe_model_free(model);
}

}  // namespace
