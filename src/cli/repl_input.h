#pragma once
// Reading the user's messages in `dsmoe chat`: line editing and history through libedit when
// built with it (DSMOE_HAVE_LIBEDIT), plain lines otherwise. A message spans several lines when
// a line ends with a backslash, or between two lines holding only """ (paste mode). Ctrl-C while
// typing (the interrupt flag of cli/interrupt.h) abandons the message: it reads as empty.
#include <optional>
#include <string>

namespace dsmoe::cli {

class LineReader {
 public:
  // `history_file` may be empty (no history kept across runs).
  explicit LineReader(std::string history_file);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next message, "" when Ctrl-C abandoned it, or nullopt at end of input (Ctrl-D).
  std::optional<std::string> read_message(const std::string& prompt);
  // One raw line (for yes/no questions; "" after Ctrl-C), or nullopt at end of input. Not added
  // to the history.
  std::optional<std::string> read_line(const std::string& prompt);

 private:
  std::optional<std::string> line(const std::string& prompt, bool& cancelled);
  std::string history_file_;
};

}  // namespace dsmoe::cli
