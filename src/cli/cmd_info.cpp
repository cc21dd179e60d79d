// `dsmoe info FILE [--json] [--verify]`: what a .dsmoe file holds: architecture, config, tensors,
// sizes and bits per weight per component, one routed expert's bytes, KV-cache bytes per token,
// embedded files; --verify checks every checksum; --cpu names the CPU features and the kernel
// chosen for each weight type.
#include <cstdio>  // printf
#include <map>     // map
#include <memory>  // make_shared
#include <string>
#include <unordered_map>

#include "cli/commands.h"       // Commands
#include "convert/stats.h"      // ComponentStats
#include "format/dsmoe_file.h"  // DsmoeReader
#include "kernels/kernels.h"     // describe_cpu_and_kernels
#include "model/config.h"       // ModelConfig
#include "model/schema.h"       // model_schema
#include "util/json.h"          // json::Writer
#include "util/progress.h"      // Progress

namespace dsmoe::cli {
namespace {

struct InfoArgs {
  std::string file;
  bool json = false;
  bool verify = false;
  bool cpu = false;
};

// Everything `info` reports, computed once for both output forms.
struct FileReport {
  ModelConfig config;
  ComponentStats components;
  std::map<std::string, int64_t> tensors_by_type;
  int64_t unknown_tensors = 0;  // in the file but not in the config's schema
  uint64_t expert_bytes = 0;    // one routed expert's block (gate, up, down), 0 without experts
  int64_t moe_layers = 0;
  int64_t kv_values_per_token = 0;  // all layers
};

FileReport describe(const DsmoeReader& reader) {
  FileReport r;
  r.config = ModelConfig::from_json_text(reader.config_json(), reader.path() + " (metadata config)");
  std::unordered_map<std::string, TensorRole> roles;
  for (const TensorSpec& s : model_schema(r.config)) roles.emplace(s.name, s.role);
  for (const TensorInfo& t : reader.tensors()) {
    ++r.tensors_by_type[qtype_name(t.type)];
    auto it = roles.find(t.name);
    if (it == roles.end()) {
      ++r.unknown_tensors;
      continue;
    }
    r.components.add(it->second, static_cast<uint64_t>(t.elements()), t.size);
  }
  if (!reader.expert_blocks().empty()) r.expert_bytes = reader.expert_blocks().front().size;
  for (int64_t l = 0; l < r.config.num_hidden_layers; ++l) r.moe_layers += r.config.is_moe_layer(l);
  r.kv_values_per_token = r.config.kv_values_per_token_per_layer() * r.config.num_hidden_layers;
  return r;
}

void print_json(const DsmoeReader& reader, const FileReport& r, bool verified, bool cpu) {
  json::Writer w(true);
  w.begin_object();
  w.key("file").value(reader.path());
  w.key("file_bytes").value(reader.file_size());
  w.key("format_version").value(std::to_string(reader.version_major()) + "." + std::to_string(reader.version_minor()));
  w.key("architecture").value(to_string(r.config.arch));
  w.key("metadata").raw(reader.metadata_text());
  w.key("tensor_count").value(static_cast<int64_t>(reader.tensors().size()));
  w.key("tensors_by_type").begin_object();
  for (const auto& [type, n] : r.tensors_by_type) w.key(type).value(n);
  w.end_object();
  w.key("tensors_not_in_schema").value(r.unknown_tensors);
  w.key("components");
  write_component_json(w, r.components);
  w.key("routed_expert_bytes").value(r.expert_bytes);
  w.key("moe_layers").value(r.moe_layers);
  w.key("kv_cache").begin_object();
  w.key("values_per_token").value(r.kv_values_per_token);
  w.key("bytes_per_token_f32").value(r.kv_values_per_token * 4);
  w.key("bytes_per_token_bf16").value(r.kv_values_per_token * 2);
  w.end_object();
  w.key("embedded_files").begin_object();
  for (const std::string& name : reader.embedded_file_names()) {
    w.key(name).value(static_cast<uint64_t>(reader.embedded_file(name)->size()));
  }
  w.end_object();
  if (verified) w.key("checksums_verified").value(true);
  if (cpu) w.key("cpu").value(describe_cpu_and_kernels());
  w.end_object();
  std::printf("%s\n", w.str().c_str());
}

void print_text(const DsmoeReader& reader, const FileReport& r) {
  const ModelConfig& c = r.config;
  std::printf("file          %s (%.3f GB, format %u.%u)\n", reader.path().c_str(),
              static_cast<double>(reader.file_size()) / 1e9, reader.version_major(), reader.version_minor());
  std::printf("architecture  %s (model_type %s)\n", to_string(c.arch), c.model_type.c_str());
  json::Object meta = reader.metadata();
  for (const char* key : {"converter", "quantization", "source"}) {
    if (json::has(meta, key)) std::printf("%-13s %s\n", key, json::to_string(meta[key].value()).c_str());
  }
  std::printf("config\n");
  json::Document config = json::Document::parse(reader.config_json(), "config");
  for (auto [key, value] : config.root_object()) {
    std::printf("  %-32.*s %s\n", static_cast<int>(key.size()), key.data(), json::to_string(value).c_str());
  }
  std::printf("tensors       %zu (", reader.tensors().size());
  const char* sep = "";
  for (const auto& [type, n] : r.tensors_by_type) {
    std::printf("%s%s %lld", sep, type.c_str(), static_cast<long long>(n));
    sep = ", ";
  }
  std::printf(")%s\n", r.unknown_tensors ? (", " + std::to_string(r.unknown_tensors) + " not in the schema").c_str() : "");
  std::printf("components\n%s", format_component_table(r.components).c_str());
  if (r.expert_bytes) {
    std::printf("routed expert %llu bytes (gate, up, down; %lld experts in each of %lld MoE layers, %lld active)\n",
                static_cast<unsigned long long>(r.expert_bytes), static_cast<long long>(c.n_routed_experts),
                static_cast<long long>(r.moe_layers), static_cast<long long>(c.num_experts_per_tok));
  }
  std::printf("KV cache      %lld values per token (%lld per layer x %lld layers): %lld bytes f32, %lld bytes bf16\n",
              static_cast<long long>(r.kv_values_per_token), static_cast<long long>(c.kv_values_per_token_per_layer()),
              static_cast<long long>(c.num_hidden_layers), static_cast<long long>(r.kv_values_per_token * 4),
              static_cast<long long>(r.kv_values_per_token * 2));
  std::printf("embedded      ");
  sep = "";
  for (const std::string& name : reader.embedded_file_names()) {
    std::printf("%s%s (%zu bytes)", sep, name.c_str(), reader.embedded_file(name)->size());
    sep = ", ";
  }
  std::printf("%s\n", *sep ? "" : "none");
}

int run_info(const InfoArgs& a) {
  if (a.file.empty()) {  // `dsmoe info --cpu` alone
    std::printf("%s\n", describe_cpu_and_kernels().c_str());
    return 0;
  }
  DsmoeReader reader(a.file);
  const FileReport report = describe(reader);
  if (a.verify) {
    uint64_t total = 0;
    for (const TensorInfo& t : reader.tensors()) total += t.size;
    Progress::Options popts;
    popts.quiet = a.json;
    Progress progress("verify", reader.tensors().size(), total, popts);
    uint64_t last = 0;
    reader.verify_checksums([&](uint64_t done, uint64_t) {
      progress.add_bytes(done - last);
      last = done;
    });
    progress.finish();
  }
  if (a.json) {
    print_json(reader, report, a.verify, a.cpu);
  } else {
    print_text(reader, report);
    if (a.verify) std::printf("checksums     all %zu tensors verified\n", reader.tensors().size());
    if (a.cpu) std::printf("cpu\n%s\n", describe_cpu_and_kernels().c_str());
  }
  return 0;
}

}  // namespace

void add_info(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand("info", "Describe a .dsmoe file: config, tensors, sizes, bits per weight");
  CLI::Option* file = sub->add_option("FILE", args->file, "The .dsmoe file (optional with --cpu)");
  sub->add_flag("--json", args->json, "Print everything as JSON");
  sub->add_flag("--verify", args->verify, "Check every tensor's checksum");
  CLI::Option* cpu = sub->add_flag("--cpu", args->cpu, "Print the CPU features and the kernel chosen per weight type");
  sub->callback([file, cpu] {
    if (file->count() == 0 && cpu->count() == 0) throw CLI::RequiredError("FILE");
  });
  commands.push_back({sub, [args] { return run_info(*args); }});
}

}  // namespace dsmoe::cli
