// SafetensorsReader: maps every file of a checkpoint and validates each header completely at
// open, so the converter can read any tensor afterwards without further checks.
#include <algorithm>  // sort
#include <cstring>    // memcpy
#include <deque>
#include <limits>
#include <unordered_map>

#include "format/safetensors.h"
#include "util/error.h"  // Error
#include "util/json.h"   // Document, as_int, as_string
#include "util/mmap.h"   // MappedFile

namespace dsmoe {

struct SafetensorsReader::Impl {
  std::deque<std::string> paths;  // stable addresses: StTensor::file points here
  std::vector<MappedFile> maps;
  std::vector<StTensor> all;
  std::vector<const StTensor*> model_tensors;
  std::unordered_map<std::string, size_t> by_name;
  std::map<std::string, std::string> metadata;
  std::string source;  // what the user opened, for messages
  uint64_t total_bytes = 0;

  void open_file(const std::filesystem::path& path);
  void open_index(const std::filesystem::path& index_path);
  void link_scales();
};

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
  throw Error(ErrorCode::kFormat, where + ": " + msg);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string range_text(uint64_t b, uint64_t e) {
  std::string s("[");  // appended piecewise: gcc 12 warns (-Wrestrict) on "[" + to_string(..)
  s += std::to_string(b);
  s += ", ";
  s += std::to_string(e);
  s += ")";
  return s;
}

const std::string kScaleSuffix = "_scale_inv";

}  // namespace

void SafetensorsReader::Impl::open_file(const std::filesystem::path& path) {
  paths.push_back(path.string());
  const std::string& fname = paths.back();
  maps.emplace_back(path);
  const MappedFile& map = maps.back();
  const uint64_t size = map.size();
  if (size < 8) {
    fail(fname, "truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  }
  uint64_t header_len;
  std::memcpy(&header_len, map.data(), 8);
  if (header_len > size - 8) {
    fail(fname, "header length " + std::to_string(header_len) + " exceeds the file (" +
                    std::to_string(size) + " bytes)");
  }
  const std::string_view header_text(reinterpret_cast<const char*>(map.data() + 8), header_len);
  json::Document doc = json::Document::parse(header_text, fname + ": header");
  json::Object root;
  if (doc.root().get_object().get(root) != simdjson::SUCCESS) fail(fname, "header is not a JSON object");

  const std::byte* data_base = map.data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (auto field : root) {
    const std::string name(field.key);
    if (name == "__metadata__") {
      json::Object meta;
      if (field.value.get_object().get(meta) != simdjson::SUCCESS) fail(fname, "__metadata__ is not an object");
      for (auto kv : meta) {
        std::string_view v;
        if (kv.value.get_string().get(v) != simdjson::SUCCESS) {
          fail(fname, "__metadata__ entry '" + std::string(kv.key) + "' is not a string");
        }
        metadata.emplace(std::string(kv.key), std::string(v));
      }
      continue;
    }
    const std::string what = fname + ": tensor '" + name + "'";
    json::Object obj;
    if (field.value.get_object().get(obj) != simdjson::SUCCESS) fail(what, "entry is not a JSON object");
    StTensor t;
    t.name = name;
    t.file = &fname;
    std::string_view dtype_text = json::get_string(obj, "dtype", what);
    std::optional<StDtype> dtype = parse_st_dtype(dtype_text);
    if (!dtype) fail(what, "unknown dtype '" + std::string(dtype_text) + "'");
    t.dtype = *dtype;
    uint64_t elements = 1;
    bool overflow = false;
    for (json::Element d : json::get_array(obj, "shape", what)) {
      int64_t v = json::as_int(d, what + ": shape");
      if (v < 0) fail(what, "negative dimension in shape");
      t.shape.push_back(v);
      if (v > 0 && elements > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(v)) overflow = true;
      elements *= static_cast<uint64_t>(v);
    }
    json::Array offsets = json::get_array(obj, "data_offsets", what);
    if (offsets.size() != 2) fail(what, "data_offsets must hold exactly 2 numbers");
    int64_t b = json::as_int(offsets.at(0).value(), what + ": data_offsets");
    int64_t e = json::as_int(offsets.at(1).value(), what + ": data_offsets");
    if (b < 0 || e < b) fail(what, "bad data_offsets " + range_text(b, e));
    const uint64_t begin = static_cast<uint64_t>(b), end = static_cast<uint64_t>(e);
    const uint64_t expected = elements * st_dtype_size(t.dtype);
    if (overflow || expected != end - begin) {
      fail(what, "shape " + shape_text(t.shape) + " of " + st_dtype_name(t.dtype) + " needs " +
                     std::to_string(expected) + " bytes but data_offsets span " +
                     std::to_string(end - begin));
    }
    if (end > data_size) {
      fail(what, "data_offsets " + range_text(begin, end) + " are past the end of the data section (" +
                     std::to_string(data_size) + " bytes)");
    }
    t.data = data_base + begin;
    t.nbytes = end - begin;
    if (!by_name.emplace(name, all.size()).second) {
      fail(what, "appears twice (also in " + *all[by_name[name]].file + ")");
    }
    ranges.push_back({begin, end, all.size()});
    total_bytes += t.nbytes;
    all.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
  const Range* prev = nullptr;
  for (const Range& r : ranges) {
    if (r.end == r.begin) continue;
    if (prev && r.begin < prev->end) {
      fail(fname, "tensors '" + all[prev->index].name + "' " + range_text(prev->begin, prev->end) +
                      " and '" + all[r.index].name + "' " + range_text(r.begin, r.end) + " overlap");
    }
    prev = &r;
  }
}

void SafetensorsReader::Impl::open_index(const std::filesystem::path& index_path) {
  const std::string where = index_path.string();
  json::Document doc = json::Document::load(index_path);
  json::Object weight_map = json::get_object(doc.root_object(), "weight_map", where);
  std::map<std::string, std::vector<std::string>> shards;  // sorted: deterministic order
  for (auto kv : weight_map) {
    std::string shard(json::as_string(kv.value, where + ": weight_map '" + std::string(kv.key) + "'"));
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      fail(where, "weight_map '" + std::string(kv.key) + "': shard '" + shard +
                      "' must be a file name in the same folder");
    }
    shards[shard].emplace_back(kv.key);
  }
  if (shards.empty()) fail(where, "weight_map is empty");
  for (const auto& [shard, names] : shards) {
    std::filesystem::path p = index_path.parent_path() / shard;
    open_file(p);
    const std::string& fname = paths.back();
    for (const std::string& name : names) {
      auto it = by_name.find(name);
      if (it == by_name.end() || all[it->second].file != &fname) {
        fail(where, "tensor '" + name + "' is mapped to " + shard + ", which does not contain it");
      }
    }
  }
}

void SafetensorsReader::Impl::link_scales() {
  for (StTensor& t : all) {
    if (t.name.size() <= kScaleSuffix.size() ||
        t.name.compare(t.name.size() - kScaleSuffix.size(), kScaleSuffix.size(), kScaleSuffix) != 0) {
      continue;
    }
    auto it = by_name.find(t.name.substr(0, t.name.size() - kScaleSuffix.size()));
    if (it == by_name.end() || all[it->second].dtype != StDtype::kF8E4M3) continue;
    all[it->second].scale_inv = &t;
    t.is_scale = true;
  }
  for (StTensor& t : all) {
    if (t.dtype != StDtype::kF8E4M3) continue;
    const std::string what = *t.file + ": tensor '" + t.name + "'";
    if (!t.scale_inv) fail(what, "F8_E4M3 weight without a '" + t.name + kScaleSuffix + "' tensor");
    if (t.shape.size() != 2) fail(what, "F8_E4M3 weight must be 2-D, has shape " + shape_text(t.shape));
    const StTensor& s = *t.scale_inv;
    const std::vector<int64_t> want = {(t.shape[0] + kFp8Block - 1) / kFp8Block,
                                       (t.shape[1] + kFp8Block - 1) / kFp8Block};
    if (s.dtype != StDtype::kF32 || s.shape != want) {
      fail(*s.file + ": tensor '" + s.name + "'",
           "block scales must be F32 of shape " + shape_text(want) + " for weight shape " +
               shape_text(t.shape) + ", got " + st_dtype_name(s.dtype) + " " + shape_text(s.shape));
    }
  }
  for (const StTensor& t : all) {
    if (!t.is_scale) model_tensors.push_back(&t);
  }
  std::sort(model_tensors.begin(), model_tensors.end(),
            [](const StTensor* a, const StTensor* b) { return a->name < b->name; });
}

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(path / "model.safetensors.index.json", ec)) {
      m.open_index(path / "model.safetensors.index.json");
    } else if (std::filesystem::exists(path / "model.safetensors", ec)) {
      m.open_file(path / "model.safetensors");
    } else {
      throw Error(ErrorCode::kIo, m.source + ": no model.safetensors or model.safetensors.index.json");
    }
  } else if (path.filename() == "model.safetensors.index.json") {
    m.open_index(path);
  } else {
    m.open_file(path);
  }
  m.link_scales();
}

