#pragma once
/// The competition host's HTTP layer (compe host serve): the host page and its JSON API over a
/// compe::host::Host. Only host_server.cpp includes the HTTP library.
///
/// Every request, page and API alike, must carry a team token (`?token=` or
/// `Authorization: Bearer`); 401 otherwise. Routes that name a team refuse another team's token
/// (403). Request bodies are bounded by the host's max_upload_bytes plus 64 KiB (413).
///
///   GET  /                              the host page (web/host.html, host.js, host.css, app.css)
///   GET  /api/info                      competition, the caller's team, today's remaining count
///   GET  /api/leaderboard               public board; private board and shake-up once revealed
///   GET  /api/teams/{team}/submissions  the team's submissions (private scores once revealed)
///   POST /api/teams/{team}/submissions  a CSV: multipart field "file", or the raw body (?name=)
///   PUT  /api/teams/{team}/finals       {"ids": [..]}: up to two finals (POST accepted too)
///
/// Errors are JSON {error, code}: 400 invalid input (Kaggle's phrasing), 401, 403 (another team,
/// closed), 404, 413 too large, 429 daily limit.

#include <memory>
#include <string>
#include <string_view>

#include "compe/host.hpp"
#include "server/limits.hpp"

namespace compe::server {

struct HostOptions {
  std::string host = "127.0.0.1";
  int port = 8770;  ///< 0 = any free port
  int threads = 16;
  ConnectionLimits limits;  ///< per-client cap, header deadline, read/write timeouts
};

class HostServer {
 public:
  /// `host` must outlive the server. Throws Error(kInvalidArgument) for a bad port.
  HostServer(host::Host& host, HostOptions options);
  ~HostServer();
  HostServer(const HostServer&) = delete;
  HostServer& operator=(const HostServer&) = delete;

  /// Binds the listening socket; returns the port. Throws Error(kIo) when it cannot.
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
