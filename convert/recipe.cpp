#include "convert/recipe.h"

#include "util/error.h"  // Error
#include "util/json.h"   // json::Writer

namespace dsmoe {

bool always_f32(const TensorSpec& t) {
  return t.shape.size() != 2 || t.role == TensorRole::kNorm || t.role == TensorRole::kRouter ||
         t.role == TensorRole::kRouterBias;
}

const char* scale_search_name(ScaleSearch s) {
  return s == ScaleSearch::kAbsmax ? "absmax" : "mse";
}

std::optional<ScaleSearch> parse_scale_search(std::string_view s) {
  if (s == "mse") return ScaleSearch::kMse;
  if (s == "absmax") return ScaleSearch::kAbsmax;
  return std::nullopt;
}

const std::vector<std::string>& QuantRecipe::names() {
  static const std::vector<std::string> n = {"f32", "bf16", "q8", "q4", "q4-all"};
  return n;
}

const char* QuantRecipe::names_help() {
  return "f32, bf16, q8 (every matrix q8), q4 (routed experts q4, other matrices q8) or q4-all (every matrix "
         "q4, 4.5 bits per weight)";
}

QuantRecipe QuantRecipe::named(std::string_view name) {
  QuantRecipe r;
  r.name_ = std::string(name);
  if (name == "f32") {
    r.matrices_ = r.routed_experts_ = QType::kF32;
  } else if (name == "bf16") {
    r.matrices_ = r.routed_experts_ = QType::kBF16;
  } else if (name == "q8") {
    r.matrices_ = r.routed_experts_ = QType::kQ8;
  } else if (name == "q4") {
    r.matrices_ = QType::kQ8;
    r.routed_experts_ = QType::kQ4;
  } else if (name == "q4-all") {
    r.matrices_ = r.routed_experts_ = QType::kQ4;
  } else {
    throw Error(ErrorCode::kInvalidArgument,
                "unknown quantization recipe '" + r.name_ + "' (expected " + names_help() + ")");
  }
  return r;
}

void QuantRecipe::add_override(std::string_view spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    throw Error(ErrorCode::kInvalidArgument,
                "--tensor-type '" + std::string(spec) + "': expected REGEX=TYPE, e.g. 'mlp\\.experts\\.=q8'");
  }
  std::string pattern(spec.substr(0, eq));
  std::string_view type_name = spec.substr(eq + 1);
  auto type = parse_qtype(type_name);
  if (!type) {
    throw Error(ErrorCode::kInvalidArgument, "--tensor-type '" + std::string(spec) + "': unknown type '" +
                                                 std::string(type_name) + "' (expected f32, bf16, q8 or q4)");
  }
  try {
    overrides_.push_back({pattern, std::regex(pattern, std::regex::ECMAScript), *type});
  } catch (const std::regex_error& e) {
    throw Error(ErrorCode::kInvalidArgument,
                "--tensor-type '" + std::string(spec) + "': bad regular expression: " + e.what());
  }
}

QType QuantRecipe::type_for(const TensorSpec& t) const {
  if (always_f32(t)) return QType::kF32;
  QType type = t.role == TensorRole::kRoutedExpert ? routed_experts_ : matrices_;
  for (const Override& o : overrides_) {
    if (std::regex_search(t.name, o.re)) type = o.type;  // later overrides win
  }
  return type;
}

std::string QuantRecipe::to_json() const {
  json::Writer w;
  w.begin_object();
  w.key("recipe").value(name_);
  w.key("overrides").begin_array();
  for (const Override& o : overrides_) {
    w.begin_object().key("pattern").value(o.pattern).key("type").value(qtype_name(o.type)).end_object();
  }
  w.end_array();
  w.key("scale_search").value(scale_search_name(scale_search_));
  w.end_object();
  return w.str();
}

}  // namespace dsmoe
