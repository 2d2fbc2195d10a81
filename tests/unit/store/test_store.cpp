// Conformance suite of the run store: every case runs against SQLite in memory, SQLite on a file
// and PostgreSQL (when COMPE_TEST_POSTGRES holds a URL; skipped otherwise).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <zlib.h>

#include "compe/error.hpp"
#include "compe/sha256.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"

#include "../error_of.hpp"
#include "store/db.hpp"
#include "store/schema.hpp"

namespace {

namespace fs = std::filesystem;
using compe::Error;
using compe::testing::message_of;
using compe::ErrorCode;
using compe::MetricPoint;
using StoredRun = compe::Run;  // testing::Test has a Run() of its own
using compe::RunFilter;
using compe::RunSort;
using compe::RunStatus;
using compe::Store;
using compe::TrialState;

enum class Backend { kMemory, kFile, kPostgres };

std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kMemory:
      return "SqliteMemory";
    case Backend::kFile:
      return "SqliteFile";
    case Backend::kPostgres:
      return "Postgres";
  }
  return "?";
}

template <typename F>
ErrorCode error_code_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a compe::Error";
  return ErrorCode::kInternal;
}

class StoreTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string tag = fmt::format("{}_{}_{}", ::getpid(), compe::now_unix_ms(), counter++);
    switch (GetParam()) {
      case Backend::kMemory:
        url_ = ":memory:";
        break;
      case Backend::kFile:
        dir_ = fs::temp_directory_path() / ("compe-store-test-" + tag);
        url_ = (dir_ / "ws" / ".compe" / "compe.db").string();
        break;
      case Backend::kPostgres: {
        const char* pg = std::getenv("COMPE_TEST_POSTGRES");
        if (!pg || !*pg) GTEST_SKIP() << "COMPE_TEST_POSTGRES is not set";
        pg_base_ = pg;
        schema_ = "compe_test_" + tag;
        url_ = pg_base_ + (pg_base_.find('?') == std::string::npos ? "?" : "&") +
               "schema=" + schema_ + "&application_name=" + schema_;
        break;
      }
    }
    store_ = compe::open_store(url_);
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!schema_.empty()) {
      compe::store::open_postgres(pg_base_, "")
          ->exec_script(fmt::format("DROP SCHEMA \"{}\" CASCADE", schema_));
    }
  }

  /// Whether a second connection sees the same store (not so for a private in-memory database).
  bool shared() const { return GetParam() != Backend::kMemory; }

  std::unique_ptr<Store> open_again() { return compe::open_store(url_); }

  /// A raw connection to the (empty) location of the store, for loading fixtures.
  std::unique_ptr<compe::store::Db> raw_db() {
    if (GetParam() == Backend::kPostgres) return compe::store::open_postgres(pg_base_, schema_);
    return compe::store::open_sqlite(url_);
  }

  /// Deletes the store so that its location is empty again.
  void wipe() {
    store_.reset();
    if (GetParam() == Backend::kFile) {
      fs::remove_all(dir_);
      fs::create_directories(fs::path(url_).parent_path());
    } else if (GetParam() == Backend::kPostgres) {
      auto db = compe::store::open_postgres(pg_base_, "");
      db->exec_script(fmt::format("DROP SCHEMA \"{0}\" CASCADE; CREATE SCHEMA \"{0}\"", schema_));
    }
  }

  StoredRun make_run(const std::string& name) {
    StoredRun r;
    r.name = name;
    r.metric = "auc";
    r.direction = "maximize";
    return store_->create_run(r);
  }

  std::string url_;
  fs::path dir_;
  std::string pg_base_;
  std::string schema_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Store, StoreTest,
                         testing::Values(Backend::kMemory, Backend::kFile, Backend::kPostgres),
                         backend_name);

TEST_P(StoreTest, OpensAtCurrentSchemaVersion) {
  EXPECT_EQ(store_->schema_version(), compe::kStoreSchemaVersion);
  EXPECT_EQ(store_->list_runs({}).total, 0);
}

TEST_P(StoreTest, CreateAndGetRunRoundTripsEveryField) {
  StoredRun in;
  in.name = "xgb-1";
  in.config = {{"model", {{"kind", "xgboost"}, {"params", {{"eta", 0.05}}}}}};
  in.folds_hash = "00ff";
  in.data_hash = "11ee";
  in.metric = "rmse";
  in.direction = "minimize";
  in.fold_scores = {{0, 0.5}, {1, 0.25}};
  in.tags = {"b", "a"};
  in.note = "note é";
  in.command = "compe run x.toml";
  in.workdir = "/ws";
  in.git_commit = "abc";
  in.git_branch = "main";
  in.git_dirty = true;
  in.versions = {{"compe", "0.1.0"}};
  in.wall_seconds = 1.5;
  in.cpu_seconds = 3.25;
  in.peak_memory_bytes = 1 << 30;
  StoredRun parent = make_run("parent");
  in.parent_id = parent.id;
  StoredRun made = store_->create_run(in);
  EXPECT_EQ(made.status, RunStatus::kRunning);
  EXPECT_GT(made.created_ms, 1'600'000'000'000);
  EXPECT_EQ(made.pid, static_cast<std::int64_t>(::getpid()));
  EXPECT_FALSE(made.host.empty());

  StoredRun got = store_->get_run(made.id);
  EXPECT_EQ(got.id, made.id);
  EXPECT_EQ(got.name, "xgb-1");
  EXPECT_EQ(got.status, RunStatus::kRunning);
  EXPECT_EQ(got.created_ms, made.created_ms);
  EXPECT_EQ(got.started_ms, made.started_ms);
  EXPECT_FALSE(got.ended_ms.has_value());
  EXPECT_EQ(got.heartbeat_ms, made.heartbeat_ms);
  EXPECT_EQ(got.config, in.config);
  EXPECT_EQ(got.parent_id, parent.id);
  EXPECT_EQ(got.folds_hash, "00ff");
  EXPECT_EQ(got.data_hash, "11ee");
  EXPECT_EQ(got.metric, "rmse");
  EXPECT_EQ(got.direction, "minimize");
  EXPECT_FALSE(got.cv_score.has_value());
  EXPECT_EQ(got.fold_scores, in.fold_scores);
  EXPECT_EQ(got.tags, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(got.note, "note é");
  EXPECT_EQ(got.command, "compe run x.toml");
  EXPECT_EQ(got.workdir, "/ws");
  EXPECT_EQ(got.host, made.host);
  EXPECT_EQ(got.pid, made.pid);
  EXPECT_EQ(got.git_commit, "abc");
  EXPECT_EQ(got.git_branch, "main");
  EXPECT_EQ(got.git_dirty, std::optional<bool>(true));
  EXPECT_EQ(got.versions, in.versions);
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.wall_seconds, 1.5);
  EXPECT_EQ(got.cpu_seconds, 3.25);
  EXPECT_EQ(got.peak_memory_bytes, std::int64_t{1} << 30);
}

TEST_P(StoreTest, RunIdsAreShortUniqueAndReadable) {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    std::string id = make_run("r").id;
    ASSERT_EQ(id.size(), 8u);
    for (char c : id) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(store_->list_runs({.limit = 0}).total, 200);
}

