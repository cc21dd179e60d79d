#pragma once
// A small .dsmoe file exercising every feature of the layout: metadata, embedded files (one with
// NUL bytes), f32/bf16/q8 tensors, vectors, an odd-sized tensor (padding), and three routed
// experts of layer 1 (64-byte gate/up/down matrices, so there is free space around each block).
#include <string>
#include <utility>
#include <vector>

#include "format/dsmoe_file.h"
#include "format_test_helpers.h"

namespace dsmoe::test {

struct SampleDsmoe {
  std::string metadata;
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<DsmoeTensorSpec> specs;
  std::vector<std::string> data;  // bytes of each tensor, in spec order
};

inline SampleDsmoe sample_dsmoe() {
  SampleDsmoe s;
  s.metadata =
      R"({"config":{"model_type":"deepseek_v3","hidden_size":16},"quantization":{"recipe":"q8"},)"
      R"("converter":"dsmoe test","source":{"path":"nowhere"}})";
  s.files = {{"tokenizer.json", R"({"model":{"type":"BPE"}})"},
             {"tokenizer_config.json", std::string("binary\0bytes\xff", 13)}};
  auto add = [&](std::string name, QType type, std::vector<int64_t> shape, int layer, int expert) {
    DsmoeTensorSpec t{std::move(name), type, std::move(shape), 0, layer, expert};
    t.size = dsmoe_tensor_bytes(t.type, t.shape, "sample");
    s.data.push_back(random_bytes(t.size, static_cast<uint32_t>(s.specs.size() + 1)));
    s.specs.push_back(std::move(t));
  };
  add("model.embed_tokens.weight", QType::kF32, {8, 16}, -1, -1);
  add("model.layers.0.self_attn.o_proj.weight", QType::kQ8, {32, 64}, 0, -1);
  add("model.layers.0.input_layernorm.weight", QType::kF32, {16}, 0, -1);
  for (int e = 0; e < 3; ++e) {
    const std::string p = "model.layers.1.mlp.experts." + std::to_string(e) + ".";
    add(p + "gate_proj.weight", QType::kBF16, {4, 8}, 1, e);
    add(p + "up_proj.weight", QType::kBF16, {4, 8}, 1, e);
    add(p + "down_proj.weight", QType::kBF16, {8, 4}, 1, e);
  }
  add("model.layers.1.mlp.shared_experts.down_proj.weight", QType::kBF16, {5, 7}, 1, -1);
  add("lm_head.weight", QType::kBF16, {8, 16}, -1, -1);
  return s;
}

// Writes `s` to `path`, appending the concatenated tensor bytes in chunks of `chunk` bytes.
inline void write_sample(const SampleDsmoe& s, const std::filesystem::path& path, size_t chunk,
                         bool overwrite = false) {
  DsmoeWriter w(path, s.metadata, s.files, s.specs, overwrite);
  std::string all;
  for (const std::string& d : s.data) all += d;
  for (size_t at = 0; at < all.size(); at += chunk) w.append(all.data() + at, std::min(chunk, all.size() - at));
  w.commit();
}

}  // namespace dsmoe::test
