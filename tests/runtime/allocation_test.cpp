// No allocation per token (STYLE.md §4): after the prompt, 32 decode steps call operator new zero
// times. This file replaces the global operator new of test_runtime with a counting one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "runtime/reference_fixture.h"
#include "support/fixtures.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_news{0};
}  // namespace

// Every form of operator new and delete is replaced, all on malloc/free, so that no pair mixes
// these with the library's (or a sanitizer's) own. GCC warns that free() meets memory from
// operator new: here that pairing is the point.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
void* counted_alloc(size_t n, size_t align) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}
void* counted_or_throw(size_t n, size_t align) {
  if (void* p = counted_alloc(n, align)) return p;
  throw std::bad_alloc();
}
constexpr size_t kPlain = alignof(std::max_align_t);
}  // namespace

void* operator new(size_t n) { return counted_or_throw(n, kPlain); }
void* operator new[](size_t n) { return counted_or_throw(n, kPlain); }
void* operator new(size_t n, std::align_val_t a) { return counted_or_throw(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return counted_or_throw(n, static_cast<size_t>(a)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, kPlain); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, kPlain); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace dsmoe::test {
namespace {

class NoAllocation : public ::testing::TestWithParam<std::tuple<const char*, KvType>> {};

TEST_P(NoAllocation, DecodeStepsDoNotAllocate) {
  DSMOE_FIXTURE_OR_SKIP(dir, std::string("models/") + std::get<0>(GetParam()));
  const Fixture fx = load_fixture(dir);
  SessionOptions o;
  o.kv_type = std::get<1>(GetParam());
  o.ctx = 64;
  Session s(Model::load_hf(dir), o);
  std::span<const float> logits = s.eval(std::span<const int32_t>(fx.tokens).first(16));
  int32_t next = 0;
  g_news = 0;
  g_counting = true;
  ::operator delete(::operator new(16));  // the counter works: exactly one counted below
  for (int step = 0; step < 32; ++step) {
    next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    logits = s.eval(std::span<const int32_t>(&next, 1));
  }
  g_counting = false;
  EXPECT_EQ(g_news.load(), 1);
  EXPECT_EQ(s.position(), 48);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NoAllocation,
                         ::testing::Combine(::testing::Values("v3-tiny", "dsmoe16b-tiny"),
                                            ::testing::Values(KvType::kF32, KvType::kBF16)),
                         [](const auto& info) {
                           std::string s = std::string(std::get<0>(info.param)) + "_" + to_string(std::get<1>(info.param));
                           for (char& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace dsmoe::test
