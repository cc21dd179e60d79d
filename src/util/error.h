#pragma once
// The one error scheme (STYLE.md §5): code that meets bad input at load, parse or setup time throws
// dsmoe::Error; kernels and forward blocks are noexcept; the C API maps Error to dsmoe_status.
#include <stdexcept>
#include <string>

namespace dsmoe {

enum class ErrorCode {
  kInvalidArgument = 1,  // a caller passed something unusable (bad flag value, bad shape)
  kIo = 2,               // a file could not be opened, read, written or renamed
  kFormat = 3,           // a file's content is malformed (truncated, corrupt, bad JSON, bad dtype)
  kUnsupported = 4,      // well-formed but not supported (unknown model_type, unknown version)
  kOutOfRange = 5,       // context full, token id past the vocabulary
  kCancelled = 6,        // the caller asked to stop
  kInternal = 7,         // a bug in dsmoe
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace dsmoe
