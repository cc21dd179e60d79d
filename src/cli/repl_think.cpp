// Dimmed <think> sections (see repl_think.h).
#include "cli/repl_think.h"

#include <algorithm>  // min

namespace dsmoe::cli {

namespace {
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kReset = "\x1b[0m";

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag(std::string_view s, std::string_view tag) {
  for (size_t len = std::min(tag.size() - 1, s.size()); len > 0; --len) {
    if (s.substr(s.size() - len) == tag.substr(0, len)) return len;
  }
  return 0;
}
}  // namespace

void ThinkStyler::begin(bool inside) {
  held_.clear();
  inside_ = inside;
  start_dim_ = enabled_ && inside;
  out_.clear();
}

std::string_view ThinkStyler::push(std::string_view piece) {
  out_.clear();
  if (!enabled_) {
    out_.append(piece);
    return out_;
  }
  if (start_dim_) out_.append(kDim);
  start_dim_ = false;
  held_.append(piece);
  for (;;) {
    const std::string_view tag = inside_ ? kClose : kOpen;
    const size_t at = held_.find(tag);
    if (at == std::string::npos) break;
    if (inside_) {
      out_.append(held_, 0, at + tag.size());
      out_.append(kReset);
    } else {
      out_.append(held_, 0, at);
      out_.append(kDim);
      out_.append(tag);
    }
    held_.erase(0, at + tag.size());
    inside_ = !inside_;
  }
  const size_t keep = partial_tag(held_, inside_ ? kClose : kOpen);
  out_.append(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out_;
}

std::string_view ThinkStyler::finish() {
  out_ = held_;
  held_.clear();
  if (enabled_ && inside_) out_.append(kReset);
  inside_ = false;
  return out_;
}

}  // namespace dsmoe::cli
