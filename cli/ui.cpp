// compe ui: the local web dashboard over a workspace's run store.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>

#include "commands.hpp"
#include "serve.hpp"
#include "compe/store.hpp"
#include "server/server.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

void add_ui_command(CLI::App& app) {
  struct Args {
    std::string workspace, store, host = "127.0.0.1", token;
    int port = 8765;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ui", "Serve the web dashboard of the workspace's runs");
  add_workspace_option(cmd, a->workspace);
  add_store_option(cmd, a->store);
  cmd->add_option("--host", a->host,
                  "Address to listen on; a non-loopback address requires a token")
      ->capture_default_str();
  cmd->add_option("--port", a->port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option(
      "--token", a->token,
      "Access token every request must carry (generated when --host is not a loopback address)");
  cmd->callback([a] {
    Workspace w = open_workspace(a->workspace);
    std::string url = store_url(a->store, w);
    server::Options o;
    o.host = a->host;
    o.port = a->port;
    o.token = a->token;
    if (o.token.empty() && !server::is_loopback_host(o.host)) o.token = server::random_token();

    // Signals are taken by one thread with sigwait; every other thread inherits the block.
    const sigset_t sigs = block_stop_signals();

    auto store = open_store(url);
    server::Server srv(*store, w.root(), o);
    int port = srv.bind();
    std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    std::string page = fmt::format("http://{}:{}/", host, port);
    if (!o.token.empty()) page += "?token=" + o.token;
    fmt::print("compe ui: {} (store {})\n", w.root().string(), store->url());
    if (!o.token.empty() && a->token.empty()) fmt::print("token: {}\n", o.token);
    fmt::print("url: {}\n", page);
    fmt::print("press Ctrl-C to stop\n");
    std::fflush(stdout);

    serve_until_signalled(srv, sigs);
    fmt::print("compe ui: stopped\n");
  });
}

}  // namespace compe::cli
