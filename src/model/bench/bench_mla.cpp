// MLA micro-benchmark (not a test): what context costs one decode token's absorbed attention.
// Times mla_attention (one token, layer 0 of MODEL) at position 0 and at position DEPTH over a KV
// cache of random rows; the difference is the part that grows with context (scores, softmax,
// weighted sum of the cached latents), and times the layer count it is what DEPTH tokens of
// context add to a decode token. Time is the process's CPU time divided by the threads (OpenMP
// waits passively when OMP_WAIT_POLICY=passive), fastest of REPS: on a shared machine wall time
// measures the other jobs.
// With TOKENS > 1 it times instead one call of TOKENS new tokens after DEPTH cached positions in
// each form, absorbed and expanded: what the session's per-chunk choice of form weighs
// (mla_expanded_cheaper).
// Usage: bench_mla MODEL [threads=1] [depth=4096] [reps=20] [kv=bf16|f32] [tokens=1]
#include <time.h>  // clock_gettime

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "model/attention.h"  // mla_attention, mla_expanded_cheaper
#include "model/model.h"      // Model

namespace {

using namespace dsmoe;

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_mla MODEL [threads=1] [depth=4096] [reps=20] [kv=bf16|f32] [tokens=1]\n");
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int64_t depth = argc > 3 ? std::atoll(argv[3]) : 4096;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 20;
  const KvType kv = argc > 5 && std::string(argv[5]) == "f32" ? KvType::kF32 : KvType::kBF16;
  const int64_t tokens = argc > 6 ? std::atoll(argv[6]) : 1;
  if (threads < 1 || depth < 1 || reps < 1 || tokens < 1) {
    std::fprintf(stderr, "bench_mla: threads, depth, reps and tokens must be positive\n");
    return 2;
  }
  const auto model = Model::load(argv[1]);
  const ModelConfig& c = model->config();
  if (!c.is_mla()) {
    std::fprintf(stderr, "bench_mla: %s does not use multi-head latent attention\n", argv[1]);
    return 1;
  }
  KvCache cache(c, depth + tokens, kv);
  Scratch s(c, tokens, depth + tokens, threads, tokens > 1);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(cache.width()));
  for (int64_t t = 0; t < depth; ++t) {
    for (float& v : row) v = normal(rng);
    cache.store(0, t, row.data());
  }
  for (float& v : s.xn) v = normal(rng);

  const auto fastest = [&](int64_t pos, int64_t n, MlaForm form) {
    double best = 1e30;
    for (int64_t i = 0; i < n; ++i) model->rope().angles(pos + i, s.cs.data() + i * c.rope_dim());
    for (int r = 0; r < reps + 1; ++r) {  // the first call warms caches and starts threads
      const AttentionArgs a{c, model->weights().layers[0], model->rope(), 0, pos, n};
      const double t0 = cpu_seconds();
      mla_attention(a, form, cache, s);
      if (r > 0) best = std::min(best, (cpu_seconds() - t0) / threads);
    }
    return best;
  };
  if (tokens > 1) {
    const double ab = fastest(depth, tokens, MlaForm::kAbsorbed), ex = fastest(depth, tokens, MlaForm::kExpanded);
    std::printf("threads %d, %s cache: layer 0 attention of %lld tokens after %lld: absorbed %.3f ms, expanded "
                "%.3f ms; the cost model picks %s\n",
                threads, to_string(kv), static_cast<long long>(tokens), static_cast<long long>(depth), ab * 1e3,
                ex * 1e3, mla_expanded_cheaper(c, depth, tokens) ? "expanded" : "absorbed");
    return 0;
  }
  const double at0 = fastest(0, 1, MlaForm::kAbsorbed), atd = fastest(depth, 1, MlaForm::kAbsorbed);
  std::printf("threads %d, %s cache: layer 0 attention %.3f ms at position 0, %.3f ms at %lld; context adds "
              "%.3f ms per layer, %.1f ms per token over %lld layers\n",
              threads, to_string(kv), at0 * 1e3, atd * 1e3, static_cast<long long>(depth), (atd - at0) * 1e3,
              (atd - at0) * 1e3 * static_cast<double>(c.num_hidden_layers),
              static_cast<long long>(c.num_hidden_layers));
  return 0;
}
