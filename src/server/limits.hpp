#pragma once
/// What one connection may take from a server (dashboard and host alike); no HTTP code here.

namespace compe::server {

struct ConnectionLimits {
  int per_client = 6;          ///< connections one client address may hold (a browser opens 6)
  int header_seconds = 10;     ///< a request's line and headers must arrive within this
  int read_seconds = 5;        ///< any single read (body included) waits at most this
  int write_seconds = 5;       ///< any single write waits at most this
  int keep_alive_seconds = 1;  ///< an idle connection is closed after this
  int keep_alive_requests = 100;
};

}  // namespace compe::server
