#pragma once
// Stop strings over streamed text. Generated text that could still become a stop string is held
// back, so a stop string is never shown even when it arrives split across several tokens, and the
// text before it is shown in full. Allocates only when constructed (and if a single piece is
// longer than the reserve, which token pieces never are).
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

class StopStrings {
 public:
  StopStrings() = default;
  explicit StopStrings(std::vector<std::string> stops);  // empty strings are ignored

  // Appends `piece`. Sets `emit` to the text that is now safe to show (valid until the next call)
  // and returns true when a stop string matched; `emit` then holds the text before it.
  bool push(std::string_view piece, std::string_view& emit);
  // The text still held back (call when generation ends without a match).
  std::string_view flush();
  void reset() noexcept;
  bool empty() const noexcept { return stops_.empty(); }

 private:
  size_t held_suffix() const noexcept;  // longest suffix of pending_ that begins a stop string

  std::vector<std::string> stops_;
  std::string pending_;
  size_t consumed_ = 0;  // bytes at the front of pending_ already handed out
};

}  // namespace dsmoe
