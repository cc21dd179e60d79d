#pragma once
// Internal: each ISA's translation units register the kernels they implement into a table
// (dispatch.cpp calls these in ISA order). Declared here so dispatch.cpp needs no intrinsics.
#include "kernels/kernels.h"

namespace dsmoe::kernel_registry {

void add_scalar(KernelTable& t);
void add_xsimd(KernelTable& t);  // portable vector kernels, baseline flags
#if defined(__x86_64__)
void add_avx2(KernelTable& t);
void add_avxvnni(KernelTable& t);
void add_avx512vnni(KernelTable& t);  // also calls add_avx512_latent
void add_avx512_latent(KernelTable& t);
void add_avx512bf16(KernelTable& t);
void add_amx(KernelTable& t);
#elif defined(__aarch64__)
void add_neon(KernelTable& t);
void add_neon_dotprod(KernelTable& t);
#endif

}  // namespace dsmoe::kernel_registry
