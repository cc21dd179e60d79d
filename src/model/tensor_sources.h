#pragma once
// The two TensorSources: a .dsmoe file (the product) and a Hugging Face safetensors checkpoint read
// in place (F32 and BF16 tensors are exactly QType kF32 / kBF16 row-major; F8_E4M3 weights are
// dequantized once into owned f32, as DeepSeek's reference does). The checkpoint source lets the
// forward pass be checked against the reference fixtures without the converter.
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "format/dsmoe_file.h"   // DsmoeReader
#include "format/safetensors.h"  // SafetensorsReader
#include "model/weights.h"       // TensorSource

namespace dsmoe {

class DsmoeTensorSource : public TensorSource {
 public:
  explicit DsmoeTensorSource(const DsmoeReader& file) : file_(file) {}
  const std::string& describe() const override { return file_.path(); }
  SourceTensor get(const std::string& name) override;

 private:
  const DsmoeReader& file_;
};

class SafetensorsTensorSource : public TensorSource {
 public:
  // `path`: a .safetensors file or a folder (see SafetensorsReader).
  explicit SafetensorsTensorSource(const std::filesystem::path& path);
  const std::string& describe() const override { return path_; }
  SourceTensor get(const std::string& name) override;

 private:
  std::string path_;
  SafetensorsReader reader_;
  std::deque<std::vector<float>> converted_;  // f32 copies (FP8 weights, misaligned f32 data)
};

}  // namespace dsmoe
