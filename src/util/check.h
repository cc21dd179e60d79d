#pragma once
// Invariant checks for code that must not throw (kernels, forward blocks, OpenMP regions).
// DSMOE_CHECK is always on; DSMOE_DCHECK only in debug builds. A failed check is a bug in dsmoe,
// never a reaction to bad input (that is dsmoe::Error's job).
#include <cstdio>   // fprintf
#include <cstdlib>  // abort

#define DSMOE_CHECK(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "dsmoe: internal check failed: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                           \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#ifdef NDEBUG
#define DSMOE_DCHECK(cond) \
  do {                     \
  } while (0)
#else
#define DSMOE_DCHECK(cond) DSMOE_CHECK(cond)
#endif
