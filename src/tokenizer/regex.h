#pragma once
// A compiled PCRE2 pattern (UTF + UCP, JIT when available) that finds successive non-overlapping
// matches in a subject. Oniguruma patterns from tokenizer.json (DeepSeek, GPT-2) run as written.
// Matching is thread-safe: match data and the JIT stack live in per-thread scratch.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dsmoe::tok {

class Regex {
 public:
  // Throws dsmoe::Error (kFormat) naming `ctx` when the pattern does not compile.
  Regex(std::string_view pattern, std::string_view ctx);
  // A pattern that matches `literal` exactly.
  static Regex literal(std::string_view literal, std::string_view ctx);

  // Calls on_match(begin, end) for each non-empty match, left to right, non-overlapping. The
  // subject must be valid UTF-8 (not re-checked). Look-arounds see only `subject`.
  template <class F>
  void for_each_match(std::string_view subject, F&& on_match) const {
    size_t pos = 0;
    size_t begin, end;
    while (pos < subject.size() && next_match(subject, pos, begin, end)) {
      on_match(begin, end);
      pos = end;
    }
  }

  const std::string& pattern() const { return pattern_; }

 private:
  // The first non-empty match at or after `pos`; false when there is none.
  bool next_match(std::string_view subject, size_t pos, size_t& begin, size_t& end) const;
  struct Code;
  std::shared_ptr<const Code> code_;  // immutable once compiled, shared by copies
  std::string pattern_;
};

}  // namespace dsmoe::tok
