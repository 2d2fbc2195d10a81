// Both servers under slow connections: clients that trickle their headers, or hold many
// connections, must not stall a normal client. Raw sockets, loopback only.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compe/host.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "server/host_server.hpp"
#include "server/server.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("compe-slow-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// A TCP connection to 127.0.0.1:port from the loopback address `from` (127.0.0.x: a distinct
/// client address on one machine).
int connect_from(const char* from, int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &local.sin_addr);
  if (::bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(s);
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  return s;
}

/// Reads until the peer closes or `ms` pass.
std::string read_all(int s, int ms) {
  std::string out;
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{s, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/// One request on a fresh connection from 127.0.0.2; the status line, "" on failure.
std::string request(int port, const std::string& target, const std::string& headers = "") {
  int s = connect_from("127.0.0.2", port);
  if (s < 0) return "";
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n";
  (void)::send(s, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp = read_all(s, 3000);
  ::close(s);
  return resp.substr(0, resp.find("\r\n"));
}

/// `n` connections from 127.0.0.1 that send one header byte every 200 ms until stopped.
struct Trickle {
  std::atomic<bool> stop{false};
  std::vector<int> socks;
  std::thread thread;
  Trickle(int port, int n) {
    for (int i = 0; i < n; ++i) socks.push_back(connect_from("127.0.0.1", port));
    thread = std::thread([this] {
      const std::string line = "GET /api/info HTTP/1.1\r\nX-Slow: " + std::string(10000, 'a');
      for (std::size_t k = 0; !stop && k < line.size(); ++k) {
        for (int s : socks)
          if (s >= 0) (void)::send(s, &line[k], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  ~Trickle() {
    stop = true;
    thread.join();
    for (int s : socks)
      if (s >= 0) ::close(s);
  }
};

/// A normal client keeps being served (each answer well within a second) for `seconds` while
/// the trickling connections are held.
void expect_served(int port, const std::string& target, const std::string& headers, int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  int served = 0;
  while (Clock::now() < until) {
    const auto t0 = Clock::now();
    std::string status = request(port, target, headers);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    EXPECT_EQ(status, "HTTP/1.1 200 OK") << "request " << served;
    EXPECT_LT(ms, 1000) << "request " << served << " waited " << ms << " ms";
    ++served;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(served, 5);
}

}  // namespace

TEST(SlowClients, HostKeepsServingWhileConnectionsTrickleHeaders) {
  TempDir tmp;
  compe::write_file_atomic(tmp.path / "solution.csv", "id,y,Usage\n1,0,Public\n2,1,Public\n3,0,Private\n4,1,Private\n");
  compe::host::InitOptions o;
  o.dir = tmp.path / "comp";
  o.solution = tmp.path / "solution.csv";
  o.metric = "roc_auc";
  o.deadline = "2099-01-01T00:00:00Z";
  o.teams = {"alpha"};
  auto tokens = compe::host::init(o);
  compe::host::Host host(o.dir);
  compe::server::HostOptions so;
  so.port = 0;
  so.threads = 8;
  so.limits.header_seconds = 3;
  compe::server::HostServer server(host, so);
  const int port = server.bind();
  std::thread serving([&] { server.run(); });
  const std::string auth = "Authorization: Bearer " + tokens.at(0).token + "\r\n";
  {
    // 12 trickling connections from one address: 6 are held, the rest refused at once.
    Trickle slow(port, 12);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    expect_served(port, "/api/info", auth, 5);
    // The header deadline has cut the held ones: the same address is served again.
    int s = connect_from("127.0.0.1", port);
    std::string req = "GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "Connection: close\r\n\r\n";
    (void)::send(s, req.data(), req.size(), MSG_NOSIGNAL);
    std::string resp = read_all(s, 3000);
    ::close(s);
    EXPECT_EQ(resp.substr(0, resp.find("\r\n")), "HTTP/1.1 200 OK");
  }
  {
    // Over the cap: an immediate 503 that says why, without waiting for the request.
    std::vector<int> held;
    for (int i = 0; i < 6; ++i) held.push_back(connect_from("127.0.0.1", port));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int extra = connect_from("127.0.0.1", port);
    std::string resp = read_all(extra, 2000);
    EXPECT_EQ(resp.substr(0, resp.find("\r\n")), "HTTP/1.1 503 Service Unavailable") << resp;
    EXPECT_NE(resp.find("too many connections"), std::string::npos) << resp;
    ::close(extra);
    for (int h : held) ::close(h);
  }
  server.stop();
  serving.join();
}

TEST(SlowClients, DashboardKeepsServingWhileConnectionsTrickleHeaders) {
  TempDir tmp;
  auto store = compe::open_store((tmp.path / "compe.db").string());
  compe::server::Options so;
  so.port = 0;
  so.threads = 8;
  so.limits.header_seconds = 3;
  compe::server::Server server(*store, tmp.path, so);
  const int port = server.bind();
  std::thread serving([&] { server.run(); });
  {
    Trickle slow(port, 12);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    expect_served(port, "/api/health", "", 5);
  }
  server.stop();
  serving.join();
}
