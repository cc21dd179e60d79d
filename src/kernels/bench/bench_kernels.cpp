// Kernel micro-benchmark (not a test): single-core GB/s of weights streamed by each matrix kernel
// on DeepSeek-V2-Lite expert shapes, with weights cycled through a working set larger than the
// last-level cache, so gemv measures what decode sees: memory bandwidth per core.
// Then prompt-processing matmuls (64 and 512 tokens) with the best native kernels against oneDNN,
// and q8/q4 prompt products by token count on DeepSeek-V2-Lite's shapes, level against level.
// Usage: bench_kernels [working_set_MiB=512] [isa ...] [--prompt-only]  (isa names as DSMOE_ISA;
// default: all available levels; --prompt-only runs only the products by token count).
#include <algorithm>
#include <ctime>  // clock_gettime
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/onednn_matmul.h"
#include "quant/qtypes.h"

namespace {

using namespace dsmoe;
// Thread CPU time, not wall time: the benchmark machine is shared, and preemption must not count
// as kernel time (memory stalls still do).
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
};

struct Shape {
  int64_t rows, cols;
  const char* what;
};

double seconds_since(double t0) { return Clock::now() - t0; }

// Copies of one quantized matrix filling the working set.
struct Matrices {
  std::vector<std::vector<uint8_t>> copies;
  size_t bytes = 0;
};

Matrices make_matrices(QType t, Shape s, size_t working_set) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(s.rows * s.cols));
  for (auto& v : w) v = dist(rng);
  Matrices m;
  m.bytes = qtensor_bytes(t, s.rows, s.cols);
  std::vector<uint8_t> one(m.bytes);
  quantize_rows(t, w.data(), 0, s.rows, s.rows, s.cols, one.data(), ScaleSearch::kAbsmax);
  const size_t n = std::max<size_t>(2, working_set / m.bytes);
  m.copies.assign(n, one);
  return m;
}

// Single-core read bandwidth over the same kind of working set: the ceiling for gemv.
double read_gbps(size_t working_set) {
  std::vector<uint64_t> buf(working_set / 8, 1);
  uint64_t sink = 0;
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = Clock::now();
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= buf.size(); i += 4) {
      s0 += buf[i];
      s1 += buf[i + 1];
      s2 += buf[i + 2];
      s3 += buf[i + 3];
    }
    sink += s0 + s1 + s2 + s3;
    best = std::min(best, seconds_since(t0));
  }
  if (sink == 42) std::printf(" ");  // keeps the loop
  return static_cast<double>(working_set) / best / 1e9;
}

