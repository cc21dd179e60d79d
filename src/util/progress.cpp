#include "util/progress.h"

#include <unistd.h>  // isatty, fileno

#include <algorithm>  // max

namespace dsmoe {
namespace {

constexpr int64_t kRedrawNs = 100'000'000;  // 10 redraws a second at most

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total_items, uint64_t total_bytes)
    : Progress(std::move(label), total_items, total_bytes, Options{}) {}

Progress::Progress(std::string label, uint64_t total_items, uint64_t total_bytes, Options options)
    : label_(std::move(label)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      options_(std::move(options)),
      start_(std::chrono::steady_clock::now()) {
  if (!options_.out) options_.out = stderr;
  active_ = !options_.quiet && (options_.force || ::isatty(::fileno(options_.out)));
}

Progress::~Progress() {
  if (!finished_) finish();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::render() const {
  const double elapsed = elapsed_seconds();
  const uint64_t items = items_done(), bytes = bytes_done();
  const double gb = static_cast<double>(bytes) / 1e9;
  const double rate = elapsed > 0 ? gb / elapsed : 0;
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%s  %llu/%llu %s  %.2f/%.2f GB  %.2f GB/s", label_.c_str(),
                        static_cast<unsigned long long>(items),
                        static_cast<unsigned long long>(total_items_), options_.item_name.c_str(), gb,
                        static_cast<double>(total_bytes_) / 1e9, rate);
  std::string line(buf, static_cast<size_t>(std::max(n, 0)));
  if (bytes > 0 && bytes < total_bytes_ && elapsed > 0) {
    const double eta = elapsed * static_cast<double>(total_bytes_ - bytes) / static_cast<double>(bytes);
    line += "  ETA " + format_duration(eta);
  }
  return line;
}

void Progress::add(uint64_t items, uint64_t bytes) {
  items_.fetch_add(items, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (active_) maybe_draw();
}

void Progress::maybe_draw() {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - start_).count();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  if (now - last < kRedrawNs) return;
  // One thread draws; the others carry on without waiting.
  if (!last_draw_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  std::unique_lock<std::mutex> lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  std::string line = render();
  const size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');  // erase a longer previous line
  last_width_ = width;
  std::fprintf(options_.out, "\r%s", line.c_str());
  std::fflush(options_.out);
}

double Progress::finish(std::string_view summary) {
  std::lock_guard<std::mutex> lock(draw_mutex_);
  const double elapsed = elapsed_seconds();
  if (finished_) return elapsed;
  finished_ = true;
  if (active_) {
    if (last_width_ > 0) std::fprintf(options_.out, "\r%s\r", std::string(last_width_, ' ').c_str());
    if (!summary.empty()) {
      std::fprintf(options_.out, "%.*s\n", static_cast<int>(summary.size()), summary.data());
    }
    std::fflush(options_.out);
  }
  return elapsed;
}

}  // namespace dsmoe
