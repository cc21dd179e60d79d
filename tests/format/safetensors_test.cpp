// Safetensors: writer -> reader round trip for every dtype, sharded checkpoints, and a table of
// corrupted files each rejected with its own message naming the file and the tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "format/safetensors.h"
#include "format_test_helpers.h"
#include "util/half.h"  // f32_to_bf16, f32_to_f16

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

template <class T>
std::string as_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

void write_st(const fs::path& path, const std::vector<SafetensorsWriter::Entry>& entries,
              const std::vector<std::string>& data, const std::map<std::string, std::string>& meta = {}) {
  SafetensorsWriter w(path, entries, meta);
  for (const std::string& d : data) w.append(d.data(), d.size());
  EXPECT_EQ(w.remaining(), 0u);
  w.commit();
}

TEST(Safetensors, RoundTripEveryDtype) {
  const fs::path path = temp_dir() / "all.safetensors";
  std::vector<float> f32 = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, -7.0f};
  std::vector<uint16_t> bf16, f16;
  for (float v : f32) {
    bf16.push_back(f32_to_bf16(v));
    f16.push_back(f32_to_f16(v));
  }
  std::vector<double> f64 = {0.5, -1.25, 3.0};
  std::vector<int64_t> i64 = {1, 2, 3};
  // A 130 x 3 F8 weight: two row blocks of scales, codes chosen to cover sign/exponent/subnormal.
  std::vector<uint8_t> fp8(130 * 3);
  for (size_t i = 0; i < fp8.size(); ++i) {
    fp8[i] = static_cast<uint8_t>((i * 37) % 256);
    if ((fp8[i] & 0x7f) == 0x7f) fp8[i] = 0x01;  // avoid NaN codes so comparisons are plain
  }
  std::vector<float> scales = {0.5f, 2.0f};
  write_st(path,
           {{"a.f32", StDtype::kF32, {2, 3}},
            {"a.bf16", StDtype::kBF16, {3, 2}},
            {"a.f16", StDtype::kF16, {6}},
            {"a.f64", StDtype::kF64, {3}},
            {"ids", StDtype::kI64, {3}},
            {"w", StDtype::kF8E4M3, {130, 3}},
            {"w_scale_inv", StDtype::kF32, {2, 1}},
            {"cube", StDtype::kF32, {1, 2, 3}}},
           {as_bytes(f32), as_bytes(bf16), as_bytes(f16), as_bytes(f64), as_bytes(i64), as_bytes(fp8),
            as_bytes(scales), as_bytes(f32)},
           {{"format", "pt"}});

  SafetensorsReader r(path);
  EXPECT_EQ(r.metadata().at("format"), "pt");
  std::vector<std::string> names;
  for (const StTensor* t : r.tensors()) names.push_back(t->name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.bf16", "a.f16", "a.f32", "a.f64", "cube", "ids", "w"}));
  EXPECT_EQ(r.all_tensors().size(), 8u);
  ASSERT_NE(r.find("w_scale_inv"), nullptr);
  EXPECT_TRUE(r.find("w_scale_inv")->is_scale);
  EXPECT_EQ(r.at("w").scale_inv, r.find("w_scale_inv"));
  EXPECT_EQ(*r.at("w").file, path.string());
  EXPECT_EQ(r.files(), std::vector<fs::path>{path});
  EXPECT_EQ(r.total_bytes(), 24u + 12 + 12 + 24 + 24 + 390 + 8 + 24);

  std::vector<float> out(6);
  read_rows_f32(r.at("a.f32"), 0, 2, out.data());
  EXPECT_EQ(out, f32);
  read_rows_f32(r.at("a.f32"), 1, 2, out.data());
  EXPECT_EQ(out[0], f32[3]);
  read_rows_f32(r.at("a.f16"), 0, 1, out.data());  // a 1-D tensor is one row
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(out[i], f16_to_f32(f16[i]));
  read_rows_f32(r.at("a.bf16"), 0, 3, out.data());
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(out[i], bf16_to_f32(bf16[i]));
  read_rows_f32(r.at("a.f64"), 0, 1, out.data());
  EXPECT_EQ(out[1], -1.25f);
  EXPECT_EQ(r.at("cube").rows(), 1);
  EXPECT_EQ(r.at("cube").cols(), 6);
  read_rows_f32(r.at("cube"), 0, 1, out.data());
  EXPECT_EQ(out, f32);

  std::vector<float> w(130 * 3);
  read_rows_f32(r.at("w"), 0, 130, w.data());
  for (int row = 0; row < 130; ++row) {
    for (int c = 0; c < 3; ++c) {
      const float want = fp8_e4m3_to_f32(fp8[row * 3 + c]) * scales[row / 128];
      EXPECT_EQ(w[row * 3 + c], want) << row << "," << c;
    }
  }
  std::vector<float> tail(3);
  read_rows_f32(r.at("w"), 129, 130, tail.data());
  EXPECT_EQ(tail[2], w[129 * 3 + 2]);

  expect_error([&] { read_rows_f32(r.at("ids"), 0, 1, out.data()); }, {"tensor 'ids'", "I64 cannot be read as float"});
  expect_error([&] { read_rows_f32(r.at("a.f32"), 1, 3, out.data()); }, {"tensor 'a.f32'", "rows [1, 3) outside [0, 2)"});
  expect_error([&] { r.at("nope"); }, {"no tensor named 'nope'"});
}

