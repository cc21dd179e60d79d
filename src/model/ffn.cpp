#include "model/ffn.h"

#include <sys/mman.h>  // madvise
#include <unistd.h>    // sysconf

#include <algorithm>  // min, max
#include <cstdint>    // uintptr_t

#include "model/experts.h"  // ffn_fast
#include "model/linear.h"   // linear
#include "model/ops.h"      // silu_mul

namespace dsmoe {

void ffn(const FfnWeights& w, const float* x, int64_t n, float* y, Scratch& s) noexcept {
  if (s.fast != nullptr) {
    ffn_fast(w, x, n, y, s);
    return;
  }
  const LinearScratch rb = s.linear_scratch();
  linear(w.gate, x, n, s.gate.data(), rb);
  linear(w.up, x, n, s.up.data(), rb);
  silu_mul(s.gate.data(), s.up.data(), n * w.gate.rows);
  linear(w.down, s.gate.data(), n, y, rb);
}

void prefetch_expert(const FfnWeights& w) noexcept {
  uintptr_t begin = UINTPTR_MAX, end = 0;
  for (const QTensor* t : {&w.gate, &w.up, &w.down}) {
    const auto a = reinterpret_cast<uintptr_t>(t->data);
    begin = std::min(begin, a);
    end = std::max(end, a + qtensor_bytes(t->type, t->rows, t->cols));
  }
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  begin &= ~(page - 1);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);  // advice: errors ignored
}

}  // namespace dsmoe
