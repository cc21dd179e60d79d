#include "convert/plan.h"

#include <map>  // map

#include "util/json.h"  // json::Writer

namespace dsmoe {

std::vector<PlannedTensor> plan_tensors(const std::vector<TensorSpec>& schema, const QuantRecipe& recipe) {
  std::vector<PlannedTensor> plan;
  plan.reserve(schema.size());
  for (const TensorSpec& s : schema) {
    PlannedTensor p{s, recipe.type_for(s), 0};
    p.bytes = qtensor_bytes(p.type, p.rows(), p.cols());
    plan.push_back(std::move(p));
  }
  return plan;
}

ComponentStats plan_stats(const std::vector<PlannedTensor>& plan) {
  ComponentStats stats;
  for (const PlannedTensor& p : plan) stats.add(p.spec.role, p.elements(), p.bytes);
  return stats;
}

std::string plan_metadata_json(const ModelConfig& config, const QuantRecipe& recipe,
                               const std::vector<PlannedTensor>& plan, const std::string& source_json) {
  std::map<std::string, std::map<std::string, int64_t>> by_role;
  for (const PlannedTensor& p : plan) ++by_role[to_string(p.spec.role)][qtype_name(p.type)];
  json::Writer w;
  w.begin_object();
  w.key("config").raw(config.to_json());
  json::Document recipe_doc = json::Document::parse(recipe.to_json(), "recipe");
  w.key("quantization").begin_object();
  for (auto [k, v] : recipe_doc.root_object()) w.key(k).raw(json::to_string(v));
  w.key("types_by_role").begin_object();
  for (const auto& [role, types] : by_role) {
    w.key(role).begin_object();
    for (const auto& [type, n] : types) w.key(type).value(n);
    w.end_object();
  }
  w.end_object();
  w.end_object();
  w.key("converter").value(std::string("dsmoe ") + DSMOE_VERSION_STRING);
  w.key("source").raw(source_json);
  w.end_object();
  return w.str();
}

}  // namespace dsmoe
