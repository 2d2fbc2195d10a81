// The HTTP request handlers of both servers, called through Server::respond / HostServer::respond
// (parsing, access checks, routes, handlers; no socket). The first byte picks the server; "TOKEN"
// in the request stands for a valid token, so the corpus reaches the authorised routes.
#include <memory>

#include "compe/host.hpp"
#include "compe/store.hpp"
#include "fuzz_util.hpp"
#include "server/host_server.hpp"
#include "server/server.hpp"

namespace {

constexpr const char* kDashboardToken = "fuzz-token-0123";

struct Servers {
  std::unique_ptr<compe::Store> store;
  std::unique_ptr<compe::server::Server> dashboard;
  std::unique_ptr<compe::host::Host> host;
  std::unique_ptr<compe::server::HostServer> host_server;
  std::string host_token;

  Servers() {
    using namespace compe;
    const auto ws = fuzz::scratch() / "ws";
    std::filesystem::create_directories(ws / ".compe");
    store = open_store((ws / ".compe" / "compe.db").string());
    server::Options o;
    o.token = kDashboardToken;
    dashboard = std::make_unique<server::Server>(*store, ws, o);

    write_file_atomic(fuzz::scratch() / "solution.csv",
                      "id,y,Usage\n1,0,Public\n2,1,Public\n3,0,Private\n4,1,Private\n5,1,Private\n");
    host::InitOptions h;
    h.dir = fuzz::scratch() / "host";
    std::error_code ec;
    std::filesystem::remove_all(h.dir, ec);
    h.solution = fuzz::scratch() / "solution.csv";
    h.metric = "roc_auc";
    h.deadline = "2099-01-01T00:00:00Z";
    h.daily_limit = 1000000;
    h.teams = {"alpha", "beta"};
    host_token = host::init(h).at(0).token;
    host = std::make_unique<host::Host>(h.dir);
    host_server = std::make_unique<server::HostServer>(*host, server::HostOptions{});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static Servers s;
  std::string request(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool to_host = data[0] & 1;
  const std::string token = to_host ? s.host_token : kDashboardToken;
  for (auto at = request.find("TOKEN"); at != std::string::npos; at = request.find("TOKEN", at + token.size()))
    request.replace(at, 5, token);
  std::string response = to_host ? s.host_server->respond(request) : s.dashboard->respond(request);
  // Every answer is HTTP; a 500 is a finding (input must never reach an internal error).
  if (!response.empty() && response.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  if (response.rfind("HTTP/1.1 500", 0) == 0) __builtin_trap();
  if (response.find('\x1b') != std::string::npos) __builtin_trap();
  return 0;
}
