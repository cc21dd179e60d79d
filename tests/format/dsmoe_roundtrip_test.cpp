// Write -> read round trip of the .dsmoe format, and the writer's refusals.
#include <gtest/gtest.h>

#include <cstring>

#include "format/dsmoe_file.h"
#include "format_test_helpers.h"
#include "sample_dsmoe.h"

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

TEST(DsmoeRoundTrip, EverythingReadsBack) {
  const SampleDsmoe s = sample_dsmoe();
  const fs::path path = temp_dir() / "roundtrip.dsmoe";
  write_sample(s, path, 1000);

  DsmoeReader r(path);
  EXPECT_EQ(r.version_major(), kDsmoeVersionMajor);
  EXPECT_EQ(r.version_minor(), kDsmoeVersionMinor);
  EXPECT_EQ(r.file_size(), fs::file_size(path));
  EXPECT_EQ(r.metadata_text(), s.metadata);
  EXPECT_EQ(json::get_string(r.metadata(), "converter", "test"), "dsmoe test");
  EXPECT_EQ(r.config_json(), R"({"model_type":"deepseek_v3","hidden_size":16})");
  for (const auto& [name, content] : s.files) {
    ASSERT_TRUE(r.embedded_file(name).has_value()) << name;
    EXPECT_EQ(*r.embedded_file(name), content);
  }
  EXPECT_FALSE(r.embedded_file("missing.json").has_value());
  EXPECT_EQ(r.embedded_file_names(), (std::vector<std::string>{"tokenizer.json", "tokenizer_config.json"}));

  ASSERT_EQ(r.tensors().size(), s.specs.size());
  for (size_t i = 0; i < s.specs.size(); ++i) {
    const TensorInfo& t = r.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, s.specs[i].name);
    EXPECT_EQ(t.type, s.specs[i].type);
    EXPECT_EQ(t.shape, s.specs[i].shape);
    EXPECT_EQ(t.size, s.specs[i].size);
    EXPECT_EQ(t.layer, s.specs[i].layer);
    EXPECT_EQ(t.expert, s.specs[i].expert);
    EXPECT_EQ(t.offset % kTensorAlign, 0u);
    EXPECT_EQ(t.checksum, dsmoe_checksum(s.data[i].data(), s.data[i].size()));
    EXPECT_EQ(std::memcmp(r.data(t), s.data[i].data(), t.size), 0);
    EXPECT_EQ(r.find(t.name), &t);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r.data(t)) % kTensorAlign, 0u) << "mapping is page aligned";
  }
  EXPECT_EQ(r.find("nope"), nullptr);
  expect_error([&] { r.at("nope"); }, {"roundtrip.dsmoe", "no tensor named 'nope'"});
  EXPECT_EQ(r.at("lm_head.weight").rows(), 8);
  EXPECT_EQ(r.at("lm_head.weight").cols(), 16);
  EXPECT_EQ(r.at("lm_head.weight").elements(), 128);

  ASSERT_EQ(r.expert_blocks().size(), 3u);
  for (int e = 0; e < 3; ++e) {
    const ExpertBlock& b = r.expert_blocks()[e];
    EXPECT_EQ(b.layer, 1);
    EXPECT_EQ(b.expert, e);
    EXPECT_EQ(b.offset % kExpertAlign, 0u);
    EXPECT_EQ(b.size, 3u * 64u);  // three 64-byte matrices back to back
    ASSERT_EQ(b.tensors.size(), 3u);
    const char* parts[] = {"gate_proj", "up_proj", "down_proj"};
    for (int k = 0; k < 3; ++k) {
      const TensorInfo& t = r.tensors()[b.tensors[k]];
      EXPECT_NE(t.name.find(parts[k]), std::string::npos) << t.name;
      EXPECT_EQ(t.expert, e);
    }
    if (e > 0) {
      EXPECT_GT(b.offset, r.expert_blocks()[e - 1].offset);
    }
  }

  uint64_t last_done = 0, last_total = 0;
  r.verify_checksums([&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  });
  uint64_t total = 0;
  for (const auto& spec : s.specs) total += spec.size;
  EXPECT_EQ(last_total, total);
  EXPECT_EQ(last_done, total);

  // Moving keeps views valid.
  const std::byte* p = r.data(r.tensors()[0]);
  DsmoeReader moved(std::move(r));
  EXPECT_EQ(moved.data(moved.tensors()[0]), p);
}

TEST(DsmoeRoundTrip, ChunkingDoesNotChangeTheFile) {
  const SampleDsmoe s = sample_dsmoe();
  std::string reference;
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{1} << 20}) {
    const fs::path path = temp_dir() / ("chunk" + std::to_string(chunk) + ".dsmoe");
    write_sample(s, path, chunk);
    std::string bytes = read_bytes(path);
    if (reference.empty()) reference = bytes;
    EXPECT_EQ(bytes, reference) << "chunk " << chunk;
  }
}