TEST(Safetensors, EveryFp8CodeDecodes) {
  // All 256 codes (NaN, zero, subnormals, normals, both signs) in one row, scale 1, and again
  // with scale 0.25 in a second block of columns.
  const fs::path path = temp_dir() / "codes.safetensors";
  std::vector<uint8_t> codes(512);
  for (int i = 0; i < 512; ++i) codes[i] = static_cast<uint8_t>(i % 256);
  std::vector<float> scales = {1.0f, 1.0f, 0.25f, 0.25f};
  write_st(path, {{"w", StDtype::kF8E4M3, {1, 512}}, {"w_scale_inv", StDtype::kF32, {1, 4}}},
           {as_bytes(codes), as_bytes(scales)});
  SafetensorsReader r(path);
  std::vector<float> out(512);
  read_rows_f32(r.at("w"), 0, 1, out.data());
  for (int i = 0; i < 512; ++i) {
    const float want = fp8_e4m3_to_f32(codes[i]) * scales[i / 128];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(out[i])) << "code " << i % 256;
    } else {
      EXPECT_EQ(float_to_bits(out[i]), float_to_bits(want)) << "code " << i % 256;
    }
  }
}

TEST(Safetensors, EveryF16CodeDecodes) {
  // All 65536 codes (zeros, subnormals, normals, infinities, NaNs, both signs), bit for bit.
  const fs::path path = temp_dir() / "f16codes.safetensors";
  std::vector<uint16_t> codes(65536);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint16_t>(i);
  write_st(path, {{"h", StDtype::kF16, {256, 256}}}, {as_bytes(codes)});
  SafetensorsReader r(path);
  std::vector<float> out(codes.size());
  read_rows_f32(r.at("h"), 0, 256, out.data());
  for (size_t i = 0; i < codes.size(); ++i) {
    ASSERT_EQ(float_to_bits(out[i]), float_to_bits(f16_to_f32(codes[i]))) << "code " << i;
  }
}

TEST(Safetensors, FolderAndShardedCheckpoint) {
  const fs::path dir = temp_dir() / "sharded";
  fs::create_directories(dir);
  std::vector<float> a = {1, 2}, b = {3, 4, 5};
  write_st(dir / "model-00001-of-00002.safetensors", {{"x.a", StDtype::kF32, {2}}}, {as_bytes(a)});
  write_st(dir / "model-00002-of-00002.safetensors", {{"x.b", StDtype::kF32, {3}}}, {as_bytes(b)});
  write_bytes(dir / "model.safetensors.index.json",
              R"({"metadata":{"total_size":20},"weight_map":{"x.b":"model-00002-of-00002.safetensors",)"
              R"("x.a":"model-00001-of-00002.safetensors"}})");
  SafetensorsReader r(dir);
  ASSERT_EQ(r.tensors().size(), 2u);
  EXPECT_EQ(r.files().size(), 2u);
  std::vector<float> out(3);
  read_rows_f32(r.at("x.b"), 0, 1, out.data());
  EXPECT_EQ(out, b);
  EXPECT_NE(r.at("x.a").file->find("00001"), std::string::npos);
  r.prefetch(r.at("x.b"));

  // A folder with a single model.safetensors.
  const fs::path single = temp_dir() / "single";
  fs::create_directories(single);
  write_st(single / "model.safetensors", {{"y", StDtype::kF32, {2}}}, {as_bytes(a)});
  EXPECT_EQ(SafetensorsReader(single).tensors().size(), 1u);
  expect_error([&] { SafetensorsReader r2(temp_dir() / "nowhere"); }, {"nowhere"});
  fs::create_directories(temp_dir() / "emptydir");
  expect_error([&] { SafetensorsReader r2(temp_dir() / "emptydir"); },
               {"emptydir", "no model.safetensors or model.safetensors.index.json"});
}

