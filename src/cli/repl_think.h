#pragma once
// Shows R1-style <think>…</think> sections dimmed on a terminal. Works on streamed pieces: a tag
// split across pieces is recognised, because text that could be the start of a tag is held back
// until the next piece decides it.
#include <string>
#include <string_view>

namespace dsmoe::cli {

class ThinkStyler {
 public:
  // `enabled` false passes text through unchanged (not a terminal).
  explicit ThinkStyler(bool enabled) : enabled_(enabled) {}

  // Starts a reply; `inside` when the prompt already opened a <think> section (R1's template
  // ends the generation prompt with "<think>\n").
  void begin(bool inside);
  // Returns the styled text to print for `piece` (valid until the next call).
  std::string_view push(std::string_view piece);
  // Whatever is held back, and the code that ends dimming if a section is still open.
  std::string_view finish();

  static constexpr std::string_view kOpen = "<think>";
  static constexpr std::string_view kClose = "</think>";

 private:
  bool enabled_;
  bool inside_ = false;
  bool start_dim_ = false;  // the reply began inside a section: dim before its first text
  std::string held_;
  std::string out_;
};

}  // namespace dsmoe::cli
