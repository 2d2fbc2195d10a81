// bench_track: the dashboard's reads on a large store.
//   bench_track [STORE] [--runs N] [--points N] [--reps N] [--keep]
// Builds a store of N runs (default 10,000) holding N metric points in all (default 1e7: per run
// 5 folds x train/valid x steps), each run created, logged in one log_metrics batch and finished
// the way `compe run` does, unless STORE already holds runs (then it is read as it is). Then times
// the documents the dashboard asks for, JSON text included: the runs page (several sorts and
// filters), one run's page (run + every curve), and the compare view of 3 runs. Each figure is
// the first call and the median of --reps calls (default 11).
// STORE defaults to a fresh SQLite file in the temp folder, removed afterwards unless --keep.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "server/api.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct Timing {
  double first_ms = 0, median_ms = 0;
  std::size_t bytes = 0;
};

// `fn` returns the JSON document; its text is built too, as the server sends it.
template <typename F>
Timing time_doc(int reps, F&& fn) {
  Timing out;
  std::vector<double> t;
  for (int i = 0; i < reps + 1; ++i) {
    auto t0 = Clock::now();
    std::string text = fn().dump();
    double ms = seconds_since(t0) * 1e3;
    if (i == 0) {
      out.first_ms = ms;
      out.bytes = text.size();
    } else {
      t.push_back(ms);
    }
  }
  std::sort(t.begin(), t.end());
  out.median_ms = t[t.size() / 2];
  return out;
}

