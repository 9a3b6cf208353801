#include "common/signals.hpp"

#include <atomic>
#include <csignal>
#include <string>

#include "common/error.hpp"

namespace nucseg {
namespace {
std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int sig) {
  if (g_interrupted.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

void set_interrupted(bool value) { g_interrupted.store(value); }

void throw_if_interrupted(const char* what) {
  if (interrupted()) throw Interrupted(std::string(what) + " interrupted by a signal");
}

}  // namespace nucseg
