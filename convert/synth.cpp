#include "convert/synth.h"

#include <omp.h>

#include <algorithm>  // min, sort
#include <cstdlib>    // getenv
#include <fstream>    // ofstream
#include <map>        // map

#include "convert/pack.h"          // pack_dsmoe, chunk_rows
#include "convert/plan.h"          // plan_tensors
#include "convert/recipe.h"        // QuantRecipe
#include "convert/synth_values.h"  // synth_rows
#include "format/safetensors.h"    // SafetensorsWriter
#include "model/config.h"          // ModelConfig
#include "model/schema.h"          // model_schema
#include "util/error.h"            // Error
#include "util/half.h"             // f32_to_bf16, bf16_to_f32
#include "util/json.h"             // json::Writer
#include "util/progress.h"         // Progress

namespace dsmoe {
namespace fs = std::filesystem;

namespace {

int64_t rows_of(const TensorSpec& t) { return t.shape.size() == 2 ? t.shape[0] : 1; }
int64_t cols_of(const TensorSpec& t) { return t.shape.empty() ? 0 : t.shape.back(); }

// Generated values rounded to bf16, the precision of the --hf-out checkpoint.
class SynthSource : public TensorSource {
 public:
  explicit SynthSource(uint64_t seed) : seed_(seed) {}
  void read_rows(const TensorSpec& t, int64_t r0, int64_t r1, float* out) const override {
    synth_rows(t, seed_, r0, r1, out);
    const int64_t n = (r1 - r0) * cols_of(t);
    for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(f32_to_bf16(out[i]));
  }
  uint64_t source_bytes_per_row(const TensorSpec&) const override { return 0; }

 private:
  uint64_t seed_;
};

std::string synth_source_json(const SynthOptions& o) {
  json::Writer w;
  w.begin_object();
  w.key("format").value("synthetic");
  w.key("config").value(o.config_source);
  w.key("seed").value(o.seed);
  w.end_object();
  return w.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(ErrorCode::kIo, path.string() + ": write failed");
}

// One shard: consecutive schema tensors [begin, end).
struct Shard {
  size_t begin = 0, end = 0;
  uint64_t bytes = 0;
  std::string file;
};

std::vector<Shard> plan_shards(const std::vector<TensorSpec>& schema, uint64_t shard_bytes) {
  std::vector<Shard> shards;
  for (size_t i = 0; i < schema.size(); ++i) {
    const uint64_t bytes = 2 * static_cast<uint64_t>(rows_of(schema[i]) * cols_of(schema[i]));
    if (shards.empty() || (shards.back().bytes > 0 && shards.back().bytes + bytes > shard_bytes)) {
      shards.push_back({i, i, 0, {}});
    }
    shards.back().end = i + 1;
    shards.back().bytes += bytes;
  }
  char name[64];
  for (size_t s = 0; s < shards.size(); ++s) {
    if (shards.size() == 1) {
      shards[s].file = "model.safetensors";
    } else {
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
      shards[s].file = name;
    }
  }
  return shards;
}

// Streams the bf16 values of schema[shard.begin, shard.end) into one safetensors file.
void write_shard(const fs::path& path, const std::vector<TensorSpec>& schema, const Shard& shard,
                 const SynthOptions& o, int threads, Progress& progress) {
  std::vector<SafetensorsWriter::Entry> entries;
  for (size_t i = shard.begin; i < shard.end; ++i) entries.push_back({schema[i].name, StDtype::kBF16, schema[i].shape});
  SafetensorsWriter writer(path, std::move(entries), {{"format", "pt"}}, o.force);
  std::vector<float> values;
  std::vector<uint16_t> bf16;
  for (size_t i = shard.begin; i < shard.end; ++i) {
    const TensorSpec& t = schema[i];
    const int64_t rows = rows_of(t), cols = cols_of(t);
    const int64_t step = chunk_rows(cols, 1);
    for (int64_t r0 = 0; r0 < rows; r0 += step) {
      const int64_t n = std::min(step, rows - r0);
      values.resize(static_cast<size_t>(n * cols));
      bf16.resize(values.size());
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t r = 0; r < n; ++r) {
        float* v = values.data() + r * cols;
        synth_rows(t, o.seed, r0 + r, r0 + r + 1, v);
        for (int64_t c = 0; c < cols; ++c) bf16[static_cast<size_t>(r * cols + c)] = f32_to_bf16(v[c]);
      }
      writer.append(bf16.data(), bf16.size() * 2);
      progress.add_bytes(bf16.size() * 2);
    }
    progress.add(1, 0);
  }
  writer.commit();
}

SynthSummary write_hf(const ModelConfig& config, const SynthOptions& o, int threads) {
  const fs::path dir = o.hf_out;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw Error(ErrorCode::kIo, dir.string() + ": exists and is not a directory");
  if (fs::exists(dir) && !fs::is_empty(dir) && !o.force) {
    throw Error(ErrorCode::kIo, dir.string() + ": exists and is not empty (use --force to overwrite)");
  }
  fs::create_directories(dir);
  const std::vector<TensorSpec> schema = model_schema(config);
  const std::vector<Shard> shards = plan_shards(schema, o.shard_bytes);
  uint64_t total = 0;
  for (const Shard& s : shards) total += s.bytes;

  Progress::Options popts;
  popts.quiet = !o.progress;
  popts.item_name = "tensors";
  Progress progress("synth", schema.size(), total, popts);
  // config.json last: a folder interrupted part-way has no config and is not a checkpoint.
  fs::remove(dir / "config.json");
  for (const Shard& s : shards) write_shard(dir / s.file, schema, s, o, threads, progress);
  if (shards.size() > 1) {
    json::Writer w(true);
    w.begin_object();
    w.key("metadata").begin_object().key("total_size").value(total).end_object();
    w.key("weight_map").begin_object();
    for (const Shard& s : shards) {
      for (size_t i = s.begin; i < s.end; ++i) w.key(schema[i].name).value(s.file);
    }
    w.end_object();
    w.end_object();
    write_text(dir / "model.safetensors.index.json", w.str() + "\n");
  }
  write_text(dir / "config.json", o.config_json);

  SynthSummary r;
  r.seconds = progress.finish();
  r.path = dir;
  r.bytes = total;
  r.tensors = static_cast<int64_t>(schema.size());
  r.files = static_cast<int>(shards.size());
  for (const TensorSpec& t : schema) {
    const uint64_t n = static_cast<uint64_t>(rows_of(t) * cols_of(t));
    r.components.add(t.role, n, 2 * n);
  }
  return r;
}

SynthSummary write_dsmoe(const ModelConfig& config, const SynthOptions& o, int threads) {
  QuantRecipe recipe = QuantRecipe::named(o.quant);
  for (const std::string& spec : o.tensor_types) recipe.add_override(spec);
  const std::vector<PlannedTensor> plan = plan_tensors(model_schema(config), recipe);
  PackOptions pack;
  pack.output = o.output;
  pack.force = o.force;
  pack.threads = threads;
  pack.progress = o.progress;
  pack.label = "synth";
  SynthSource source(o.seed);
  PackResult p = pack_dsmoe(plan, source, plan_metadata_json(config, recipe, plan, synth_source_json(o)), {}, pack);
  SynthSummary r;
  r.path = o.output;
  r.bytes = p.file_bytes;
  r.seconds = p.seconds;
  r.tensors = p.tensors;
  r.components = p.components;
  return r;
}

}  // namespace

