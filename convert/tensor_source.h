#pragma once
// Where the packer gets a tensor's values: a Hugging Face checkpoint (convert) or a generator
// (synth). Rows are read on demand, a chunk at a time, so nothing holds a whole model.
#include <cstdint>

#include "model/schema.h"  // TensorSpec

namespace dsmoe {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // Writes rows [r0, r1) of `t` as row-major f32 into out ((r1 - r0) * cols values; a 1-D tensor
  // is one row). Called concurrently from several threads for disjoint ranges. Sources validate
  // their inputs before packing starts, so a throw here is unexpected (it is still reported).
  virtual void read_rows(const TensorSpec& t, int64_t r0, int64_t r1, float* out) const = 0;
  // Source bytes per row of `t` (progress and throughput); 0 for generated data.
  virtual uint64_t source_bytes_per_row(const TensorSpec& t) const = 0;
  // A hint that `t` will be read next (e.g. start OS read-ahead).
  virtual void prefetch(const TensorSpec& /*t*/) const {}
};

}  // namespace dsmoe
