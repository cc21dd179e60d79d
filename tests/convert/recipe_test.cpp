// Which tensor gets which storage type: the four recipes, the always-f32 tensors, overrides.
#include <gtest/gtest.h>

#include "convert/recipe.h"
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

}  // namespace
}  // namespace dsmoe
