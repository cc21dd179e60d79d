#pragma once
// Synthetic models (`dsmoe synth`): random weights at a real model's exact shapes (a preset) or at
// any config.json's shapes, written either as a Hugging Face folder (bf16 safetensors, sharded,
// readable by `dsmoe convert`) or directly as a .dsmoe file. Streams like the converter: memory
// holds one chunk, whatever the model size.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "convert/stats.h"  // ComponentStats

namespace dsmoe {

struct SynthOptions {
  std::string config_json;    // a Hugging Face config.json (a preset file or the user's)
  std::string config_source;  // names it in messages and in the metadata ("preset deepseek-v2-lite")
  uint64_t seed = 0;
  std::filesystem::path output;  // a .dsmoe file to write, or
  std::filesystem::path hf_out;  // a Hugging Face folder to write (exactly one of the two)
  std::string quant = "q8";      // recipe for `output` (convert/recipe.h)
  std::vector<std::string> tensor_types;  // "REGEX=TYPE" overrides for `output`
  int threads = 0;         // 0: OpenMP's default
  bool force = false;      // overwrite existing output files
  bool progress = false;   // progress bar on stderr
  uint64_t shard_bytes = 5'000'000'000;  // --hf-out: start a new shard past this size
};

struct SynthSummary {
  std::filesystem::path path;
  uint64_t bytes = 0;  // written (all shards for --hf-out)
  double seconds = 0;
  int64_t tensors = 0;
  int files = 1;
  ComponentStats components;
};

// Every value is a deterministic function of (seed, tensor name, index) and is representable in
// bf16, so `synth -o X.dsmoe` and `synth --hf-out D` followed by `convert D -o X.dsmoe` give the
// same tensor bytes. Throws Error on a bad config, recipe, or an existing output without `force`.
SynthSummary synth_model(const SynthOptions& options);

// The preset config.json for `name` (models/presets/<name>.json). Looks in $DSMOE_PRESETS, next to
// the executable (<exe>/../../models/presets for a build tree, <exe>/../share/dsmoe/presets when
// installed), then in the source tree this binary was built from. Throws Error(kInvalidArgument)
// listing the presets found when `name` is not one of them.
std::filesystem::path find_preset(std::string_view name);

}  // namespace dsmoe
