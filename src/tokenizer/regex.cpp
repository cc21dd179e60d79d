#include "tokenizer/regex.h"

#include <cctype>  // isalnum

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/error.h"  // Error
#include "util/utf8.h"   // utf8::step

namespace dsmoe::tok {

struct Regex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread match state. The JIT stack may grow to 8 MiB: long runs of letters or spaces in
// pathological inputs must not fail with PCRE2_ERROR_JIT_STACKLIMIT.
struct MatchScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  MatchScratch() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~MatchScratch() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view ctx) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error(ErrorCode::kFormat, std::string(ctx) + ": regex does not compile at offset " +
                                        std::to_string(err_off) + ": " +
                                        reinterpret_cast<const char*>(msg));
  }
  auto c = std::make_shared<Code>();
  c->code = code;
  c->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  code_ = std::move(c);
}

Regex Regex::literal(std::string_view literal, std::string_view ctx) {
  std::string pattern;
  for (char ch : literal) {
    const auto u = static_cast<unsigned char>(ch);
    // Escaping every ASCII punctuation character is always allowed in PCRE2 and makes it literal.
    if (u < 0x80 && !std::isalnum(u) && u >= 0x20) pattern.push_back('\\');
    pattern.push_back(ch);
  }
  return Regex(pattern, ctx);
}

bool Regex::next_match(std::string_view subject, size_t pos, size_t& begin, size_t& end) const {
  MatchScratch& s = scratch();
  const auto* subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
  while (pos < subject.size()) {
    const int rc = code_->jit ? pcre2_jit_match(code_->code, subj, subject.size(), pos, 0, s.data,
                                                s.context)
                              : pcre2_match(code_->code, subj, subject.size(), pos,
                                            PCRE2_NO_UTF_CHECK, s.data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw Error(ErrorCode::kInternal, "regex '" + pattern_ + "' failed: " +
                                            reinterpret_cast<const char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
    begin = ov[0];
    end = ov[1];
    if (end > begin) return true;
    // Empty matches split nothing (Hugging Face drops empty pieces); look again one character on.
    if (begin >= subject.size()) return false;
    pos = begin + utf8::step(subject, begin).len;
  }
  return false;
}

}  // namespace dsmoe::tok
