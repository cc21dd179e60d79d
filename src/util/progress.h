#pragma once
// A progress line for long operations (conversion, loading, verification): one updating line on
// a terminal with items done/total, GB done/total, GB/s and ETA, e.g.
//   convert  412/1234 tensors  5.10/15.73 GB  0.61 GB/s  ETA 17s
// Silent when stderr is not a terminal or when quiet. Updates are thread-safe and cheap (atomic
// counters; the line is redrawn at most every 100 ms by whichever thread updates).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace dsmoe {

class Progress {
 public:
  struct Options {
    bool quiet = false;             // never draw
    std::FILE* out = nullptr;       // where to draw; nullptr = stderr
    bool force = false;             // draw even when `out` is not a terminal (tests)
    std::string item_name = "items";
  };

  Progress(std::string label, uint64_t total_items, uint64_t total_bytes);
  Progress(std::string label, uint64_t total_items, uint64_t total_bytes, Options options);
  ~Progress();  // clears the line if finish() was not called
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds finished work; thread-safe.
  void add(uint64_t items, uint64_t bytes);
  // Adds bytes only (within an item still in progress); thread-safe.
  void add_bytes(uint64_t bytes) { add(0, bytes); }

  // Clears the progress line and, when drawing, prints `summary` (if not empty) on its own line.
  // Returns the elapsed seconds. Idempotent.
  double finish(std::string_view summary = {});

  bool active() const { return active_; }
  uint64_t items_done() const { return items_.load(std::memory_order_relaxed); }
  uint64_t bytes_done() const { return bytes_.load(std::memory_order_relaxed); }
  double elapsed_seconds() const;
  // The line as it would be drawn now (without the carriage return): also for tests.
  std::string render() const;

 private:
  void maybe_draw();

  std::string label_;
  uint64_t total_items_;
  uint64_t total_bytes_;
  Options options_;
  bool active_ = false;
  bool finished_ = false;
  std::atomic<uint64_t> items_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<int64_t> last_draw_ns_{0};
  std::chrono::steady_clock::time_point start_;
  std::mutex draw_mutex_;
  size_t last_width_ = 0;
};

}  // namespace dsmoe