TEST(Safetensors, ShardedIndexErrors) {
  const fs::path dir = temp_dir() / "badindex";
  fs::create_directories(dir);
  std::vector<float> a = {1, 2};
  write_st(dir / "s1.safetensors", {{"x.a", StDtype::kF32, {2}}}, {as_bytes(a)});
  write_st(dir / "s2.safetensors", {{"x.b", StDtype::kF32, {2}}, {"x.a", StDtype::kF32, {2}}},
           {as_bytes(a), as_bytes(a)});
  const fs::path index = dir / "model.safetensors.index.json";
  write_bytes(index, R"({"weight_map":{"x.a":"s1.safetensors","x.c":"s1.safetensors"}})");
  expect_error([&] { SafetensorsReader r(dir); }, {"model.safetensors.index.json", "tensor 'x.c'", "does not contain it"});
  write_bytes(index, R"({"weight_map":{"x.a":"../s1.safetensors"}})");
  expect_error([&] { SafetensorsReader r(dir); }, {"must be a file name in the same folder"});
  write_bytes(index, R"({"weight_map":{"x.a":"s1.safetensors","x.b":"s2.safetensors"}})");
  expect_error([&] { SafetensorsReader r(dir); }, {"s2.safetensors: tensor 'x.a'", "appears twice"});
  write_bytes(index, R"({"weight_map":{"x.a":"missing.safetensors"}})");
  expect_error([&] { SafetensorsReader r(dir); }, {"missing.safetensors", "cannot open"});
  write_bytes(index, R"({"metadata":{}})");
  expect_error([&] { SafetensorsReader r(dir); }, {"model.safetensors.index.json", "weight_map"});
}

struct StCorruption {
  const char* label;
  std::string file;                  // whole file bytes
  std::vector<std::string> message;  // distinctive parts, besides the file name
};

