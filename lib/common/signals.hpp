#pragma once
/// Cooperative interruption: tools install handlers for SIGINT/SIGTERM; long loops poll.
namespace nucseg {
/// Installs SIGINT and SIGTERM handlers that set the interrupted flag (a second signal
/// kills the process at once).
void install_interrupt_handlers();
bool interrupted();
/// Throws Interrupted("<what> interrupted") when a signal arrived.
void throw_if_interrupted(const char* what);
/// For tests: sets or clears the flag.
void set_interrupted(bool value);
}  // namespace nucseg
