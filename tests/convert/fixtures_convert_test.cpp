// Every reference checkpoint converted with every recipe: the tensors, their types and values.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "convert/recipe.h"
#include "format/dsmoe_file.h"
#include "format/safetensors.h"
#include "model/config.h"
#include "model/schema.h"
#include "support/fixtures.h"

namespace dsmoe {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string model;
  std::string recipe;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string s = info.param.model + "_" + info.param.recipe;
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

class FixtureConvert : public testing::TestWithParam<Case> {};

// Relative RMS error bounds per quantized type over one tensor (tests/quant measures 0.0115 and
// 0.097 on data with outliers; these allow for the fixtures' distributions).
double rel_rms_bound(QType t) { return t == QType::kQ8 ? 0.015 : 0.13; }

TEST_P(FixtureConvert, DequantizedWeightsMatchTheSource) {
  const Case& c = GetParam();
  DSMOE_FIXTURE_OR_SKIP(dir, "models/" + c.model);
  ConvertOptions o;
  o.input = dir;
  o.output = test::temp_dir() / (c.model + "-" + c.recipe + ".dsmoe");
  o.quant = c.recipe;
  o.threads = 2;
  o.force = true;
  ConvertSummary s = convert_checkpoint(o);
  EXPECT_EQ(s.file_bytes, fs::file_size(o.output));

  DsmoeReader file(o.output);
  SafetensorsReader src(dir);
  const ModelConfig config = ModelConfig::from_json_text(file.config_json(), "converted");
  const std::vector<TensorSpec> schema = model_schema(config);
  ASSERT_EQ(file.tensors().size(), schema.size());
  const QuantRecipe recipe = QuantRecipe::named(c.recipe);
  const bool fp8 = c.model.find("fp8") != std::string::npos;

  std::vector<float> want, got;
  for (size_t i = 0; i < schema.size(); ++i) {
    const TensorSpec& spec = schema[i];
    const TensorInfo& t = file.tensors()[i];
    ASSERT_EQ(t.name, spec.name);
    ASSERT_EQ(t.shape, spec.shape);
    EXPECT_EQ(t.type, recipe.type_for(spec)) << t.name;
    EXPECT_EQ(t.layer, spec.layer) << t.name;
    EXPECT_EQ(t.expert, spec.expert) << t.name;
    const StTensor& st = src.at(spec.name);
    const int64_t rows = t.rows(), cols = t.cols();
    want.resize(static_cast<size_t>(rows * cols));
    got.resize(want.size());
    read_rows_f32(st, 0, rows, want.data());
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(t.type, file.data(t), rows, cols, r, got.data() + r * cols);
    }
    // Exact: every f32 tensor, and bf16 storage of a bf16 source. fp8 sources are exact in f32
    // (the dequantized product code x scale), and rounded once more when stored as bf16.
    const bool exact = t.type == QType::kF32 || (t.type == QType::kBF16 && st.dtype == StDtype::kBF16);
    if (exact) {
      for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_EQ(got[k], want[k]) << t.name << " value " << k;
      }
      continue;
    }
    double err = 0, ref = 0;
    for (size_t k = 0; k < want.size(); ++k) {
      err += (got[k] - want[k]) * double(got[k] - want[k]);
      ref += want[k] * double(want[k]);
    }
    const double rel = std::sqrt(err / std::max(ref, 1e-30));
    const double bound = t.type == QType::kBF16 ? 1.0 / 256 : rel_rms_bound(t.type);
    EXPECT_LE(rel, bound) << t.name << " " << qtype_name(t.type) << (fp8 ? " (fp8 source)" : "");
  }
  // One contiguous, 4096-aligned block per routed expert, in expert-id order within a layer.
  int64_t moe_layers = 0;
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) moe_layers += config.is_moe_layer(l);
  ASSERT_EQ(static_cast<int64_t>(file.expert_blocks().size()), moe_layers * config.n_routed_experts);
  for (const ExpertBlock& b : file.expert_blocks()) {
    EXPECT_EQ(b.offset % 4096, 0u);
    EXPECT_EQ(b.tensors.size(), 3u);
  }
  EXPECT_NO_THROW(file.verify_checksums());
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* m : {"v3-tiny", "v3-tiny-fp8", "v2-lite-tiny", "v2-tiny", "dsmoe16b-tiny"}) {
    for (const char* r : {"f32", "bf16", "q8", "q4"}) cases.push_back({m, r});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllFixturesAllRecipes, FixtureConvert, testing::ValuesIn(all_cases()), case_name);

TEST(FixtureConvert, MetadataDescribesConfigRecipeAndSource) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v3-tiny");
  ConvertOptions o;
  o.input = dir;
  o.output = test::temp_dir() / "meta.dsmoe";
  o.quant = "q4";
  o.tensor_types = {R"(layers\.1\.mlp\.experts\.0\.=q8)"};
  o.force = true;
  convert_checkpoint(o);
  DsmoeReader file(o.output);
  json::Object meta = file.metadata();
  const ModelConfig want = ModelConfig::from_json(json::Document::load(dir / "config.json").root_object(), "fixture");
  EXPECT_EQ(ModelConfig::from_json_text(file.config_json(), "file").to_json(), want.to_json());
  json::Object q = json::get_object(meta, "quantization", "meta");
  EXPECT_EQ(json::get_string(q, "recipe", "q"), "q4");
  EXPECT_EQ(json::get_array(q, "overrides", "q").size(), 1u);
  EXPECT_EQ(file.at("model.layers.1.mlp.experts.0.up_proj.weight").type, QType::kQ8);
  EXPECT_EQ(file.at("model.layers.1.mlp.experts.1.up_proj.weight").type, QType::kQ4);
  json::Object source = json::get_object(meta, "source", "meta");
  EXPECT_EQ(json::get_string(source, "folder", "source"), "v3-tiny");
  EXPECT_EQ(json::get_array(source, "files", "source").size(), 1u);
  EXPECT_NE(std::string(json::get_string(meta, "converter", "meta")).find("dsmoe"), std::string::npos);
}

}  // namespace
}  // namespace dsmoe
