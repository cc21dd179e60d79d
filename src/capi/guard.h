#pragma once
// The C boundary: every extern "C" function runs its body inside guard(), which maps dsmoe::Error
// (and anything else thrown) to a dsmoe_status and the thread-local dsmoe_last_error() message,
// so no C++ exception ever reaches a C caller.
#include <cstring>  // memcpy
#include <string>
#include <utility>  // forward

#include "dsmoe/dsmoe.h"  // dsmoe_status
#include "util/error.h"   // Error, ErrorCode

namespace dsmoe::capi {

void set_last_error(const char* message) noexcept;
void clear_last_error() noexcept;
dsmoe_status status_of(ErrorCode code) noexcept;
// Maps the exception being handled (call only inside a catch block).
dsmoe_status status_of_current_exception() noexcept;

template <class F>
dsmoe_status guard(F&& body) noexcept {
  try {
    std::forward<F>(body)();
    clear_last_error();
    return DSMOE_OK;
  } catch (...) {
    return status_of_current_exception();
  }
}

[[noreturn]] void invalid_argument(const std::string& message);

template <class T>
T& require(T* p, const char* what) {
  if (p == nullptr) invalid_argument(std::string(what) + " is NULL");
  return *p;
}

// Reads a caller's options struct: the first struct_size bytes are the caller's, the rest keep
// `defaults` (a caller built against an older, smaller struct). NULL means all defaults.
template <class T>
T read_options(const T* user, const T& defaults, const char* what) {
  T out = defaults;
  if (user == nullptr) return out;
  if (user->struct_size < sizeof(size_t)) {
    invalid_argument(std::string(what) + ".struct_size is " + std::to_string(user->struct_size) +
                     ": initialize the struct with its _default() function");
  }
  std::memcpy(static_cast<void*>(&out), user, user->struct_size < sizeof(T) ? user->struct_size : sizeof(T));
  out.struct_size = sizeof(T);
  return out;
}

// Writes a result struct into the caller's, only as far as the caller's struct_size reaches.
template <class T>
void write_result(T* user, const T& full, const char* what) {
  if (user == nullptr) return;
  const size_t n = user->struct_size;
  if (n < sizeof(size_t)) {
    invalid_argument(std::string(what) + ".struct_size is " + std::to_string(n) +
                     ": set it to sizeof the struct");
  }
  std::memcpy(reinterpret_cast<char*>(user) + sizeof(size_t),
              reinterpret_cast<const char*>(&full) + sizeof(size_t),
              (n < sizeof(T) ? n : sizeof(T)) - sizeof(size_t));
}

}  // namespace dsmoe::capi
