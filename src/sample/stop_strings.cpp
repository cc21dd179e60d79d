// Stop strings over streamed text (see stop_strings.h).
#include "sample/stop_strings.h"

#include <algorithm>  // min, max
#include <utility>    // move

namespace dsmoe {

StopStrings::StopStrings(std::vector<std::string> stops) {
  size_t longest = 0;
  for (auto& s : stops) {
    if (s.empty()) continue;
    longest = std::max(longest, s.size());
    stops_.push_back(std::move(s));
  }
  pending_.reserve(longest + 4096);
}

bool StopStrings::push(std::string_view piece, std::string_view& emit) {
  pending_.erase(0, consumed_);
  consumed_ = 0;
  const size_t searched_from = pending_.size();
  pending_.append(piece);
  size_t match = std::string::npos;
  for (const auto& s : stops_) {
    // A match must end inside the new piece; earlier text was already checked.
    const size_t from = searched_from >= s.size() ? searched_from - s.size() + 1 : 0;
    match = std::min(match, pending_.find(s, from));
  }
  if (match != std::string::npos) {
    consumed_ = pending_.size();
    emit = std::string_view(pending_).substr(0, match);
    return true;
  }
  consumed_ = pending_.size() - held_suffix();
  emit = std::string_view(pending_).substr(0, consumed_);
  return false;
}

std::string_view StopStrings::flush() {
  std::string_view rest = std::string_view(pending_).substr(consumed_);
  consumed_ = pending_.size();
  return rest;
}

void StopStrings::reset() noexcept {
  pending_.clear();
  consumed_ = 0;
}

size_t StopStrings::held_suffix() const noexcept {
  size_t best = 0;
  const std::string_view text(pending_);
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, text.size()); len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

}  // namespace dsmoe
