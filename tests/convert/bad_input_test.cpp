// A broken checkpoint is one clear error naming the file and the problem, and leaves no output.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "tiny_checkpoint.h"
#include "util/error.h"

namespace dsmoe {
namespace {

namespace fs = std::filesystem;

using Edits = std::vector<std::pair<std::string, std::string>>;

// A copy of the tiny checkpoint whose config.json text has each `from` replaced by its `to`.
fs::path edited_checkpoint(const std::string& name, const Edits& edits) {
  static const fs::path base = test::make_hf_checkpoint("bad-base", test::kTinyV3Config);
  const fs::path dir = test::temp_dir() / name;
  fs::create_directories(dir);
  fs::copy_file(base / "model.safetensors", dir / "model.safetensors", fs::copy_options::overwrite_existing);
  std::string config = test::read_text(base / "config.json");
  for (const auto& [from, to] : edits) {
    const size_t at = config.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) config.replace(at, from.size(), to);
  }
  test::write_text(dir / "config.json", config);
  return dir;
}

// Runs a conversion expected to fail; returns the message and checks no output appeared.
std::string convert_error(const fs::path& dir, ErrorCode code) {
  ConvertOptions o;
  o.input = dir;
  o.output = dir.parent_path() / (dir.filename().string() + ".dsmoe");
  o.quant = "q8";
  try {
    convert_checkpoint(o);
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    EXPECT_FALSE(fs::exists(o.output));
    for (const auto& entry : fs::directory_iterator(o.output.parent_path())) {
      EXPECT_EQ(entry.path().filename().string().find(o.output.filename().string() + ".tmp"), std::string::npos);
    }
    return e.what();
  }
  ADD_FAILURE() << "conversion of " << dir << " succeeded";
  return {};
}

TEST(BadInput, MissingTensor) {
  // More layers in the config than in the checkpoint (3 + 1 MTP layer).
  std::string msg = convert_error(edited_checkpoint("missing", {{"\"num_hidden_layers\": 3", "\"num_hidden_layers\": 5"},
                                                                {"\"num_nextn_predict_layers\": 1", "\"num_nextn_predict_layers\": 0"}}),
                                  ErrorCode::kFormat);
  EXPECT_NE(msg.find("model.layers.4."), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(BadInput, WrongShape) {
  std::string msg = convert_error(edited_checkpoint("shape", {{"\"vocab_size\": 320", "\"vocab_size\": 321"}}),
                                  ErrorCode::kFormat);
  EXPECT_NE(msg.find("model.embed_tokens.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[320, 64]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[321, 64]"), std::string::npos) << msg;
}

TEST(BadInput, UnknownModelType) {
  std::string msg = convert_error(edited_checkpoint("type", {{"\"deepseek_v3\"", "\"llama\""}}), ErrorCode::kUnsupported);
  EXPECT_NE(msg.find("llama"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(BadInput, MalformedConfig) {
  std::string msg = convert_error(edited_checkpoint("malformed", {{"\"vocab_size\": 320,", "\"vocab_size\": 320,,"}}),
                                  ErrorCode::kFormat);
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(BadInput, MissingConfigAndFolder) {
  const fs::path dir = edited_checkpoint("noconfig", {});
  fs::remove(dir / "config.json");
  EXPECT_NE(convert_error(dir, ErrorCode::kIo).find("config.json"), std::string::npos);
  EXPECT_NE(convert_error(test::temp_dir() / "does-not-exist", ErrorCode::kIo).find("does-not-exist"),
            std::string::npos);
}

TEST(BadInput, RefusesToOverwriteWithoutForce) {
  const fs::path dir = edited_checkpoint("overwrite", {});
  ConvertOptions o;
  o.input = dir;
  o.output = test::temp_dir() / "overwrite.dsmoe";
  o.quant = "q8";
  test::write_text(o.output, "precious");
  EXPECT_THROW(convert_checkpoint(o), Error);
  EXPECT_EQ(test::read_text(o.output), "precious");
  o.force = true;
  convert_checkpoint(o);
  EXPECT_GT(fs::file_size(o.output), 1000u);
}

TEST(BadInput, ExtraTensorsAreANotice) {
  // The checkpoint of a 3-layer config converted as 2 layers: layer 2 and the MTP layer are unused.
  // (The MTP layer's index follows num_hidden_layers, so MTP is dropped to keep the schema a subset.)
  const fs::path dir = edited_checkpoint("extra", {{"\"num_hidden_layers\": 3", "\"num_hidden_layers\": 2"},
                                                   {"\"num_nextn_predict_layers\": 1", "\"num_nextn_predict_layers\": 0"}});
  ConvertOptions o;
  o.input = dir;
  o.output = test::temp_dir() / "extra.dsmoe";
  o.quant = "q8";
  std::string notices;
  o.notice = [&](std::string_view n) { notices += std::string(n) + "\n"; };
  convert_checkpoint(o);
  EXPECT_NE(notices.find("ignoring"), std::string::npos) << notices;
  EXPECT_NE(notices.find("model.layers.2."), std::string::npos) << notices;
}

TEST(BadInput, UnknownRecipeAndOverride) {
  const fs::path dir = edited_checkpoint("recipe", {});
  ConvertOptions o;
  o.input = dir;
  o.output = test::temp_dir() / "recipe.dsmoe";
  o.quant = "q2";
  EXPECT_THROW(convert_checkpoint(o), Error);
  o.quant = "q4";
  o.tensor_types = {"experts=q9"};
  EXPECT_THROW(convert_checkpoint(o), Error);
  EXPECT_FALSE(fs::exists(o.output));
}

}  // namespace
}  // namespace dsmoe
