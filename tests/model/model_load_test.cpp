// Loading models: weights as views in place, and clear errors for checkpoints that do not match
// their config.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "model/model.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace dsmoe {
namespace {

// A copy of fixture `name` whose config.json has `from` replaced by `to` (weights linked).
std::filesystem::path altered(const std::filesystem::path& src, const std::string& name, const std::string& from,
                              const std::string& to) {
  const std::filesystem::path dir = test::temp_dir() / ("altered-" + name);
  std::filesystem::create_directories(dir);
  std::ifstream in(src / "config.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(dir / "config.json") << text;
  std::filesystem::remove(dir / "model.safetensors");
  std::filesystem::create_symlink(src / "model.safetensors", dir / "model.safetensors");
  return dir;
}

TEST(ModelLoad, CheckpointWeightsAreViewsIntoTheMapping) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-lite-tiny");
  auto m = Model::load_hf(dir);
  const ModelWeights& w = m->weights();
  EXPECT_EQ(w.embed.type, QType::kBF16);
  EXPECT_EQ(w.embed.rows, 1024);
  EXPECT_EQ(w.embed.cols, 256);
  ASSERT_EQ(w.layers.size(), 3u);
  EXPECT_FALSE(w.layers[0].moe);
  EXPECT_TRUE(w.layers[1].moe);
  EXPECT_TRUE(w.layers[1].q_a.empty());  // V2-Lite: plain q_proj
  EXPECT_FALSE(w.layers[1].q.empty());
  EXPECT_EQ(w.layers[1].experts.size(), 16u);
  EXPECT_EQ(w.layers[1].shared.gate.rows, 128);  // 2 shared experts x 64
  EXPECT_EQ(w.layers[1].router.type, QType::kF32);  // converted once from bf16
  EXPECT_EQ(m->file(), nullptr);
  EXPECT_EQ(m->expert_bytes(1), 0u);
}

TEST(ModelLoad, ShapeMismatchNamesTheTensor) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v3-tiny");
  const auto bad = altered(dir, "v3-shape", "\"moe_intermediate_size\": 64", "\"moe_intermediate_size\": 32");
  try {
    Model::load_hf(bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFormat);
    EXPECT_NE(std::string(e.what()).find("mlp."), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected [32"), std::string::npos) << e.what();
  }
}

TEST(ModelLoad, MissingTensorIsAnError) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v2-lite-tiny");
  const auto bad = altered(dir, "v2-layers", "\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4");
  try {
    Model::load_hf(bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFormat);
    EXPECT_NE(std::string(e.what()).find("model.layers.3."), std::string::npos) << e.what();
  }
}

TEST(ModelLoad, MissingFileIsAnError) {
  EXPECT_THROW(Model::load("/nonexistent/model.dsmoe"), Error);
  EXPECT_THROW(Model::load_hf("/nonexistent"), Error);
}

}  // namespace
}  // namespace dsmoe