SafetensorsReader::~SafetensorsReader() = default;
SafetensorsReader::SafetensorsReader(SafetensorsReader&&) noexcept = default;
SafetensorsReader& SafetensorsReader::operator=(SafetensorsReader&&) noexcept = default;

const std::vector<const StTensor*>& SafetensorsReader::tensors() const { return impl_->model_tensors; }
const std::vector<StTensor>& SafetensorsReader::all_tensors() const { return impl_->all; }

const StTensor* SafetensorsReader::find(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  return it == impl_->by_name.end() ? nullptr : &impl_->all[it->second];
}

const StTensor& SafetensorsReader::at(std::string_view name) const {
  const StTensor* t = find(name);
  if (!t) throw Error(ErrorCode::kFormat, impl_->source + ": no tensor named '" + std::string(name) + "'");
  return *t;
}

std::vector<std::filesystem::path> SafetensorsReader::files() const {
  return {impl_->paths.begin(), impl_->paths.end()};
}

uint64_t SafetensorsReader::total_bytes() const { return impl_->total_bytes; }
const std::map<std::string, std::string>& SafetensorsReader::metadata() const { return impl_->metadata; }

void SafetensorsReader::prefetch(const StTensor& t) const {
  for (const MappedFile& map : impl_->maps) {
    if (t.data >= map.data() && t.data < map.data() + map.size()) {
      map.advise_willneed(static_cast<size_t>(t.data - map.data()), t.nbytes);
      return;
    }
  }
}

}  // namespace dsmoe
