// A table of corrupted .dsmoe files, each rejected with its own message. The corruptions are
// applied to the bytes of a valid file through an independent walk of the layout in
// docs/FORMAT.md (not the library's own decoder).
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

#include "format/dsmoe_file.h"
#include "format_test_helpers.h"
#include "sample_dsmoe.h"

namespace dsmoe::test {
namespace {

namespace fs = std::filesystem;

template <class T>
T get(const std::string& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}
template <class T>
void put(std::string& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// Byte positions of one directory entry's fields (docs/FORMAT.md, "Tensor directory").
struct EntryPos {
  std::string name;
  size_t type, ndim, layer, expert, shape, offset, size, checksum;
};

std::vector<EntryPos> walk_directory(const std::string& b) {
  size_t p = get<uint64_t>(b, 56);  // directory_offset
  const uint32_t count = get<uint32_t>(b, p);
  p += 4;
  std::vector<EntryPos> out;
  for (uint32_t i = 0; i < count; ++i) {
    EntryPos e;
    const uint32_t name_len = get<uint32_t>(b, p);
    e.name = b.substr(p + 4, name_len);
    p += 4 + name_len;
    e.type = p;
    e.ndim = p + 1;
    e.layer = p + 4;
    e.expert = p + 8;
    e.shape = p + 12;
    p = e.shape + 8 * static_cast<uint8_t>(b[e.ndim]);
    e.offset = p;
    e.size = p + 8;
    e.checksum = p + 16;
    p += 24;
    out.push_back(e);
  }
  return out;
}

const EntryPos& entry(const std::vector<EntryPos>& d, const std::string& name) {
  for (const EntryPos& e : d) {
    if (e.name == name) return e;
  }
  throw std::runtime_error("no entry " + name);
}

struct Corruption {
  const char* label;
  std::function<void(std::string&)> apply;
  std::vector<std::string> message;  // distinctive parts of the expected error
  bool at_verify = false;            // detected by verify_checksums rather than at open
  ErrorCode code = ErrorCode::kFormat;
};

const std::string kGate0 = "model.layers.1.mlp.experts.0.gate_proj.weight";
const std::string kDown0 = "model.layers.1.mlp.experts.0.down_proj.weight";

std::vector<Corruption> corruptions() {
  auto dir = [](const std::string& b) { return walk_directory(b); };
  return {
      {"truncated header", [](std::string& b) { b.resize(100); }, {"truncated", "shorter than the 128-byte header"}},
      {"truncated data", [](std::string& b) { b.resize(b.size() - 10); }, {"truncated: the header records"}},
      {"trailing bytes", [](std::string& b) { b += "junk"; }, {"trailing data"}},
      {"bad magic", [](std::string& b) { b[0] = 'X'; }, {"bad magic"}},
      {"unknown major version", [](std::string& b) { put<uint32_t>(b, 8, 2); },
       {"unsupported format version 2.0"}, false, ErrorCode::kUnsupported},
      {"broken metadata JSON", [](std::string& b) { b[get<uint64_t>(b, 24)] = '#'; },
       {"metadata block", "invalid JSON"}},
      {"metadata not an object",
       [](std::string& b) {
         put<uint64_t>(b, 32, 1);  // a one-byte metadata block: "7", valid JSON but no object
         b[get<uint64_t>(b, 24)] = '7';
       },
       {"metadata block: expected a JSON object"}},
      {"metadata past the end", [](std::string& b) { put<uint64_t>(b, 32, uint64_t{1} << 40); },
       {"metadata block [", "past the end of the file"}},
      {"directory truncated", [](std::string& b) { put<uint64_t>(b, 64, 10); }, {"tensor directory is truncated"}},
      {"data section misaligned", [](std::string& b) { put<uint64_t>(b, 72, get<uint64_t>(b, 72) - 64); },
       {"data section offset", "not 4096-byte aligned"}},
      {"tensor offset past the end",
       [&](std::string& b) { put<uint64_t>(b, entry(dir(b), "lm_head.weight").offset, b.size() - 64); },
       {"tensor 'lm_head.weight'", "past the end of the file"}},
      {"tensor offset overflows",
       [&](std::string& b) { put<uint64_t>(b, entry(dir(b), "lm_head.weight").offset, ~uint64_t{63}); },
       {"tensor 'lm_head.weight' [18446744073709551552", "past the end of the file"}},
      {"overlapping tensors",
       [&](std::string& b) {
         auto d = dir(b);
         put<uint64_t>(b, d[1].offset, get<uint64_t>(b, d[0].offset) + 64);
       },
       {"tensors 'model.embed_tokens.weight'", "'model.layers.0.self_attn.o_proj.weight'", "overlap"}},
      {"misaligned tensor",
       [&](std::string& b) {
         size_t at = entry(dir(b), "lm_head.weight").offset;
         put<uint64_t>(b, at, get<uint64_t>(b, at) + 8);
       },
       {"tensor 'lm_head.weight'", "is not 64-byte aligned"}},
      {"unknown type", [&](std::string& b) { b[dir(b)[0].type] = 9; },
       {"tensor 'model.embed_tokens.weight'", "unknown type code 9"}},
      {"shape/size mismatch",
       [&](std::string& b) {
         size_t at = dir(b)[0].shape;
         put<int64_t>(b, at, get<int64_t>(b, at) + 1);
       },
       {"tensor 'model.embed_tokens.weight'", "size 512 does not match type f32 and shape [9, 16]"}},
      {"zero dimensions", [&](std::string& b) { b[dir(b)[0].ndim] = 0; }, {"bad number of dimensions 0"}},
      {"expert block misaligned",
       [&](std::string& b) {
         size_t at = entry(dir(b), kGate0).offset;
         put<uint64_t>(b, at, get<uint64_t>(b, at) - 64);
       },
       {"layer 1 expert 0", "not 4096-byte aligned"}},
      {"expert block not contiguous",
       [&](std::string& b) {
         size_t at = entry(dir(b), kDown0).offset;
         put<uint64_t>(b, at, get<uint64_t>(b, at) + 64);
       },
       {"layer 1 expert 0", "not contiguous", kDown0}},
      {"experts out of order",
       [&](std::string& b) {
         auto d = dir(b);
         for (const char* part : {"gate_proj", "up_proj", "down_proj"}) {
           size_t a = entry(d, std::string("model.layers.1.mlp.experts.0.") + part + ".weight").offset;
           size_t c = entry(d, std::string("model.layers.1.mlp.experts.1.") + part + ".weight").offset;
           uint64_t va = get<uint64_t>(b, a), vc = get<uint64_t>(b, c);
           put(b, a, vc);
           put(b, c, va);
         }
       },
       {"layer 1 expert 1", "expert-id order"}},
      {"expert without a layer", [&](std::string& b) { put<int32_t>(b, entry(dir(b), kGate0).layer, -1); },
       {"routed expert 0 without a layer"}},
      {"embedded file corrupted",
       [](std::string& b) {
         size_t at = b.find("{\"model\":{\"type\":\"BPE\"}}");
         b[at + 3] = 'X';
       },
       {"embedded file 'tokenizer.json'", "checksum mismatch"}},
      {"tensor data corrupted",
       [&](std::string& b) { b[get<uint64_t>(b, entry(dir(b), "lm_head.weight").offset) + 5] ^= 1; },
       {"tensor 'lm_head.weight'", "checksum mismatch"}, true},
      {"checksum field corrupted", [&](std::string& b) { b[entry(dir(b), kDown0).checksum] ^= 0x40; },
       {"tensor '" + kDown0 + "'", "checksum mismatch"}, true},
  };
}

TEST(DsmoeCorrupt, EachCorruptionHasItsOwnMessage) {
  const fs::path good = temp_dir() / "good.dsmoe";
  write_sample(sample_dsmoe(), good, 1 << 20);
  const std::string bytes = read_bytes(good);
  {
    DsmoeReader r(good);
    r.verify_checksums();  // the unmodified file is fine
  }
  std::set<std::string> first_parts;
  for (const Corruption& c : corruptions()) {
    SCOPED_TRACE(c.label);
    std::string b = bytes;
    c.apply(b);
    const fs::path path = temp_dir() / "corrupt.dsmoe";
    write_bytes(path, b);
    if (c.at_verify) {
      DsmoeReader r(path);
      expect_error([&] { r.verify_checksums(); }, c.message);
    } else {
      try {
        DsmoeReader r(path);
        ADD_FAILURE() << "opened without error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), c.code);
        EXPECT_NE(std::string(e.what()).find("corrupt.dsmoe"), std::string::npos) << e.what();
      }
      expect_error([&] { DsmoeReader r(path); }, c.message);
    }
    EXPECT_TRUE(first_parts.insert(c.message[0] + (c.message.size() > 1 ? c.message[1] : "")).second)
        << "two corruptions share a message";
  }
}

TEST(DsmoeCorrupt, NewerMinorVersionStillOpens) {
  const fs::path path = temp_dir() / "minor.dsmoe";
  write_sample(sample_dsmoe(), path, 1 << 20);
  std::string b = read_bytes(path);
  put<uint32_t>(b, 12, 7);
  write_bytes(path, b);
  DsmoeReader r(path);
  EXPECT_EQ(r.version_minor(), 7u);
}

TEST(DsmoeCorrupt, MissingFileAndNotAFile) {
  expect_error([] { DsmoeReader r(temp_dir() / "does-not-exist.dsmoe"); }, {"does-not-exist.dsmoe", "cannot open"});
  expect_error([] { DsmoeReader r(temp_dir()); }, {"not a regular file"});
}

}  // namespace
}  // namespace dsmoe::test
