#pragma once
// A Hugging Face checkpoint as a TensorSource, after checking it holds every tensor of a model's
// schema with the right shape and a float dtype.
#include <cstdint>
#include <string>
#include <vector>

#include "convert/tensor_source.h"  // TensorSource
#include "format/safetensors.h"     // SafetensorsReader
#include "model/schema.h"           // TensorSpec

namespace dsmoe {

class SafetensorsSource : public TensorSource {
 public:
  // Throws Error(kFormat) naming `where` and the first schema tensor that is missing, has another
  // shape, or has a dtype that cannot be read as float.
  SafetensorsSource(const SafetensorsReader& reader, const std::vector<TensorSpec>& schema,
                    const std::string& where);

  void read_rows(const TensorSpec& t, int64_t r0, int64_t r1, float* out) const override;
  uint64_t source_bytes_per_row(const TensorSpec& t) const override;
  void prefetch(const TensorSpec& t) const override;

  // Checkpoint tensors that no schema tensor uses (scale_inv tensors excluded), sorted.
  std::vector<std::string> unused_tensors() const;

 private:
  const StTensor& tensor(const TensorSpec& t) const;
  const SafetensorsReader& reader_;
  std::vector<TensorSpec> schema_;
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[2048, 102400]"

}  // namespace dsmoe
