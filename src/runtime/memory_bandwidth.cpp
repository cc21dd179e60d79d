#include "runtime/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>  // sort
#include <chrono>     // steady_clock
#include <cstdint>
#include <memory>     // unique_ptr
#include <string>
#include <vector>

#include "util/error.h"  // Error

namespace dsmoe {
namespace {

// Sums 64-bit words with eight independent accumulators: the compiler turns this into wide
// vector loads, and the adds cost far less than the memory they wait for.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t acc[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += p[i + k];
  }
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

}  // namespace

ReadBandwidth measure_read_bandwidth(int threads, size_t bytes, int passes) {
  if (threads < 1) throw Error(ErrorCode::kInvalidArgument, "bandwidth: threads must be at least 1");
  if (passes < 1) throw Error(ErrorCode::kInvalidArgument, "bandwidth: passes must be at least 1");
  if (bytes < (size_t{1} << 20)) throw Error(ErrorCode::kInvalidArgument, "bandwidth: buffer below 1 MiB");
  const size_t words = bytes / 4096 * 4096 / sizeof(uint64_t);
  // Not value-initialized: the first touch below happens on the threads that read.
  std::unique_ptr<uint64_t[]> buf(new uint64_t[words]);
  uint64_t* data = buf.get();
  const auto slice = [&](int t, size_t* begin, size_t* end) {
    const size_t per = words / threads / 8 * 8;
    *begin = per * t;
    *end = t == threads - 1 ? words : per * (t + 1);
  };
#pragma omp parallel num_threads(threads)
  {
    size_t b, e;
    slice(omp_get_thread_num(), &b, &e);
    for (size_t i = b; i < e; ++i) data[i] = i;
  }

  std::vector<double> gbps;
  volatile uint64_t sink = 0;  // keeps the sums, so the reads cannot be optimized away
  for (int p = 0; p < passes; ++p) {
    uint64_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      size_t b, e;
      slice(omp_get_thread_num(), &b, &e);
      total += sum_words(data + b, e - b);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    gbps.push_back(static_cast<double>(words * sizeof(uint64_t)) / s / 1e9);
  }
  std::sort(gbps.begin(), gbps.end());
  return {gbps.back(), gbps[gbps.size() / 2]};
}

}  // namespace dsmoe
