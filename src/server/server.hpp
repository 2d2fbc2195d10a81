#pragma once
/// The dashboard server: the read-only JSON API (api.hpp) and the embedded web/ assets over HTTP.
/// Only server.cpp includes the HTTP library; callers see this interface alone.
///
/// Security rules:
///  - Loopback hosts (127.0.0.0/8, ::1, localhost) may run without a token; any other host
///    requires one (Error(kInvalidArgument) otherwise).
///  - With a token, every request (API and static) must carry it as `?token=` or
///    `Authorization: Bearer <token>`; otherwise 401.
///  - Without a token, the Host header must name a loopback address (DNS-rebinding guard); 403.
///  - Artifacts are served only from inside the workspace root (api.hpp find_artifact).

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "compe/store.hpp"
#include "server/limits.hpp"

namespace compe::server {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8765;    ///< 0 = any free port
  std::string token;  ///< "" = no token (loopback hosts only); letters, digits, '-', '_', '.', '~'
  int threads = 16;   ///< request threads (a browser keeps up to 6 connections open)
  ConnectionLimits limits;  ///< per-client cap, header deadline, read/write timeouts
};

/// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_host(const std::string& host);

/// A random token of 32 hex digits from the system's random device.
std::string random_token();

class Server {
 public:
  /// `store` must outlive the server. Throws Error(kInvalidArgument) for a non-loopback host
  /// without a token or a token with characters outside [A-Za-z0-9._~-] or shorter than 8.
  Server(Store& store, std::filesystem::path workspace_root, Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listening socket; returns the port (the chosen one when options.port is 0).
  /// Throws Error(kIo) when the address cannot be bound.
  int bind();
  /// Serves until stop(); call after bind().
  void run();
  /// Stops run() from any thread (not from a signal handler).
  void stop();
  /// Answers one raw HTTP/1.1 request from memory, through the same parsing, checks, routes and
  /// handlers as a connection, and returns the raw response: for tests and fuzz targets.
  std::string respond(std::string_view request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace compe::server
