#include "model/experts.h"

#include <omp.h>

#include <algorithm>  // min, fill_n

#include "model/scratch.h"  // Scratch

namespace dsmoe {
namespace {

// Rows per unit of work: whole q8/q4 tiles in pairs (gemv walks 16 rows per step) and whole
// activation groups, so a thread can quantize the hidden rows it produced by itself.
constexpr int64_t kRowUnit = 32;

int64_t units_of(int64_t rows) { return (rows + kRowUnit - 1) / kRowUnit; }

// Phase-1 cost of one unit of a job: the gate and up bytes it streams, times the tokens it serves
// (decode streams bytes; a prompt's products grow with both).
int64_t unit_cost(const ExpertJob& j) {
  const QTensor &g = j.w->gate, &u = j.w->up;
  const auto bytes =
      static_cast<int64_t>(qtensor_bytes(g.type, g.rows, g.cols) + qtensor_bytes(u.type, u.rows, u.cols));
  return std::max<int64_t>(1, bytes / units_of(g.rows)) * j.count;
}

// Where cost `c` falls: job index and unit within it (jobs past the end: {jobs, 0}).
struct Cut {
  int64_t job, unit;
};
Cut cut_at(const ExpertJob* jobs, int64_t njobs, int64_t c) {
  for (int64_t j = 0; j < njobs; ++j) {
    const int64_t uc = unit_cost(jobs[j]), units = units_of(jobs[j].w->gate.rows);
    if (c < jobs[j].cost_before + uc * units) return {j, (c - jobs[j].cost_before + uc / 2) / uc};
  }
  return {njobs, 0};
}

// Phase 1 on units [u0, u1) of job j: gate, up, silu·mul, and the hidden rows quantized.
void gate_up(const KernelTable& k, const ExpertJob& j, int64_t u0, int64_t u1) noexcept {
  const QTensor& g = j.w->gate;
  const int64_t ffn = g.rows, r0 = u0 * kRowUnit, r1 = std::min(ffn, u1 * kRowUnit);
  if (r0 >= r1) return;
  matmul_rows(k, g, j.x, j.count, j.gate, ffn, r0, r1);
  matmul_rows(k, j.w->up, j.x, j.count, j.up, ffn, r0, r1);
  const int64_t ab = act_blocks(ffn);
  for (int64_t m = 0; m < j.count; ++m) {
    float* h = j.gate + m * ffn;
    k.silu_mul_f32.fn(h + r0, j.up + m * ffn + r0, r1 - r0, h + r0);
    if (j.hq != nullptr) k.quantize_act_q8.fn(h + r0, r1 - r0, j.hq + m * ab + r0 / kActGroup);
  }
}

// Phase 2 on output rows [o0, o1) of every job, accumulated into y.
void down(const Scratch& s, int64_t njobs, int64_t n, int64_t hidden, int64_t k, float* y,
          float* tmp, int64_t o0, int64_t o1) noexcept {
  const KernelTable& kt = *s.fast;
  for (int64_t i = 0; i < n; ++i) std::fill_n(y + i * hidden + o0, o1 - o0, 0.0f);
  for (int64_t jj = 0; jj < njobs; ++jj) {
    const ExpertJob& j = s.expert_jobs[jj];
    const int64_t ffn = j.w->gate.rows;
    const Acts h{j.gate, ffn, j.hq};
    matmul_rows(kt, j.w->down, h, j.count, tmp, hidden, o0, o1);
    for (int64_t m = 0; m < j.count; ++m) {
      const int64_t token = j.slots ? j.slots[m] / k : m;
      const float weight = j.slots ? s.topk_weights[j.slots[m]] : 1.0f;
      kt.axpy_f32.fn(weight, tmp + m * hidden + o0, y + token * hidden + o0, o1 - o0);
    }
  }
}

// The oneDNN prompt path: false, with y unspecified, when a job's matrices are not prepared for
// it or oneDNN fails (the caller then runs the native path, which rewrites y).
bool run_experts_onednn(Scratch& s, int64_t njobs, int64_t hidden, int64_t k, float* y) noexcept {
  OnednnMatmul& mm = *s.onednn;
  const KernelTable& kt = *s.fast;
  for (int64_t jj = 0; jj < njobs; ++jj) {
    for (const QTensor* t : {&s.expert_jobs[jj].w->gate, &s.expert_jobs[jj].w->up, &s.expert_jobs[jj].w->down}) {
      if (!mm.prepared(t->type, t->rows, t->cols)) return false;
    }
  }
  float* out = s.down_out.data();  // [count, hidden] of one job at a time
  for (int64_t jj = 0; jj < njobs; ++jj) {
    const ExpertJob& j = s.expert_jobs[jj];
    const QTensor &g = j.w->gate, &u = j.w->up, &d = j.w->down;
    const int64_t ffn = g.rows, count = j.count;
    if (!mm.run(g.type, g.data, ffn, hidden, j.x.f, j.x.ldf, count, j.gate, ffn, s.threads) ||
        !mm.run(u.type, u.data, ffn, hidden, j.x.f, j.x.ldf, count, j.up, ffn, s.threads)) {
      return false;
    }
    kt.silu_mul_f32.fn(j.gate, j.up, count * ffn, j.gate);
    if (!mm.run(d.type, d.data, hidden, ffn, j.gate, ffn, count, out, hidden, s.threads)) return false;
    for (int64_t m = 0; m < count; ++m) {
      const int64_t token = j.slots ? j.slots[m] / k : m;
      const float weight = j.slots ? s.topk_weights[j.slots[m]] : 1.0f;
      kt.axpy_f32.fn(weight, out + m * hidden, y + token * hidden, hidden);
    }
  }
  return true;
}

}  // namespace

void run_experts(Scratch& s, int64_t njobs, int64_t n, int64_t hidden, int64_t k, float* y) noexcept {
  if (n > 1 && s.onednn != nullptr) {
    std::fill_n(y, n * hidden, 0.0f);
    if (run_experts_onednn(s, njobs, hidden, k, y)) return;
  }
  const KernelTable& kt = *s.fast;
  ExpertJob* jobs = s.expert_jobs.data();
  int64_t total = 0;
  for (int64_t j = 0; j < njobs; ++j) {
    jobs[j].cost_before = total;
    total += unit_cost(jobs[j]) * units_of(jobs[j].w->gate.rows);
  }
  const int64_t out_units = units_of(hidden);
#pragma omp parallel num_threads(s.threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const Cut a = cut_at(jobs, njobs, total * t / nt), b = cut_at(jobs, njobs, total * (t + 1) / nt);
    for (int64_t j = a.job; j <= b.job && j < njobs; ++j) {
      const int64_t units = units_of(jobs[j].w->gate.rows);
      gate_up(kt, jobs[j], j == a.job ? a.unit : 0, j == b.job ? b.unit : units);
    }
#pragma omp barrier
    int64_t u0, u1;
    split_units(out_units, t, nt, u0, u1);
    const int64_t o0 = u0 * kRowUnit, o1 = std::min(hidden, u1 * kRowUnit);
    if (o0 < o1) down(s, njobs, n, hidden, k, y, s.down_out.data() + t * s.max_batch * hidden, o0, o1);
  }
}

void ffn_fast(const FfnWeights& w, const float* x, int64_t n, float* y, Scratch& s) noexcept {
  const int64_t hidden = w.gate.cols;
  ExpertJob& j = s.expert_jobs[0];
  j.w = &w;
  j.count = n;
  j.slots = nullptr;
  j.x = Acts{x, hidden, s.act.data()};
  if (qtype_is_quantized(w.gate.type)) {
    const int64_t ab = act_blocks(hidden);
    for (int64_t i = 0; i < n; ++i) s.fast->quantize_act_q8.fn(x + i * hidden, hidden, s.act.data() + i * ab);
  }
  j.gate = s.gate.data();
  j.up = s.up.data();
  j.hq = qtype_is_quantized(w.down.type) ? s.hq.data() : nullptr;
  run_experts(s, 1, n, hidden, 1, y);
}

}  // namespace dsmoe
