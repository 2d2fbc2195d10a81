#pragma once
// Serving until Ctrl-C or SIGTERM, for the commands that start an HTTP server (ui, host serve).
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace compe::cli {

/// Blocks SIGINT and SIGTERM in this thread (and the threads it starts later): call it before the
/// server starts its threads, so the signals reach serve_until_signalled's waiter alone.
inline sigset_t block_stop_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

/// Runs `srv` (bound already: run() and stop()) until one of `sigs` arrives; run() also ends
/// when listening fails, and the waiter is then woken so it can be joined.
template <class Server>
void serve_until_signalled(Server& srv, const sigset_t& sigs) {
  std::atomic<bool> signalled{false};
  std::thread waiter([&srv, &signalled, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    signalled = true;
    srv.stop();
  });
  srv.run();
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
}

}  // namespace compe::cli
