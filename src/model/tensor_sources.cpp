#include "model/tensor_sources.h"

#include <cstdint>  // uintptr_t

#include "util/error.h"  // Error

namespace dsmoe {

SourceTensor DsmoeTensorSource::get(const std::string& name) {
  const TensorInfo& t = file_.at(name);
  return {t.type, t.shape, file_.data(t)};
}

SafetensorsTensorSource::SafetensorsTensorSource(const std::filesystem::path& path)
    : path_(path.string()), reader_(path) {}

SourceTensor SafetensorsTensorSource::get(const std::string& name) {
  const StTensor* t = reader_.find(name);
  if (t == nullptr || t->is_scale) {
    throw Error(ErrorCode::kFormat, path_ + ": tensor '" + name + "' is missing");
  }
  const auto addr = reinterpret_cast<uintptr_t>(t->data);
  if (t->dtype == StDtype::kBF16 && addr % 2 == 0) return {QType::kBF16, t->shape, t->data};
  if (t->dtype == StDtype::kF32 && addr % 4 == 0) return {QType::kF32, t->shape, t->data};
  if (!st_dtype_is_float(t->dtype)) {
    throw Error(ErrorCode::kFormat, path_ + ": tensor '" + name + "' has dtype " +
                                        st_dtype_name(t->dtype) + ", expected a float type");
  }
  // Other float types (F8_E4M3 with block scales, F16, F64) or misaligned data: one f32 copy.
  std::vector<float>& buf = converted_.emplace_back(static_cast<size_t>(t->elements()));
  read_rows_f32(*t, 0, t->rows(), buf.data());
  return {QType::kF32, t->shape, reinterpret_cast<const std::byte*>(buf.data())};
}

}  // namespace dsmoe
