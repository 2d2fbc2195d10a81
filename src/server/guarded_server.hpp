#pragma once
/// An httplib::Server that slow or greedy clients cannot stall: each connection is served by our
/// own loop over httplib's request processing, with
///  - a cap on the connections one client address holds at once (more wait up to 0.1 s for a
///    slot, then get 503 and are closed without being read: a request thread for 0.1 s at most);
///  - a deadline for a request's header block (a client that trickles headers a byte at a time
///    is cut off), and per-read / per-write timeouts for everything else.
/// Shared by the dashboard and the competition host; only src/server includes it.

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "server/limits.hpp"

namespace compe::server {


namespace detail {

using Clock = std::chrono::steady_clock;

/// Waits until `sock` is ready for `events` or `ms` pass; false on timeout or error.
inline bool wait_socket(int sock, short events, int ms) {
  pollfd p{sock, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, std::max(0, ms));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

inline std::string address_of(const sockaddr_storage& a, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  port = 0;
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    port = ntohs(v6->sin6_port);
  }
  return buf;
}

/// One request's view of the connection: buffered reads that fail once the header block has not
/// arrived by its deadline, or when a single read or write waits too long.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(int sock, const ConnectionLimits& limits) : sock_(sock), limits_(limits) {}

  /// A new request starts: its header block is due within limits.header_seconds.
  void start_request() {
    header_deadline_ = Clock::now() + std::chrono::seconds(limits_.header_seconds);
    headers_done_ = false;
    tail_ = 0;
    track_headers(buf_ + pos_, len_ - pos_);
  }

  bool is_readable() const override {
    return pos_ < len_ || wait_socket(sock_, POLLIN, read_wait_ms());
  }
  bool is_writable() const override {
    return wait_socket(sock_, POLLOUT, limits_.write_seconds * 1000);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (!wait_socket(sock_, POLLIN, read_wait_ms())) return -1;
      ssize_t n = ::recv(sock_, buf_, sizeof buf_, 0);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
      track_headers(buf_, len_);
    }
    const std::size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &n) == 0) ip = address_of(a, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &n) == 0) ip = address_of(a, port);
  }
  socket_t socket() const override { return sock_; }

  /// Bytes read but not consumed by this request (a pipelined next request).
  bool has_buffered() const { return pos_ < len_; }

 private:
  /// Milliseconds a read may wait: the read timeout, and no later than the header deadline
  /// while the header block is still arriving.
  int read_wait_ms() const {
    int ms = limits_.read_seconds * 1000;
    if (!headers_done_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(header_deadline_ - Clock::now());
      ms = std::min<int>(ms, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    }
    return ms;
  }

  void track_headers(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n && !headers_done_; ++i) {
      tail_ = (tail_ << 8) | static_cast<unsigned char>(p[i]);
      if ((tail_ & 0xffffffffu) == 0x0d0a0d0au || (tail_ & 0xffffu) == 0x0a0au) headers_done_ = true;
    }
  }

  int sock_;
  const ConnectionLimits& limits_;
  Clock::time_point header_deadline_ = Clock::now();
  bool headers_done_ = false;
  std::uint32_t tail_ = 0;
  char buf_[4096];
  std::size_t pos_ = 0, len_ = 0;
};

/// A request in memory and the response written back: the routes without a socket.
class MemoryStream : public httplib::Stream {
 public:
  explicit MemoryStream(std::string_view in) : in_(in) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8765;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  const std::string& output() const { return out_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string out_;
};

}  // namespace detail

class GuardedServer : public httplib::Server {
 public:
  void set_limits(const ConnectionLimits& limits) { limits_ = limits; }
  const ConnectionLimits& limits() const { return limits_; }

  /// Answers one raw HTTP/1.1 request from memory through the same parsing, routing and
  /// handlers as a connection; returns the raw response ("" when the request could not be read).
  std::string respond(std::string_view request) {
    detail::MemoryStream strm(request);
    bool closed = false;
    process_request(strm, true, closed, nullptr);
    return strm.output();
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    sockaddr_storage peer{};
    socklen_t n = sizeof peer;
    int port = 0;
    std::string client =
        ::getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &n) == 0 ? detail::address_of(peer, port) : "";
    // A client that reconnects as soon as its connection is closed (after a "Connection: close"
    // answer) may arrive before that connection's thread has let its slot go: wait a moment.
    bool admitted = false;
    for (int tries = 0; !admitted && tries < 20; ++tries) {
      {
        std::lock_guard lock(mu_);
        int& open = open_[client];
        if (open < limits_.per_client) {
          ++open;
          admitted = true;
        }
      }
      if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!admitted) {
      const std::string body = "{\"error\": \"too many connections from this address at once; retry\", "
                               "\"code\": \"busy\"}";
      const std::string busy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Retry-After: 1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      (void)::send(sock, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return true;
    }
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    // the client's delayed ACK hold every answer on a kept-alive connection for ~40 ms.
    int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool ok = serve(sock);
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(client);
      if (it != open_.end() && --it->second <= 0) open_.erase(it);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  /// httplib's keep-alive loop over our stream.
  bool serve(int sock) {
    bool ok = false;
    detail::GuardedStream strm(sock, limits_);
    for (int count = limits_.keep_alive_requests; count > 0 && svr_sock_ != INVALID_SOCKET; --count) {
      if (!strm.has_buffered() && !wait_idle(sock)) break;
      strm.start_request();
      bool closed = false;
      ok = process_request(strm, count == 1, closed, nullptr);
      if (!ok || closed) break;
    }
    return ok;
  }

  /// Waits for the next request on a kept-alive connection (checking for stop() meanwhile).
  bool wait_idle(int sock) const {
    const auto until = detail::Clock::now() + std::chrono::seconds(limits_.keep_alive_seconds);
    while (svr_sock_ != INVALID_SOCKET) {
      if (detail::wait_socket(sock, POLLIN, 100)) return true;
      if (detail::Clock::now() >= until) return false;
    }
    return false;
  }

  ConnectionLimits limits_;
  std::mutex mu_;
  std::map<std::string, int> open_;
};

}  // namespace compe::server
