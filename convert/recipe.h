#pragma once
// Quantization recipes (`--quant`): which storage type each tensor gets. Norms, router weights and
// the V3 expert bias (every 1-D tensor, roles kNorm/kRouter/kRouterBias) always stay f32; overrides
// `--tensor-type REGEX=TYPE` apply to Hugging Face names, the last matching one wins, and cannot
// move those always-f32 tensors.
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "model/schema.h"  // TensorSpec
#include "quant/qtypes.h"  // QType, ScaleSearch

namespace dsmoe {

class QuantRecipe {
 public:
  // name: one of names(). Throws Error(kInvalidArgument) naming the accepted names.
  static QuantRecipe named(std::string_view name);
  // f32, bf16, q8 (every matrix q8), q4 (routed experts q4, every other matrix q8: the routed
  // experts are most of the file, the rest is read for every token and keeps more precision) and
  // q4-all (every matrix q4: 4.5 bits per weight, like llama.cpp's Q4_0, the fewest bytes per token).
  static const std::vector<std::string>& names();
  // The sentence above, for --help.
  static const char* names_help();

  // spec "REGEX=TYPE" (the last '=' splits); throws Error on a bad regex or type.
  void add_override(std::string_view spec);

  // How quantized types choose their group scales (default kMse, error-minimizing).
  void set_scale_search(ScaleSearch s) { scale_search_ = s; }
  ScaleSearch scale_search() const { return scale_search_; }

  QType type_for(const TensorSpec& t) const;
  const std::string& name() const { return name_; }
  // {"recipe": "q4", "overrides": [{"pattern": "...", "type": "q8"}, ...], "scale_search": "mse"}
  std::string to_json() const;

 private:
  struct Override {
    std::string pattern;
    std::regex re;
    QType type;
  };
  std::string name_;
  QType matrices_ = QType::kQ8;
  QType routed_experts_ = QType::kQ8;
  std::vector<Override> overrides_;
  ScaleSearch scale_search_ = ScaleSearch::kMse;
};

// "mse" / "absmax" (`--scales`, the recipe's stored "scale_search").
const char* scale_search_name(ScaleSearch s);
std::optional<ScaleSearch> parse_scale_search(std::string_view s);

// True for tensors that stay f32 whatever the recipe says.
bool always_f32(const TensorSpec& t);

}  // namespace dsmoe
