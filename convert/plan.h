#pragma once
// The packing plan: every schema tensor with the storage type the recipe gives it and its size in
// the .dsmoe file, plus the metadata JSON that describes the result.
#include <cstdint>
#include <string>
#include <vector>

#include "convert/recipe.h"  // QuantRecipe
#include "convert/stats.h"   // ComponentStats
#include "model/config.h"    // ModelConfig
#include "model/schema.h"    // TensorSpec
#include "quant/qtypes.h"    // QType

namespace dsmoe {

struct PlannedTensor {
  TensorSpec spec;
  QType type = QType::kF32;
  uint64_t bytes = 0;  // in the .dsmoe file
  int64_t rows() const { return spec.shape.size() == 2 ? spec.shape[0] : 1; }
  int64_t cols() const { return spec.shape.empty() ? 0 : spec.shape.back(); }
  uint64_t elements() const { return static_cast<uint64_t>(rows() * cols()); }
};

std::vector<PlannedTensor> plan_tensors(const std::vector<TensorSpec>& schema, const QuantRecipe& recipe);

// Parameters and bytes per role of a plan.
ComponentStats plan_stats(const std::vector<PlannedTensor>& plan);

// The .dsmoe metadata block (docs/FORMAT.md): {"config": <normalized config>, "quantization":
// {"recipe", "overrides", "types_by_role": {role: {type: tensor count}}}, "converter":
// "dsmoe <version>", "source": <source_json>}.
std::string plan_metadata_json(const ModelConfig& config, const QuantRecipe& recipe,
                               const std::vector<PlannedTensor>& plan, const std::string& source_json);

}  // namespace dsmoe
