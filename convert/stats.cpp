#include "convert/stats.h"

#include <cinttypes>  // PRId64
#include <cstdio>     // snprintf

namespace dsmoe {
namespace {

std::string table_line(const char* name, const ComponentStats::Entry& e) {
  char line[160];
  std::snprintf(line, sizeof line, "  %-14s %6" PRId64 " tensors %14.3f M params %11.3f MB %7.3f bits/weight\n",
                name, e.tensors, static_cast<double>(e.params) / 1e6, static_cast<double>(e.bytes) / 1e6,
                e.bits_per_weight());
  return line;
}

void entry_json(json::Writer& w, const ComponentStats::Entry& e) {
  w.begin_object();
  w.key("tensors").value(e.tensors);
  w.key("params").value(e.params);
  w.key("bytes").value(e.bytes);
  w.key("bits_per_weight").value(e.bits_per_weight());
  w.end_object();
}

}  // namespace

std::string format_component_table(const ComponentStats& stats) {
  std::string out;
  for (int r = 0; r < kTensorRoleCount; ++r) {
    const ComponentStats::Entry& e = stats.by_role[r];
    if (e.tensors > 0) out += table_line(to_string(static_cast<TensorRole>(r)), e);
  }
  out += table_line("total", stats.total());
  return out;
}

void write_component_json(json::Writer& w, const ComponentStats& stats) {
  w.begin_object();
  for (int r = 0; r < kTensorRoleCount; ++r) {
    const ComponentStats::Entry& e = stats.by_role[r];
    if (e.tensors == 0) continue;
    w.key(to_string(static_cast<TensorRole>(r)));
    entry_json(w, e);
  }
  w.key("total");
  entry_json(w, stats.total());
  w.end_object();
}

}  // namespace dsmoe
