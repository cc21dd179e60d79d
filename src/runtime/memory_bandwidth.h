#pragma once
// This machine's memory read bandwidth, measured the way decode reads weights: every thread
// streams its own contiguous slice of a buffer far larger than the last-level cache. `dsmoe bench`
// compares the bandwidth its decode achieves with this number, measured in the same run and with
// the same thread count, since on a shared or virtual machine the bandwidth varies between runs.
#include <cstddef>

namespace dsmoe {

struct ReadBandwidth {
  double best_gbps = 0;    // the fastest pass (10^9 bytes per second)
  double median_gbps = 0;
};

// Allocates `bytes` (rounded down to a multiple of 4 KiB), writes it once from the reading threads
// (so pages are placed where they will be read), then times `passes` full reads with `threads`
// OpenMP threads. Throws Error(kInvalidArgument) for threads < 1, passes < 1 or bytes < 1 MiB.
ReadBandwidth measure_read_bandwidth(int threads, size_t bytes = size_t{1} << 30, int passes = 5);

}  // namespace dsmoe
