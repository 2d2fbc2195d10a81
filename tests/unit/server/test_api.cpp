// The dashboard's JSON API without HTTP (api.hpp), and the token and Host rules through the
// server's in-memory respond().
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "../error_of.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "server/api.hpp"
#include "server/server.hpp"

namespace fs = std::filesystem;
using namespace compe;
using compe::testing::error_of;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("compe-api-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

constexpr std::int64_t kT0 = 1'700'000'000'000;

// A store with four finished runs of one metric: a (0.80), b (0.90, partial), c (0.85,
// archived), d (0.70); and e, failed without a score. Created in that order, a second apart.
struct Runs {
  TempDir tmp;
  std::unique_ptr<Store> store = open_store((tmp.path / "compe.db").string());
  std::map<std::string, std::string> id;  // name -> run id

  Runs() {
    add("a", 0.80, false);
    add("b", 0.90, true);
    add("c", 0.85, false);
    store->add_tag(id["c"], "archived");
    add("d", 0.70, false);
    compe::Run e;
    e.name = "e";
    e.kind = "model";
    e.metric = "roc_auc";
    e.direction = "maximize";
    e.created_ms = kT0 + 5000;
    id["e"] = store->create_run(e).id;
    RunResult failed;
    failed.status = RunStatus::kFailed;
    failed.error = "boom";
    store->finish_run(id["e"], failed);
  }

  void add(const std::string& name, double cv, bool partial) {
    compe::Run r;
    r.name = name;
    r.kind = "model";
    r.metric = "roc_auc";
    r.direction = "maximize";
    r.created_ms = kT0 + 1000 * static_cast<std::int64_t>(id.size() + 1);
    r.config = {{"model", {{"backend", "xgboost"}, {"params", {{"max_depth", 4}}}}}};
    id[name] = store->create_run(r).id;
    store->add_fold_score(id[name], 0, cv - 0.01);
    store->add_fold_score(id[name], 1, cv + 0.01);
    RunResult res;
    res.cv_score = cv;
    res.partial = partial;
    store->finish_run(id[name], res);
  }

  std::vector<std::string> names(const nlohmann::json& page) const {
    std::vector<std::string> out;
    for (const auto& r : page["runs"]) out.push_back(r["name"]);
    return out;
  }
};

/// The status line and body of a raw response.
std::pair<std::string, std::string> split_response(const std::string& raw) {
  auto eol = raw.find("\r\n");
  auto body = raw.find("\r\n\r\n");
  return {raw.substr(0, eol), body == std::string::npos ? "" : raw.substr(body + 4)};
}

}  // namespace

TEST(ApiRuns, ListsNewestFirstWithoutHeavyFields) {
  Runs t;
  nlohmann::json page = server::runs_json(*t.store, {});
  EXPECT_EQ(page["total"], 5);
  EXPECT_EQ(page["sort"], "created");
  EXPECT_EQ(page["order"], "desc");
  EXPECT_EQ(page["limit"], 50);
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"e", "d", "c", "b", "a"}));
  const auto& first = page["runs"][0];
  EXPECT_EQ(first["status"], "failed");
  EXPECT_EQ(first["error"], "boom");
  for (const char* heavy : {"command", "workdir", "config", "versions"}) EXPECT_FALSE(first.contains(heavy)) << heavy;
  // Filters and paging.
  page = server::runs_json(*t.store, {{"status", "finished"}, {"limit", "2"}, {"offset", "1"}});
  EXPECT_EQ(page["total"], 4);
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"c", "b"}));
  page = server::runs_json(*t.store, {{"cv_min", "0.8"}, {"cv_max", "0.86"}, {"sort", "cv"}});
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"c", "a"}));
  page = server::runs_json(*t.store, {{"sort", "name"}});
  EXPECT_EQ(page["order"], "asc");
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(ApiRuns, BestLeavesOutPartialAndArchivedRuns) {
  Runs t;
  nlohmann::json page = server::runs_json(*t.store, {{"sort", "best"}});
  // b (partial) and c (archived) are left out; e has no score and sorts last.
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"a", "d", "e"}));
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["order"], "desc");
  page = server::runs_json(*t.store, {{"sort", "best"}, {"all", "1"}});
  EXPECT_EQ(t.names(page), (std::vector<std::string>{"b", "c", "a", "d", "e"}));
}

