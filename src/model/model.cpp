#include "model/model.h"

#include <sys/mman.h>  // madvise

#include "model/tensor_sources.h"  // DsmoeTensorSource, SafetensorsTensorSource
#include "util/error.h"            // Error
#include "util/json.h"             // json::Document

namespace dsmoe {

Model::Model(ModelConfig config, std::unique_ptr<DsmoeReader> file, std::unique_ptr<TensorSource> source)
    : config_(std::move(config)), file_(std::move(file)), source_(std::move(source)) {
  weights_ = build_weights(config_, *source_);
  rope_ = RopeFreqs::from_config(config_);
}

Model::~Model() = default;

namespace {

// Routed experts are read sparsely: a token touches a few of each layer's experts. A page fault
// normally reads around itself (read_ahead_kb, often megabytes), which would page in experts that
// never run. So faults read only what they touch, the always-used tensors are read ahead now (in
// the background), and an expert's block is read ahead when it first runs (moe_ffn).
void advise_access(const DsmoeReader& file) {
  const MappedFile& map = file.mapping();
  ::madvise(const_cast<std::byte*>(map.data()), map.size(), MADV_RANDOM);  // advice: errors ignored
  for (const TensorInfo& t : file.tensors()) {
    if (t.expert < 0) map.advise_willneed(t.offset, t.size);
  }
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path) {
  auto file = std::make_unique<DsmoeReader>(path);
  advise_access(*file);
  ModelConfig config = ModelConfig::from_json_text(file->config_json(), path.string() + " (config)");
  auto source = std::make_unique<DsmoeTensorSource>(*file);
  return std::make_shared<const Model>(std::move(config), std::move(file), std::move(source));
}

std::shared_ptr<const Model> Model::load_hf(const std::filesystem::path& dir) {
  json::Document doc = json::Document::load(dir / "config.json");
  ModelConfig config = ModelConfig::from_json(doc.root_object(), (dir / "config.json").string());
  auto source = std::make_unique<SafetensorsTensorSource>(dir);
  return std::make_shared<const Model>(std::move(config), nullptr, std::move(source));
}

std::shared_ptr<const Model> Model::open(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) return load_hf(path);
  return load(path);
}

uint64_t Model::expert_bytes(int64_t layer) const {
  if (!file_) return 0;
  uint64_t total = 0;
  for (const ExpertBlock& b : file_->expert_blocks()) {
    if (b.layer == layer) total += b.size;
  }
  return total;
}

uint64_t Model::resident_expert_bytes(int64_t layer) const {
  if (!file_) return 0;
  uint64_t total = 0;
  for (const ExpertBlock& b : file_->expert_blocks()) {
    if (b.layer == layer) total += file_->mapping().resident_bytes(b.offset, b.size);
  }
  return total;
}

}  // namespace dsmoe
