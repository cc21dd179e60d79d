// SIGINT handling for `dsmoe chat` (see interrupt.h).
#include "cli/interrupt.h"

#include <signal.h>  // sigaction

namespace dsmoe::cli {

namespace {
int g_interrupt = 0;  // written by the signal handler with an atomic store
void on_sigint(int) { __atomic_store_n(&g_interrupt, 1, __ATOMIC_RELAXED); }
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa = {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
}

const int* interrupt_flag() { return &g_interrupt; }
bool interrupted() { return __atomic_load_n(&g_interrupt, __ATOMIC_RELAXED) != 0; }
void clear_interrupt() { __atomic_store_n(&g_interrupt, 0, __ATOMIC_RELAXED); }

}  // namespace dsmoe::cli
