#include "convert/convert.h"

#include <cinttypes>  // PRIu64
#include <cstdio>     // snprintf
#include <fstream>    // ifstream
#include <map>        // map
#include <sstream>    // ostringstream

#include "convert/pack.h"                // pack_dsmoe
#include "convert/plan.h"                // plan_tensors
#include "convert/recipe.h"              // QuantRecipe
#include "convert/safetensors_source.h"  // SafetensorsSource
#include "format/safetensors.h"          // SafetensorsReader
#include "model/config.h"                // ModelConfig
#include "model/schema.h"                // model_schema
#include "util/error.h"                  // Error
#include "util/json.h"                   // json::Document, json::Writer

namespace dsmoe {
namespace fs = std::filesystem;

namespace {

// Files embedded verbatim in the .dsmoe when the checkpoint folder has them.
constexpr const char* kEmbeddedFiles[] = {"tokenizer.json", "tokenizer_config.json"};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) throw Error(ErrorCode::kIo, path.string() + ": read failed");
  return ss.str();
}

// True when the checkpoint carries at least one tensor of the multi-token-prediction layers.
bool has_mtp_tensors(const SafetensorsReader& reader, const ModelConfig& c) {
  const std::string prefix = "model.layers." + std::to_string(c.num_hidden_layers) + ".";
  for (const StTensor* t : reader.tensors()) {
    if (t->name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string source_json(const fs::path& dir, const SafetensorsReader& reader) {
  std::map<std::string, int64_t> dtypes;
  for (const StTensor* t : reader.tensors()) ++dtypes[st_dtype_name(t->dtype)];
  json::Writer w;
  w.begin_object();
  w.key("format").value("huggingface-safetensors");
  w.key("folder").value(fs::absolute(dir).lexically_normal().filename().string());
  w.key("files").begin_array();
  for (const fs::path& f : reader.files()) {
    std::error_code ec;
    const uint64_t size = fs::file_size(f, ec);
    w.begin_object().key("name").value(f.filename().string()).key("bytes").value(ec ? uint64_t{0} : size).end_object();
  }
  w.end_array();
  w.key("dtypes").begin_object();
  for (const auto& [name, n] : dtypes) w.key(name).value(n);
  w.end_object();
  w.key("tensor_bytes").value(reader.total_bytes());
  w.end_object();
  return w.str();
}

void notice(const ConvertOptions& o, const std::string& text) {
  if (o.notice) o.notice(text);
}

}  // namespace

ConvertSummary convert_checkpoint(const ConvertOptions& options) {
  const fs::path dir = options.input;
  if (!fs::is_directory(dir)) {
    throw Error(ErrorCode::kIo, dir.string() + ": not a directory (expected a Hugging Face checkpoint folder)");
  }
  if (options.output.empty()) throw Error(ErrorCode::kInvalidArgument, "no output file given");
  if (fs::exists(options.output) && !options.force) {
    throw Error(ErrorCode::kIo, options.output.string() + ": already exists (use --force to overwrite)");
  }
  if (fs::is_directory(options.output)) {
    throw Error(ErrorCode::kIo, options.output.string() + ": is a directory, expected a file name");
  }
  QuantRecipe recipe = QuantRecipe::named(options.quant);
  for (const std::string& spec : options.tensor_types) recipe.add_override(spec);
  recipe.set_scale_search(options.scale_search);

  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path)) throw Error(ErrorCode::kIo, config_path.string() + ": not found");
  json::Document config_doc = json::Document::load(config_path);
  ModelConfig config = ModelConfig::from_json(config_doc.root_object(), config_path.string());

  SafetensorsReader reader(dir);
  if (config.num_nextn_predict_layers > 0 && (!options.include_mtp || !has_mtp_tensors(reader, config))) {
    if (options.include_mtp) {
      notice(options, "the checkpoint has no multi-token-prediction layer (num_nextn_predict_layers " +
                          std::to_string(config.num_nextn_predict_layers) + "): converting without it");
    }
    config.num_nextn_predict_layers = 0;
  }
  const std::vector<TensorSpec> schema = model_schema(config);
  SafetensorsSource source(reader, schema, dir.string());
  if (std::vector<std::string> unused = source.unused_tensors(); !unused.empty()) {
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", " : "") + unused[i];
    if (unused.size() > 5) list += ", ...";
    notice(options, "ignoring " + std::to_string(unused.size()) + " checkpoint tensor(s) the model does not use: " + list);
  }

  std::vector<std::pair<std::string, std::string>> embedded;
  for (const char* name : kEmbeddedFiles) {
    if (fs::exists(dir / name)) embedded.emplace_back(name, read_file(dir / name));
  }

  const std::vector<PlannedTensor> plan = plan_tensors(schema, recipe);
  PackOptions pack;
  pack.output = options.output;
  pack.force = options.force;
  pack.threads = options.threads;
  pack.progress = options.progress;
  pack.label = "convert";
  pack.scale_search = recipe.scale_search();
  PackResult r = pack_dsmoe(plan, source, plan_metadata_json(config, recipe, plan, source_json(dir, reader)),
                            embedded, pack);

  ConvertSummary s;
  s.output = options.output;
  s.file_bytes = r.file_bytes;
  s.input_bytes = r.source_bytes;
  s.seconds = r.seconds;
  s.tensors = r.tensors;
  s.components = r.components;
  return s;
}

std::string format_summary(const ConvertSummary& s) {
  char line[256];
  std::string out;
  const double gb = 1e9;
  std::snprintf(line, sizeof line, "wrote %s: %.3f GB, %" PRId64 " tensors, in %.1f s",
                s.output.string().c_str(), static_cast<double>(s.file_bytes) / gb, s.tensors, s.seconds);
  out += line;
  if (s.input_bytes > 0 && s.seconds > 0) {
    std::snprintf(line, sizeof line, " (read %.3f GB at %.2f GB/s)", static_cast<double>(s.input_bytes) / gb,
                  static_cast<double>(s.input_bytes) / gb / s.seconds);
    out += line;
  }
  out += "\n";
  out += format_component_table(s.components);
  return out;
}

}  // namespace dsmoe
