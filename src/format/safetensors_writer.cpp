// SafetensorsWriter: the header is computed from the declaration, then data streams through an
// OutputFile (temporary file + rename).
#include <set>

#include "format/output_file.h"  // OutputFile
#include "format/safetensors.h"
#include "util/error.h"  // Error
#include "util/json.h"   // json::Writer

namespace dsmoe {

struct SafetensorsWriter::Impl {
  std::unique_ptr<OutputFile> out;
  uint64_t remaining = 0;
};

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, std::vector<Entry> tensors,
                                     const std::map<std::string, std::string>& metadata, bool overwrite)
    : impl_(std::make_unique<Impl>()) {
  json::Writer w;
  w.begin_object();
  if (!metadata.empty()) {
    w.key("__metadata__").begin_object();
    for (const auto& [k, v] : metadata) w.key(k).value(v);
    w.end_object();
  }
  std::set<std::string_view> names;
  uint64_t offset = 0;
  for (const Entry& e : tensors) {
    if (e.name.empty() || e.name == "__metadata__" || !names.insert(e.name).second) {
      throw Error(ErrorCode::kInvalidArgument,
                  path.string() + ": tensor name '" + e.name + "' is empty, reserved or repeated");
    }
    uint64_t elements = 1;
    w.key(e.name).begin_object();
    w.key("dtype").value(st_dtype_name(e.dtype));
    w.key("shape").begin_array();
    for (int64_t d : e.shape) {
      if (d < 0) throw Error(ErrorCode::kInvalidArgument, path.string() + ": tensor '" + e.name + "': negative dimension");
      w.value(d);
      elements *= static_cast<uint64_t>(d);
    }
    w.end_array();
    const uint64_t end = offset + elements * st_dtype_size(e.dtype);
    w.key("data_offsets").begin_array().value(offset).value(end).end_array();
    w.end_object();
    offset = end;
  }
  w.end_object();
  std::string header = w.str();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t header_len = header.size();

  impl_->remaining = offset;
  impl_->out = std::make_unique<OutputFile>(path, overwrite, 8 + header_len + offset);
  impl_->out->write(&header_len, 8);  // little-endian on every supported target
  impl_->out->write(header.data(), header.size());
}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::append(const void* data, size_t n) {
  if (n > impl_->remaining) {
    throw Error(ErrorCode::kInvalidArgument,
                impl_->out->path().string() + ": more tensor bytes appended than declared");
  }
  impl_->out->write(data, n);
  impl_->remaining -= n;
}

uint64_t SafetensorsWriter::remaining() const { return impl_->remaining; }

void SafetensorsWriter::commit() {
  if (impl_->remaining != 0) {
    throw Error(ErrorCode::kInvalidArgument, impl_->out->path().string() + ": commit with " +
                                                 std::to_string(impl_->remaining) +
                                                 " tensor bytes still missing");
  }
  impl_->out->commit();
}

}  // namespace dsmoe