TEST_P(StoreTest, UnknownRunIsNotFound) {
  EXPECT_EQ(error_code_of([&] { store_->get_run("zzzzzzzz"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->update_run("zzzzzzzz", {.name = "x"}); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->finish_run("zzzzzzzz", {}); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->add_fold_score("zzzzzzzz", 0, 1); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->add_tag("zzzzzzzz", "t"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->set_note("zzzzzzzz", "t"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->heartbeat("zzzzzzzz"); }), ErrorCode::kNotFound);
  MetricPoint p{"k", std::nullopt, 0, 1.0};
  EXPECT_EQ(error_code_of([&] { store_->log_metrics("zzzzzzzz", {&p, 1}); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->add_lb_score({.run_id = "zzzzzzzz"}); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->add_artifact({.run_id = "zzzzzzzz", .name = "a"}); }),
            ErrorCode::kNotFound);
  std::string msg = message_of([&] { store_->get_run("zzzzzzzz"); });
  EXPECT_NE(msg.find("zzzzzzzz"), std::string::npos) << msg;
}

TEST_P(StoreTest, ResolvesUniqueIdPrefixes) {
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(make_run("r").id);  // 40 ids, 32 first letters
  EXPECT_EQ(store_->resolve_run_id(ids[0]), ids[0]);
  EXPECT_EQ(store_->resolve_run_id(ids[0].substr(0, 7)), ids[0]);
  std::map<char, int> first;
  for (const auto& id : ids) first[id[0]]++;
  auto shared_letter =
      std::find_if(first.begin(), first.end(), [](auto& kv) { return kv.second > 1; });
  ASSERT_NE(shared_letter, first.end());
  EXPECT_EQ(error_code_of([&] { store_->resolve_run_id(std::string(1, shared_letter->first)); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { store_->resolve_run_id("%"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->resolve_run_id(""); }), ErrorCode::kNotFound);
}

TEST_P(StoreTest, UpdateRunChangesOnlyGivenFields) {
  StoredRun r = make_run("before");
  store_->update_run(r.id, {.name = "after",
                            .config = nlohmann::json{{"a", 1}},
                            .git_dirty = false,
                            .cv_score = 0.75,
                            .peak_memory_bytes = 99});
  StoredRun got = store_->get_run(r.id);
  EXPECT_EQ(got.name, "after");
  EXPECT_EQ(got.config, (nlohmann::json{{"a", 1}}));
  EXPECT_EQ(got.git_dirty, std::optional<bool>(false));
  EXPECT_EQ(got.cv_score, 0.75);
  EXPECT_EQ(got.peak_memory_bytes, 99);
  EXPECT_EQ(got.metric, "auc");
  EXPECT_EQ(got.direction, "maximize");
  store_->update_run(r.id, {});  // nothing to change is fine
  EXPECT_EQ(store_->get_run(r.id).name, "after");
}

TEST_P(StoreTest, FinishRunRecordsOutcomeAndFoldScores) {
  StoredRun r = make_run("r");
  store_->add_fold_score(r.id, 0, 0.8);
  store_->add_fold_score(r.id, 1, 0.7);
  store_->add_fold_score(r.id, 1, 0.9);  // replaces
  store_->update_run(r.id, {.cv_score = 0.5});
  store_->finish_run(r.id, {.status = RunStatus::kFinished,
                            .cv_score = 0.85,
                            .fold_scores = {{2, 0.86}},
                            .wall_seconds = 12.5});
  StoredRun got = store_->get_run(r.id);
  EXPECT_EQ(got.status, RunStatus::kFinished);
  EXPECT_EQ(got.cv_score, 0.85);
  EXPECT_EQ(got.fold_scores, (std::map<int, double>{{0, 0.8}, {1, 0.9}, {2, 0.86}}));
  ASSERT_TRUE(got.ended_ms.has_value());
  EXPECT_GE(*got.ended_ms, got.started_ms);
  EXPECT_EQ(got.wall_seconds, 12.5);

  StoredRun kept = make_run("kept");
  store_->update_run(kept.id, {.cv_score = 0.61});
  store_->finish_run(kept.id, {.status = RunStatus::kFinished});
  EXPECT_EQ(store_->get_run(kept.id).cv_score, 0.61);  // unset in the result: kept

  StoredRun bad = make_run("bad");
  store_->finish_run(bad.id, {.status = RunStatus::kFailed, .error = "fold 3: out of memory"});
  got = store_->get_run(bad.id);
  EXPECT_EQ(got.status, RunStatus::kFailed);
  EXPECT_EQ(got.error, "fold 3: out of memory");
  EXPECT_FALSE(got.cv_score.has_value());
}

TEST_P(StoreTest, TagsAndNotes) {
  StoredRun r = make_run("r");
  store_->add_tag(r.id, "x");
  store_->add_tag(r.id, "x");
  store_->add_tag(r.id, "y");
  EXPECT_EQ(store_->get_run(r.id).tags, (std::set<std::string>{"x", "y"}));
  store_->remove_tag(r.id, "x");
  store_->remove_tag(r.id, "absent");
  EXPECT_EQ(store_->get_run(r.id).tags, (std::set<std::string>{"y"}));
  store_->set_tags(r.id, {"p", "q"});
  EXPECT_EQ(store_->get_run(r.id).tags, (std::set<std::string>{"p", "q"}));
  store_->set_tags(r.id, {});
  EXPECT_TRUE(store_->get_run(r.id).tags.empty());
  EXPECT_EQ(error_code_of([&] { store_->add_tag(r.id, ""); }), ErrorCode::kInvalidArgument);
  store_->set_note(r.id, "multi\nline 'quoted'");
  EXPECT_EQ(store_->get_run(r.id).note, "multi\nline 'quoted'");
}

TEST_P(StoreTest, ListRunsFiltersSortsAndPages) {
  // 30 runs: created at distinct times; auc (maximize) and rmse (minimize); every 5th unscored.
  std::vector<StoredRun> runs;
  for (int i = 0; i < 30; ++i) {
    StoredRun r;
    r.name = (i % 2 ? "xgb-" : "lin-") + std::to_string(i);
    r.created_ms = 1'700'000'000'000 + i * 1000;
    r.metric = i < 20 ? "auc" : "rmse";
    r.direction = i < 20 ? "maximize" : "minimize";
    if (i % 3 == 0) r.tags = {"good"};
    runs.push_back(store_->create_run(r));
    if (i % 5 != 0) {
      store_->finish_run(runs.back().id,
                         {.status = RunStatus::kFinished, .cv_score = (i * 7 % 30) / 30.0});
      runs.back().cv_score = (i * 7 % 30) / 30.0;
    } else if (i == 5) {
      store_->finish_run(runs.back().id, {.status = RunStatus::kFailed, .error = "x"});
    }
  }
  auto ids_of = [](const compe::RunPage& p) {
    std::vector<std::string> ids;
    for (const StoredRun& r : p.runs) ids.push_back(r.id);
    return ids;
  };

  // Default: newest first, 50 per page.
  auto page = store_->list_runs({});
  EXPECT_EQ(page.total, 30);
  ASSERT_EQ(page.runs.size(), 30u);
  EXPECT_EQ(page.runs.front().id, runs[29].id);
  EXPECT_EQ(page.runs.back().id, runs[0].id);
  EXPECT_EQ(page.runs[26].tags, std::set<std::string>{"good"});  // runs[3]
  EXPECT_TRUE(page.runs[27].tags.empty());                       // runs[2]
  page = store_->list_runs({.descending = false});
  EXPECT_EQ(page.runs.front().id, runs[0].id);

  // Paging covers every run exactly once, in order.
  std::vector<std::string> paged;
  for (std::int64_t off = 0; off < 30; off += 7) {
    auto p = store_->list_runs({.limit = 7, .offset = off});
    EXPECT_EQ(p.total, 30);
    for (auto& id : ids_of(p)) paged.push_back(id);
  }
  EXPECT_EQ(paged, ids_of(store_->list_runs({.limit = 0})));
  EXPECT_TRUE(store_->list_runs({.limit = 10, .offset = 100}).runs.empty());
  EXPECT_EQ(error_code_of([&] { store_->list_runs({.limit = -1}); }), ErrorCode::kInvalidArgument);

  // Filters.
  EXPECT_EQ(store_->list_runs({.status = RunStatus::kRunning}).total, 5);  // i = 0, 10, 15, 20, 25
  EXPECT_EQ(store_->list_runs({.status = RunStatus::kFailed}).total, 1);
  EXPECT_EQ(store_->list_runs({.status = RunStatus::kFinished}).total, 24);
  EXPECT_EQ(store_->list_runs({.tag = "good"}).total, 10);
  for (const StoredRun& r : store_->list_runs({.tag = "good"}).runs)
    EXPECT_TRUE(r.tags.count("good"));
  EXPECT_EQ(store_->list_runs({.name_contains = "xgb"}).total, 15);
  EXPECT_EQ(store_->list_runs({.name_contains = "XGB"}).total,
            0);  // case-sensitive in both backends
  EXPECT_EQ(store_->list_runs({.name_contains = "-1"}).total, 11);  // 1, 10..19
  EXPECT_EQ(store_->list_runs({.metric = "rmse"}).total, 10);
  EXPECT_EQ(
      store_->list_runs({.status = RunStatus::kFinished, .tag = "good", .metric = "auc"}).total,
      5);  // 3, 6, 9, 12, 18
  auto small = store_->list_runs({.tag = "good", .limit = 2});
  EXPECT_EQ(small.total, 10);
  EXPECT_EQ(small.runs.size(), 2u);

  // Sort by cv: scored runs by score, unscored last.
  auto by_cv = store_->list_runs({.metric = "auc", .sort = RunSort::kCvScore, .limit = 0});
  ASSERT_EQ(by_cv.runs.size(), 20u);
  for (std::size_t i = 1; i < by_cv.runs.size(); ++i) {
    const auto& a = by_cv.runs[i - 1].cv_score;
    const auto& b = by_cv.runs[i].cv_score;
    if (a && b) {
      EXPECT_GE(*a, *b);
    }
    if (!a) {
      EXPECT_FALSE(b.has_value());
    }
  }
  EXPECT_FALSE(by_cv.runs.back().cv_score.has_value());
  auto by_cv_asc =
      store_->list_runs({.metric = "auc", .sort = RunSort::kCvScore, .descending = false});
  EXPECT_LE(*by_cv_asc.runs[0].cv_score, *by_cv_asc.runs[1].cv_score);
  EXPECT_FALSE(by_cv_asc.runs.back().cv_score.has_value());

  // Best: each run by its own direction.
  auto best_rmse = store_->list_runs({.metric = "rmse", .sort = RunSort::kBest, .limit = 1});
  double min_rmse = 1e9;
  for (const StoredRun& r : runs) {
    if (r.metric == "rmse" && r.cv_score) min_rmse = std::min(min_rmse, *r.cv_score);
  }
  EXPECT_EQ(best_rmse.runs.at(0).cv_score, min_rmse);
  auto best_auc = store_->list_runs({.metric = "auc", .sort = RunSort::kBest, .limit = 1});
  EXPECT_EQ(best_auc.runs.at(0).id, by_cv.runs[0].id);
}

TEST_P(StoreTest, ListRunsByCvRangeNameAndStatus) {
  // Names with upper case, digits and punctuation pin byte order on both backends.
  struct Spec {
    const char* name;
    std::optional<double> cv;
    RunStatus status;
  };
  const std::vector<Spec> specs = {{"beta", 0.70, RunStatus::kFinished},   {"Alpha", 0.90, RunStatus::kFinished},
                                   {"alpha-2", 0.50, RunStatus::kFinished}, {"_x", std::nullopt, RunStatus::kFailed},
                                   {"beta", 0.80, RunStatus::kFinished},    {"zeta", std::nullopt, RunStatus::kRunning},
                                   {"10", -0.25, RunStatus::kInterrupted}};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    StoredRun r;
    r.name = specs[i].name;
    r.created_ms = 1'700'000'000'000 + static_cast<std::int64_t>(i) * 1000;
    r.host = "another-machine";  // never marked stale here
    r = store_->create_run(r);
    ids.push_back(r.id);
    if (specs[i].status != RunStatus::kRunning)
      store_->finish_run(r.id, {.status = specs[i].status, .cv_score = specs[i].cv});
  }
  auto names = [](const compe::RunPage& p) {
    std::vector<std::string> out;
    for (const StoredRun& r : p.runs) out.push_back(r.name);
    return out;
  };
  auto ids_of = [](const compe::RunPage& p) {
    std::vector<std::string> out;
    for (const StoredRun& r : p.runs) out.push_back(r.id);
    return out;
  };

  // Inclusive bounds on the raw score; unscored runs never match a range.
  EXPECT_EQ(store_->list_runs({.cv_min = 0.7}).total, 3);
  EXPECT_EQ(store_->list_runs({.cv_max = 0.7}).total, 3);  // 0.7, 0.5, -0.25
  auto mid = store_->list_runs({.cv_min = 0.5, .cv_max = 0.8, .sort = RunSort::kCvScore});
  std::vector<double> scores;
  for (const StoredRun& r : mid.runs) scores.push_back(r.cv_score.value());
  EXPECT_EQ(scores, (std::vector<double>{0.8, 0.7, 0.5}));
  EXPECT_EQ(store_->list_runs({.cv_min = 0.95}).total, 0);
  EXPECT_EQ(store_->list_runs({.cv_min = 0.9, .cv_max = 0.9}).total, 1);
  EXPECT_EQ(store_->list_runs({.cv_min = -1e300}).total, 5);
  EXPECT_EQ(store_->list_runs({.name_contains = "beta", .cv_min = 0.75}).total, 1);
  EXPECT_EQ(error_code_of([&] { store_->list_runs({.cv_min = std::nan("")}); }), ErrorCode::kInvalidArgument);

  // Name: byte order ("1" < "A" < "_" < "a"), ties newest first; descending reverses the names.
  auto by_name = store_->list_runs({.sort = RunSort::kName, .descending = false});
  EXPECT_EQ(names(by_name), (std::vector<std::string>{"10", "Alpha", "_x", "alpha-2", "beta", "beta", "zeta"}));
  EXPECT_EQ(by_name.runs[4].id, ids[4]);  // the newer "beta" first
  EXPECT_EQ(names(store_->list_runs({.sort = RunSort::kName})),
            (std::vector<std::string>{"zeta", "beta", "beta", "alpha-2", "_x", "Alpha", "10"}));
  auto page = store_->list_runs({.sort = RunSort::kName, .descending = false, .limit = 2, .offset = 1});
  EXPECT_EQ(page.total, 7);
  EXPECT_EQ(names(page), (std::vector<std::string>{"Alpha", "_x"}));

  // Status: alphabetical by its name, ties newest first.
  auto by_status = store_->list_runs({.sort = RunSort::kStatus, .descending = false});
  std::vector<std::string> statuses;
  for (const StoredRun& r : by_status.runs) statuses.emplace_back(compe::run_status_name(r.status));
  EXPECT_EQ(statuses, (std::vector<std::string>{"failed", "finished", "finished", "finished", "finished",
                                                "interrupted", "running"}));
  EXPECT_EQ(ids_of(by_status)[1], ids[4]);
  EXPECT_EQ(ids_of(by_status)[4], ids[0]);
  EXPECT_EQ(store_->list_runs({.sort = RunSort::kStatus, .limit = 1}).runs.at(0).id, ids[5]);  // running
  EXPECT_EQ(store_->list_runs({.status = RunStatus::kFinished, .cv_max = 0.75, .sort = RunSort::kName}).total, 2);
}

TEST_P(StoreTest, MetricSeriesRoundTripInBatches) {
  StoredRun r = make_run("r");
  StoredRun other = make_run("other");
  std::vector<MetricPoint> pts;
  for (int fold = 0; fold < 5; ++fold) {
    for (int step = 0; step < 1000; ++step) {
      pts.push_back({"valid-auc", fold, step, 0.5 + step * 1e-4 + fold});
      pts.push_back({"train-loss", fold, step, 1.0 / (step + 1)});
    }
  }
  pts.push_back({"wall", std::nullopt, 0, 12.0});
  pts.push_back({"wall", std::nullopt, 1, std::nan("")});
  pts.push_back({"odd\\key\twith\nescapes é", 3, -1, -std::numeric_limits<double>::infinity()});
  store_->log_metrics(r.id, pts);
  MetricPoint o{"valid-auc", 0, 0, 42.0};
  store_->log_metrics(other.id, {&o, 1});

  auto auc = store_->read_metrics(r.id, "valid-auc");
  ASSERT_EQ(auc.size(), 5000u);
  EXPECT_EQ(auc[0].fold, 0);
  EXPECT_EQ(auc[0].step, 0);
  EXPECT_DOUBLE_EQ(auc[0].value, 0.5);
  EXPECT_EQ(auc[1999].fold, 1);
  EXPECT_EQ(auc[1999].step, 999);
  EXPECT_DOUBLE_EQ(auc[1999].value, 0.5 + 999e-4 + 1);
  auto all = store_->read_metrics(r.id);
  ASSERT_EQ(all.size(), pts.size());
  EXPECT_EQ(all[0].key, "odd\\key\twith\nescapes é");  // sorts first
  auto wall = store_->read_metrics(r.id, "wall");
  ASSERT_EQ(wall.size(), 2u);
  EXPECT_FALSE(wall[0].fold.has_value());
  EXPECT_EQ(wall[0].value, 12.0);
  EXPECT_TRUE(std::isnan(wall[1].value));
  auto odd = store_->read_metrics(r.id, "odd\\key\twith\nescapes é");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].fold, 3);
  EXPECT_EQ(odd[0].step, -1);
  EXPECT_EQ(odd[0].value, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(store_->read_metrics(r.id, "absent").empty());
  EXPECT_EQ(
      store_->metric_keys(r.id),
      (std::vector<std::string>{"odd\\key\twith\nescapes é", "train-loss", "valid-auc", "wall"}));
  EXPECT_TRUE(store_->metric_keys(make_run("empty").id).empty());
  EXPECT_EQ(store_->read_metrics(other.id).size(), 1u);

  // A batch is all or nothing: a bad point at the end leaves none of the batch.
  std::vector<MetricPoint> bad(600, MetricPoint{"x", std::nullopt, 1, 1.0});
  bad.back().key = "";
  EXPECT_EQ(error_code_of([&] { store_->log_metrics(r.id, bad); }), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store_->read_metrics(r.id, "x").empty());
  store_->log_metrics(r.id, {});  // empty batch is fine
  MetricPoint negative{"x", -1, 0, 1.0};
  EXPECT_EQ(error_code_of([&] {
              store_->log_metrics(r.id, {&negative, 1});
            }),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, ArtifactsAddReplaceList) {
  StoredRun r = make_run("r");
  store_->add_artifact({.run_id = r.id,
                        .name = "oof",
                        .path = "runs/a/oof.csv",
                        .size = 10,
                        .sha = "aa",
                        .kind = "oof"});
  store_->add_artifact({.run_id = r.id,
                        .name = "model",
                        .path = "runs/a/m.json",
                        .size = 5,
                        .sha = "bb",
                        .kind = "model"});
  store_->add_artifact({.run_id = r.id,
                        .name = "oof",
                        .path = "runs/a/oof2.csv",
                        .size = 11,
                        .sha = "cc",
                        .kind = "oof"});
  auto arts = store_->list_artifacts(r.id);
  ASSERT_EQ(arts.size(), 2u);
  EXPECT_EQ(arts[0].name, "model");
  EXPECT_EQ(arts[1].name, "oof");
  EXPECT_EQ(arts[1].path, "runs/a/oof2.csv");
  EXPECT_EQ(arts[1].size, 11);
  EXPECT_EQ(arts[1].sha, "cc");
  EXPECT_EQ(arts[1].kind, "oof");
  EXPECT_GT(arts[1].created_ms, 0);
  EXPECT_EQ(error_code_of([&] { store_->add_artifact({.run_id = r.id}); }),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store_->list_artifacts(make_run("x").id).empty());
}

TEST_P(StoreTest, LeaderboardScores) {
  StoredRun a = make_run("a");
  StoredRun b = make_run("b");
  store_->add_lb_score({.run_id = a.id, .public_score = 0.81, .time_ms = 1000, .note = "first"});
  store_->add_lb_score(
      {.run_id = b.id, .public_score = 0.82, .private_score = 0.79, .time_ms = 2000});
  store_->add_lb_score({.run_id = a.id, .public_score = 0.815});
  auto la = store_->list_lb_scores(a.id);
  ASSERT_EQ(la.size(), 2u);
  EXPECT_EQ(la[0].public_score, 0.81);
  EXPECT_FALSE(la[0].private_score.has_value());
  EXPECT_EQ(la[0].note, "first");
  EXPECT_GT(la[1].time_ms, 2000);
  auto all = store_->list_lb_scores();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].run_id, b.id);
  EXPECT_EQ(all[1].private_score, 0.79);
}

TEST_P(StoreTest, StudiesAndTrials) {
  compe::Study s{
      .name = "xgb-tune", .directions = {"maximize"}, .sampler = {{"kind", "tpe"}, {"seed", 1}}};
  compe::Study made = store_->create_study(s);
  EXPECT_GT(made.created_ms, 0);
  EXPECT_EQ(error_code_of([&] { store_->create_study(s); }), ErrorCode::kInvalidArgument);
  compe::Study loaded = store_->create_study(s, /*load_if_exists=*/true);
  EXPECT_EQ(loaded.sampler, s.sampler);
  EXPECT_EQ(loaded.created_ms, made.created_ms);
  EXPECT_EQ(store_->get_study("xgb-tune").directions, std::vector<std::string>{"maximize"});
  EXPECT_EQ(error_code_of([&] { store_->create_study({.name = "bad", .directions = {"up"}}); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { store_->create_study({.name = "none"}); }),
            ErrorCode::kInvalidArgument);
  store_->create_study({.name = "multi", .directions = {"maximize", "minimize"}});
  EXPECT_EQ(store_->list_studies().size(), 2u);

  auto t0 = store_->create_trial("xgb-tune", {{"eta", 0.1}});
  auto t1 = store_->enqueue_trial("xgb-tune", {{"eta", 0.2}});
  auto t2 = store_->enqueue_trial("xgb-tune", {{"eta", 0.3}});
  EXPECT_EQ(t0.number, 0);
  EXPECT_EQ(t1.number, 1);
  EXPECT_EQ(t2.number, 2);
  EXPECT_EQ(t0.state, TrialState::kRunning);
  EXPECT_EQ(t1.state, TrialState::kWaiting);

  auto c = store_->claim_trial("xgb-tune");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->number, 1);
  EXPECT_EQ(c->state, TrialState::kRunning);
  EXPECT_EQ(c->params, (nlohmann::json{{"eta", 0.2}}));
  EXPECT_TRUE(c->started_ms.has_value());
  EXPECT_EQ(store_->claim_trial("xgb-tune")->number, 2);
  EXPECT_FALSE(store_->claim_trial("xgb-tune").has_value());
  EXPECT_EQ(error_code_of([&] { store_->claim_trial("absent"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->create_trial("absent", {}); }), ErrorCode::kNotFound);

  store_->report_intermediate("xgb-tune", 0, 10, 0.7);
  store_->report_intermediate("xgb-tune", 0, 20, 0.75);
  store_->report_intermediate("xgb-tune", 0, 20, 0.76);
  StoredRun r = make_run("trial-0");
  store_->set_trial_run("xgb-tune", 0, r.id);
  EXPECT_EQ(error_code_of([&] { store_->set_trial_run("xgb-tune", 0, "zzzzzzzz"); }),
            ErrorCode::kNotFound);
  double v = 0.8;
  store_->finish_trial("xgb-tune", 0, TrialState::kComplete, {&v, 1});
  EXPECT_EQ(error_code_of([&] { store_->finish_trial("xgb-tune", 0, TrialState::kFailed, {}); }),
            ErrorCode::kInvalidArgument);  // ended once only
  std::vector<double> two{1, 2};
  EXPECT_EQ(error_code_of([&] { store_->finish_trial("xgb-tune", 1, TrialState::kComplete, two); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { store_->finish_trial("xgb-tune", 1, TrialState::kRunning, {}); }),
            ErrorCode::kInvalidArgument);
  store_->finish_trial("xgb-tune", 1, TrialState::kPruned, {});
  store_->finish_trial("xgb-tune", 2, TrialState::kFailed, {}, "xgboost: bad param");
  EXPECT_EQ(error_code_of([&] { store_->finish_trial("xgb-tune", 9, TrialState::kPruned, {}); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->report_intermediate("xgb-tune", 9, 1, 1); }),
            ErrorCode::kNotFound);

  auto got = store_->get_trial("xgb-tune", 0);
  EXPECT_EQ(got.state, TrialState::kComplete);
  EXPECT_EQ(got.values, std::vector<double>{0.8});
  EXPECT_EQ(got.intermediate, (std::map<std::int64_t, double>{{10, 0.7}, {20, 0.76}}));
  EXPECT_EQ(got.run_id, r.id);
  EXPECT_TRUE(got.ended_ms.has_value());
  EXPECT_EQ(store_->get_trial("xgb-tune", 2).error, "xgboost: bad param");
  auto all = store_->list_trials("xgb-tune");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].intermediate.size(), 2u);
  EXPECT_EQ(store_->list_trials("xgb-tune", TrialState::kPruned).size(), 1u);
  EXPECT_TRUE(store_->list_trials("multi").empty());
  EXPECT_EQ(error_code_of([&] { store_->get_trial("xgb-tune", 7); }), ErrorCode::kNotFound);

  std::vector<double> mv{0.9, 12.0};
  auto m0 = store_->create_trial("multi", {});
  EXPECT_EQ(m0.number, 0);  // numbers are per study
  store_->finish_trial("multi", 0, TrialState::kComplete, mv);
  EXPECT_EQ(store_->get_trial("multi", 0).values, mv);
}

TEST_P(StoreTest, HeartbeatAndStaleRunsBecomeInterrupted) {
  StoredRun alive = make_run("alive");  // this process, fresh heartbeat
  StoredRun remote;
  remote.name = "remote";
  remote.host = "another-machine";
  remote.pid = 1;
  remote.started_ms = compe::now_unix_ms() - 3'600'000;
  remote.heartbeat_ms = remote.started_ms;
  remote = store_->create_run(remote);
  StoredRun slow_local;  // this process, heartbeat long ago: alive, so left alone
  slow_local.heartbeat_ms = compe::now_unix_ms() - 3'600'000;
  slow_local = store_->create_run(slow_local);
  StoredRun remote_fresh;
  remote_fresh.host = "another-machine";
  remote_fresh.pid = 1;
  remote_fresh = store_->create_run(remote_fresh);

  // A process of this host that has exited (and been reaped).
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  StoredRun dead;
  dead.name = "dead";
  dead.pid = child;
  dead = store_->create_run(dead);
  StoredRun done = make_run("done");
  store_->finish_run(done.id, {.status = RunStatus::kFinished});

  std::int64_t before = store_->get_run(alive.id).heartbeat_ms.value();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  store_->heartbeat(alive.id);
  EXPECT_GT(store_->get_run(alive.id).heartbeat_ms.value(), before);

  auto changed = store_->mark_interrupted_stale(std::chrono::minutes(10));
  std::set<std::string> got(changed.begin(), changed.end());
  EXPECT_EQ(got, (std::set<std::string>{remote.id, dead.id}));
  StoredRun d = store_->get_run(dead.id);
  EXPECT_EQ(d.status, RunStatus::kInterrupted);
  EXPECT_TRUE(d.ended_ms.has_value());
  EXPECT_NE(d.error.find("gone"), std::string::npos) << d.error;
  EXPECT_NE(store_->get_run(remote.id).error.find("heartbeat"), std::string::npos);
  EXPECT_EQ(store_->get_run(remote_fresh.id).status, RunStatus::kRunning);
  EXPECT_EQ(store_->get_run(alive.id).status, RunStatus::kRunning);
  EXPECT_EQ(store_->get_run(slow_local.id).status, RunStatus::kRunning);
  EXPECT_EQ(store_->get_run(done.id).status, RunStatus::kFinished);
  EXPECT_TRUE(store_->mark_interrupted_stale().empty());  // idempotent

  // This process's pid on a run that started a day ago, long before this process did: the pid
  // was reused (after a reboot, say), so that run's own process is gone.
  StoredRun reused;
  reused.name = "reused pid";
  reused.started_ms = compe::now_unix_ms() - 86'400'000;
  reused = store_->create_run(reused);
  EXPECT_EQ(reused.pid, static_cast<std::int64_t>(::getpid()));
  EXPECT_EQ(store_->mark_interrupted_stale(), std::vector<std::string>{reused.id});
  EXPECT_NE(store_->get_run(reused.id).error.find("is gone"), std::string::npos);
  EXPECT_EQ(store_->get_run(alive.id).status, RunStatus::kRunning);
}

TEST_P(StoreTest, ConcurrentThreadsNeverShareTrialNumbers) {
  store_->create_study({.name = "s", .directions = {"minimize"}});
  constexpr int kThreads = 4, kPerThread = 25, kQueued = 60;
  for (int i = 0; i < kQueued; ++i) store_->enqueue_trial("s", {{"i", i}});
  std::string curves = make_run("curves").id;  // every thread logs to it, creating series at once
  std::vector<std::vector<std::int64_t>> created(kThreads), claimed(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        std::unique_ptr<Store> own = shared() ? open_again() : nullptr;
        Store& s = own ? *own : *store_;
        for (int i = 0; i < kPerThread; ++i) {
          StoredRun r;
          r.name = fmt::format("t{}-{}", t, i);
          s.create_run(r);
          created[t].push_back(s.create_trial("s", {}).number);
          if (auto c = s.claim_trial("s")) claimed[t].push_back(c->number);
          std::vector<MetricPoint> pts(10, MetricPoint{fmt::format("k{}", i % 3), t % 2, i, 1.0});
          s.log_metrics(curves, pts);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<std::int64_t> numbers;
  std::size_t n_created = 0, n_claimed = 0;
  for (int t = 0; t < kThreads; ++t) {
    numbers.insert(created[t].begin(), created[t].end());
    n_created += created[t].size();
    for (auto n : claimed[t]) EXPECT_LT(n, kQueued);
    std::set<std::int64_t> c(claimed[t].begin(), claimed[t].end());
    numbers.insert(c.begin(), c.end());
    n_claimed += claimed[t].size();
  }
  EXPECT_EQ(n_created, std::size_t{kThreads * kPerThread});
  EXPECT_EQ(n_claimed, std::size_t{kQueued});        // 100 claim attempts, 60 queued trials
  EXPECT_EQ(numbers.size(), n_created + n_claimed);  // no number handed out twice
  EXPECT_EQ(*numbers.rbegin(), kQueued + kThreads * kPerThread - 1);  // none lost
  EXPECT_EQ(store_->list_runs({.limit = 0}).total, kThreads * kPerThread + 1);
  EXPECT_TRUE(store_->list_trials("s", TrialState::kWaiting).empty());
  auto pts = store_->read_metrics(curves);
  EXPECT_EQ(pts.size(), std::size_t{kThreads * kPerThread * 10});
  std::set<std::pair<std::string, int>> series;
  for (const auto& p : pts) series.insert({p.key, p.fold.value_or(-1)});
  EXPECT_EQ(series.size(), 6u);  // 3 keys x 2 folds, each created once
}

TEST_P(StoreTest, ConcurrentProcessesNeverShareTrialNumbers) {
  if (!shared()) GTEST_SKIP() << "a private in-memory store cannot be shared between processes";
  store_->create_study({.name = "s", .directions = {"minimize"}});
  for (int i = 0; i < 30; ++i) store_->enqueue_trial("s", {});
  store_.reset();  // no connection of the parent crosses fork()
  constexpr int kProcs = 3, kPerProc = 20;
  fs::path out_dir = fs::temp_directory_path() / fmt::format("compe-store-procs-{}", ::getpid());
  fs::create_directories(out_dir);
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int rc = 0;
      try {
        auto s = compe::open_store(url_);
        std::string lines;
        for (int i = 0; i < kPerProc; ++i) {
          s->create_run(StoredRun{.name = "proc"});
          lines += fmt::format("{}\n", s->create_trial("s", {}).number);
          if (auto c = s->claim_trial("s")) lines += fmt::format("{}\n", c->number);
        }
        compe::write_file_atomic(out_dir / std::to_string(p), lines);
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    ASSERT_GT(pid, 0);
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::multiset<std::int64_t> numbers;
  for (int p = 0; p < kProcs; ++p) {
    std::istringstream in(compe::read_file(out_dir / std::to_string(p)));
    std::int64_t n;
    while (in >> n) numbers.insert(n);
  }
  fs::remove_all(out_dir);
  EXPECT_EQ(numbers.size(), std::size_t{30 + kProcs * kPerProc});
  std::set<std::int64_t> unique(numbers.begin(), numbers.end());
  EXPECT_EQ(unique.size(), numbers.size());
  store_ = open_again();
  EXPECT_EQ(*unique.rbegin(), 30 + kProcs * kPerProc - 1);
  EXPECT_EQ(store_->list_runs({.limit = 0}).total, kProcs * kPerProc);
}

TEST_P(StoreTest, KilledProcessLeavesWholeRecordThenInterrupted) {
  if (!shared()) GTEST_SKIP() << "a private in-memory store cannot be shared between processes";
  constexpr std::size_t kBatch = 2000;
  store_.reset();  // no connection of the parent crosses fork()
  int pipe_fd[2];
  ASSERT_EQ(::pipe(pipe_fd), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fd[0]);
    try {
      auto s = compe::open_store(url_);
      StoredRun r = s->create_run(StoredRun{.name = "doomed", .metric = "auc"});
      std::vector<MetricPoint> pts(kBatch, MetricPoint{"loss", 0, 0, 1.0});
      s->log_metrics(r.id, pts);
      std::string msg = r.id + "\n";
      if (::write(pipe_fd[1], msg.data(), msg.size()) < 0) ::_exit(2);
      for (;;) s->log_metrics(r.id, pts);  // killed somewhere in here, often mid-transaction
    } catch (...) {
      ::_exit(1);
    }
  }
  ASSERT_GT(child, 0);
  ::close(pipe_fd[1]);
  char buf[16] = {};
  ASSERT_EQ(::read(pipe_fd[0], buf, 9), 9);
  ::close(pipe_fd[0]);
  std::string id(buf, 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  // The store opens, the run is whole and each batch is all or nothing.
  auto s = open_again();
  StoredRun r = s->get_run(id);
  EXPECT_EQ(r.name, "doomed");
  EXPECT_EQ(r.status, RunStatus::kRunning);
  auto pts = s->read_metrics(id, "loss");
  EXPECT_GE(pts.size(), kBatch);
  EXPECT_EQ(pts.size() % kBatch, 0u);
  auto changed = s->mark_interrupted_stale();
  EXPECT_EQ(changed, std::vector<std::string>{id});
  EXPECT_EQ(s->get_run(id).status, RunStatus::kInterrupted);
  // The store still takes writes (no lock left behind).
  s->log_metrics(id, std::vector<MetricPoint>(10, MetricPoint{"after", 0, 0, 1.0}));
  EXPECT_EQ(s->read_metrics(id, "after").size(), 10u);
}

TEST_P(StoreTest, ReopenKeepsEverything) {
  if (!shared()) GTEST_SKIP() << "a private in-memory store ends with its connection";
  StoredRun r = make_run("kept");
  store_->add_tag(r.id, "t");
  store_->create_study({.name = "s", .directions = {"maximize"}});
  store_->create_trial("s", {});
  store_.reset();
  auto again = open_again();
  EXPECT_EQ(again->get_run(r.id).tags, std::set<std::string>{"t"});
  EXPECT_EQ(again->create_trial("s", {}).number, 1);
}

TEST_P(StoreTest, KindsPartialRunsAndPrunedStatus) {
  StoredRun m;
  m.name = "model";
  m.kind = "model";
  m = store_->create_run(m);
  StoredRun t;
  t.name = "trial";
  t.kind = "trial";
  t.partial = true;  // a proxy trial is partial from the start
  t = store_->create_run(t);
  StoredRun b;
  b.name = "blend";
  b.kind = "blend";
  b = store_->create_run(b);
  store_->finish_run(m.id, {.status = RunStatus::kFinished, .cv_score = 0.8});
  store_->finish_run(t.id, {.status = RunStatus::kPruned, .error = "stopped after fold 1"});
  // finish_run sets partial when given, keeps it otherwise.
  store_->finish_run(b.id, {.status = RunStatus::kFinished, .cv_score = 0.9, .partial = true});
  EXPECT_EQ(store_->get_run(t.id).status, RunStatus::kPruned);
  EXPECT_TRUE(store_->get_run(t.id).partial);
  EXPECT_EQ(store_->get_run(t.id).kind, "trial");
  EXPECT_TRUE(store_->get_run(b.id).partial);
  EXPECT_FALSE(store_->get_run(m.id).partial);
  EXPECT_EQ(compe::parse_run_status("pruned"), RunStatus::kPruned);
  EXPECT_EQ(store_->list_runs({.status = RunStatus::kPruned}).total, 1);
  EXPECT_EQ(store_->list_runs({.kind = "blend"}).runs.at(0).id, b.id);
  // Rankings leave out partial and archived runs.
  EXPECT_EQ(store_->list_runs({.complete_only = true}).total, 1);
  store_->add_tag(m.id, "archived");
  EXPECT_EQ(store_->list_runs({.complete_only = true}).total, 0);
}

TEST_P(StoreTest, DeleteRunRemovesEverythingRecordedWithIt) {
  StoredRun keep = make_run("keep");
  StoredRun gone = make_run("gone");
  for (const auto& id : {keep.id, gone.id}) {
    store_->add_tag(id, "t");
    store_->add_fold_score(id, 0, 0.5);
    MetricPoint p{"loss", 0, 1, 0.25};
    store_->log_metrics(id, {&p, 1});
    store_->add_artifact({.run_id = id, .name = "oof", .path = "runs/" + id + "/oof.csv", .kind = "oof"});
    store_->add_lb_score({.run_id = id, .public_score = 0.7, .time_ms = 1000});
    store_->add_lb_score({.run_id = id, .public_score = 0.71, .time_ms = 2000});
  }
  store_->delete_run(gone.id);
  compe::testing::error_of([&] { store_->get_run(gone.id); }, ErrorCode::kNotFound);
  EXPECT_EQ(store_->list_runs({.tag = "t"}).total, 1);
  EXPECT_TRUE(store_->read_metrics(gone.id).empty());
  EXPECT_TRUE(store_->list_artifacts(gone.id).empty());
  EXPECT_EQ(store_->list_lb_scores().size(), 2u);  // keep's two
  EXPECT_EQ(store_->read_metrics(keep.id).size(), 1u);
  compe::testing::error_of([&] { store_->delete_run(gone.id); }, ErrorCode::kNotFound);
  // LB scores: one by time, then the rest.
  EXPECT_EQ(store_->remove_lb_scores(keep.id, 2000), 1);
  EXPECT_EQ(store_->list_lb_scores(keep.id).at(0).public_score, 0.7);
  EXPECT_EQ(store_->remove_lb_scores(keep.id), 1);
  EXPECT_TRUE(store_->list_lb_scores(keep.id).empty());
}

TEST_P(StoreTest, MigratesVersion1Store) {
  if (!shared()) GTEST_SKIP() << "the fixture is loaded through a second connection";
  wipe();
  raw_db()->exec_script(compe::read_file(fs::path(COMPE_TEST_DATA) / "data/store/v1.sql"));
  {
    auto raw = raw_db();
    EXPECT_FALSE(raw->has_table("studies"));
  }
  store_ = open_again();
  EXPECT_EQ(store_->schema_version(), compe::kStoreSchemaVersion);

  auto page = store_->list_runs({.limit = 0});
  ASSERT_EQ(page.total, 3);
  StoredRun base = store_->get_run("abcd2345");
  EXPECT_EQ(base.name, "xgb-baseline");
  EXPECT_EQ(base.status, RunStatus::kFinished);
  EXPECT_EQ(base.cv_score, 0.8731);
  EXPECT_EQ(base.config["model"]["params"]["max_depth"], 6);
  EXPECT_EQ(base.tags, (std::set<std::string>{"baseline", "xgb"}));
  EXPECT_EQ(base.fold_scores.size(), 3u);
  EXPECT_EQ(base.git_dirty, std::optional<bool>(false));
  EXPECT_EQ(base.peak_memory_bytes, 512000000);
  EXPECT_FALSE(base.heartbeat_ms.has_value());  // column added by version 2
  StoredRun failed = store_->get_run("efgh6723");
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.parent_id, "abcd2345");
  EXPECT_EQ(failed.error, "fold 2: out of memory");
  EXPECT_EQ(store_->read_metrics("abcd2345", "valid-auc").size(), 3u);
  auto curves = store_->read_metrics("abcd2345");
  ASSERT_EQ(curves.size(), 4u);
  EXPECT_EQ(curves[0].key, "train-seconds");
  EXPECT_FALSE(curves[0].fold.has_value());
  EXPECT_EQ(curves[3].fold, 1);
  StoredRun linear = store_->get_run("ijkl7777");
  MetricPoint more{"valid-auc", 0, 2, 0.9};
  store_->log_metrics("abcd2345", {&more, 1});  // appends to the old series
  store_->log_metrics(linear.id, {&more, 1});   // a new series after the old ids
  EXPECT_EQ(store_->read_metrics("abcd2345", "valid-auc").size(), 4u);
  EXPECT_EQ(store_->read_metrics(linear.id).size(), 1u);
  EXPECT_EQ(store_->list_artifacts("abcd2345").at(0).path, "runs/abcd2345/oof.csv");
  EXPECT_EQ(store_->list_lb_scores().at(0).note, "first submission");
  EXPECT_EQ(store_->list_runs({.tag = "xgb"}).total, 2);

  // What version 2 added works on the migrated store.
  store_->create_study({.name = "s", .directions = {"maximize"}});
  EXPECT_EQ(store_->create_trial("s", {}).number, 0);
  store_->heartbeat("abcd2345");  // a finished run may still beat: no effect on its status
  // A run of another host started long ago is stale.
  auto changed = store_->mark_interrupted_stale(std::chrono::hours(1));
  EXPECT_EQ(changed, std::vector<std::string>{"ijkl7777"});
}

TEST_P(StoreTest, MigratesVersion2Store) {
  if (!shared()) GTEST_SKIP() << "the fixture is loaded through a second connection";
  wipe();
  raw_db()->exec_script(compe::read_file(fs::path(COMPE_TEST_DATA) / "data/store/v2.sql"));
  store_ = open_again();
  EXPECT_EQ(store_->schema_version(), compe::kStoreSchemaVersion);
  EXPECT_EQ(store_->get_run("mnop2345").tags, (std::set<std::string>{"study:xgb", "trial:0"}));
  auto trials = store_->list_trials("xgb");
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::kComplete);
  EXPECT_EQ(trials[0].values, std::vector<double>{0.8731});
  EXPECT_EQ(trials[0].run_id, "mnop2345");
  EXPECT_EQ(trials[0].intermediate.size(), 2u);
  EXPECT_EQ(trials[1].state, TrialState::kPruned);
  EXPECT_EQ(trials[2].params["max_depth"], 4);
  EXPECT_EQ(trials[2].pid, 0);  // columns added by version 3
  EXPECT_EQ(store_->get_run("mnop2345").kind, "");  // columns added by version 4
  EXPECT_FALSE(store_->get_run("mnop2345").partial);
  EXPECT_EQ(trials[2].host, "");
  EXPECT_FALSE(trials[2].heartbeat_ms.has_value());
  EXPECT_EQ(store_->get_study("xgb").sampler["pruner"], "fold");
  // Numbering goes on; the old running trial (no worker recorded, started long ago) is stale.
  EXPECT_EQ(store_->create_trial("xgb", {}).number, 3);
  EXPECT_EQ(store_->fail_stale_trials("xgb", std::chrono::hours(1)), std::vector<std::int64_t>{2});
  EXPECT_EQ(store_->get_trial("xgb", 2).state, TrialState::kFailed);
  EXPECT_EQ(store_->get_trial("xgb", 3).state, TrialState::kRunning);
}

TEST_P(StoreTest, StaleTrialsEndAsFailed) {
  if (!shared()) GTEST_SKIP() << "edits the trials through a second connection";
  store_->create_study({.name = "s", .directions = {"minimize"}});
  for (int i = 0; i < 5; ++i) store_->create_trial("s", {});
  const compe::Trial t0 = store_->get_trial("s", 0);
  EXPECT_EQ(t0.pid, static_cast<std::int64_t>(::getpid()));
  EXPECT_FALSE(t0.host.empty());
  ASSERT_TRUE(t0.heartbeat_ms.has_value());
  const std::int64_t now = compe::now_unix_ms();
  {
    auto raw = raw_db();
    // 1: this host, a process that does not exist; 2: another host, silent for an hour;
    // 3: another host, beating now; 4: finished.
    raw->exec("UPDATE trials SET pid = ? WHERE study = 's' AND number = 1",
              {std::int64_t{0x7ffffffe}});
    raw->exec("UPDATE trials SET host = 'elsewhere', heartbeat_ms = ? WHERE study = 's' AND "
              "number = 2",
              {now - 3'600'000});
    raw->exec("UPDATE trials SET host = 'elsewhere', heartbeat_ms = ? WHERE study = 's' AND "
              "number = 3",
              {now});
  }
  store_->finish_trial("s", 4, TrialState::kComplete, std::vector<double>{1.0});
  auto changed = store_->fail_stale_trials("s", std::chrono::minutes(10));
  EXPECT_EQ(std::set<std::int64_t>(changed.begin(), changed.end()), (std::set<std::int64_t>{1, 2}));
  const compe::Trial t1 = store_->get_trial("s", 1);
  EXPECT_EQ(t1.state, TrialState::kFailed);
  EXPECT_NE(t1.error.find("gone"), std::string::npos) << t1.error;
  EXPECT_TRUE(t1.ended_ms.has_value());
  EXPECT_NE(store_->get_trial("s", 2).error.find("heartbeat"), std::string::npos);
  EXPECT_EQ(store_->get_trial("s", 0).state, TrialState::kRunning);  // alive here
  EXPECT_EQ(store_->get_trial("s", 3).state, TrialState::kRunning);  // fresh heartbeat
  EXPECT_EQ(store_->get_trial("s", 4).state, TrialState::kComplete);
  EXPECT_TRUE(store_->fail_stale_trials("s").empty());  // idempotent
  // A late finisher of an ended trial is told so.
  EXPECT_EQ(error_code_of([&] {
              store_->finish_trial("s", 1, TrialState::kComplete, std::vector<double>{1.0});
            }),
            ErrorCode::kInvalidArgument);
  store_->heartbeat_trial("s", 0);
  EXPECT_GE(store_->get_trial("s", 0).heartbeat_ms.value(), t0.heartbeat_ms.value());
  EXPECT_EQ(error_code_of([&] { store_->heartbeat_trial("s", 99); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->fail_stale_trials("nosuch"); }), ErrorCode::kNotFound);
}

TEST_P(StoreTest, TrialBudgetIsAtomic) {
  store_->create_study({.name = "s", .directions = {"minimize"}});
  EXPECT_EQ(store_->create_trial_below("s", {{"a", 1}}, 2)->number, 0);
  EXPECT_EQ(store_->create_trial_below("s", {}, 2)->number, 1);
  EXPECT_FALSE(store_->create_trial_below("s", {}, 2).has_value());
  EXPECT_FALSE(store_->create_trial_below("s", {}, 0).has_value());
  EXPECT_EQ(store_->create_trial_below("s", {}, 3)->number, 2);
  EXPECT_EQ(store_->list_trials("s").size(), 3u);
  EXPECT_EQ(store_->get_trial("s", 0).params["a"], 1);
  EXPECT_EQ(error_code_of([&] { store_->create_trial_below("nosuch", {}, 5); }), ErrorCode::kNotFound);
  // Threads sharing a budget create exactly that many trials.
  std::vector<std::thread> threads;
  std::atomic<int> made{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::unique_ptr<Store> own = shared() ? open_again() : nullptr;
      Store& st = own ? *own : *store_;
      while (st.create_trial_below("s", {}, 40)) ++made;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(made.load(), 37);
  EXPECT_EQ(store_->list_trials("s").size(), 40u);
}

TEST_P(StoreTest, RejectsStoreFromNewerVersion) {
  if (!shared()) GTEST_SKIP() << "needs a second connection";
  store_.reset();
  raw_db()->exec("INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)",
                 {std::int64_t{99}, std::int64_t{0}});
  std::string msg;
  try {
    open_again();
    ADD_FAILURE() << "a newer store must not open";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kStorage);
    msg = e.what();
  }
  EXPECT_NE(msg.find("99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
}

TEST_P(StoreTest, BackendErrorsNameTheOperation) {
  if (!shared()) GTEST_SKIP() << "needs a second connection";
  StoredRun r = make_run("r");
  raw_db()->exec_script("DROP TABLE run_tags");
  std::string msg;
  ErrorCode code = ErrorCode::kInternal;
  try {
    store_->add_tag(r.id, "t");
  } catch (const Error& e) {
    code = e.code();
    msg = e.what();
  }
  EXPECT_EQ(code, ErrorCode::kStorage);
  EXPECT_NE(msg.find("add_tag failed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run_tags"), std::string::npos) << msg;  // the backend's own words
  // The failed transaction left the connection usable.
  store_->set_note(r.id, "still works");
  EXPECT_EQ(error_code_of([&] { store_->get_run(r.id); }), ErrorCode::kStorage);
}

TEST_P(StoreTest, PostgresReconnectsAfterTheServerDropsTheConnection) {
  if (GetParam() != Backend::kPostgres) GTEST_SKIP() << "PostgreSQL only";
  StoredRun r = make_run("r");
  auto killed = raw_db()->query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
      {schema_});
  ASSERT_EQ(killed.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(store_->get_run(r.id).name, "r");  // reconnected, search path restored
  store_->add_tag(r.id, "after");
  EXPECT_EQ(store_->get_run(r.id).tags, std::set<std::string>{"after"});
}

TEST_P(StoreTest, ConcurrentOpenersMigrateOnce) {
  if (!shared()) GTEST_SKIP() << "needs a second connection";
  wipe();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      try {
        auto s = open_again();
        s->create_run(StoredRun{.name = "x"});
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  store_ = open_again();
  EXPECT_EQ(store_->list_runs({}).total, 4);
  auto rows = raw_db()->query("SELECT COUNT(*) FROM schema_version", {});
  EXPECT_EQ(rows.at(0).i64(0), compe::kStoreSchemaVersion);
}

// ---- backend-independent pieces ----

TEST(StoreUrl, OpensSqliteFromPathAndUrl) {
  fs::path dir = fs::temp_directory_path() / fmt::format("compe-store-url-{}", ::getpid());
  fs::remove_all(dir);
  {
    auto s = compe::open_store(compe::default_store_path((dir / "ws").string()));
    s->create_run(StoredRun{.name = "a"});
  }
  EXPECT_TRUE(fs::exists(dir / "ws" / ".compe" / "compe.db"));
  auto s = compe::open_store("sqlite://" + (dir / "ws" / ".compe" / "compe.db").string());
  EXPECT_EQ(s->list_runs({}).total, 1);
  fs::remove_all(dir);
  EXPECT_EQ(error_code_of([] { compe::open_store(""); }), ErrorCode::kInvalidArgument);
}

TEST(StoreUrl, RefusesFilesThatAreNotCompeStores) {
  fs::path dir = fs::temp_directory_path() / fmt::format("compe-store-foreign-{}", ::getpid());
  fs::create_directories(dir);
  compe::write_file_atomic(dir / "notes.txt", "this is not a database, just some text\n");
  std::string msg = message_of([&] { compe::open_store((dir / "notes.txt").string()); });
  EXPECT_NE(msg.find("cannot open store"), std::string::npos) << msg;
  EXPECT_EQ(error_code_of([&] { compe::open_store((dir / "notes.txt").string()); }),
            ErrorCode::kStorage);
  compe::store::open_sqlite((dir / "other.db").string())->exec_script("CREATE TABLE runs (x)");
  msg = message_of([&] { compe::open_store((dir / "other.db").string()); });
  EXPECT_NE(msg.find("not a compe store"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(StoreUrl, PostgresErrorsNeverShowThePassword) {
  EXPECT_EQ(compe::store::redact_url("postgresql://bob:s3cret@db.example:5432/compe?schema=x"),
            "postgresql://bob:***@db.example:5432/compe?schema=x");
  EXPECT_EQ(compe::store::redact_url("postgres://bob@h/db"), "postgres://bob@h/db");
  EXPECT_EQ(compe::store::redact_url("postgresql://h/db?password=s3cret&sslmode=disable"),
            "postgresql://h/db?password=***&sslmode=disable");
  // Port 1 on loopback refuses at once.
  std::string msg;
  ErrorCode code = ErrorCode::kInternal;
  try {
    compe::open_store("postgresql://bob:s3cret@127.0.0.1:1/compe?connect_timeout=2");
  } catch (const Error& e) {
    code = e.code();
    msg = e.what();
  }
  EXPECT_EQ(code, ErrorCode::kStorage);
  EXPECT_EQ(msg.find("s3cret"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open store"), std::string::npos) << msg;
}

TEST(StoreNames, StatusesAndStatesRoundTrip) {
  for (auto s :
       {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kInterrupted}) {
    EXPECT_EQ(compe::parse_run_status(compe::run_status_name(s)), s);
  }
  for (auto s : {TrialState::kWaiting, TrialState::kRunning, TrialState::kComplete,
                 TrialState::kPruned, TrialState::kFailed}) {
    EXPECT_EQ(compe::parse_trial_state(compe::trial_state_name(s)), s);
  }
  EXPECT_EQ(error_code_of([] { compe::parse_run_status("done"); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compe::iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(compe::iso8601_utc(1767225600123), "2026-01-01T00:00:00.123Z");
}

TEST(StoreSchema, MigrationsAreOrderedAndComplete) {
  auto steps = compe::store::migrations();
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(compe::kStoreSchemaVersion));
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1);
    EXPECT_NE(std::string(steps[i].description), "");
  }
}

}  // namespace

namespace {

// A file of `n` bytes of CSV-like text (compressible, with a varying tail so chunks differ).
fs::path write_artifact_file(const fs::path& dir, const std::string& name, std::size_t n) {
  fs::create_directories(dir);
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; s.size() < n; ++i) s += fmt::format("{},{:.6f}\n", i, std::sin(double(i)));
  s.resize(n);
  compe::write_file_atomic(dir / name, s);
  return dir / name;
}

std::string read_back(Store& store, const std::string& run, const std::string& name) {
  std::string out;
  store.read_artifact(run, name, [&](std::string_view b) { out.append(b); });
  return out;
}

}  // namespace

TEST_P(StoreTest, ArtifactContentRoundTripsAcrossChunksAndIsStoredOnce) {
  StoredRun r = make_run("r");
  fs::path tmp = fs::temp_directory_path() / fmt::format("compe-art-{}-{}", ::getpid(), compe::now_unix_ms());
  // Three chunks and a bit, and an empty file.
  fs::path big = write_artifact_file(tmp, "oof.csv", 3 * (1 << 20) + 17);
  fs::path empty = write_artifact_file(tmp, "git.diff", 0);
  compe::Artifact a = store_->put_artifact({.run_id = r.id, .name = "oof", .path = "runs/x/oof.csv", .kind = "oof"}, big);
  EXPECT_EQ(a.size, 3 * (1 << 20) + 17);
  EXPECT_EQ(a.sha, compe::sha256_hex(compe::read_file(big)));
  EXPECT_TRUE(a.stored);
  store_->put_artifact({.run_id = r.id, .name = "diff", .kind = "diff"}, empty);
  EXPECT_EQ(read_back(*store_, r.id, "oof"), compe::read_file(big));
  EXPECT_EQ(read_back(*store_, r.id, "diff"), "");
  // Same content under another run: one blob.
  StoredRun r2 = make_run("r2");
  store_->put_artifact({.run_id = r2.id, .name = "oof", .kind = "oof"}, big);
  auto usage = store_->artifact_usage();
  EXPECT_EQ(usage.blobs, 2);
  EXPECT_EQ(usage.bytes, a.size);
  EXPECT_GT(usage.stored_bytes, 0);
  EXPECT_LT(usage.stored_bytes, usage.bytes);  // compressed
  auto arts = store_->list_artifacts(r.id);
  ASSERT_EQ(arts.size(), 2u);
  EXPECT_TRUE(arts[0].stored && arts[1].stored);
  // Deleting one run keeps the shared blob; deleting the other frees it.
  store_->delete_run(r.id);
  EXPECT_EQ(store_->artifact_usage().blobs, 1);
  EXPECT_EQ(read_back(*store_, r2.id, "oof"), compe::read_file(big));
  store_->delete_run(r2.id);
  EXPECT_EQ(store_->artifact_usage().blobs, 0);
  fs::remove_all(tmp);
}

TEST_P(StoreTest, ArtifactMissingLimitAndRecordOnlyAreClearErrors) {
  StoredRun r = make_run("r");
  fs::path tmp = fs::temp_directory_path() / fmt::format("compe-art-{}-{}", ::getpid(), compe::now_unix_ms());
  fs::path f = write_artifact_file(tmp, "test.csv", 5000);
  std::string msg = message_of([&] { read_back(*store_, r.id, "oof"); });
  EXPECT_NE(msg.find("run '" + r.id + "' has no artifact 'oof'"), std::string::npos) << msg;
  EXPECT_EQ(error_code_of([&] { read_back(*store_, r.id, "oof"); }), ErrorCode::kNotFound);
  store_->add_artifact({.run_id = r.id, .name = "oof", .path = "runs/x/oof.csv", .size = 3, .sha = "aa"});
  msg = message_of([&] { read_back(*store_, r.id, "oof"); });
  EXPECT_NE(msg.find("not its content"), std::string::npos) << msg;
  EXPECT_NE(msg.find("compe push " + r.id), std::string::npos) << msg;
  msg = message_of([&] { store_->put_artifact({.run_id = r.id, .name = "test"}, f, 4999); });
  EXPECT_NE(msg.find("5000 bytes, over the limit of 4999"), std::string::npos) << msg;
  EXPECT_TRUE(store_->list_artifacts(r.id).size() == 1);  // nothing stored for the refused file
  EXPECT_EQ(error_code_of([&] { store_->put_artifact({.run_id = "zzzzzzzz", .name = "t"}, f); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->artifact_usage().blobs, 0);  // the failed put left no content
  fs::remove_all(tmp);
}

TEST_P(StoreTest, CorruptArtifactChunkFailsItsHashCheck) {
  if (!shared()) GTEST_SKIP() << "needs a second connection to the same store";
  StoredRun r = make_run("r");
  fs::path tmp = fs::temp_directory_path() / fmt::format("compe-art-{}-{}", ::getpid(), compe::now_unix_ms());
  fs::path f = write_artifact_file(tmp, "oof.csv", 2 * (1 << 20) + 5);
  compe::Artifact a = store_->put_artifact({.run_id = r.id, .name = "oof"}, f);
  {
    // A chunk that decompresses fine but holds other bytes: only the sha256 can tell.
    auto raw = raw_db();
    std::string other(1 << 20, 'x');
    uLongf n = compressBound(static_cast<uLong>(other.size()));
    std::string z(n, '\0');
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(other.data()),
                        static_cast<uLong>(other.size()), 1), Z_OK);
    z.resize(n);
    std::array<compe::store::Value, 3> p{compe::store::Blob{z}, a.sha, std::int64_t{1}};
    raw->exec("UPDATE artifact_chunks SET data = ? WHERE sha = ? AND idx = ?", p);
  }
  std::string msg = message_of([&] { read_back(*store_, r.id, "oof"); });
  EXPECT_NE(msg.find("artifact 'oof' of run '" + r.id + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is corrupt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
  EXPECT_EQ(error_code_of([&] { read_back(*store_, r.id, "oof"); }), ErrorCode::kStorage);
  {
    std::array<compe::store::Value, 3> p{compe::store::Blob{"not zlib"}, a.sha, std::int64_t{0}};
    raw_db()->exec("UPDATE artifact_chunks SET data = ? WHERE sha = ? AND idx = ?", p);
  }
  msg = message_of([&] { read_back(*store_, r.id, "oof"); });
  EXPECT_NE(msg.find("chunk 0 of 3 does not decompress"), std::string::npos) << msg;
  fs::remove_all(tmp);
}

// ---- review queues (schema 6) ----

namespace {

compe::ReviewQueue review_queue(const std::string& name) {
  compe::ReviewQueue q;
  q.name = name;
  q.source_runs = {"run1", "run2"};
  q.rules = {"confident_learning"};
  q.info = {{"target", "survived"}, {"classes", {"0", "1"}}};
  return q;
}

std::vector<compe::ReviewItem> review_items() {
  std::vector<compe::ReviewItem> items(3);
  const char* keys[] = {"17", "4", "9"};
  for (int i = 0; i < 3; ++i) {
    items[i].key = keys[i];
    items[i].rank = i;
    items[i].original = "0";
    items[i].reasons = nlohmann::json::array({{{"rule", "highest_loss"}, {"score", 3.5 - i}}});
    items[i].predictions = {{"run1", {0.1, 0.9}}};
    items[i].data = {{"age", 20 + i}};
  }
  return items;
}

compe::ReviewEdit review_edit(const std::string& key, const std::string& action,
                              nlohmann::json value, const std::string& reviewer) {
  compe::ReviewEdit e;
  e.queue = "noise";
  e.key = key;
  e.action = action;
  e.new_value = std::move(value);
  e.reviewer = reviewer;
  return e;
}

TEST_P(StoreTest, ReviewQueuesKeepItemsInRankOrder) {
  auto made = store_->create_review_queue(review_queue("noise"), review_items());
  EXPECT_EQ(made.items, 3);
  EXPECT_GT(made.created_ms, 0);
  EXPECT_EQ(error_code_of([&] { store_->create_review_queue(review_queue("noise"), {}); }),
            ErrorCode::kInvalidArgument);
  auto twice = review_items();
  twice[1].key = "17";
  EXPECT_EQ(error_code_of([&] { store_->create_review_queue(review_queue("dup"), twice); }),
            ErrorCode::kInvalidArgument);
  // The failed create left nothing behind.
  EXPECT_EQ(error_code_of([&] { store_->get_review_queue("dup"); }), ErrorCode::kNotFound);

  auto q = store_->get_review_queue("noise");
  EXPECT_EQ(q.source_runs, (std::vector<std::string>{"run1", "run2"}));
  EXPECT_EQ(q.rules, (std::vector<std::string>{"confident_learning"}));
  EXPECT_EQ(q.info["target"], "survived");
  EXPECT_EQ(q.items, 3);
  EXPECT_EQ(q.reviewed, 0);
  auto items = store_->list_review_items("noise");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].key, "17");
  EXPECT_EQ(items[2].key, "9");
  EXPECT_EQ(items[1].data["age"], 21);
  EXPECT_EQ(items[1].predictions["run1"][1], 0.9);
  EXPECT_EQ(items[0].reasons[0]["rule"], "highest_loss");
  EXPECT_EQ(items[0].status, "open");
  EXPECT_EQ(items[0].label, "0");
  EXPECT_EQ(error_code_of([&] { store_->get_review_item("noise", "5"); }), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_of([&] { store_->list_review_items("other"); }), ErrorCode::kNotFound);

  store_->delete_review_queue("noise");
  EXPECT_TRUE(store_->list_review_queues().empty());
  store_->create_review_queue(review_queue("noise"), review_items());  // the name is free again
  EXPECT_TRUE(store_->review_history("noise").empty());
}

TEST_P(StoreTest, ReviewEditsKeepHistoryAndTheLaterEditWins) {
  store_->create_review_queue(review_queue("noise"), review_items());
  auto r1 = store_->edit_review_item(review_edit("4", "relabel", "1", "ann"));
  EXPECT_GT(r1.edit.id, 0);
  EXPECT_EQ(r1.edit.old_value, "0");
  EXPECT_TRUE(r1.overridden.empty());
  auto item = store_->get_review_item("noise", "4");
  EXPECT_EQ(item.label, "1");
  EXPECT_EQ(item.original, "0");
  EXPECT_EQ(item.status, "relabel");
  EXPECT_EQ(item.last_reviewer, "ann");
  EXPECT_EQ(item.last_edit, r1.edit.id);
  EXPECT_EQ(store_->get_review_queue("noise").reviewed, 1);

  // Bob opened the item before Ann's edit: his edit wins, both stay in history, and he is told.
  auto r2 = store_->edit_review_item(review_edit("4", "accept", "0", "bob"));
  ASSERT_EQ(r2.overridden.size(), 1u);
  EXPECT_EQ(r2.overridden[0].reviewer, "ann");
  EXPECT_EQ(r2.overridden[0].new_value, "1");
  EXPECT_EQ(r2.edit.old_value, "1");
  EXPECT_GT(r2.edit.id, r1.edit.id);
  item = store_->get_review_item("noise", "4");
  EXPECT_EQ(item.label, "0");
  EXPECT_EQ(item.last_reviewer, "bob");
  // Ann's page sees the item changed by someone else after her edit.
  EXPECT_NE(item.last_edit, r1.edit.id);

  // Having seen Bob's edit, Ann overrides nothing.
  auto e3 = review_edit("4", "relabel", "1", "ann");
  e3.based_on = r2.edit.id;
  EXPECT_TRUE(store_->edit_review_item(e3).overridden.empty());

  // Undo reverts the latest edit not undone, twice; then there is nothing to undo but skips.
  auto u1 = store_->edit_review_item(review_edit("4", "undo", nullptr, "ann"));
  EXPECT_EQ(u1.edit.new_value, "0");
  EXPECT_EQ(store_->get_review_item("noise", "4").label, "0");
  auto u2 = store_->edit_review_item(review_edit("4", "undo", nullptr, "ann"));
  EXPECT_EQ(u2.edit.undoes, r2.edit.id);
  EXPECT_EQ(store_->get_review_item("noise", "4").label, "1");
  store_->edit_review_item(review_edit("4", "undo", nullptr, "ann"));
  EXPECT_EQ(store_->get_review_item("noise", "4").label, "0");
  EXPECT_EQ(error_code_of([&] { store_->edit_review_item(review_edit("4", "undo", nullptr, "x")); }),
            ErrorCode::kInvalidArgument);
  auto skip = store_->edit_review_item(review_edit("9", "skip", "ignored", "ann"));
  EXPECT_EQ(skip.edit.new_value, "0");
  EXPECT_EQ(store_->get_review_item("noise", "9").status, "skip");

  auto boxes = nlohmann::json::array({{{"x1", 1}, {"y1", 2}, {"x2", 10}, {"y2", 12}, {"label", 0}}});
  store_->edit_review_item(review_edit("17", "boxes", boxes, "ann"));
  EXPECT_EQ(store_->get_review_item("noise", "17").label, boxes);

  // Bad edits save nothing.
  auto before = store_->review_history("noise").size();
  EXPECT_EQ(error_code_of([&] { store_->edit_review_item(review_edit("4", "delete", 1, "x")); }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { store_->edit_review_item(review_edit("5", "accept", 1, "x")); }),
            ErrorCode::kNotFound);
  auto history = store_->review_history("noise");
  EXPECT_EQ(history.size(), before);
  auto of4 = store_->review_history("noise", "4");
  ASSERT_EQ(of4.size(), 6u);
  EXPECT_EQ(of4[0].reviewer, "ann");
  EXPECT_EQ(of4[1].reviewer, "bob");
  for (std::size_t i = 1; i < of4.size(); ++i) {
    EXPECT_GT(of4[i].id, of4[i - 1].id);
    EXPECT_EQ(of4[i].old_value, of4[i - 1].new_value);  // the history is one unbroken chain
  }
}

TEST_P(StoreTest, ReviewEditsFromManyConnectionsAreAllKept) {
  if (!shared()) GTEST_SKIP() << "a private in-memory store has one connection";
  store_->create_review_queue(review_queue("noise"), review_items());
  constexpr int kThreads = 4;
  constexpr int kEdits = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto other = open_again();
      for (int i = 0; i < kEdits; ++i)
        other->edit_review_item(review_edit("17", "relabel", fmt::format("{}-{}", t, i),
                                            fmt::format("r{}", t)));
    });
  }
  for (auto& th : threads) th.join();
  auto history = store_->review_history("noise", "17");
  ASSERT_EQ(history.size(), static_cast<std::size_t>(kThreads * kEdits));
  for (std::size_t i = 1; i < history.size(); ++i)
    EXPECT_EQ(history[i].old_value, history[i - 1].new_value) << "edit " << history[i].id;
  EXPECT_EQ(store_->get_review_item("noise", "17").label, history.back().new_value);
}

}  // namespace
