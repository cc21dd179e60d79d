// The absorbed-MLA latent kernels (kernels/latent_attention.h) at AVX-512 width: 16 lanes, and 32
// registers for the 4 × 2 accumulator blocks. Long-context decode spends its attention time here.
#include <xsimd/xsimd.hpp>

#include "kernels/registry.h"

namespace dsmoe {
namespace {

using B = xsimd::batch<float, xsimd::avx512f>;
constexpr int64_t kW = static_cast<int64_t>(B::size);

#include "kernels/latent_attention.h"

}  // namespace

namespace kernel_registry {
void add_avx512_latent(KernelTable& t) {
  t.latent_scores_f32 = {latent_scores, kHeads, kRows, "latent_scores_f32_4x2__avx512"};
  t.latent_sum_f32 = {latent_sum, kHeads, kCols, "latent_sum_f32_4x2__avx512"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
