#pragma once
// Hugging Face checkpoint -> packed .dsmoe file (`dsmoe convert`). Streams tensor by tensor and row
// chunk by row chunk, so memory stays bounded whatever the model size; quantizes in parallel;
// writes a temporary file renamed into place at the end (a killed conversion leaves no OUT).
//
// Checkpoint tensors the schema does not use (e.g. rotary inv_freq buffers) are skipped with a
// notice, not an error. A config announcing multi-token-prediction layers whose tensors the
// checkpoint lacks (many releases strip them) converts without them, with a notice, and the
// stored config says num_nextn_predict_layers 0. Overrides are std::regex (ECMAScript) searched
// anywhere in the Hugging Face name.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "convert/stats.h"  // ComponentStats
#include "quant/qtypes.h"   // ScaleSearch

namespace dsmoe {

struct ConvertOptions {
  std::filesystem::path input;   // HF folder: config.json, model.safetensors[.index.json], tokenizer*
  std::filesystem::path output;  // the .dsmoe file to write
  std::string quant = "q8";      // recipe: f32, bf16, q8, q4 (convert/recipe.h)
  std::vector<std::string> tensor_types;  // overrides "REGEX=TYPE" on HF names; the last match wins
  ScaleSearch scale_search = ScaleSearch::kMse;  // q8/q4 group scales: error-minimizing or absmax
  int threads = 0;          // quantization threads; 0: OpenMP's default
  bool force = false;       // overwrite an existing output
  bool progress = false;    // draw a progress bar on stderr
  bool include_mtp = true;  // carry multi-token-prediction layers (num_nextn_predict_layers)
  // Notices (extra tensors ignored, widened types); nullptr prints nothing.
  std::function<void(std::string_view)> notice;
};

struct ConvertSummary {
  std::filesystem::path output;
  uint64_t file_bytes = 0;
  uint64_t input_bytes = 0;  // bytes of source tensor data read
  double seconds = 0;
  int64_t tensors = 0;
  ComponentStats components;  // parameters and bytes per tensor role
};

// Converts options.input to options.output. Throws Error (naming the file and tensor) on a bad
// checkpoint: missing config.json or weights, unknown model_type, a schema tensor absent or of the
// wrong shape, an unusable recipe or override, or an existing output without `force`.
ConvertSummary convert_checkpoint(const ConvertOptions& options);

// The human-readable end-of-conversion report: file size, throughput, bits per weight per component.
std::string format_summary(const ConvertSummary& s);

}  // namespace dsmoe
