// compe host: a local competition (init, serve, submit, status, reveal).
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/host.hpp"
#include "compe/score.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "serve.hpp"
#include "server/host_server.hpp"

namespace compe::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string signed_change(int c) { return c > 0 ? fmt::format("+{}", c) : std::to_string(c); }

void print_boards(const host::Host& h, std::int64_t now, bool json) {
  auto doc = host::leaderboard_json(h, "", now);
  if (json) {
    print_json(doc);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : h.public_board())
    rows.push_back({std::to_string(r.rank), r.team, fmt_score(r.score), std::to_string(r.entries),
                    iso8601_utc(r.last_ms)});
  fmt::print("public leaderboard ({}, {} is better)\n", h.config().metric, h.greater_is_better() ? "higher" : "lower");
  print_table({"rank", "team", "public", "entries", "last"}, rows);
  if (!h.revealed_at(now)) {
    fmt::print("private leaderboard: hidden until {}\n", iso8601_utc(h.config().deadline_ms));
    return;
  }
  rows.clear();
  for (const auto& r : h.private_board(now)) {
    std::string finals;
    for (auto id : r.finals) finals += (finals.empty() ? "" : ",") + std::to_string(id);
    rows.push_back({std::to_string(r.rank), r.team, fmt_score(r.private_score), fmt_score(r.public_score),
                    std::to_string(r.public_rank), signed_change(r.change),
                    finals + (r.auto_selected ? " (auto)" : "")});
  }
  fmt::print("\nprivate leaderboard and shake-up\n");
  print_table({"rank", "team", "private", "public", "public rank", "change", "finals"}, rows);
}

void add_host_init_command(CLI::App* grp) {
  struct Args {
    std::string dir, solution, metric, deadline, teams, title, classes, image_size;
    int daily_limit = 5;
    std::size_t max_upload = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = grp->add_subcommand("init", "Create a host folder: settings, team tokens, a private copy of the solution");
  cmd->add_option("dir", a->dir, "Host folder to create")->required();
  cmd->add_option("--solution", a->solution, "Solution CSV: id, target(s), Usage (Public/Private/Ignored)")->required();
  cmd->add_option("--metric", a->metric, "Metric spec, e.g. roc_auc")->required();
  cmd->add_option("--deadline", a->deadline, "End, ISO 8601 (e.g. 2026-12-31T23:59:00Z)")->required();
  cmd->add_option("--daily-limit", a->daily_limit, "Submissions per team per UTC day")->capture_default_str();
  cmd->add_option("--teams", a->teams, "Team names, comma-separated")->required();
  cmd->add_option("--title", a->title, "Title shown on the page (default: the folder's name)");
  cmd->add_option("--max-upload-bytes", a->max_upload, "Largest accepted upload (default: 4 x the solution + 64 KiB)");
  cmd->add_option("--classes", a->classes,
                  "Detection/segmentation: class names, comma-separated (labels given as names, Image_Label keys)");
  cmd->add_option("--image-size", a->image_size,
                  "Segmentation: WIDTHxHEIGHT of every image, when the solution has no width,height columns");
  cmd->add_flag("--json", a->json, "Print one JSON document (the tokens among it)");
  cmd->callback([a] {
    host::InitOptions o;
    o.dir = a->dir;
    o.solution = a->solution;
    o.metric = a->metric;
    o.deadline = a->deadline;
    o.daily_limit = a->daily_limit;
    o.teams = split_list(a->teams);
    o.title = a->title;
    o.max_upload_bytes = a->max_upload;
    if (!a->classes.empty()) o.classes = split_list(a->classes);
    if (!a->image_size.empty()) o.image_size = score::parse_image_size(a->image_size, "--image-size");
    auto tokens = host::init(o);
    if (a->json) {
      nlohmann::json teams = nlohmann::json::array();
      for (const auto& t : tokens) teams.push_back({{"team", t.team}, {"token", t.token}});
      print_json({{"dir", a->dir}, {"metric", a->metric}, {"deadline", a->deadline},
                  {"daily_limit", a->daily_limit}, {"teams", teams}});
      return;
    }
    fmt::print("compe host: created {}\n", a->dir);
    fmt::print("team tokens (shown only now; host.toml keeps their sha256):\n");
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : tokens) rows.push_back({t.team, t.token});
    print_table({"team", "token"}, rows);
    fmt::print("serve with: compe host serve {}\n", a->dir);
  });
}

