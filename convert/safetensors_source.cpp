#include "convert/safetensors_source.h"

#include <unordered_set>  // unordered_set

#include "util/error.h"  // Error

namespace dsmoe {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsSource::SafetensorsSource(const SafetensorsReader& reader, const std::vector<TensorSpec>& schema,
                                     const std::string& where)
    : reader_(reader), schema_(schema) {
  for (const TensorSpec& s : schema_) {
    const StTensor* t = reader_.find(s.name);
    if (!t || t->is_scale) {
      throw Error(ErrorCode::kFormat, where + ": tensor '" + s.name + "' (" + to_string(s.role) + ", shape " +
                                          shape_string(s.shape) +
                                          " from config.json) is missing from the checkpoint");
    }
    if (t->shape != s.shape) {
      throw Error(ErrorCode::kFormat, where + ": tensor '" + s.name + "' has shape " + shape_string(t->shape) +
                                          ", but config.json implies " + shape_string(s.shape));
    }
    if (!st_dtype_is_float(t->dtype)) {
      throw Error(ErrorCode::kFormat, where + ": tensor '" + s.name + "' has dtype " + st_dtype_name(t->dtype) +
                                          ", expected a float type (F32, F16, BF16 or F8_E4M3)");
    }
  }
}

const StTensor& SafetensorsSource::tensor(const TensorSpec& t) const { return reader_.at(t.name); }

void SafetensorsSource::read_rows(const TensorSpec& t, int64_t r0, int64_t r1, float* out) const {
  read_rows_f32(tensor(t), r0, r1, out);
}

uint64_t SafetensorsSource::source_bytes_per_row(const TensorSpec& t) const {
  const StTensor& st = tensor(t);
  return st.nbytes / static_cast<uint64_t>(st.rows());
}

void SafetensorsSource::prefetch(const TensorSpec& t) const { reader_.prefetch(tensor(t)); }

std::vector<std::string> SafetensorsSource::unused_tensors() const {
  std::unordered_set<std::string> used;
  for (const TensorSpec& s : schema_) used.insert(s.name);
  std::vector<std::string> out;
  for (const StTensor* t : reader_.tensors()) {
    if (!t->is_scale && !used.count(t->name)) out.push_back(t->name);
  }
  return out;
}

}  // namespace dsmoe
