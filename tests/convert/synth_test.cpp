// Synthetic models: presets resolve, values are deterministic and at the intended scales, and
// synth --hf-out followed by convert gives the same bytes as synth -o.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "convert/convert.h"
#include "convert/synth.h"
#include "convert/synth_values.h"
#include "format/dsmoe_file.h"
#include "format/safetensors.h"
#include "model/config.h"
#include "model/schema.h"
#include "tiny_checkpoint.h"
#include "util/error.h"

namespace dsmoe {
namespace {

namespace fs = std::filesystem;

TEST(Synth, EveryPresetResolvesAndParses) {
  for (const char* name : {"deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "deepseek-moe-16b", "moonlight-16b-a3b"}) {
    const fs::path p = find_preset(name);
    ASSERT_TRUE(fs::exists(p)) << name;
    EXPECT_NO_THROW(ModelConfig::from_json_text(test::read_text(p), p.string())) << name;
  }
  try {
    find_preset("gpt-2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deepseek-v2-lite"), std::string::npos) << e.what();
  }
}

TEST(Synth, ValuesAreDeterministicAndAtRealisticScales) {
  TensorSpec matrix{"m", {256, 512}, TensorRole::kAttention};
  TensorSpec norm{"n", {4096}, TensorRole::kNorm};
  std::vector<float> a(256 * 512), b(256 * 512), part(10 * 512);
  synth_rows(matrix, 3, 0, 256, a.data());
  synth_rows(matrix, 3, 0, 256, b.data());
  EXPECT_EQ(a, b);
  synth_rows(matrix, 3, 100, 110, part.data());  // any row range, same values
  EXPECT_EQ(0, std::memcmp(part.data(), a.data() + 100 * 512, part.size() * 4));
  synth_rows(matrix, 4, 0, 256, b.data());
  EXPECT_NE(a, b);
  double sum = 0, sq = 0;
  for (float v : a) {
    sum += v;
    sq += double(v) * v;
  }
  const double mean = sum / a.size(), std = std::sqrt(sq / a.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(std, 0.02, 0.001);
  std::vector<float> n(4096);
  synth_rows(norm, 3, 0, 1, n.data());
  for (float v : n) EXPECT_NEAR(v, 1.0, 0.2);
}

TEST(Synth, HfOutThenConvertEqualsDirectOutput) {
  const fs::path hf = test::make_hf_checkpoint("roundtrip-hf", test::kTinyV3Config, 11);
  ASSERT_TRUE(fs::exists(hf / "config.json"));
  ASSERT_TRUE(fs::exists(hf / "model.safetensors"));
  SafetensorsReader st(hf);
  for (const StTensor* t : st.tensors()) EXPECT_EQ(t->dtype, StDtype::kBF16) << t->name;
  // The MTP layer (layer 3) is written too.
  EXPECT_NE(st.find("model.layers.3.eh_proj.weight"), nullptr);

  ConvertOptions c;
  c.input = hf;
  c.output = test::temp_dir() / "roundtrip-converted.dsmoe";
  c.quant = "q4";
  c.force = true;
  convert_checkpoint(c);

  SynthOptions s;
  s.config_json = test::kTinyV3Config;
  s.config_source = "tiny";
  s.seed = 11;
  s.output = test::temp_dir() / "roundtrip-direct.dsmoe";
  s.quant = "q4";
  s.force = true;
  synth_model(s);

  DsmoeReader a(c.output), b(s.output);
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const TensorInfo& x = a.tensors()[i];
    const TensorInfo& y = b.tensors()[i];
    ASSERT_EQ(x.name, y.name);
    ASSERT_EQ(x.type, y.type);
    ASSERT_EQ(x.size, y.size);
    EXPECT_EQ(x.checksum, y.checksum) << x.name;
  }
  EXPECT_EQ(a.at("model.layers.1.mlp.experts.0.down_proj.weight").type, QType::kQ4);  // 40 inputs: partial group
  EXPECT_NO_THROW(a.verify_checksums());
}

TEST(Synth, ShardsLargeCheckpointsWithAnIndex) {
  SynthOptions o;
  o.config_json = test::kTinyV3Config;
  o.config_source = "tiny";
  o.hf_out = test::temp_dir() / "sharded";
  o.shard_bytes = 100'000;  // force several shards
  synth_model(o);
  ASSERT_TRUE(fs::exists(o.hf_out / "model.safetensors.index.json"));
  SafetensorsReader st(o.hf_out);
  EXPECT_GT(st.files().size(), 2u);
  const ModelConfig config = ModelConfig::from_json_text(test::kTinyV3Config, "tiny");
  EXPECT_EQ(st.tensors().size(), model_schema(config).size());
  // Refuses a non-empty folder without force.
  EXPECT_THROW(synth_model(o), Error);
}

}  // namespace
}  // namespace dsmoe