void bench_level(Isa isa, size_t working_set) {
  const KernelTable k = make_kernel_table(isa);
  const Shape shapes[] = {{1408, 2048, "gate/up 1408x2048"}, {2048, 1408, "down 2048x1408"}};
  constexpr int64_t kTokens = 64;
  for (const Shape& s : shapes) {
    std::vector<float> x(static_cast<size_t>(kTokens * s.cols)), y(static_cast<size_t>(kTokens * s.rows));
    std::mt19937 rng(2);
    std::normal_distribution<float> dist;
    for (auto& v : x) v = dist(rng);
    std::vector<QActBlock> xq(static_cast<size_t>(kTokens * act_blocks(s.cols)));
    for (int64_t t = 0; t < kTokens; ++t) k.quantize_act_q8.fn(&x[t * s.cols], s.cols, &xq[t * act_blocks(s.cols)]);
    for (QType t : {QType::kQ4, QType::kQ8, QType::kBF16, QType::kF32}) {
      const Matrices m = make_matrices(t, s, working_set);
      const bool q = qtype_is_quantized(t);
      auto gemv_rows = [&](const void* w, int64_t r1) {
        if (t == QType::kQ4) k.gemv_q4_q8.fn(w, s.rows, s.cols, xq.data(), y.data(), 0, r1);
        if (t == QType::kQ8) k.gemv_q8_q8.fn(w, s.rows, s.cols, xq.data(), y.data(), 0, r1);
        if (t == QType::kBF16) k.gemv_bf16_f32.fn(w, s.rows, s.cols, x.data(), y.data(), 0, r1);
        if (t == QType::kF32) k.gemv_f32_f32.fn(w, s.rows, s.cols, x.data(), y.data(), 0, r1);
      };
      auto gemv = [&](const void* w) { gemv_rows(w, s.rows); };
      auto gemm = [&](const void* w) {
        if (t == QType::kQ4) k.gemm_q4_q8.fn(w, s.rows, s.cols, xq.data(), kTokens, y.data(), s.rows, 0, s.rows);
        if (t == QType::kQ8) k.gemm_q8_q8.fn(w, s.rows, s.cols, xq.data(), kTokens, y.data(), s.rows, 0, s.rows);
        if (t == QType::kBF16) k.gemm_bf16_f32.fn(w, s.rows, s.cols, x.data(), s.cols, kTokens, y.data(), s.rows, 0, s.rows);
        if (t == QType::kF32) k.gemm_f32_f32.fn(w, s.rows, s.cols, x.data(), s.cols, kTokens, y.data(), s.rows, 0, s.rows);
      };
      // gemv: best of 3 passes over the whole working set (cold in cache every time).
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        for (const auto& c : m.copies) gemv(c.data());
        best = std::min(best, seconds_since(t0) / static_cast<double>(m.copies.size()));
      }
      // gemv over the first rows only, hot in L2 (<= 256 KiB): the kernel's compute ceiling.
      int64_t hot_rows = s.rows;
      while (hot_rows > 16 && qtensor_bytes(t, hot_rows, s.cols) > (256u << 10)) hot_rows /= 2;
      const double hot_bytes = static_cast<double>(qtensor_bytes(t, hot_rows, s.cols));
      double best_hot = 1e30;
      for (int rep = 0; rep < 200; ++rep) {
        const auto t0 = Clock::now();
        gemv_rows(m.copies[0].data(), hot_rows);
        best_hot = std::min(best_hot, seconds_since(t0));
      }
      // gemm: kTokens tokens against one matrix (weights warm in cache after the first pass).
      double best_mm = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        gemm(m.copies[static_cast<size_t>(rep) % m.copies.size()].data());
        best_mm = std::min(best_mm, seconds_since(t0));
      }
      const char* gemv_name = t == QType::kQ4 ? k.gemv_q4_q8.name : t == QType::kQ8 ? k.gemv_q8_q8.name
                            : t == QType::kBF16 ? k.gemv_bf16_f32.name : k.gemv_f32_f32.name;
      const char* gemm_name = t == QType::kQ4 ? k.gemm_q4_q8.name : t == QType::kQ8 ? k.gemm_q8_q8.name
                            : t == QType::kBF16 ? k.gemm_bf16_f32.name : k.gemm_f32_f32.name;
      const double gops = 2.0 * static_cast<double>(s.rows * s.cols) * kTokens / best_mm / 1e9;
      std::printf("%-18s %-4s %-28s %6.2f GB/s (in L2 %6.2f) | %-27s n=%lld %6.1f GOP/s\n",
                  s.what, qtype_name(t), gemv_name, static_cast<double>(m.bytes) / best / 1e9,
                  hot_bytes / best_hot / 1e9, gemm_name,
                  static_cast<long long>(kTokens), gops);
      (void)q;
    }
  }
}

// quantize_rows throughput (what the converter needs), in input weights per second of one core.
void bench_quantize() {
  const int64_t rows = 1408, cols = 2048;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = dist(rng);
  for (QType t : {QType::kQ4, QType::kQ8}) {
    for (ScaleSearch s : {ScaleSearch::kMse, ScaleSearch::kAbsmax}) {
      std::vector<uint8_t> out(qtensor_bytes(t, rows, cols));
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        quantize_rows(t, w.data(), 0, rows, rows, cols, out.data(), s);
        best = std::min(best, seconds_since(t0));
      }
      const double wps = static_cast<double>(rows * cols) / best;
      std::printf("quantize_rows %s %-6s: %6.1f M weights/s per core (%5.0f MB/s of bf16 input)\n",
                  qtype_name(t), s == ScaleSearch::kMse ? "mse" : "absmax", wps / 1e6, wps * 2 / 1e6);
    }
  }
}

