// bench_store: throughput of the run store.
//   bench_store [STORE] [--points N] [--batch N] [--runs N]
// STORE defaults to a fresh SQLite file in the temp folder (removed afterwards); a
// postgresql:// URL benchmarks a server (use ?schema=NAME to keep it apart).
// Prints: metric points logged per second, read-back time, run creation rate, and the time of
// one page of list_runs (median of repeated calls) for several filters and sorts.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// User + system CPU seconds of this process: on a busy machine wall time overstates the work.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

template <typename F>
double median_ms(int reps, F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0) * 1e3);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::int64_t points = 1'000'000, batch = 10'000, runs = 10'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_store: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--points") {
      points = next();
    } else if (a == "--batch") {
      batch = std::max<std::int64_t>(1, next());
    } else if (a == "--runs") {
      runs = next();
    } else {
      url = a;
    }
  }
  std::filesystem::path tmp;
  if (url.empty()) {
    tmp = std::filesystem::temp_directory_path() / fmt::format("compe-bench-store-{}", ::getpid());
    std::filesystem::remove_all(tmp);
    url = (tmp / "compe.db").string();
  }
  try {
    auto store = compe::open_store(url);
    fmt::print("store: {}\n", store->url());

    // 1. Metric points in batches.
    compe::Run run;
    run.name = "curves";
    run = store->create_run(run);
    std::vector<compe::MetricPoint> buf;
    buf.reserve(static_cast<std::size_t>(batch));
    auto t0 = Clock::now();
    double c0 = cpu_seconds();
    for (std::int64_t done = 0; done < points;) {
      buf.clear();
      for (std::int64_t k = 0; k < batch && done < points; ++k, ++done) {
        buf.push_back({"valid-auc", static_cast<int>(done % 5), done / 5,
                       0.5 + 1e-7 * static_cast<double>(done)});
      }
      store->log_metrics(run.id, buf);
    }
    double log_s = seconds_since(t0);
    fmt::print(
        "log_metrics: {} points in batches of {}: {:.3f} s wall, {:.3f} s cpu ({:.0f} points/s)\n",
        points, batch, log_s, cpu_seconds() - c0, static_cast<double>(points) / log_s);
    t0 = Clock::now();
    c0 = cpu_seconds();
    auto back = store->read_metrics(run.id, "valid-auc");
    fmt::print("read_metrics: {} points: {:.3f} s wall, {:.3f} s cpu\n", back.size(),
               seconds_since(t0), cpu_seconds() - c0);

    // 2. A run list with many runs.
    t0 = Clock::now();
    c0 = cpu_seconds();
    for (std::int64_t i = 0; i < runs; ++i) {
      compe::Run r;
      r.name = fmt::format("{}-{}", i % 3 == 0 ? "xgb" : "linear", i);
      r.metric = i % 2 ? "auc" : "logloss";
      r.direction = i % 2 ? "maximize" : "minimize";
      r.config = {{"model", {{"eta", 0.01 * static_cast<double>(i % 17)}, {"depth", i % 9}}}};
      if (i % 10 == 0) r.tags = {"keep"};
      r.fold_scores = {{0, 0.8}, {1, 0.81}, {2, 0.79}, {3, 0.8}, {4, 0.82}};
      r = store->create_run(r);
      store->finish_run(r.id,
                        {.status = compe::RunStatus::kFinished,
                         .cv_score = 0.5 + static_cast<double>((i * 7919) % 10007) / 20014.0});
    }
    double create_s = seconds_since(t0);
    fmt::print("create_run + finish_run: {} runs: {:.3f} s wall, {:.3f} s cpu ({:.0f} runs/s)\n",
               runs, create_s, cpu_seconds() - c0, static_cast<double>(runs) / create_s);

    struct Case {
      const char* name;
      compe::RunFilter filter;
    };
    std::vector<Case> cases = {
        {"newest page (50)", {}},
        {"best by own direction (50)", {.sort = compe::RunSort::kBest}},
        {"metric=auc by cv (50)", {.metric = "auc", .sort = compe::RunSort::kCvScore}},
        {"tag=keep (50)", {.tag = "keep"}},
        {"name contains 'xgb' (50)", {.name_contains = "xgb"}},
        {"deep page offset 9000 (50)", {.offset = std::min<std::int64_t>(9000, runs)}},
    };
    for (const Case& c : cases) {
      std::int64_t total = 0;
      double ms = median_ms(21, [&] { total = store->list_runs(c.filter).total; });
      fmt::print("list_runs {}: {:.2f} ms (median of 21; {} matching)\n", c.name, ms, total);
    }
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "bench_store: %s\n", e.what());
    if (!tmp.empty()) std::filesystem::remove_all(tmp);
    return 1;
  }
  if (!tmp.empty()) std::filesystem::remove_all(tmp);
  return 0;
}
