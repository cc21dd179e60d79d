// DsmoeReader: maps a .dsmoe file and validates every structural claim before anything is used,
// so later code can trust offsets, sizes and alignment without checks of its own.
#include <xxhash.h>  // XXH3_state_t

#include <algorithm>  // sort, min
#include <cstdio>     // snprintf
#include <cstring>    // memcmp, memcpy
#include <map>
#include <unordered_map>

#include "format/dsmoe_file.h"
#include "format/dsmoe_layout.h"  // Header, Cursor, align_up
#include "util/error.h"           // Error

namespace dsmoe {

struct DsmoeReader::Impl {
  MappedFile map;
  layout::Header header;
  std::optional<json::Document> metadata;
  std::vector<layout::EmbeddedFile> files;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string, size_t> by_name;
  std::vector<ExpertBlock> experts;

  [[noreturn]] void fail(const std::string& msg, ErrorCode code = ErrorCode::kFormat) const {
    throw Error(code, map.path() + ": " + msg);
  }
  std::string range_text(uint64_t offset, uint64_t size) const {
    std::string s("[");  // appended piecewise: gcc 12 warns (-Wrestrict) on "[" + to_string(..)
    s += std::to_string(offset);
    s += ", ";
    s += std::to_string(offset + size);
    s += ")";
    return s;
  }
  // Checks that [offset, offset+size) lies inside the file, without overflow.
  void check_range(const std::string& what, uint64_t offset, uint64_t size) const {
    const uint64_t n = map.size();
    if (offset > n || size > n - offset) {
      fail(what + " " + range_text(offset, size) + " is past the end of the file (" +
           std::to_string(n) + " bytes)");
    }
  }

  void read_header();
  void read_files();
  void read_directory();
  void check_overlaps() const;
  void build_expert_blocks();
};

void DsmoeReader::Impl::read_header() {
  const uint64_t n = map.size();
  if (n < kDsmoeHeaderSize) {
    fail("truncated: " + std::to_string(n) + " bytes, shorter than the " +
         std::to_string(kDsmoeHeaderSize) + "-byte header");
  }
  if (std::memcmp(map.data(), kDsmoeMagic, sizeof kDsmoeMagic) != 0) {
    fail("bad magic: not a .dsmoe file");
  }
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, map.data() + at, 4);
    return v;
  };
  auto u64 = [&](size_t at) {
    uint64_t v;
    std::memcpy(&v, map.data() + at, 8);
    return v;
  };
  layout::Header& h = header;
  h.version_major = u32(layout::kOffMajor);
  h.version_minor = u32(layout::kOffMinor);
  if (h.version_major != kDsmoeVersionMajor) {
    fail("unsupported format version " + std::to_string(h.version_major) + "." +
             std::to_string(h.version_minor) + " (this reader reads version " +
             std::to_string(kDsmoeVersionMajor) + ".x)",
         ErrorCode::kUnsupported);
  }
  h.file_size = u64(layout::kOffFileSize);
  h.metadata_offset = u64(layout::kOffMetadataOffset);
  h.metadata_size = u64(layout::kOffMetadataSize);
  h.files_offset = u64(layout::kOffFilesOffset);
  h.files_size = u64(layout::kOffFilesSize);
  h.directory_offset = u64(layout::kOffDirectoryOffset);
  h.directory_size = u64(layout::kOffDirectorySize);
  h.data_offset = u64(layout::kOffDataOffset);
  if (h.file_size > n) {
    fail("truncated: the header records " + std::to_string(h.file_size) + " bytes but the file has " +
         std::to_string(n));
  }
  if (h.file_size < n) {
    fail("size mismatch: the header records " + std::to_string(h.file_size) +
         " bytes but the file has " + std::to_string(n) + " (trailing data)");
  }
  check_range("metadata block", h.metadata_offset, h.metadata_size);
  check_range("embedded-file table", h.files_offset, h.files_size);
  check_range("tensor directory", h.directory_offset, h.directory_size);
  if (h.data_offset > n) fail("data section offset " + std::to_string(h.data_offset) + " is past the end of the file");
  if (h.data_offset % kExpertAlign != 0) {
    fail("data section offset " + std::to_string(h.data_offset) + " is not " +
         std::to_string(kExpertAlign) + "-byte aligned");
  }
  for (uint64_t end : {h.metadata_offset + h.metadata_size, h.files_offset + h.files_size,
                       h.directory_offset + h.directory_size}) {
    if (end > h.data_offset) fail("a structural section extends into the data section");
  }
  metadata = json::Document::parse(
      std::string_view(reinterpret_cast<const char*>(map.data() + h.metadata_offset), h.metadata_size),
      map.path() + ": metadata block");
  if (!metadata->root().is_object()) fail("metadata block: expected a JSON object");
}

