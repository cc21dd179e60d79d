#include "convert/pack.h"

#include <omp.h>

#include <algorithm>  // max, min
#include <cstddef>    // byte
#include <exception>  // exception_ptr
#include <future>     // async, future
#include <vector>     // vector

#include "format/dsmoe_file.h"  // DsmoeWriter
#include "util/error.h"         // Error
#include "util/progress.h"      // Progress

namespace dsmoe {
namespace {

// How far ahead of the tensor being packed the source is asked to read (OS read-ahead).
constexpr uint64_t kPrefetchBytes = uint64_t{256} << 20;

std::vector<DsmoeTensorSpec> writer_specs(const std::vector<PlannedTensor>& plan) {
  std::vector<DsmoeTensorSpec> specs;
  specs.reserve(plan.size());
  for (const PlannedTensor& p : plan) {
    specs.push_back({p.spec.name, p.type, p.spec.shape, p.bytes, p.spec.layer, p.spec.expert});
  }
  return specs;
}

// Converts rows [0, n) of a chunk (f32 in `src`, filled here from the source) into `dst`, which
// is laid out as a standalone [n, cols] tensor: every layout is tile after tile, so a chunk that
// starts on a tile boundary has exactly those bytes inside the whole tensor. The parts run on
// threads that block when done rather than OpenMP's, whose idle threads spin: on a machine
// shared with other work (or with the writer thread) that spinning took a third of the CPU.
void convert_chunk(const PlannedTensor& p, const TensorSource& source, int64_t r0, int64_t n,
                   int threads, ScaleSearch search, float* src, std::byte* dst) {
  const int64_t cols = p.cols();
  const int64_t tile = qtype_row_tile(p.type);
  const int64_t tiles = (n + tile - 1) / tile;
  const int parts = static_cast<int>(std::min<int64_t>(threads, tiles));
  auto convert_part = [&](int part) {
    const int64_t s0 = std::min(n, tiles * part / parts * tile);
    const int64_t s1 = std::min(n, tiles * (part + 1) / parts * tile);
    if (s0 >= s1) return;
    source.read_rows(p.spec, r0 + s0, r0 + s1, src + s0 * cols);
    quantize_rows(p.type, src + s0 * cols, s0, s1, n, cols, dst, search);
  };
  std::vector<std::future<void>> others;
  for (int part = 1; part < parts; ++part) {
    others.push_back(std::async(std::launch::async, convert_part, part));
  }
  std::exception_ptr failure;
  try {
    convert_part(0);
  } catch (...) {
    failure = std::current_exception();
  }
  for (std::future<void>& f : others) {
    try {
      f.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

int64_t chunk_rows(int64_t cols, int64_t tile) {
  const int64_t rows = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(cols, 1));
  return std::max(tile, rows / tile * tile);
}

PackResult pack_dsmoe(const std::vector<PlannedTensor>& plan, const TensorSource& source,
                      const std::string& metadata_json,
                      const std::vector<std::pair<std::string, std::string>>& embedded_files,
                      const PackOptions& options) {
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  DsmoeWriter writer(options.output, metadata_json, embedded_files, writer_specs(plan), options.force);

  uint64_t source_total = 0, output_total = 0;
  for (const PlannedTensor& p : plan) {
    source_total += source.source_bytes_per_row(p.spec) * static_cast<uint64_t>(p.rows());
    output_total += p.bytes;
  }
  // Generated sources have no input bytes: progress then counts output bytes.
  const bool count_source = source_total > 0;
  Progress::Options popts;
  popts.quiet = !options.progress;
  popts.item_name = "tensors";
  Progress progress(options.label, plan.size(), count_source ? source_total : output_total, popts);

  // Two output buffers: the threads quantize chunk k into one while a writer thread appends chunk
  // k-1 from the other (the write's copy into the page cache and its checksum take a core's
  // share, and a full page cache makes write() wait for the disk).
  std::vector<float> src;
  std::vector<std::byte> dst[2];
  std::future<void> pending_write;  // declared after the buffers: destroyed (awaited) first
  int slot = 0;
  size_t prefetched = 0;  // plan[0, prefetched) have been handed to source.prefetch
  uint64_t prefetched_bytes = 0, done_bytes = 0;
  for (const PlannedTensor& p : plan) {
    while (prefetched < plan.size() && prefetched_bytes < done_bytes + kPrefetchBytes) {
      const PlannedTensor& next = plan[prefetched++];
      source.prefetch(next.spec);
      prefetched_bytes += source.source_bytes_per_row(next.spec) * static_cast<uint64_t>(next.rows());
    }
    const int64_t rows = p.rows(), cols = p.cols();
    const int64_t step = chunk_rows(cols, qtype_row_tile(p.type));
    const uint64_t row_bytes = source.source_bytes_per_row(p.spec);
    uint64_t written = 0;
    for (int64_t r0 = 0; r0 < rows; r0 += step) {
      const int64_t n = std::min(step, rows - r0);
      const size_t out_bytes = qtensor_bytes(p.type, n, cols);
      src.resize(static_cast<size_t>(n * cols));
      dst[slot].resize(out_bytes);
      convert_chunk(p, source, r0, n, threads, options.scale_search, src.data(), dst[slot].data());
      if (pending_write.valid()) pending_write.get();  // in order, and frees the other buffer
      pending_write = std::async(std::launch::async, [&writer, &out = dst[slot], out_bytes] {
        writer.append(out.data(), out_bytes);
      });
      slot ^= 1;
      written += out_bytes;
      const uint64_t in_bytes = row_bytes * static_cast<uint64_t>(n);
      done_bytes += in_bytes;
      progress.add_bytes(count_source ? in_bytes : out_bytes);
    }
    if (written != p.bytes) {
      throw Error(ErrorCode::kInternal, "packing " + p.spec.name + ": chunks gave " + std::to_string(written) +
                                            " bytes, expected " + std::to_string(p.bytes) +
                                            " (the type's layout is not tile after tile)");
    }
    progress.add(1, 0);
  }
  if (pending_write.valid()) pending_write.get();
  writer.commit();

  PackResult r;
  r.seconds = progress.finish();
  r.file_bytes = writer.file_size();
  r.source_bytes = source_total;
  r.tensors = static_cast<int64_t>(plan.size());
  r.components = plan_stats(plan);
  return r;
}

}  // namespace dsmoe