// Prompt matmuls, one thread, weights warm: the native gemm of the best ISA for every weight type
// against oneDNN for the types it takes (--gemm onednn|native).
void bench_prompt_gemm() {
  const KernelTable& k = kernels();
  OnednnMatmul dnn(512, 2048);
  const Shape shapes[] = {{1408, 2048, "gate/up 1408x2048"}, {2048, 1408, "down 2048x1408"}};
  for (const Shape& s : shapes) {
    for (int64_t n : {64, 512}) {
      std::vector<float> x = std::vector<float>(static_cast<size_t>(n * s.cols), 0.5f);
      std::mt19937 rng(4);
      std::normal_distribution<float> dist;
      for (auto& v : x) v = dist(rng);
      std::vector<float> y(static_cast<size_t>(n * s.rows));
      std::vector<QActBlock> xq(static_cast<size_t>(n * act_blocks(s.cols)));
      for (QType t : {QType::kQ4, QType::kQ8, QType::kBF16, QType::kF32}) {
        const Matrices m = make_matrices(t, s, 0);
        const void* w = m.copies[0].data();
        auto native = [&] {
          if (qtype_is_quantized(t)) {
            for (int64_t i = 0; i < n; ++i) k.quantize_act_q8.fn(&x[i * s.cols], s.cols, &xq[i * act_blocks(s.cols)]);
            const auto& g = t == QType::kQ4 ? k.gemm_q4_q8 : k.gemm_q8_q8;
            g.fn(w, s.rows, s.cols, xq.data(), n, y.data(), s.rows, 0, s.rows);
          } else {
            const auto& g = t == QType::kBF16 ? k.gemm_bf16_f32 : k.gemm_f32_f32;
            g.fn(w, s.rows, s.cols, x.data(), s.cols, n, y.data(), s.rows, 0, s.rows);
          }
        };
        auto best_gops = [&](auto&& run) {
          double best = 1e30;
          for (int rep = 0; rep < 5; ++rep) {
            const auto t0 = Clock::now();
            run();
            best = std::min(best, seconds_since(t0));
          }
          return 2.0 * static_cast<double>(s.rows * s.cols * n) / best / 1e9;
        };
        const char* name = t == QType::kQ4 ? k.gemm_q4_q8.name : t == QType::kQ8 ? k.gemm_q8_q8.name
                         : t == QType::kBF16 ? k.gemm_bf16_f32.name : k.gemm_f32_f32.name;
        std::printf("%-18s n=%-3lld %-4s native %-30s %7.1f GOP/s", s.what, static_cast<long long>(n),
                    qtype_name(t), name, best_gops(native));
        if (OnednnMatmul::available() && OnednnMatmul::supports(t)) {
          dnn.prepare(t, s.rows, s.cols);
          const double g = best_gops([&] {
            dnn.run(t, w, s.rows, s.cols, x.data(), s.cols, n, y.data(), s.rows, 1);
          });
          std::printf(" | onednn %-28s %7.1f GOP/s", dnn.last_impl(), g);
        }
        std::printf("\n");
      }
    }
  }
}

