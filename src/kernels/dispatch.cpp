// CPU feature detection and the start-up fill of the kernel table (STYLE.md §3).
#include <cstdlib>  // getenv
#include <string>

#include "kernels/kernels.h"
#include "kernels/registry.h"

#if defined(__x86_64__)
#include <cpuid.h>        // __get_cpuid_count
#include <sys/syscall.h>  // SYS_arch_prctl
#include <unistd.h>       // syscall
#elif defined(__aarch64__)
#include <asm/hwcap.h>  // HWCAP_ASIMD, HWCAP_ASIMDDP
#include <sys/auxv.h>   // getauxval
#endif

namespace dsmoe {
namespace {

#if defined(__x86_64__)
bool bit(unsigned v, int b) { return (v >> b) & 1u; }

// Register state the OS saves on context switch (XCR0), read with xgetbv.
unsigned long long xcr0() {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

// Linux (5.16+) hands out the 8 KiB of AMX tile state only on request, once per process; until
// then the first tile instruction faults. Asked once, on the first detection.
bool amx_permitted() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  static const bool permitted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return permitted;
}
#endif

// x86 levels in dispatch order; on Arm the Neon ones. Each adds to what the lower ones filled.
struct Level {
  Isa isa;
  void (*add)(KernelTable&);
};
constexpr Level kLevels[] = {
#if defined(__x86_64__)
    {Isa::kAvx2, kernel_registry::add_avx2},
    {Isa::kAvxVnni, kernel_registry::add_avxvnni},
    {Isa::kAvx512Vnni, kernel_registry::add_avx512vnni},
    {Isa::kAvx512Bf16, kernel_registry::add_avx512bf16},
    {Isa::kAmx, kernel_registry::add_amx},
#elif defined(__aarch64__)
    {Isa::kNeon, kernel_registry::add_neon},
    {Isa::kNeonDotprod, kernel_registry::add_neon_dotprod},
#endif
    {Isa::kScalar, nullptr},  // terminator (keeps the array non-empty on other architectures)
};

Isa cap_from_env() {
  const char* s = std::getenv("DSMOE_ISA");
  if (s == nullptr || *s == '\0') return Isa::kNeonDotprod;  // highest: no cap
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kAvx512Bf16,
                  Isa::kAmx, Isa::kNeon, Isa::kNeonDotprod}) {
    if (std::string(s) == isa_name(isa)) return isa;
  }
  return Isa::kNeonDotprod;  // unknown names do not cap; describe_cpu_and_kernels() reports them
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512Vnni: return "avx512vnni";
    case Isa::kAvx512Bf16: return "avx512bf16";
    case Isa::kAmx: return "amx";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDotprod: return "neon_dotprod";
  }
  return "?";
}

CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return f;
  const bool osxsave = bit(c, 27), avx = bit(c, 28), fma = bit(c, 12), f16c = bit(c, 29);
  const unsigned long long xcr = osxsave ? xcr0() : 0;
  const bool ymm_state = (xcr & 0x6) == 0x6, zmm_state = (xcr & 0xe6) == 0xe6;
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    b7 = b;
    c7 = c;
    d7 = d;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
  f.avx2_fma_f16c = ymm_state && avx && fma && f16c && bit(b7, 5);
  f.avx_vnni = f.avx2_fma_f16c && bit(a71, 4);
  const bool avx512 = f.avx2_fma_f16c && zmm_state && bit(b7, 16) && bit(b7, 17) &&
                      bit(b7, 30) && bit(b7, 31);
  f.avx512_vnni = avx512 && bit(c7, 11);
  f.avx512_bf16 = f.avx512_vnni && bit(a71, 5);
  // AMX-TILE and AMX-INT8, tile config and data state enabled in XCR0 (bits 17, 18).
  const bool amx_state = (xcr & 0x60000) == 0x60000;
  f.amx_int8 = f.avx512_vnni && bit(d7, 24) && bit(d7, 25) && amx_state && amx_permitted();
