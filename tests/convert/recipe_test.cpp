// Which tensor gets which storage type: the four recipes, the always-f32 tensors, overrides; and
// the scale search (--scales), recorded in the file and used by the quantizer.
#include <gtest/gtest.h>

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
  for (const char* name : {"f32", "bf16", "q8", "q4"}) {
    QuantRecipe r = QuantRecipe::named(name);
    for (const TensorSpec& t : tiny_schema()) {
      QType got = r.type_for(t);
      if (t.shape.size() == 1 || t.role == TensorRole::kNorm || t.role == TensorRole::kRouter ||
          t.role == TensorRole::kRouterBias) {
        EXPECT_EQ(got, QType::kF32) << name << " " << t.name;
      } else if (std::string(name) == "q4") {
        EXPECT_EQ(got, t.role == TensorRole::kRoutedExpert ? QType::kQ4 : QType::kQ8) << t.name;
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

// Squared error of a stored tensor against the same tensor stored as f32.
double squared_error(const DsmoeReader& file, const DsmoeReader& f32, const std::string& name) {
  const TensorInfo& t = file.at(name);
  const float* want = reinterpret_cast<const float*>(f32.data(f32.at(name)));
  std::vector<float> row(static_cast<size_t>(t.cols()));
  double sum = 0;
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(t.type, file.data(t), t.rows(), t.cols(), r, row.data());
    for (int64_t c = 0; c < t.cols(); ++c) {
      const double d = row[static_cast<size_t>(c)] - want[r * t.cols() + c];
      sum += d * d;
    }
  }
  return sum;
}

TEST(Recipe, ScaleSearchIsRecordedAndUsed) {
  static const std::filesystem::path hf = test::make_hf_checkpoint("scales-hf", test::kTinyV3Config);
  auto convert = [](const std::string& quant, ScaleSearch search, const std::string& name) {
    ConvertOptions o;
    o.input = hf;
    o.output = test::temp_dir() / name;
    o.quant = quant;
    o.scale_search = search;
    o.force = true;
    convert_checkpoint(o);
    return DsmoeReader(o.output);
  };
  const DsmoeReader f32 = convert("f32", ScaleSearch::kMse, "scales-f32.dsmoe");
  const DsmoeReader mse = convert("q4", ScaleSearch::kMse, "scales-mse.dsmoe");
  const DsmoeReader absmax = convert("q4", ScaleSearch::kAbsmax, "scales-absmax.dsmoe");
  for (const DsmoeReader* file : {&mse, &absmax}) {
    const json::Object q = json::get_object(file->metadata(), "quantization", "meta");
    EXPECT_EQ(json::get_string(q, "scale_search", "quantization"), file == &mse ? "mse" : "absmax");
  }
  // The error-minimizing search never does worse than absmax on a whole tensor, q4 or q8.
  for (const char* name : {"model.layers.1.mlp.experts.0.up_proj.weight", "model.layers.0.self_attn.o_proj.weight"}) {
    const double e_mse = squared_error(mse, f32, name), e_absmax = squared_error(absmax, f32, name);
    EXPECT_LT(e_mse, e_absmax) << name;
    EXPECT_GT(e_mse, 0.0) << name;
  }
}

}  // namespace
}  // namespace dsmoe