// q8/q4 products as the forward pass runs them (gemv for one token, gemm otherwise) at the token
// counts a prompt gives each matrix (64-token chunks: attention and shared experts see all 64, a
// routed expert about 6), weights cycled through the working set as in a prompt, where every
// matrix comes from memory once per chunk. GOP/s per level, side by side.
void bench_prompt_products(const std::vector<Isa>& levels, size_t working_set) {
  const Shape shapes[] = {{1408, 2048, "expert gate/up"}, {2048, 1408, "expert down"},
                          {3072, 2048, "q"},              {576, 2048, "kv_a"},
                          {4096, 512, "kv_b"},            {2048, 2048, "o"}};
  std::vector<KernelTable> tables;
  std::printf("%-15s %-10s %-4s %-4s", "product", "shape", "type", "n");
  for (Isa isa : levels) {
    tables.push_back(make_kernel_table(isa));
    std::printf(" %12s", isa_name(isa));
  }
  std::printf("   GOP/s; kernels: %s, %s\n", tables.back().gemm_q4_q8.name, tables.back().gemm_q8_q8.name);
  for (const Shape& s : shapes) {
    for (QType t : {QType::kQ4, QType::kQ8}) {
      const Matrices m = make_matrices(t, s, working_set);
      for (int64_t n : {1, 2, 3, 6, 16, 64}) {
        std::vector<float> x(static_cast<size_t>(n * s.cols)), y(static_cast<size_t>(n * s.rows));
        std::mt19937 rng(5);
        std::normal_distribution<float> dist;
        for (auto& v : x) v = dist(rng);
        std::vector<QActBlock> xq(static_cast<size_t>(n * act_blocks(s.cols)));
        for (int64_t i = 0; i < n; ++i) tables[0].quantize_act_q8.fn(&x[i * s.cols], s.cols, &xq[i * act_blocks(s.cols)]);
        std::printf("%-15s %4lldx%-5lld %-4s %-4lld", s.what, static_cast<long long>(s.rows),
                    static_cast<long long>(s.cols), qtype_name(t), static_cast<long long>(n));
        for (const KernelTable& k : tables) {
          const Kernel<GemvQFn>& gemv = t == QType::kQ4 ? k.gemv_q4_q8 : k.gemv_q8_q8;
          const Kernel<GemmQFn>& gemm = t == QType::kQ4 ? k.gemm_q4_q8 : k.gemm_q8_q8;
          double best = 1e30;
          for (int rep = 0; rep < 2; ++rep) {
            const auto t0 = Clock::now();
            for (const auto& c : m.copies) {
              if (n == 1) gemv.fn(c.data(), s.rows, s.cols, xq.data(), y.data(), 0, s.rows);
              else gemm.fn(c.data(), s.rows, s.cols, xq.data(), n, y.data(), s.rows, 0, s.rows);
            }
            best = std::min(best, seconds_since(t0) / static_cast<double>(m.copies.size()));
          }
          std::printf(" %12.1f", 2.0 * static_cast<double>(s.rows * s.cols * n) / best / 1e9);
        }
        std::printf("\n");
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const size_t working_set = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 512) << 20;
  std::printf("%s", describe_cpu_and_kernels().c_str());
  std::vector<Isa> levels;
  bool prompt_only = false;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--prompt-only") prompt_only = true;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kAvx512Bf16, Isa::kAmx,
                    Isa::kNeon, Isa::kNeonDotprod}) {
      if (std::string(argv[i]) == isa_name(isa)) levels.push_back(isa);
    }
  }
  if (levels.empty()) {
    const CpuFeatures cpu = detect_cpu();
    for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kAvx512Bf16, Isa::kAmx, Isa::kNeon,
                    Isa::kNeonDotprod}) {
      if (isa_available(isa, cpu)) levels.push_back(isa);
    }
  }
  if (!prompt_only) {
    bench_quantize();
    std::printf("memory read, 1 thread: %.2f GB/s\n", read_gbps(working_set));
    for (Isa isa : levels) {
      std::printf("== level %s (1 thread, working set %zu MiB)\n", isa_name(isa), working_set >> 20);
      bench_level(isa, working_set);
    }
    std::printf("== prompt matmuls (1 thread, best ISA, weights warm)\n");
    bench_prompt_gemm();
  }
  std::printf("== q8/q4 prompt products by token count (1 thread, working set %zu MiB)\n", working_set >> 20);
  bench_prompt_products(levels, working_set);
  return 0;
}
