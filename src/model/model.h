#pragma once
// A loaded model: config, weight views, RoPE frequencies. Immutable after load and shared by any
// number of sessions and threads. Weights are used in place from the memory mapping.
#include <cstdint>
#include <filesystem>
#include <memory>

#include "format/dsmoe_file.h"  // DsmoeReader
#include "model/config.h"       // ModelConfig
#include "model/rope.h"         // RopeFreqs
#include "model/weights.h"      // ModelWeights, TensorSource

namespace dsmoe {

class Model {
 public:
  // A .dsmoe file: mapped read-only, structure validated, weights taken in place. Throws Error
  // naming the file on anything malformed or unsupported.
  static std::shared_ptr<const Model> load(const std::filesystem::path& path);
  // A Hugging Face checkpoint folder (config.json + model.safetensors[.index.json]) read in place:
  // F32/BF16 tensors as they are, other float types (FP8 with block scales) dequantized to f32.
  // For tests and tools: the product path is a converted .dsmoe file.
  static std::shared_ptr<const Model> load_hf(const std::filesystem::path& dir);
  // Either of the above: a directory is a Hugging Face checkpoint, a file a .dsmoe.
  static std::shared_ptr<const Model> open(const std::filesystem::path& path);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const RopeFreqs& rope() const { return rope_; }
  // The .dsmoe file, or nullptr for a Hugging Face checkpoint.
  const DsmoeReader* file() const { return file_.get(); }

  // Bytes of the routed-expert blocks of `layer` in the file, and how many of them are resident
  // in memory now (mincore). Both 0 for a Hugging Face checkpoint.
  uint64_t expert_bytes(int64_t layer) const;
  uint64_t resident_expert_bytes(int64_t layer) const;

  Model(ModelConfig config, std::unique_ptr<DsmoeReader> file, std::unique_ptr<TensorSource> source);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

 private:
  ModelConfig config_;
  std::unique_ptr<DsmoeReader> file_;
  std::unique_ptr<TensorSource> source_;
  ModelWeights weights_;
  RopeFreqs rope_;
};

}  // namespace dsmoe
