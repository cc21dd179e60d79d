// The reference checkpoints in ../shared/fixtures/models read through SafetensorsReader and
// compared with a straightforward decoding of the raw file (its own header parse, its own
// e4m3 decoder): BF16/F32 tensors bit for bit, F8_E4M3 weights dequantized as
// float32(e4m3) * scale_inv of the 128x128 block, in float32.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "format/safetensors.h"
#include "format_test_helpers.h"
#include "util/json.h"

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

// A raw header entry: dtype text, shape and absolute byte offset in the file.
struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;
};

std::map<std::string, RawTensor> raw_header(const std::string& file) {
  uint64_t n;
  std::memcpy(&n, file.data(), 8);
  json::Document doc = json::Document::parse(file.substr(8, n), "raw header");
  std::map<std::string, RawTensor> out;
  for (auto kv : doc.root_object()) {
    if (kv.key == "__metadata__") continue;
    json::Object o = kv.value.get_object().value();
    RawTensor t;
    t.dtype = std::string(json::get_string(o, "dtype", "raw"));
    for (json::Element d : json::get_array(o, "shape", "raw")) t.shape.push_back(json::as_int(d, "raw"));
    json::Array offs = json::get_array(o, "data_offsets", "raw");
    t.begin = 8 + n + static_cast<size_t>(json::as_int(offs.at(0).value(), "raw"));
    t.end = 8 + n + static_cast<size_t>(json::as_int(offs.at(1).value(), "raw"));
    out.emplace(std::string(kv.key), t);
  }
  return out;
}

// E4M3 (e4m3fn): 1 sign, 4 exponent (bias 7), 3 mantissa bits; exponent 0 is subnormal.
float e4m3_reference(uint8_t b) {
  const int sign = b >> 7, exp = (b >> 3) & 15, mant = b & 7;
  if (exp == 15 && mant == 7) return NAN;
  double v = exp == 0 ? std::ldexp(mant / 8.0, -6) : std::ldexp(1.0 + mant / 8.0, exp - 7);
  return static_cast<float>(sign ? -v : v);
}

float f32_at(const std::string& file, size_t at) {
  float f;
  std::memcpy(&f, file.data() + at, 4);
  return f;
}

TEST(FixtureCheckpoints, Fp8WeightsDequantizeBlockwise) {
  DSMOE_FIXTURE_OR_SKIP(dir, "models/v3-tiny-fp8");
  const std::string file = read_bytes(dir / "model.safetensors");
  const auto raw = raw_header(file);
  SafetensorsReader r(dir);
  size_t fp8_count = 0, checked_values = 0;
  for (const auto& [name, rt] : raw) {
    if (rt.dtype != "F8_E4M3") continue;
    ++fp8_count;
    SCOPED_TRACE(name);
    const RawTensor& rs = raw.at(name + "_scale_inv");
    const int64_t rows = rt.shape[0], cols = rt.shape[1];
    const int64_t scale_cols = (cols + 127) / 128;
    ASSERT_EQ(rs.shape, (std::vector<int64_t>{(rows + 127) / 128, scale_cols}));
    const StTensor& t = r.at(name);
    ASSERT_EQ(t.dtype, StDtype::kF8E4M3);
    ASSERT_EQ(t.shape, rt.shape);
    // Chunks of 37 rows straddle the 128-row scale blocks.
    std::vector<float> got(static_cast<size_t>(37 * cols));
    for (int64_t r0 = 0; r0 < rows; r0 += 37) {
      const int64_t r1 = std::min(rows, r0 + 37);
      read_rows_f32(t, r0, r1, got.data());
      for (int64_t row = r0; row < r1; ++row) {
        for (int64_t c = 0; c < cols; ++c) {
          const uint8_t code = static_cast<uint8_t>(file[rt.begin + static_cast<size_t>(row * cols + c)]);
          const float scale = f32_at(file, rs.begin + 4 * static_cast<size_t>((row / 128) * scale_cols + c / 128));
          const float want = e4m3_reference(code) * scale;
          const float have = got[static_cast<size_t>((row - r0) * cols + c)];
          if (std::isnan(want)) {
            EXPECT_TRUE(std::isnan(have));
          } else if (float_to_bits(have) != float_to_bits(want)) {
            ADD_FAILURE() << "row " << row << " col " << c << ": " << have << " != " << want;
            return;
          }
          ++checked_values;
        }
      }
    }
  }
  EXPECT_GT(fp8_count, 10u);
  EXPECT_GT(checked_values, 100000u);
  // Scale tensors are hidden from the model's tensor list.
  EXPECT_EQ(r.tensors().size() + fp8_count, raw.size());
  for (const StTensor* t : r.tensors()) EXPECT_FALSE(t->is_scale) << t->name;
}

TEST(FixtureCheckpoints, Bf16AndF32TensorsReadExactly) {
  DSMOE_FIXTURE_OR_SKIP(models, "models");
  size_t models_seen = 0;
  for (const char* model : {"v3-tiny", "v2-lite-tiny", "v2-tiny", "dsmoe16b-tiny", "v3-tiny-fp8"}) {
    SCOPED_TRACE(model);
    const fs::path dir = models / model;
    ASSERT_TRUE(fs::exists(dir / "model.safetensors"));
    ++models_seen;
    const std::string file = read_bytes(dir / "model.safetensors");
    const auto raw = raw_header(file);
    SafetensorsReader r(dir);
    ASSERT_EQ(r.all_tensors().size(), raw.size());
    size_t bf16_tensors = 0;
    for (const auto& [name, rt] : raw) {
      if (rt.dtype != "BF16" && rt.dtype != "F32") continue;
      if (name.ends_with("_scale_inv")) continue;
      const StTensor& t = r.at(name);
      ASSERT_EQ(t.shape, rt.shape) << name;
      ASSERT_EQ(t.nbytes, rt.end - rt.begin) << name;
      std::vector<float> got(static_cast<size_t>(t.elements()));
      read_rows_f32(t, 0, t.rows(), got.data());
      for (size_t i = 0; i < got.size(); ++i) {
        uint32_t want_bits;
        if (rt.dtype == "BF16") {
          uint16_t h;
          std::memcpy(&h, file.data() + rt.begin + 2 * i, 2);
          want_bits = static_cast<uint32_t>(h) << 16;
        } else {
          std::memcpy(&want_bits, file.data() + rt.begin + 4 * i, 4);
        }
        if (float_to_bits(got[i]) != want_bits) {
          ADD_FAILURE() << name << " element " << i;
          break;
        }
      }
      bf16_tensors += rt.dtype == "BF16";
    }
    EXPECT_GT(bf16_tensors, 0u);
    // The embedding has the configured shape.
    json::Document config = json::Document::load(dir / "config.json");
    const StTensor& embed = r.at("model.embed_tokens.weight");
    EXPECT_EQ(embed.shape, (std::vector<int64_t>{json::get_int(config.root_object(), "vocab_size", "config"),
                                                 json::get_int(config.root_object(), "hidden_size", "config")}));
  }
  EXPECT_EQ(models_seen, 5u);
}

}  // namespace
}  // namespace dsmoe::test