void DsmoeReader::Impl::read_files() {
  layout::Cursor c(map.data() + header.files_offset, header.files_size);
  uint32_t count;
  if (!c.read(count)) fail("embedded-file table is truncated");
  for (uint32_t i = 0; i < count; ++i) {
    layout::EmbeddedFile f;
    uint32_t name_len;
    std::string_view name;
    if (!c.read(name_len) || !c.read_bytes(name_len, name) || !c.read(f.offset) ||
        !c.read(f.size) || !c.read(f.checksum)) {
      fail("embedded-file table is truncated at entry " + std::to_string(i));
    }
    f.name = name;
    check_range("embedded file '" + f.name + "'", f.offset, f.size);
    if (dsmoe_checksum(map.data() + f.offset, f.size) != f.checksum) {
      fail("embedded file '" + f.name + "': checksum mismatch");
    }
    files.push_back(std::move(f));
  }
}

void DsmoeReader::Impl::read_directory() {
  layout::Cursor c(map.data() + header.directory_offset, header.directory_size);
  uint32_t count;
  if (!c.read(count)) fail("tensor directory is truncated");
  // Each entry takes at least 48 bytes: refuse absurd counts before reserving memory.
  if (count > c.remaining() / 48) fail("tensor directory is truncated (" + std::to_string(count) + " entries claimed)");
  tensors.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    TensorInfo t;
    uint32_t name_len;
    std::string_view name;
    uint8_t type, ndim;
    uint16_t reserved;
    int32_t layer, expert;
    const std::string at = "tensor directory entry " + std::to_string(i);
    if (!c.read(name_len) || !c.read_bytes(name_len, name) || !c.read(type) || !c.read(ndim) ||
        !c.read(reserved) || !c.read(layer) || !c.read(expert)) {
      fail("tensor directory is truncated at entry " + std::to_string(i));
    }
    t.name = name;
    const std::string what = "tensor '" + t.name + "'";
    if (type > static_cast<uint8_t>(QType::kQ4)) fail(what + ": unknown type code " + std::to_string(type));
    if (ndim == 0 || ndim > layout::kMaxDims) fail(what + ": bad number of dimensions " + std::to_string(ndim));
    t.type = static_cast<QType>(type);
    t.layer = layer;
    t.expert = expert;
    t.shape.resize(ndim);
    for (int64_t& d : t.shape) {
      if (!c.read(d)) fail("tensor directory is truncated at entry " + std::to_string(i));
    }
    if (!c.read(t.offset) || !c.read(t.size) || !c.read(t.checksum)) {
      fail("tensor directory is truncated at entry " + std::to_string(i));
    }
    uint64_t expected = dsmoe_tensor_bytes(t.type, t.shape, map.path() + ": " + what);
    if (t.size != expected) {
      std::string shape;
      for (int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      fail(what + ": size " + std::to_string(t.size) + " does not match type " + qtype_name(t.type) +
           " and shape [" + shape + "] (expected " + std::to_string(expected) + " bytes)");
    }
    if (t.offset % kTensorAlign != 0) {
      fail(what + ": offset " + std::to_string(t.offset) + " is not " + std::to_string(kTensorAlign) +
           "-byte aligned");
    }
    check_range(what, t.offset, t.size);
    if (t.offset < header.data_offset) fail(what + ": offset " + std::to_string(t.offset) + " lies before the data section");
    if (t.expert >= 0 && t.layer < 0) fail(what + ": routed expert " + std::to_string(t.expert) + " without a layer");
    if (!by_name.emplace(t.name, tensors.size()).second) fail(what + " appears twice in the directory");
    tensors.push_back(std::move(t));
  }
}

void DsmoeReader::Impl::check_overlaps() const {
  std::vector<const TensorInfo*> order;
  order.reserve(tensors.size());
  for (const TensorInfo& t : tensors) {
    if (t.size > 0) order.push_back(&t);
  }
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& a = *order[i - 1];
    const TensorInfo& b = *order[i];
    if (b.offset < a.offset + a.size) {
      fail("tensors '" + a.name + "' " + range_text(a.offset, a.size) + " and '" + b.name + "' " +
           range_text(b.offset, b.size) + " overlap");
    }
  }
}

void DsmoeReader::Impl::build_expert_blocks() {
  std::map<std::pair<int, int>, std::vector<uint32_t>> groups;  // ordered by layer, then expert
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].expert >= 0) groups[{tensors[i].layer, tensors[i].expert}].push_back(static_cast<uint32_t>(i));
  }
  const ExpertBlock* prev = nullptr;
  for (auto& [key, members] : groups) {
    std::sort(members.begin(), members.end(),
              [&](uint32_t a, uint32_t b) { return tensors[a].offset < tensors[b].offset; });
    const std::string what = "layer " + std::to_string(key.first) + " expert " + std::to_string(key.second);
    const TensorInfo& first = tensors[members.front()];
    if (first.offset % kExpertAlign != 0) {
      fail(what + ": block offset " + std::to_string(first.offset) + " is not " +
           std::to_string(kExpertAlign) + "-byte aligned");
    }
    for (size_t k = 1; k < members.size(); ++k) {
      const TensorInfo& a = tensors[members[k - 1]];
      const TensorInfo& b = tensors[members[k]];
      if (b.offset != layout::align_up(a.offset + a.size, kTensorAlign)) {
        fail(what + ": block is not contiguous ('" + b.name + "' at " + std::to_string(b.offset) +
             " does not follow '" + a.name + "' ending at " + std::to_string(a.offset + a.size) + ")");
      }
    }
    const TensorInfo& last = tensors[members.back()];
    ExpertBlock block{key.first, key.second, first.offset, last.offset + last.size - first.offset, members};
    if (prev && prev->layer == block.layer && block.offset < prev->offset) {
      fail(what + ": stored before expert " + std::to_string(prev->expert) +
           " (a layer's experts must be in expert-id order)");
    }
    experts.push_back(std::move(block));
    prev = &experts.back();
  }
}

