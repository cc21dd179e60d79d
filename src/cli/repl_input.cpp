// Reading the user's messages (see repl_input.h).
#include "cli/repl_input.h"

#include <cstdio>    // stdin, fputs
#include <cstdlib>   // free
#include <iostream>  // getline
#include <utility>   // move

#ifdef DSMOE_HAVE_LIBEDIT
#include <editline/readline.h>  // readline, add_history, read_history, write_history
#endif

namespace dsmoe::cli {

namespace {
constexpr const char* kPasteMarker = "\"\"\"";
constexpr const char* kContinuationPrompt = "... ";
}  // namespace

LineReader::LineReader(std::string history_file) : history_file_(std::move(history_file)) {
#ifdef DSMOE_HAVE_LIBEDIT
  // Our SIGINT handler (which stops a reply) stays in charge; libedit must not install its own.
  rl_catch_signals = 0;
  using_history();
  if (!history_file_.empty()) read_history(history_file_.c_str());
#endif
}

LineReader::~LineReader() {
#ifdef DSMOE_HAVE_LIBEDIT
  if (!history_file_.empty()) write_history(history_file_.c_str());
#endif
}

std::optional<std::string> LineReader::line(const std::string& prompt) {
#ifdef DSMOE_HAVE_LIBEDIT
  char* raw = readline(prompt.c_str());
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

std::optional<std::string> LineReader::read_line(const std::string& prompt) { return line(prompt); }

std::optional<std::string> LineReader::read_message(const std::string& prompt) {
  std::optional<std::string> first = line(prompt);
  if (!first) return std::nullopt;
  std::string message;
  if (*first == kPasteMarker) {
    for (;;) {
      std::optional<std::string> next = line(kContinuationPrompt);
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
      std::optional<std::string> next = line(kContinuationPrompt);
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
