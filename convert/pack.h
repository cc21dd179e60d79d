#pragma once
// The streaming core shared by `dsmoe convert` and `dsmoe synth -o`: walks a packing plan in file
// order, reads each tensor from a TensorSource in row chunks, converts the chunk to its storage
// type on several threads and appends it to a DsmoeWriter from a writer thread, which writes
// chunk k while chunk k+1 is converted. Memory holds one chunk of f32 (8 MB) and two packed chunks,
// never a whole tensor.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "convert/plan.h"           // PlannedTensor
#include "convert/stats.h"          // ComponentStats
#include "convert/tensor_source.h"  // TensorSource
#include "quant/qtypes.h"           // ScaleSearch

namespace dsmoe {

struct PackOptions {
  std::filesystem::path output;
  bool force = false;      // overwrite an existing output
  int threads = 0;         // 0: OpenMP's default
  bool progress = false;   // progress bar on stderr (when it is a terminal)
  std::string label = "convert";
  ScaleSearch scale_search = ScaleSearch::kMse;  // for quantized types
};

struct PackResult {
  uint64_t file_bytes = 0;
  uint64_t source_bytes = 0;  // bytes read from the source (0 for generated data)
  double seconds = 0;
  int64_t tensors = 0;
  ComponentStats components;
};

// Values per chunk: a chunk of a tensor is about this many f32 values (8 MB), rounded to whole
// row tiles.
inline constexpr int64_t kChunkValues = int64_t{1} << 21;

PackResult pack_dsmoe(const std::vector<PlannedTensor>& plan, const TensorSource& source,
                      const std::string& metadata_json,
                      const std::vector<std::pair<std::string, std::string>>& embedded_files,
                      const PackOptions& options);

// Rows per chunk for a tensor of `cols` columns stored with row tiles of `tile` rows.
int64_t chunk_rows(int64_t cols, int64_t tile);

}  // namespace dsmoe
