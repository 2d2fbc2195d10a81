#pragma once
/// Listening sockets shared by the dashboard and the competition host.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

#include <sys/socket.h>

#include <httplib.h>

#include "compe/error.hpp"
#include "server/guarded_server.hpp"

namespace compe::server {

/// httplib's default socket options set SO_REUSEPORT, with which a second process of the same
/// user may bind the very port a server holds (bind to port 0 can even hand out that port) and
/// receive part of its connections. compe's servers take SO_REUSEADDR only: quick restarts, no
/// shared ports.
inline void use_exclusive_port(httplib::Server& http) {
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

/// Binds `http` to host:port (0 = any free port) and returns the port; throws Error(kIo) when
/// the address cannot be bound.
inline int bind_port(httplib::Server& http, const std::string& host, int port) {
  if (port == 0) {
    port = http.bind_to_any_port(host);
    if (port <= 0) fail(ErrorCode::kIo, "cannot listen on {} (any port)", host);
  } else if (!http.bind_to_port(host, port)) {
    fail(ErrorCode::kIo, "cannot listen on {}:{} (in use, or not an address of this machine)", host,
         port);
  }
  return port;
}

/// A server's listening life: run() blocks in listen_after_bind() until stop(); a stop that comes
/// before run() started listening is not lost.
class Listening {
 public:
  /// `threads` request threads, the connection limits (a short keep-alive, so a stop does not
  /// wait on idle browser connections; per-client cap; header deadline; read/write timeouts),
  /// SO_REUSEADDR only.
  static void configure(GuardedServer& http, int threads, const ConnectionLimits& limits = {}) {
    const auto n = static_cast<std::size_t>(std::max(1, threads));
    http.new_task_queue = [n] { return new httplib::ThreadPool(n); };
    http.set_limits(limits);
    http.set_keep_alive_timeout(limits.keep_alive_seconds);
    http.set_read_timeout(limits.read_seconds);
    http.set_write_timeout(limits.write_seconds);
    use_exclusive_port(http);
  }

  void run(httplib::Server& http) {
    running_ = true;
    if (!stop_requested_) http.listen_after_bind();
    running_ = false;
  }

  void stop(httplib::Server& http) {
    stop_requested_ = true;
    while (running_ && !http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    http.stop();
  }

 private:
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace compe::server