std::vector<StCorruption> st_corruptions() {
  const std::string six_floats(24, '\0');
  auto t = [](const std::string& name, const std::string& body) { return "{\"" + name + "\":" + body + "}"; };
  return {
      {"shorter than the length field", std::string(5, '\0'), {"truncated: 5 bytes", "8-byte header length"}},
      {"header length past the file", raw_safetensors("{}", "", 1000), {"header length 1000 exceeds the file (10 bytes)"}},
      {"broken JSON", raw_safetensors("{\"a\": {\"dtype\": \"F32\",", ""), {"header: invalid JSON"}},
      {"header not an object", raw_safetensors("[1, 2]", ""), {"header is not a JSON object"}},
      {"entry not an object", raw_safetensors(t("w", "3"), ""), {"tensor 'w'", "entry is not a JSON object"}},
      {"unknown dtype", raw_safetensors(t("w", R"({"dtype":"F4","shape":[2],"data_offsets":[0,1]})"), "x"),
       {"tensor 'w'", "unknown dtype 'F4'"}},
      {"missing dtype", raw_safetensors(t("w", R"({"shape":[2],"data_offsets":[0,8]})"), six_floats),
       {"tensor 'w'", "field 'dtype'"}},
      {"negative dimension", raw_safetensors(t("w", R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), six_floats),
       {"tensor 'w'", "negative dimension"}},
      {"shape/size mismatch", raw_safetensors(t("w", R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})"), six_floats),
       {"tensor 'w'", "shape [2, 3] of F32 needs 24 bytes but data_offsets span 20"}},
      {"offsets reversed", raw_safetensors(t("w", R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})"), six_floats),
       {"tensor 'w'", "bad data_offsets [8, 4)"}},
      {"three offsets", raw_safetensors(t("w", R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})"), six_floats),
       {"tensor 'w'", "exactly 2 numbers"}},
      {"offsets past the end", raw_safetensors(t("w", R"({"dtype":"F32","shape":[4],"data_offsets":[16,32]})"), six_floats),
       {"tensor 'w'", "data_offsets [16, 32) are past the end of the data section (24 bytes)"}},
      {"truncated data", raw_safetensors(t("w", R"({"dtype":"F32","shape":[6],"data_offsets":[0,24]})"), six_floats.substr(0, 23)),
       {"tensor 'w'", "past the end of the data section (23 bytes)"}},
      {"overlapping",
       raw_safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", six_floats),
       {"tensors 'a' [0, 16) and 'b' [8, 16) overlap"}},
      {"duplicate name",
       raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", six_floats),
       {"tensor 'a'", "appears twice"}},
      {"bad metadata", raw_safetensors(R"({"__metadata__":{"k":1}})", ""), {"__metadata__ entry 'k' is not a string"}},
      {"F8 without scale", raw_safetensors(t("w", R"({"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[0,4]})"), "abcd"),
       {"tensor 'w'", "F8_E4M3 weight without a 'w_scale_inv' tensor"}},
      {"F8 scale of wrong shape",
       raw_safetensors(R"({"w":{"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[0,4]},)"
                       R"("w_scale_inv":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", six_floats),
       {"tensor 'w_scale_inv'", "block scales must be F32 of shape [1, 1]"}},
      {"F8 not 2-D",
       raw_safetensors(R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},)"
                       R"("w_scale_inv":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", six_floats),
       {"tensor 'w'", "F8_E4M3 weight must be 2-D"}},
  };
}

TEST(SafetensorsCorrupt, EachCorruptionHasItsOwnMessage) {
  std::set<std::string> seen;
  for (const StCorruption& c : st_corruptions()) {
    SCOPED_TRACE(c.label);
    const fs::path path = temp_dir() / "corrupt.safetensors";
    write_bytes(path, c.file);
    std::vector<std::string> parts = c.message;
    parts.push_back(path.string());
    expect_error([&] { SafetensorsReader r(path); }, parts);
    EXPECT_TRUE(seen.insert(c.message.back()).second) << "two corruptions share a message";
  }
}

TEST(SafetensorsWriter, InterruptedOrRefused) {
  const fs::path path = temp_dir() / "w.safetensors";
  {
    SafetensorsWriter w(path, {{"a", StDtype::kF32, {2}}});
    float v = 1;
    w.append(&v, 4);
    EXPECT_EQ(w.remaining(), 4u);
    expect_error([&] { w.commit(); }, {"4 tensor bytes still missing"});
  }
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(temp_dir())) {
    EXPECT_EQ(e.path().filename().string().find("w.safetensors.tmp-"), std::string::npos);
  }
  expect_error([&] { SafetensorsWriter w(path, {{"a", StDtype::kF32, {1}}, {"a", StDtype::kF32, {1}}}); },
               {"tensor name 'a'", "repeated"});
  write_bytes(path, "keep");
  expect_error([&] { SafetensorsWriter w(path, {}); }, {"already exists"});
  EXPECT_EQ(read_bytes(path), "keep");
  {
    SafetensorsWriter w(path, {{"a", StDtype::kF32, {1}}}, {}, /*overwrite=*/true);
    float v = 2;
    w.append(&v, 4);
    expect_error([&] { w.append(&v, 4); }, {"more tensor bytes appended than declared"});
    w.commit();
  }
  SafetensorsReader r(path);
  float out;
  read_rows_f32(r.at("a"), 0, 1, &out);
  EXPECT_EQ(out, 2.0f);
  // The data section starts 8-byte aligned, as in files written by the reference implementation.
  uint64_t header_len;
  std::memcpy(&header_len, read_bytes(path).data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
}

}  // namespace
}  // namespace dsmoe::test
