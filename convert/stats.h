#pragma once
// Parameters and bytes per tensor role, for the converter's summary and `dsmoe info`.
#include <array>
#include <cstdint>
#include <string>

#include "model/schema.h"  // TensorRole
#include "util/json.h"     // json::Writer

namespace dsmoe {

inline constexpr int kTensorRoleCount = static_cast<int>(TensorRole::kMtp) + 1;

struct ComponentStats {
  struct Entry {
    uint64_t params = 0;
    uint64_t bytes = 0;
    int64_t tensors = 0;
    double bits_per_weight() const { return params ? 8.0 * static_cast<double>(bytes) / static_cast<double>(params) : 0.0; }
  };
  std::array<Entry, kTensorRoleCount> by_role{};

  void add(TensorRole role, uint64_t params, uint64_t bytes) {
    Entry& e = by_role[static_cast<int>(role)];
    e.params += params;
    e.bytes += bytes;
    e.tensors += 1;
  }
  const Entry& operator[](TensorRole role) const { return by_role[static_cast<int>(role)]; }
  Entry total() const {
    Entry t;
    for (const Entry& e : by_role) {
      t.params += e.params;
      t.bytes += e.bytes;
      t.tensors += e.tensors;
    }
    return t;
  }
};

// A table: one line per non-empty role (parameters, size, bits per weight), then the total.
std::string format_component_table(const ComponentStats& stats);
// {"attention": {"tensors": n, "params": n, "bytes": n, "bits_per_weight": x}, ..., "total": {...}}
void write_component_json(json::Writer& w, const ComponentStats& stats);

}  // namespace dsmoe