void build(compe::Store& store, std::int64_t runs, std::int64_t points) {
  constexpr int kFolds = 5;
  const std::int64_t steps = std::max<std::int64_t>(1, points / runs / (2 * kFolds));
  std::vector<compe::MetricPoint> buf;
  buf.reserve(static_cast<std::size_t>(2 * kFolds * steps));
  auto t0 = Clock::now();
  double c0 = cpu_seconds();
  std::int64_t logged = 0;
  for (std::int64_t i = 0; i < runs; ++i) {
    compe::Run r;
    r.name = fmt::format("{}-{}", i % 3 == 0 ? "xgb" : "mlp", i);
    r.metric = "auc";
    r.direction = "maximize";
    r.config = {{"model", {{"backend", i % 3 == 0 ? "xgboost" : "command"},
                           {"params", {{"eta", 0.01 * static_cast<double>(i % 17)}, {"depth", i % 9}}}}},
                {"features", {{"drop", {"name"}}}}};
    r.command = "compe run experiments/x.toml";
    if (i % 10 == 0) r.tags = {"keep"};
    r = store.create_run(r);
    buf.clear();
    double level = 0.7 + 0.2 * static_cast<double>((i * 7919) % 10007) / 10007.0;
    for (int f = 0; f < kFolds; ++f)
      for (std::int64_t s = 0; s < steps; ++s) {
        double shape = 1.0 - std::exp(-static_cast<double>(s + 1) / 20.0);
        buf.push_back({"train-auc", f, s, std::min(1.0, level * shape + 0.05)});
        buf.push_back({"valid-auc", f, s, level * shape});
      }
    store.log_metrics(r.id, buf);
    logged += static_cast<std::int64_t>(buf.size());
    std::map<int, double> folds;
    for (int f = 0; f < kFolds; ++f) folds[f] = level + 0.01 * (f - 2);
    store.finish_run(r.id, {.status = i % 50 == 7 ? compe::RunStatus::kFailed : compe::RunStatus::kFinished,
                            .cv_score = i % 50 == 7 ? std::optional<double>() : std::optional<double>(level),
                            .fold_scores = folds});
    if ((i + 1) % 1000 == 0)
      std::fprintf(stderr, "  built %lld runs, %lld points, %.0f s\n", static_cast<long long>(i + 1),
                   static_cast<long long>(logged), seconds_since(t0));
  }
  double s = seconds_since(t0);
  fmt::print("build: {} runs, {} metric points ({} steps x 2 keys x {} folds per run): {:.1f} s wall, {:.1f} s cpu "
             "({:.0f} points/s)\n",
             runs, logged, steps, kFolds, s, cpu_seconds() - c0, static_cast<double>(logged) / s);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::int64_t runs = 10'000, points = 10'000'000;
  int reps = 11;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_track: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--runs") {
      runs = std::max<std::int64_t>(3, next());
    } else if (a == "--points") {
      points = next();
    } else if (a == "--reps") {
      reps = static_cast<int>(std::max<std::int64_t>(1, next()));
    } else if (a == "--keep") {
      keep = true;
    } else {
      url = a;
    }
  }
  std::filesystem::path tmp;
  if (url.empty()) {
    tmp = std::filesystem::temp_directory_path() / fmt::format("compe-bench-track-{}", ::getpid());
    std::filesystem::remove_all(tmp);
    url = (tmp / "compe.db").string();
  }
  int rc = 0;
  try {
    auto store = compe::open_store(url);
    fmt::print("store: {}\n", store->url());
    std::int64_t have = store->list_runs({.limit = 1}).total;
    if (have == 0) {
      build(*store, runs, points);
    } else {
      fmt::print("store holds {} runs already: reading it as it is\n", have);
    }
    if (!tmp.empty()) {
      std::uintmax_t bytes = 0;
      for (const auto& e : std::filesystem::directory_iterator(tmp)) bytes += e.file_size();
      fmt::print("store files: {:.0f} MB\n", static_cast<double>(bytes) / 1e6);
    }
    // A fresh connection, as `compe ui` opens one: nothing of the build in its page cache.
    store = compe::open_store(url);

    auto page = store->list_runs({.sort = compe::RunSort::kBest, .limit = 3});
    std::string one = page.runs.at(0).id;
    std::string three = fmt::format("{},{},{}", page.runs[0].id, page.runs[1].id, page.runs[2].id);
    double lo = page.runs[2].cv_score.value_or(0) - 0.05, hi = page.runs[0].cv_score.value_or(1);

    struct Case {
      std::string name;
      compe::server::Params params;
    };
    std::vector<Case> cases = {
        {"runs page: newest first (50)", {}},
        {"runs page: by cv (50)", {{"sort", "cv"}}},
        {"runs page: best first (50)", {{"sort", "best"}}},
        {"runs page: by name (50)", {{"sort", "name"}}},
        {"runs page: by status, desc (50)", {{"sort", "status"}, {"order", "desc"}}},
        {"runs page: cv in a range, by cv (50)", {{"sort", "cv"}, {"cv_min", fmt::format("{}", lo)},
                                                  {"cv_max", fmt::format("{}", hi)}}},
        {"runs page: name contains 'xgb', by name (50)", {{"sort", "name"}, {"name", "xgb"}}},
        {"runs page: offset 9000 (50)", {{"offset", "9000"}}},
    };
    std::vector<std::pair<std::string, Timing>> results;
    for (const Case& c : cases) {
      std::int64_t total = 0;
      Timing t = time_doc(reps, [&] {
        auto doc = compe::server::runs_json(*store, c.params);
        total = doc["total"].get<std::int64_t>();
        return doc;
      });
      results.emplace_back(fmt::format("{} [{} match]", c.name, total), t);
    }
    results.emplace_back("run page: /api/runs/{id}", time_doc(reps, [&] { return compe::server::run_json(*store, one); }));
    std::size_t series = 0;
    results.emplace_back("run page: /api/runs/{id}/metrics (every curve)", time_doc(reps, [&] {
                           auto doc = compe::server::metrics_json(*store, one, "");
                           series = doc["series"].size();
                           return doc;
                         }));
    results.emplace_back("compare: /api/compare of 3 runs",
                         time_doc(reps, [&] { return compe::server::compare_json(*store, three); }));
    for (const auto& [name, t] : results)
      fmt::print("{}: first {:.2f} ms, median {:.2f} ms ({} reps), {} bytes\n", name, t.first_ms, t.median_ms, reps,
                 t.bytes);
    fmt::print("(one run: {} series)\n", series);
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "bench_track: %s\n", e.what());
    rc = 1;
  }
  if (!tmp.empty()) {
    if (keep) fmt::print("kept: {}\n", url);
    else std::filesystem::remove_all(tmp);
  }
  return rc;
}