#elif defined(__aarch64__)
  const unsigned long hw = getauxval(AT_HWCAP);
  f.neon = (hw & HWCAP_ASIMD) != 0;
  f.neon_dotprod = f.neon && (hw & HWCAP_ASIMDDP) != 0;
#endif
  return f;
}

bool isa_available(Isa isa, const CpuFeatures& cpu) {
  switch (isa) {
    case Isa::kScalar: return true;
#if defined(__x86_64__)
    case Isa::kAvx2: return cpu.avx2_fma_f16c;
    case Isa::kAvxVnni: return cpu.avx_vnni;
    case Isa::kAvx512Vnni: return cpu.avx512_vnni;
    case Isa::kAvx512Bf16: return cpu.avx512_bf16;
    case Isa::kAmx: return cpu.amx_int8;
#elif defined(__aarch64__)
    case Isa::kNeon: return cpu.neon;
    case Isa::kNeonDotprod: return cpu.neon_dotprod;
#endif
    default: return false;
  }
}

KernelTable make_kernel_table(Isa cap) {
  KernelTable t;
  kernel_registry::add_scalar(t);
  if (cap == Isa::kScalar) return t;
  kernel_registry::add_xsimd(t);
  const CpuFeatures cpu = detect_cpu();
  for (const Level& level : kLevels) {
    if (level.add == nullptr || static_cast<int>(level.isa) > static_cast<int>(cap)) continue;
    if (isa_available(level.isa, cpu)) level.add(t);
  }
  return t;
}

const KernelTable& kernels() {
  static const KernelTable table = make_kernel_table(cap_from_env());
  return table;
}

std::string describe_cpu_and_kernels() {
  const CpuFeatures f = detect_cpu();
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  std::string s;
#if defined(__x86_64__)
  s += std::string("cpu features: avx2+fma+f16c ") + yn(f.avx2_fma_f16c) + ", avx-vnni " +
       yn(f.avx_vnni) + ", avx512-vnni " + yn(f.avx512_vnni) + ", avx512-bf16 " +
       yn(f.avx512_bf16) + ", amx-int8 " + yn(f.amx_int8) + "\n";
#elif defined(__aarch64__)
  s += std::string("cpu features: neon ") + yn(f.neon) + ", dotprod " + yn(f.neon_dotprod) + "\n";
#endif
  const char* cap = std::getenv("DSMOE_ISA");
  if (cap != nullptr && *cap != '\0') {
    s += std::string("isa cap: DSMOE_ISA=") + cap +
         (cap_from_env() == Isa::kNeonDotprod && std::string(cap) != "neon_dotprod"
              ? " (unknown name: ignored)\n"
              : "\n");
  }
  const KernelTable& t = kernels();
  auto line = [&s](const char* entry, const char* name) {
    s += std::string("  ") + entry + ": " + name + "\n";
  };
  s += "kernels:\n";
  line("quantize_act_q8", t.quantize_act_q8.name);
  line("gemv_q8_q8", t.gemv_q8_q8.name);
  line("gemv_q4_q8", t.gemv_q4_q8.name);
  line("gemm_q8_q8", t.gemm_q8_q8.name);
  line("gemm_q4_q8", t.gemm_q4_q8.name);
  line("gemv_f32_f32", t.gemv_f32_f32.name);
  line("gemv_bf16_f32", t.gemv_bf16_f32.name);
  line("gemm_f32_f32", t.gemm_f32_f32.name);
  line("gemm_bf16_f32", t.gemm_bf16_f32.name);
  line("gemvt_q8_f32", t.gemvt_q8_f32.name);
  line("gemvt_q4_f32", t.gemvt_q4_f32.name);
  line("rmsnorm_f32", t.rmsnorm_f32.name);
  line("softmax_f32", t.softmax_f32.name);
  line("silu_mul_f32", t.silu_mul_f32.name);
  line("rope_f32", t.rope_f32.name);
  line("dot_f32", t.dot_f32.name);
  line("axpy_f32", t.axpy_f32.name);
  line("latent_scores_f32", t.latent_scores_f32.name);
  line("latent_sum_f32", t.latent_sum_f32.name);
  return s;
}

}  // namespace dsmoe