TEST(DsmoeRoundTrip, EmptyFileAndZeroSizedTensors) {
  const fs::path empty = temp_dir() / "empty.dsmoe";
  {
    DsmoeWriter w(empty, "{}", {}, {});
    w.commit();
  }
  DsmoeReader r(empty);
  EXPECT_TRUE(r.tensors().empty());
  EXPECT_TRUE(r.expert_blocks().empty());
  r.verify_checksums();

  const fs::path zero = temp_dir() / "zero.dsmoe";
  {
    DsmoeWriter w(zero, "{}", {}, {{"a", QType::kF32, {0}, 0, -1, -1}, {"b", QType::kF32, {2}, 8, -1, -1},
                                    {"c", QType::kBF16, {3, 0}, 0, -1, -1}});
    EXPECT_EQ(w.current_tensor(), 1u);
    float v[2] = {1.5f, -2.0f};
    w.append(v, sizeof v);
    EXPECT_EQ(w.current_tensor(), 3u);
    w.commit();
  }
  DsmoeReader z(zero);
  ASSERT_EQ(z.tensors().size(), 3u);
  float got[2];
  std::memcpy(got, z.data(z.at("b")), 8);
  EXPECT_EQ(got[0], 1.5f);
  EXPECT_EQ(got[1], -2.0f);
  z.verify_checksums();
}

TEST(DsmoeWriter, RefusesBadDeclarations) {
  const fs::path path = temp_dir() / "bad.dsmoe";
  auto spec = [](std::string name, std::vector<int64_t> shape, int layer = -1, int expert = -1) {
    DsmoeTensorSpec t{std::move(name), QType::kF32, std::move(shape), 0, layer, expert};
    t.size = dsmoe_tensor_bytes(t.type, t.shape, "t");
    return t;
  };
  DsmoeTensorSpec wrong = spec("w", {2, 3});
  wrong.size = 20;
  expect_error([&] { DsmoeWriter(path, "{}", {}, {wrong}); }, {"tensor 'w'", "declared size 20", "need 24 bytes"});
  expect_error([&] { DsmoeWriter(path, "{}", {}, {spec("a", {1}), spec("a", {2})}); }, {"'a' declared twice"});
  expect_error([&] { DsmoeWriter(path, "{}", {}, {spec("e0", {4}, 1, 0), spec("x", {4}, 1), spec("e0b", {4}, 1, 0)}); },
               {"'e0b'", "declared consecutively"});
  expect_error([&] { DsmoeWriter(path, "{}", {}, {spec("e1", {4}, 1, 1), spec("e0", {4}, 1, 0)}); },
               {"'e0'", "increasing expert id"});
  expect_error([&] { DsmoeWriter(path, "{}", {}, {spec("e", {4}, -1, 0)}); }, {"an expert needs a layer"});
  expect_error([&] { DsmoeWriter(path, "{}", {{"f", "x"}, {"f", "y"}}, {}); }, {"embedded file name 'f'"});
  expect_error([&] { DsmoeWriter(path, "{\"config\":", {}, {}); }, {"bad.dsmoe", "metadata: invalid JSON"});
  expect_error([&] { DsmoeWriter(path, "[]", {}, {}); }, {"metadata must be a JSON object"});
  DsmoeTensorSpec q4_3d{"q", QType::kQ4, {2, 32, 32}, 0, -1, -1};
  expect_error([&] { DsmoeWriter(path, "{}", {}, {q4_3d}); }, {"q4 tensor must be 2-D"});
  EXPECT_FALSE(fs::exists(path));

  // Too many bytes, and commit before all bytes arrived.
  {
    DsmoeWriter w(path, "{}", {}, {spec("a", {2})});
    std::string bytes(12, 'x');
    expect_error([&] { w.append(bytes.data(), 12); }, {"more tensor bytes appended than declared"});
  }
  {
    DsmoeWriter w(path, "{}", {}, {spec("a", {2}), spec("b", {2})});
    std::string bytes(12, 'x');
    w.append(bytes.data(), 12);
    expect_error([&] { w.commit(); }, {"tensor 'b' has 4 of 8 bytes"});
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(DsmoeWriter, OverwriteOnlyWhenAsked) {
  const SampleDsmoe s = sample_dsmoe();
  const fs::path path = temp_dir() / "exists.dsmoe";
  write_bytes(path, "precious");
  expect_error([&] { write_sample(s, path, 4096); }, {"exists.dsmoe", "already exists"});
  EXPECT_EQ(read_bytes(path), "precious");
  write_sample(s, path, 4096, /*overwrite=*/true);
  EXPECT_EQ(DsmoeReader(path).tensors().size(), s.specs.size());

  // A file appearing while the writer runs is not clobbered either.
  const fs::path racy = temp_dir() / "racy.dsmoe";
  DsmoeWriter w(racy, "{}", {}, {});
  write_bytes(racy, "someone else's");
  expect_error([&] { w.commit(); }, {"racy.dsmoe", "already exists"});
  EXPECT_EQ(read_bytes(racy), "someone else's");
}

}  // namespace
}  // namespace dsmoe::test
