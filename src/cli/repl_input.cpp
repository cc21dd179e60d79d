// Reading the user's messages (see repl_input.h).
#include "cli/repl_input.h"

#include <poll.h>
#include <unistd.h>  // read

#include <cerrno>
#include <cstdio>    // stdin, fputs, EOF
#include <cstdlib>   // free
#include <iostream>  // getline
#include <utility>   // move

#ifdef DSMOE_HAVE_LIBEDIT
#include <editline/readline.h>  // readline, add_history, read_history, write_history
#endif

#include "cli/interrupt.h"  // interrupted, clear_interrupt

namespace dsmoe::cli {

namespace {
constexpr const char* kPasteMarker = "\"\"\"";
constexpr const char* kContinuationPrompt = "... ";

#ifdef DSMOE_HAVE_LIBEDIT
// libedit's character source. The SIGINT handler restarts read() (SA_RESTART) but never poll(), so
// waiting in poll() lets a Ctrl-C end the line: EOF to libedit, and line() sees the flag.
int read_char_or_interrupt(FILE* in) {
  const int fd = fileno(in);
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR && interrupted()) return EOF;
      if (errno == EINTR) continue;
      return EOF;
    }
    unsigned char c = 0;
    const ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) continue;
    return EOF;
  }
}
#endif
}  // namespace

LineReader::LineReader(std::string history_file) : history_file_(std::move(history_file)) {
#ifdef DSMOE_HAVE_LIBEDIT
  // Our SIGINT handler (which stops a reply) stays in charge; libedit must not install its own.
  rl_catch_signals = 0;
  rl_getc_function = read_char_or_interrupt;
  using_history();
  if (!history_file_.empty()) read_history(history_file_.c_str());
#endif
}

LineReader::~LineReader() {
#ifdef DSMOE_HAVE_LIBEDIT
  if (!history_file_.empty()) write_history(history_file_.c_str());
#endif
}

std::optional<std::string> LineReader::line(const std::string& prompt, bool& cancelled) {
  clear_interrupt();
#ifdef DSMOE_HAVE_LIBEDIT
  char* raw = readline(prompt.c_str());
  if (raw == nullptr && interrupted()) {  // a complete line keeps the flag: it stops the reply
    clear_interrupt();
    std::fputs("^C\n", stdout);
    std::fflush(stdout);
    cancelled = true;
    return std::string();
  }
  if (raw == nullptr) return std::nullopt;
  std::string s(raw);
  free(raw);
  return s;
#else
  std::fputs(prompt.c_str(), stdout);
  std::fflush(stdout);
  std::string s;
  if (!std::getline(std::cin, s)) return std::nullopt;
  return s;
#endif
}

std::optional<std::string> LineReader::read_line(const std::string& prompt) {
  bool cancelled = false;
  return line(prompt, cancelled);
}

std::optional<std::string> LineReader::read_message(const std::string& prompt) {
  bool cancelled = false;
  std::optional<std::string> first = line(prompt, cancelled);
  if (!first || cancelled) return first;
  std::string message;
  if (*first == kPasteMarker) {
    for (;;) {
      std::optional<std::string> next = line(kContinuationPrompt, cancelled);
      if (cancelled) return std::string();
      if (!next || *next == kPasteMarker) break;
      if (!message.empty()) message += '\n';
      message += *next;
    }
  } else {
    std::string current = *first;
    while (!current.empty() && current.back() == '\\') {
      current.pop_back();
      message += current;
      message += '\n';
      std::optional<std::string> next = line(kContinuationPrompt, cancelled);
      if (cancelled) return std::string();
      if (!next) {
        current.clear();
        break;
      }
      current = *next;
    }
    message += current;
  }
#ifdef DSMOE_HAVE_LIBEDIT
  if (!message.empty()) add_history(message.c_str());
#endif
  return message;
}

}  // namespace dsmoe::cli
