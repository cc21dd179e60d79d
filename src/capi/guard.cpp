// Exception → dsmoe_status mapping and the thread-local error message.
#include "capi/guard.h"

#include <exception>  // exception, current_exception
#include <new>        // bad_alloc

namespace dsmoe::capi {

namespace {
thread_local std::string t_last_error;
}  // namespace

void set_last_error(const char* message) noexcept {
  try {
    t_last_error = message;
  } catch (...) {
    t_last_error.clear();  // out of memory while reporting: the status still says what failed
  }
}

void clear_last_error() noexcept { t_last_error.clear(); }

dsmoe_status status_of(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return DSMOE_ERR_INVALID_ARGUMENT;
    case ErrorCode::kIo: return DSMOE_ERR_IO;
    case ErrorCode::kFormat: return DSMOE_ERR_FORMAT;
    case ErrorCode::kUnsupported: return DSMOE_ERR_UNSUPPORTED;
    case ErrorCode::kOutOfRange: return DSMOE_ERR_OUT_OF_RANGE;
    case ErrorCode::kCancelled: return DSMOE_ERR_CANCELLED;
    case ErrorCode::kInternal: return DSMOE_ERR_INTERNAL;
  }
  return DSMOE_ERR_INTERNAL;
}

dsmoe_status status_of_current_exception() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    const dsmoe_status s = status_of(e.code());
    set_last_error(e.what());
    return s;
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return DSMOE_ERR_INTERNAL;
  } catch (const std::exception& e) {
    set_last_error(e.what());
    return DSMOE_ERR_INTERNAL;
  } catch (...) {
    set_last_error("unknown exception");
    return DSMOE_ERR_INTERNAL;
  }
}

void invalid_argument(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

}  // namespace dsmoe::capi

extern "C" {

const char* dsmoe_last_error(void) { return dsmoe::capi::t_last_error.c_str(); }

const char* dsmoe_status_name(dsmoe_status status) {
  switch (status) {
    case DSMOE_OK: return "DSMOE_OK";
    case DSMOE_ERR_INVALID_ARGUMENT: return "DSMOE_ERR_INVALID_ARGUMENT";
    case DSMOE_ERR_IO: return "DSMOE_ERR_IO";
    case DSMOE_ERR_FORMAT: return "DSMOE_ERR_FORMAT";
    case DSMOE_ERR_UNSUPPORTED: return "DSMOE_ERR_UNSUPPORTED";
    case DSMOE_ERR_OUT_OF_RANGE: return "DSMOE_ERR_OUT_OF_RANGE";
    case DSMOE_ERR_CANCELLED: return "DSMOE_ERR_CANCELLED";
    case DSMOE_ERR_INTERNAL: return "DSMOE_ERR_INTERNAL";
  }
  return "DSMOE_ERR_UNKNOWN";
}

const char* dsmoe_version(void) { return DSMOE_VERSION_STRING; }

}  // extern "C"