void add_host_serve_command(CLI::App* grp) {
  struct Args {
    std::string dir, address = "127.0.0.1";
    int port = 8770;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = grp->add_subcommand("serve", "Serve the host page and API (every request needs a team token)");
  cmd->add_option("dir", a->dir, "Host folder")->required();
  cmd->add_option("--host", a->address, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", a->port, "Port (0 = any free port)")->capture_default_str();
  cmd->callback([a] {
    const sigset_t sigs = block_stop_signals();

    host::Host h(a->dir);
    server::HostOptions o;
    o.host = a->address;
    o.port = a->port;
    server::HostServer srv(h, o);
    int port = srv.bind();
    std::string addr = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    fmt::print("compe host: {} ({}, deadline {})\n", h.config().title, h.config().metric,
               iso8601_utc(h.config().deadline_ms));
    fmt::print("url: http://{}:{}/?token=<team token>\n", addr, port);
    fmt::print("press Ctrl-C to stop\n");
    std::fflush(stdout);
    serve_until_signalled(srv, sigs);
    fmt::print("compe host: stopped\n");
  });
}

// submit (on the host machine, through the same checks as an upload)
void add_host_submit_command(CLI::App* grp) {
  struct Args {
    std::string dir, token, file;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = grp->add_subcommand("submit", "Submit a CSV for the team whose token is given");
  cmd->add_option("dir", a->dir, "Host folder")->required();
  cmd->add_option("file", a->file, "Submission CSV")->required();
  cmd->add_option("--token", a->token, "The team's token")->required();
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    host::Host h(a->dir);
    auto team = h.team_for_token(a->token);
    if (!team) fail(ErrorCode::kInvalidArgument, "--token: not the token of any team of this host");
    auto s = h.submit(*team, read_file(a->file), a->file, host::now_ms());
    if (a->json) {
      auto doc = host::submission_json(s, false);
      doc["team"] = s.team;
      print_json(doc);
      return;
    }
    fmt::print("team {}: submission {} accepted, public score {}\n", s.team, s.id, fmt_score(s.public_score));
  });
}

void add_host_status_command(CLI::App* grp) {
  struct Args {
    std::string dir;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = grp->add_subcommand("status", "Leaderboards (private only once revealed)");
  cmd->add_option("dir", a->dir, "Host folder")->required();
  cmd->add_flag("--json", a->json, "Print one JSON document, with every submission");
  cmd->callback([a] {
    host::Host h(a->dir);
    std::int64_t now = host::now_ms();
    if (a->json) {
      auto doc = host::leaderboard_json(h, "", now);
      bool revealed = h.revealed_at(now).has_value();
      nlohmann::json subs = nlohmann::json::array();
      for (const auto& s : h.all_submissions()) {
        auto j = host::submission_json(s, revealed);
        j["team"] = s.team;
        subs.push_back(j);
      }
      doc["submissions"] = subs;
      doc["deadline"] = iso8601_utc(h.config().deadline_ms);
      print_json(doc);
      return;
    }
    print_boards(h, now, false);
  });
}

void add_host_reveal_command(CLI::App* grp) {
  struct Args {
    std::string dir;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = grp->add_subcommand("reveal", "End the competition now and show the private leaderboard and shake-up");
  cmd->add_option("dir", a->dir, "Host folder")->required();
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    host::Host h(a->dir);
    std::int64_t now = host::now_ms();
    std::int64_t at = h.reveal(now);
    if (!a->json) fmt::print("revealed at {}\n", iso8601_utc(at));
    print_boards(h, now, a->json);
  });
}

}  // namespace

void add_host_commands(CLI::App& app) {
  auto* grp = app.add_subcommand("host", "Host a local competition: teams submit, a hidden private leaderboard");
  grp->require_subcommand(1);
  add_host_init_command(grp);
  add_host_serve_command(grp);
  add_host_submit_command(grp);
  add_host_status_command(grp);
  add_host_reveal_command(grp);
}

}  // namespace compe::cli
