// Which tensor gets which storage type: the recipes, the always-f32 tensors, overrides; and
// the scale search (--scales), recorded in the file and used by the quantizer.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "convert/convert.h"
#include "convert/recipe.h"
#include "format/dsmoe_file.h"
#include "model/config.h"
#include "model/schema.h"
#include "tiny_checkpoint.h"
#include "util/error.h"

namespace dsmoe {
namespace {

std::vector<TensorSpec> tiny_schema() {
  return model_schema(ModelConfig::from_json_text(test::kTinyV3Config, "tiny"));
}

TEST(Recipe, BaseRecipes) {
  EXPECT_EQ(QuantRecipe::names(), (std::vector<std::string>{"f32", "bf16", "q8", "q4", "q4-all"}));
  for (const std::string& name : QuantRecipe::names()) {
    QuantRecipe r = QuantRecipe::named(name);
    for (const TensorSpec& t : tiny_schema()) {
      QType got = r.type_for(t);
      if (t.shape.size() == 1 || t.role == TensorRole::kNorm || t.role == TensorRole::kRouter ||
          t.role == TensorRole::kRouterBias) {
        EXPECT_EQ(got, QType::kF32) << name << " " << t.name;
      } else if (name == "q4") {
        EXPECT_EQ(got, t.role == TensorRole::kRoutedExpert ? QType::kQ4 : QType::kQ8) << t.name;
      } else if (name == "q4-all") {
        EXPECT_EQ(got, QType::kQ4) << t.name;
      } else {
        EXPECT_EQ(got, *parse_qtype(name)) << name << " " << t.name;
      }
    }
  }
}

TEST(Recipe, Q4KeepsEmbeddingsHeadSharedAndAttentionAtQ8) {
  QuantRecipe r = QuantRecipe::named("q4");
  int seen = 0;
  for (const TensorSpec& t : tiny_schema()) {
    if (t.role == TensorRole::kEmbedding || t.role == TensorRole::kOutput || t.role == TensorRole::kSharedExpert ||
        t.role == TensorRole::kAttention || t.role == TensorRole::kDenseFfn || t.role == TensorRole::kMtp) {
      EXPECT_EQ(r.type_for(t), QType::kQ8) << t.name;
      ++seen;
    }
  }
  EXPECT_GT(seen, 10);
}

TEST(Recipe, OverridesLastMatchWinsAndNeverMoveAlwaysF32) {
  QuantRecipe r = QuantRecipe::named("q4");
  r.add_override(R"(mlp\.experts\.=q8)");
  r.add_override(R"(layers\.2\.mlp\.experts\.[0-3]\.=bf16)");
  r.add_override(R"(norm=q4)");  // norms stay f32 whatever the override says
  for (const TensorSpec& t : tiny_schema()) {
    QType got = r.type_for(t);
    if (always_f32(t)) {
      EXPECT_EQ(got, QType::kF32) << t.name;
    } else if (t.role == TensorRole::kRoutedExpert) {
      EXPECT_EQ(got, t.layer == 2 && t.expert <= 3 ? QType::kBF16 : QType::kQ8) << t.name;
    }
  }
  EXPECT_NE(r.to_json().find("\"pattern\""), std::string::npos);
}

TEST(Recipe, BadNamesAndOverridesAreClearErrors) {
  try {
    QuantRecipe::named("q3");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q3"), std::string::npos);
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  QuantRecipe r = QuantRecipe::named("q8");
  for (const char* bad : {"experts", "=q8", "experts=", "experts=q5", "([=q8"}) {
    EXPECT_THROW(r.add_override(bad), Error) << bad;
  }
  EXPECT_NO_THROW(r.add_override("a=b=q4"));  // the last '=' splits
}

TEST(Recipe, ScaleSearchNames) {
  EXPECT_EQ(parse_scale_search("mse"), ScaleSearch::kMse);
  EXPECT_EQ(parse_scale_search("absmax"), ScaleSearch::kAbsmax);
  EXPECT_FALSE(parse_scale_search("max"));
  QuantRecipe r = QuantRecipe::named("q4");
  EXPECT_NE(r.to_json().find("\"scale_search\":\"mse\""), std::string::npos) << r.to_json();
  r.set_scale_search(ScaleSearch::kAbsmax);
  EXPECT_NE(r.to_json().find("\"scale_search\":\"absmax\""), std::string::npos) << r.to_json();
}

// A stored tensor q against the same tensor stored as f32, w: sums over all its weights.
struct QuantError {
  double squared_error = 0;  // |q - w|^2
  double weight_norm = 0;    // |w|^2
  double dot = 0;            // <q, w>: dot / weight_norm below 1 means q is shrunk towards zero
  void add(const QuantError& e) {
    squared_error += e.squared_error;
    weight_norm += e.weight_norm;
    dot += e.dot;
  }
};

QuantError quant_error(const DsmoeReader& file, const DsmoeReader& f32, const std::string& name) {
  const TensorInfo& t = file.at(name);
  const float* want = reinterpret_cast<const float*>(f32.data(f32.at(name)));
  std::vector<float> row(static_cast<size_t>(t.cols()));
  QuantError e;
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(t.type, file.data(t), t.rows(), t.cols(), r, row.data());
    for (int64_t c = 0; c < t.cols(); ++c) {
      const double q = row[static_cast<size_t>(c)], w = want[r * t.cols() + c];
      e.squared_error += (q - w) * (q - w);
      e.weight_norm += w * w;
      e.dot += q * w;
    }
  }
  return e;
}

DsmoeReader convert_to(const std::filesystem::path& hf, const std::string& quant, ScaleSearch search,
                       const std::string& name) {
  ConvertOptions o;
  o.input = hf;
  o.output = test::temp_dir() / name;
  o.quant = quant;
  o.scale_search = search;
  o.force = true;
  convert_checkpoint(o);
  return DsmoeReader(o.output);
}

TEST(Recipe, ScaleSearchIsRecordedAndUsed) {
  const std::filesystem::path hf = test::make_hf_checkpoint("scales-hf", test::kTinyV3Config);
  const DsmoeReader f32 = convert_to(hf, "f32", ScaleSearch::kMse, "scales-f32.dsmoe");
  const DsmoeReader mse = convert_to(hf, "q4", ScaleSearch::kMse, "scales-mse.dsmoe");
  const DsmoeReader absmax = convert_to(hf, "q4", ScaleSearch::kAbsmax, "scales-absmax.dsmoe");
  for (const DsmoeReader* file : {&mse, &absmax}) {
    const json::Object q = json::get_object(file->metadata(), "quantization", "meta");
    EXPECT_EQ(json::get_string(q, "scale_search", "quantization"), file == &mse ? "mse" : "absmax");
  }
  // The error-minimizing search never does worse than absmax on a whole tensor, q4 or q8.
  for (const char* name : {"model.layers.1.mlp.experts.0.up_proj.weight", "model.layers.0.self_attn.o_proj.weight"}) {
    const double e_mse = quant_error(mse, f32, name).squared_error;
    const double e_absmax = quant_error(absmax, f32, name).squared_error;
    EXPECT_LT(e_mse, e_absmax) << name;
    EXPECT_GT(e_mse, 0.0) << name;
  }
}

// The same on the trained demo model, every quantized tensor; prints the totals docs/quality.md
// quotes (relative squared error and the gain <q, w> / |w|^2 of the q4 experts).
TEST(Recipe, ScaleSearchOnTheDemoModel) {
  const std::filesystem::path hf = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / "demo";
  const DsmoeReader f32 = convert_to(hf, "f32", ScaleSearch::kMse, "demo-f32.dsmoe");
  const DsmoeReader mse = convert_to(hf, "q4", ScaleSearch::kMse, "demo-q4-mse.dsmoe");
  const DsmoeReader absmax = convert_to(hf, "q4", ScaleSearch::kAbsmax, "demo-q4-absmax.dsmoe");
  QuantError totals[2][2];  // [q8, q4][mse, absmax]
  for (const TensorInfo& t : mse.tensors()) {
    if (!qtype_is_quantized(t.type)) continue;
    const QuantError e_mse = quant_error(mse, f32, t.name), e_absmax = quant_error(absmax, f32, t.name);
    EXPECT_LT(e_mse.squared_error, e_absmax.squared_error) << t.name;
    const int type = t.type == QType::kQ4 ? 1 : 0;
    totals[type][0].add(e_mse);
    totals[type][1].add(e_absmax);
  }
  for (int type = 0; type < 2; ++type) {
    ASSERT_GT(totals[type][0].weight_norm, 0.0);
    std::printf("demo %s tensors: relative squared error mse %.4g, absmax %.4g; gain mse %.5f, absmax %.5f\n",
                type == 1 ? "q4" : "q8", totals[type][0].squared_error / totals[type][0].weight_norm,
                totals[type][1].squared_error / totals[type][1].weight_norm,
                totals[type][0].dot / totals[type][0].weight_norm, totals[type][1].dot / totals[type][1].weight_norm);
  }
}

}  // namespace
}  // namespace dsmoe
