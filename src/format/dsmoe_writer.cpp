// DsmoeWriter: lays out the whole file from the declaration, writes the structural parts at
// once, then streams tensor bytes with alignment padding, hashing each tensor on the fly.
#include <xxhash.h>  // XXH3_state_t

#include <algorithm>  // min
#include <map>
#include <set>

#include "format/dsmoe_file.h"
#include "format/dsmoe_layout.h"  // Header, encode_*, align_up
#include "format/output_file.h"   // OutputFile
#include "util/error.h"           // Error
#include "util/json.h"            // Document

namespace dsmoe {

struct DsmoeWriter::Impl {
  std::vector<TensorInfo> tensors;
  layout::Header header;
  std::unique_ptr<OutputFile> out;
  size_t current = 0;           // tensor being written
  uint64_t current_written = 0; // bytes of it so far
  XXH3_state_t* hash = nullptr;

  ~Impl() {
    if (hash) XXH3_freeState(hash);
  }
};

namespace {

[[noreturn]] void bad_declaration(const std::filesystem::path& path, const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, path.string() + ": " + msg);
}

// Checks the declaration and assigns offsets from `data_offset` on. Returns the end of the data.
uint64_t assign_offsets(const std::filesystem::path& path, std::vector<TensorInfo>& tensors,
                        uint64_t data_offset) {
  std::set<std::string_view> names;
  std::set<std::pair<int, int>> finished_experts;
  std::map<int, int> last_expert_of_layer;
  uint64_t pos = data_offset;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TensorInfo& t = tensors[i];
    if (t.name.empty()) bad_declaration(path, "tensor " + std::to_string(i) + " has no name");
    if (!names.insert(t.name).second) bad_declaration(path, "tensor '" + t.name + "' declared twice");
    if (t.shape.empty() || t.shape.size() > layout::kMaxDims) {
      bad_declaration(path, "tensor '" + t.name + "': shape must have 1 to 8 dimensions");
    }
    uint64_t expected = dsmoe_tensor_bytes(t.type, t.shape, path.string() + ": tensor '" + t.name + "'");
    if (t.size != expected) {
      bad_declaration(path, "tensor '" + t.name + "': declared size " + std::to_string(t.size) +
                                " but type " + qtype_name(t.type) + " and its shape need " +
                                std::to_string(expected) + " bytes");
    }
    bool starts_block = false;
    if (t.expert >= 0) {
      if (t.layer < 0) bad_declaration(path, "tensor '" + t.name + "': an expert needs a layer");
      const TensorInfo* prev = i > 0 ? &tensors[i - 1] : nullptr;
      starts_block = !prev || prev->layer != t.layer || prev->expert != t.expert;
      if (starts_block) {
        if (prev && prev->expert >= 0) finished_experts.insert({prev->layer, prev->expert});
        if (finished_experts.count({t.layer, t.expert})) {
          bad_declaration(path, "tensor '" + t.name + "': the tensors of layer " +
                                    std::to_string(t.layer) + " expert " + std::to_string(t.expert) +
                                    " must be declared consecutively");
        }
        auto last = last_expert_of_layer.find(t.layer);
        if (last != last_expert_of_layer.end() && last->second > t.expert) {
          bad_declaration(path, "tensor '" + t.name + "': layer " + std::to_string(t.layer) +
                                    " experts must come in increasing expert id (" +
                                    std::to_string(t.expert) + " after " +
                                    std::to_string(last->second) + ")");
        }
        last_expert_of_layer[t.layer] = t.expert;
      }
    } else if (i > 0 && tensors[i - 1].expert >= 0) {
      finished_experts.insert({tensors[i - 1].layer, tensors[i - 1].expert});
    }
    pos = layout::align_up(pos, starts_block ? kExpertAlign : kTensorAlign);
    t.offset = pos;
    t.checksum = 0;
    pos += t.size;
  }
  return pos;
}

}  // namespace