SynthSummary synth_model(const SynthOptions& o) {
  if (o.output.empty() == o.hf_out.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "synth: give exactly one of an output .dsmoe file or a Hugging Face folder");
  }
  if (!o.output.empty() && fs::exists(o.output) && !o.force) {
    throw Error(ErrorCode::kIo, o.output.string() + ": already exists (use --force to overwrite)");
  }
  const ModelConfig config = ModelConfig::from_json_text(o.config_json, o.config_source);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  return o.hf_out.empty() ? write_dsmoe(config, o, threads) : write_hf(config, o, threads);
}

fs::path find_preset(std::string_view name) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("DSMOE_PRESETS")) dirs.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path() / ".." / ".." / "models" / "presets");
    dirs.push_back(exe.parent_path() / ".." / "share" / "dsmoe" / "presets");
  }
  dirs.emplace_back(DSMOE_PRESETS_DIR);
  const std::string file = std::string(name) + ".json";
  for (const fs::path& d : dirs) {
    if (fs::is_regular_file(d / file, ec)) return (d / file).lexically_normal();
  }
  std::vector<std::string> known;
  for (const fs::path& d : dirs) {
    if (!fs::is_directory(d, ec)) continue;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.path().extension() == ".json") known.push_back(e.path().stem().string());
    }
    if (!known.empty()) break;
  }
  std::sort(known.begin(), known.end());
  std::string list;
  for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
  throw Error(ErrorCode::kInvalidArgument, "unknown preset '" + std::string(name) + "'" +
                                               (list.empty() ? std::string(" (no presets directory found)")
                                                             : " (known: " + list + ")"));
}

}  // namespace dsmoe