TEST(ApiRuns, BadQueryValuesNameTheParameter) {
  Runs t;
  EXPECT_NE(error_of([&] { server::runs_json(*t.store, {{"sort", "size"}}); })
                .find("query parameter sort='size': expected created, cv, best, name or status"),
            std::string::npos);
  EXPECT_NE(error_of([&] { server::runs_json(*t.store, {{"order", "up"}}); })
                .find("query parameter order='up': expected asc or desc"),
            std::string::npos);
  EXPECT_NE(error_of([&] { server::runs_json(*t.store, {{"cv_min", "0.9"}, {"cv_max", "0.1"}}); })
                .find("cv_min is above cv_max"),
            std::string::npos);
  EXPECT_NE(error_of([&] { server::runs_json(*t.store, {{"limit", "0"}}); }).find("limit"), std::string::npos);
}

TEST(ApiRun, DetailByPrefixWithFoldsArtifactsAndLbScores) {
  Runs t;
  const std::string a = t.id["a"];
  LbScore lb;
  lb.run_id = a;
  lb.public_score = 0.79;
  lb.note = "first";
  t.store->add_lb_score(lb);
  t.store->log_metrics(a, std::vector<MetricPoint>{{"valid-auc", 0, 0, 0.7}, {"valid-auc", 0, 1, 0.75}});
  nlohmann::json j = server::run_json(*t.store, a.substr(0, 6));
  EXPECT_EQ(j["run_id"], a);
  EXPECT_EQ(j["name"], "a");
  EXPECT_DOUBLE_EQ(j["cv"].get<double>(), 0.80);
  EXPECT_NEAR(j["fold_mean"].get<double>(), 0.80, 1e-12);
  EXPECT_NEAR(j["folds"]["1"].get<double>(), 0.81, 1e-12);
  EXPECT_EQ(j["model"], "xgboost");
  EXPECT_EQ(j["params"]["max_depth"], 4);
  ASSERT_EQ(j["lb"].size(), 1u);
  EXPECT_DOUBLE_EQ(j["lb"][0]["public"].get<double>(), 0.79);
  EXPECT_TRUE(j["lb"][0]["private"].is_null());
  EXPECT_EQ(j["lb"][0]["note"], "first");
  EXPECT_EQ(j["metric_keys"], nlohmann::json::array({"valid-auc"}));
  EXPECT_TRUE(j["artifacts"].empty());
  nlohmann::json m = server::metrics_json(*t.store, a, "valid-auc");
  ASSERT_EQ(m["series"].size(), 1u);
  EXPECT_EQ(m["series"][0]["values"], nlohmann::json::array({0.7, 0.75}));
  EXPECT_NE(error_of([&] { server::run_json(*t.store, "zzzzzzzz"); }, ErrorCode::kNotFound).find("zzzzzzzz"),
            std::string::npos);
}

TEST(ServerRespond, HostAndTokenRules) {
  Runs t;
  {
    server::Options o;  // loopback, no token: the Host header must name a loopback address
    server::Server s(*t.store, t.tmp.path, o);
    auto [status, body] = split_response(s.respond("GET /api/runs?sort=best HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 200 OK");
    nlohmann::json j = nlohmann::json::parse(body);
    EXPECT_EQ(j["total"], 3);
    std::tie(status, body) = split_response(s.respond("GET /api/runs HTTP/1.1\r\nHost: evil.example:8765\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 403 Forbidden");
    EXPECT_EQ(nlohmann::json::parse(body)["code"], "forbidden");
    std::tie(status, body) = split_response(s.respond("GET /api/runs?sort=size HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 400 Bad Request");
    EXPECT_NE(body.find("sort="), std::string::npos) << body;
    std::tie(status, body) = split_response(s.respond("GET /api/runs/zzzzzzzz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 404 Not Found");
  }
  {
    server::Options o;
    o.token = "secret-token-1";
    server::Server s(*t.store, t.tmp.path, o);
    auto [status, body] = split_response(s.respond("GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 401 Unauthorized");
    EXPECT_EQ(nlohmann::json::parse(body)["code"], "unauthorized");
    std::tie(status, body) = split_response(s.respond("GET /api/runs?token=wrong-token-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 401 Unauthorized");
    std::tie(status, body) = split_response(s.respond("GET /api/runs?token=secret-token-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 200 OK");
    EXPECT_EQ(nlohmann::json::parse(body)["total"], 5);
    // With a token, any Host is accepted: the token is the guard.
    std::tie(status, body) = split_response(
        s.respond("GET /api/runs/" + t.id["d"] + " HTTP/1.1\r\nHost: box.lan\r\nAuthorization: Bearer secret-token-1\r\n\r\n"));
    EXPECT_EQ(status, "HTTP/1.1 200 OK");
    EXPECT_EQ(nlohmann::json::parse(body)["name"], "d");
  }
  // A non-loopback host without a token is refused at construction.
  server::Options open;
  open.host = "0.0.0.0";
  EXPECT_NE(error_of([&] { server::Server s(*t.store, t.tmp.path, open); }).find("requires a token"),
            std::string::npos);
}
