// oneDNN matmuls for prompt processing (see onednn_matmul.h).
#include "kernels/onednn_matmul.h"

#include <omp.h>

#include <map>
#include <utility>  // pair
#include <vector>

#include "util/error.h"  // Error
#include "util/half.h"   // f32_to_bf16

#ifdef DSMOE_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace dsmoe {

#ifdef DSMOE_HAVE_ONEDNN

namespace {
using dnnl::memory;
using Dt = memory::data_type;
constexpr memory::dim kRuntime = DNNL_RUNTIME_DIM_VAL;

Dt onednn_type(QType t) { return t == QType::kBF16 ? Dt::bf16 : Dt::f32; }
}  // namespace

struct OnednnMatmul::Impl {
  struct Prepared {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul prim;
  };
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<std::pair<QType, std::pair<int64_t, int64_t>>, Prepared> prepared;
  std::vector<uint16_t> x_bf16;  // X rounded to bf16, for bf16 weights
  int64_t max_tokens = 0, max_cols = 0;
  const char* last_impl = "";
};

bool OnednnMatmul::available() { return true; }

OnednnMatmul::OnednnMatmul(int64_t max_tokens, int64_t max_cols) : impl_(std::make_unique<Impl>()) {
  impl_->max_tokens = max_tokens;
  impl_->max_cols = max_cols;
  impl_->x_bf16.resize(static_cast<size_t>(max_tokens * max_cols));
}

OnednnMatmul::~OnednnMatmul() = default;

void OnednnMatmul::prepare(QType t, int64_t rows, int64_t cols) {
  if (!supports(t)) {
    throw Error(ErrorCode::kUnsupported,
                std::string("oneDNN matmul: no path for ") + qtype_name(t) + " weights");
  }
  const auto key = std::make_pair(t, std::make_pair(rows, cols));
  if (impl_->prepared.count(key)) return;
  try {
    // Run-time token count and leading dimensions: one primitive serves every chunk size.
    const memory::desc src({kRuntime, cols}, onednn_type(t), {kRuntime, 1});
    const memory::desc wei({cols, rows}, onednn_type(t), memory::format_tag::ba);
    const memory::desc dst({kRuntime, rows}, Dt::f32, {kRuntime, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), impl_->engine);
    impl_->prepared.emplace(key, Impl::Prepared{pd, dnnl::matmul(pd)});
  } catch (const dnnl::error& e) {
    throw Error(ErrorCode::kUnsupported, std::string("oneDNN matmul: ") + e.what());
  }
}

bool OnednnMatmul::prepared(QType t, int64_t rows, int64_t cols) const {
  return impl_->prepared.count(std::make_pair(t, std::make_pair(rows, cols))) != 0;
}

bool OnednnMatmul::run(QType t, const void* w, int64_t rows, int64_t cols, const float* x,
                       int64_t ldx, int64_t n, float* y, int64_t ldy, int threads) noexcept {
  const auto it = impl_->prepared.find(std::make_pair(t, std::make_pair(rows, cols)));
  if (it == impl_->prepared.end() || n > impl_->max_tokens || cols > impl_->max_cols) return false;
  const void* src = x;
  int64_t ld_src = ldx;
  if (t == QType::kBF16) {
    uint16_t* xb = impl_->x_bf16.data();
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 1)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t c = 0; c < cols; ++c) xb[i * cols + c] = f32_to_bf16(x[i * ldx + c]);
    }
    src = xb;
    ld_src = cols;
  }
  try {
    const Dt dt = onednn_type(t);
    // oneDNN never writes through the source and weights handles.
    memory src_m({{n, cols}, dt, {ld_src, 1}}, impl_->engine, const_cast<void*>(src));
    memory wei_m({{cols, rows}, dt, memory::format_tag::ba}, impl_->engine, const_cast<void*>(w));
    memory dst_m({{n, rows}, Dt::f32, {ldy, 1}}, impl_->engine, y);
    // oneDNN sizes its OpenMP team from the calling thread's setting.
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    bool ok = true;
    try {
      it->second.prim.execute(impl_->stream, {{DNNL_ARG_SRC, src_m},
                                              {DNNL_ARG_WEIGHTS, wei_m},
                                              {DNNL_ARG_DST, dst_m}});
      impl_->stream.wait();
    } catch (const dnnl::error&) {
      ok = false;
    }
    omp_set_num_threads(saved);
    impl_->last_impl = it->second.pd.impl_info_str();
    return ok;
  } catch (const dnnl::error&) {
    return false;
  }
}

const char* OnednnMatmul::last_impl() const { return impl_->last_impl; }

#else  // no oneDNN in this build

struct OnednnMatmul::Impl {};
bool OnednnMatmul::available() { return false; }
OnednnMatmul::OnednnMatmul(int64_t, int64_t) {}
OnednnMatmul::~OnednnMatmul() = default;
void OnednnMatmul::prepare(QType, int64_t, int64_t) {
  throw Error(ErrorCode::kUnsupported, "oneDNN matmul: this build has no oneDNN");
}
bool OnednnMatmul::prepared(QType, int64_t, int64_t) const { return false; }
bool OnednnMatmul::run(QType, const void*, int64_t, int64_t, const float*, int64_t, int64_t,
                       float*, int64_t, int) noexcept {
  return false;
}
const char* OnednnMatmul::last_impl() const { return ""; }

#endif

}  // namespace dsmoe