DsmoeWriter::DsmoeWriter(const std::filesystem::path& path, std::string_view metadata_json,
                         const std::vector<std::pair<std::string, std::string>>& embedded_files,
                         std::vector<DsmoeTensorSpec> specs, bool overwrite)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  // A file whose metadata no reader accepts must not be written in the first place.
  try {
    json::Document doc = json::Document::parse(metadata_json, "metadata");
    if (!doc.root().is_object()) bad_declaration(path, "metadata must be a JSON object");
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidArgument) throw;
    bad_declaration(path, e.what());
  }
  m.tensors.reserve(specs.size());
  for (DsmoeTensorSpec& s : specs) {
    TensorInfo t;
    t.name = std::move(s.name);
    t.type = s.type;
    t.shape = std::move(s.shape);
    t.size = s.size;
    t.layer = s.layer;
    t.expert = s.expert;
    m.tensors.push_back(std::move(t));
  }

  // Structural parts first: header, metadata, embedded-file table, directory, file contents.
  std::vector<layout::EmbeddedFile> files;
  std::set<std::string_view> file_names;
  for (const auto& [name, content] : embedded_files) {
    if (name.empty() || !file_names.insert(name).second) {
      bad_declaration(path, "embedded file name '" + name + "' is empty or repeated");
    }
    files.push_back({name, 0, content.size(), dsmoe_checksum(content.data(), content.size())});
  }
  layout::Header& h = m.header;
  h.metadata_offset = kDsmoeHeaderSize;
  h.metadata_size = metadata_json.size();
  h.files_offset = h.metadata_offset + h.metadata_size;
  h.files_size = layout::encode_files(files).size();
  h.directory_offset = h.files_offset + h.files_size;
  h.directory_size = layout::encode_directory(m.tensors).size();
  uint64_t pos = h.directory_offset + h.directory_size;
  for (layout::EmbeddedFile& f : files) {
    f.offset = layout::align_up(pos, kTensorAlign);
    pos = f.offset + f.size;
  }
  h.data_offset = layout::align_up(pos, kExpertAlign);
  h.file_size = assign_offsets(path, m.tensors, h.data_offset);

  m.out = std::make_unique<OutputFile>(path, overwrite, h.file_size);
  m.out->write(layout::encode_header(h).data(), kDsmoeHeaderSize);
  m.out->write(metadata_json.data(), metadata_json.size());
  std::string table = layout::encode_files(files);
  m.out->write(table.data(), table.size());
  std::string dir = layout::encode_directory(m.tensors);  // checksums patched in at commit()
  m.out->write(dir.data(), dir.size());
  for (size_t i = 0; i < files.size(); ++i) {
    m.out->write_zeros(files[i].offset - m.out->position());
    m.out->write(embedded_files[i].second.data(), embedded_files[i].second.size());
  }
  m.out->write_zeros(h.data_offset - m.out->position());

  m.hash = XXH3_createState();
  if (!m.hash) throw Error(ErrorCode::kInternal, "XXH3_createState failed");
  XXH3_64bits_reset(m.hash);
}

DsmoeWriter::~DsmoeWriter() = default;

const std::vector<TensorInfo>& DsmoeWriter::layout() const { return impl_->tensors; }
uint64_t DsmoeWriter::file_size() const { return impl_->header.file_size; }
const std::filesystem::path& DsmoeWriter::temp_path() const { return impl_->out->temp_path(); }
size_t DsmoeWriter::current_tensor() const {
  Impl& m = *impl_;
  // Skip zero-sized tensors so the index names a tensor that still needs bytes.
  size_t i = m.current;
  while (i < m.tensors.size() && m.current_written == 0 && m.tensors[i].size == 0) ++i;
  return i;
}

void DsmoeWriter::append(const void* data, size_t n) {
  Impl& m = *impl_;
  const char* p = static_cast<const char*>(data);
  while (true) {
    // Close finished tensors (zero-sized ones included) before taking more bytes.
    while (m.current < m.tensors.size() && m.current_written == m.tensors[m.current].size) {
      m.tensors[m.current].checksum = XXH3_64bits_digest(m.hash);
      XXH3_64bits_reset(m.hash);
      ++m.current;
      m.current_written = 0;
    }
    if (n == 0) return;
    if (m.current == m.tensors.size()) {
      throw Error(ErrorCode::kInvalidArgument,
                  m.out->path().string() + ": more tensor bytes appended than declared");
    }
    TensorInfo& t = m.tensors[m.current];
    if (m.current_written == 0) m.out->write_zeros(t.offset - m.out->position());
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, t.size - m.current_written));
    m.out->write(p, k);
    XXH3_64bits_update(m.hash, p, k);
    m.current_written += k;
    p += k;
    n -= k;
  }
}

void DsmoeWriter::commit() {
  Impl& m = *impl_;
  append(nullptr, 0);  // closes trailing zero-sized tensors
  if (m.current != m.tensors.size()) {
    const TensorInfo& t = m.tensors[m.current];
    throw Error(ErrorCode::kInvalidArgument,
                m.out->path().string() + ": commit before all tensor bytes were written (tensor '" +
                    t.name + "' has " + std::to_string(m.current_written) + " of " +
                    std::to_string(t.size) + " bytes)");
  }
  // A trailing zero-sized tensor still has its aligned offset inside the file.
  if (m.out->position() < m.header.file_size) m.out->write_zeros(m.header.file_size - m.out->position());
  if (m.out->position() != m.header.file_size) {
    throw Error(ErrorCode::kInternal, m.out->path().string() + ": written size differs from the layout");
  }
  std::string dir = layout::encode_directory(m.tensors);
  m.out->write_at(m.header.directory_offset, dir.data(), dir.size());
  m.out->commit();
}

}  // namespace dsmoe
