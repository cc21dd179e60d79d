#pragma once
// Ctrl-C in `dsmoe chat`: SIGINT never ends the program. It raises a flag that stops the reply
// being generated, or, while a line is being typed, abandons that line (as a shell does).
namespace dsmoe::cli {

// Installs the SIGINT handler (idempotent). SA_RESTART: other system calls carry on.
void install_interrupt_handler();
// The flag the handler raises; generation polls it (GenerateOptions::cancel).
const int* interrupt_flag();
bool interrupted();
void clear_interrupt();

}  // namespace dsmoe::cli