DsmoeReader::DsmoeReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->map = MappedFile(path);
  impl_->read_header();
  impl_->read_files();
  impl_->read_directory();
  impl_->check_overlaps();
  impl_->build_expert_blocks();
}

DsmoeReader::~DsmoeReader() = default;
DsmoeReader::DsmoeReader(DsmoeReader&&) noexcept = default;
DsmoeReader& DsmoeReader::operator=(DsmoeReader&&) noexcept = default;

const std::string& DsmoeReader::path() const { return impl_->map.path(); }
uint32_t DsmoeReader::version_major() const { return impl_->header.version_major; }
uint32_t DsmoeReader::version_minor() const { return impl_->header.version_minor; }
uint64_t DsmoeReader::file_size() const { return impl_->header.file_size; }

std::string_view DsmoeReader::metadata_text() const {
  const auto& h = impl_->header;
  return {reinterpret_cast<const char*>(impl_->map.data() + h.metadata_offset), h.metadata_size};
}

json::Object DsmoeReader::metadata() const { return impl_->metadata->root_object(); }

std::string DsmoeReader::config_json() const {
  json::Element config;
  if (metadata().at_key("config").get(config) != simdjson::SUCCESS || !config.is_object()) {
    impl_->fail("metadata block: field 'config' is missing or not an object");
  }
  return json::to_string(config);
}

std::optional<std::string_view> DsmoeReader::embedded_file(std::string_view name) const {
  for (const auto& f : impl_->files) {
    if (f.name == name) return std::string_view(reinterpret_cast<const char*>(impl_->map.data() + f.offset), f.size);
  }
  return std::nullopt;
}

std::vector<std::string> DsmoeReader::embedded_file_names() const {
  std::vector<std::string> names;
  for (const auto& f : impl_->files) names.push_back(f.name);
  return names;
}

const std::vector<TensorInfo>& DsmoeReader::tensors() const { return impl_->tensors; }

const TensorInfo* DsmoeReader::find(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  return it == impl_->by_name.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorInfo& DsmoeReader::at(std::string_view name) const {
  const TensorInfo* t = find(name);
  if (!t) impl_->fail("no tensor named '" + std::string(name) + "'");
  return *t;
}

const std::byte* DsmoeReader::data(const TensorInfo& t) const { return impl_->map.data() + t.offset; }
const std::vector<ExpertBlock>& DsmoeReader::expert_blocks() const { return impl_->experts; }
const MappedFile& DsmoeReader::mapping() const { return impl_->map; }

void DsmoeReader::verify_checksums(const std::function<void(uint64_t, uint64_t)>& progress) const {
  const Impl& m = *impl_;
  std::vector<const TensorInfo*> order;
  uint64_t total = 0;
  for (const TensorInfo& t : m.tensors) {
    order.push_back(&t);
    total += t.size;
  }
  // File order: one sequential pass over the disk.
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  constexpr uint64_t kChunk = uint64_t{64} << 20;
  uint64_t done = 0;
  XXH3_state_t* state = XXH3_createState();
  if (!state) throw Error(ErrorCode::kInternal, "XXH3_createState failed");
  struct Free {
    XXH3_state_t* s;
    ~Free() { XXH3_freeState(s); }
  } free_state{state};
  if (progress) progress(0, total);
  for (const TensorInfo* t : order) {
    XXH3_64bits_reset(state);
    for (uint64_t at = 0; at < t->size; at += kChunk) {
      uint64_t k = std::min(kChunk, t->size - at);
      m.map.advise_willneed(t->offset + at + k, kChunk);
      XXH3_64bits_update(state, m.map.data() + t->offset + at, k);
      done += k;
      if (progress) progress(done, total);
    }
    uint64_t got = XXH3_64bits_digest(state);
    if (got != t->checksum) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " (stored %016llx, computed %016llx)",
                    static_cast<unsigned long long>(t->checksum), static_cast<unsigned long long>(got));
      m.fail("tensor '" + t->name + "': checksum mismatch" + buf);
    }
  }
}

}  // namespace dsmoe
