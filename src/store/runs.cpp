// The Store's runs, tags and metric series, over the Db connection of either backend (sql_store.hpp).

#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compe/error.hpp"
#include "compe/util.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {

Run SqlStore::create_run(const Run& in) {
  return write("create_run", [&] {
    Run run = in;
    std::int64_t now = now_unix_ms();
    run.status = RunStatus::kRunning;
    if (run.created_ms == 0) run.created_ms = now;
    if (run.started_ms == 0) run.started_ms = now;
    if (!run.heartbeat_ms) run.heartbeat_ms = now;
    if (run.host.empty()) run.host = host_;
    if (run.user.empty()) run.user = this_user();
    if (run.pid == 0) run.pid = static_cast<std::int64_t>(::getpid());
    run.cv_score.reset();
    run.ended_ms.reset();
    for (int attempt = 0;; ++attempt) {
      run.id = new_run_id();
      std::int64_t n = db_->exec(
          "INSERT INTO runs (id, name, status, created_ms, started_ms, heartbeat_ms, config, "
          "parent_id, folds_hash, data_hash, metric, direction, note, command, workdir, host, "
          "pid, git_commit, git_branch, git_dirty, versions, error, wall_seconds, cpu_seconds, "
          "peak_memory_bytes, kind, partial, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
          {run.id,
           run.name,
           std::string(run_status_name(run.status)),
           run.created_ms,
           run.started_ms,
           opt(run.heartbeat_ms),
           run.config.dump(),
           run.parent_id,
           run.folds_hash,
           run.data_hash,
           run.metric,
           run.direction,
           run.note,
           run.command,
           run.workdir,
           run.host,
           run.pid,
           run.git_commit,
           run.git_branch,
           run.git_dirty ? Value(std::int64_t{*run.git_dirty ? 1 : 0}) : Value(),
           run.versions.dump(),
           run.error,
           opt(run.wall_seconds),
           opt(run.cpu_seconds),
           opt(run.peak_memory_bytes),
           run.kind,
           std::int64_t{run.partial ? 1 : 0},
           run.user});
      if (n == 1) break;
      COMPE_ASSERT(attempt < 16);  // 2^40 ids: repeated collisions mean a broken generator
    }
    for (const auto& [fold, score] : run.fold_scores) put_fold_score(run.id, fold, score);
    for (const auto& tag : run.tags) put_tag(run.id, tag);
    return run;
  });
}

Run SqlStore::get_run(const std::string& id) {
  return read("get_run", [&] {
    auto rows = db_->query(fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns), {id});
    if (rows.empty()) fail(ErrorCode::kNotFound, "no run '{}' in store '{}'", id, url_);
    std::vector<Run> runs{run_from_row(rows[0])};
    fill_details(runs);
    return std::move(runs[0]);
  });
}

std::string SqlStore::resolve_run_id(const std::string& prefix) {
  return read("resolve_run_id", [&] {
    bool valid = !prefix.empty() && prefix.size() <= 8 &&
                 std::all_of(prefix.begin(), prefix.end(),
                             [](char c) { return kBase32.find(c) != std::string_view::npos; });
    if (!valid)
      fail(ErrorCode::kNotFound, "no run '{}' in store '{}': run ids are 8 characters a-z, 2-7",
           prefix, url_);
    auto rows =
        db_->query("SELECT id FROM runs WHERE id LIKE ? ORDER BY id LIMIT 6", {prefix + "%"});
    if (rows.empty()) fail(ErrorCode::kNotFound, "no run '{}' in store '{}'", prefix, url_);
    if (rows.size() > 1) {
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < rows.size() && i < 5; ++i) ids.push_back(rows[i].str(0));
      fail(ErrorCode::kInvalidArgument, "run id prefix '{}' is ambiguous: {}{}", prefix,
           join(ids), rows.size() > 5 ? ", ..." : "");
    }
    return rows[0].str(0);
  });
}

void SqlStore::update_run(const std::string& id, const RunPatch& p) {
  write("update_run", [&] {
    std::vector<std::pair<const char*, Value>> set;
    auto str = [&](const char* col, const std::optional<std::string>& v) {
      if (v) set.emplace_back(col, *v);
    };
    str("name", p.name);
    if (p.config) set.emplace_back("config", p.config->dump());
    str("parent_id", p.parent_id);
    str("folds_hash", p.folds_hash);
    str("data_hash", p.data_hash);
    str("metric", p.metric);
    str("direction", p.direction);
    str("command", p.command);
    str("workdir", p.workdir);
    str("git_commit", p.git_commit);
    str("git_branch", p.git_branch);
    if (p.git_dirty) set.emplace_back("git_dirty", std::int64_t{*p.git_dirty ? 1 : 0});
    if (p.versions) set.emplace_back("versions", p.versions->dump());
    if (p.cv_score) set.emplace_back("cv_score", *p.cv_score);
    if (p.wall_seconds) set.emplace_back("wall_seconds", *p.wall_seconds);
    if (p.cpu_seconds) set.emplace_back("cpu_seconds", *p.cpu_seconds);
    if (p.peak_memory_bytes) set.emplace_back("peak_memory_bytes", *p.peak_memory_bytes);
    if (set.empty()) {
      require_run(id);
      return;
    }
    std::string sql = "UPDATE runs SET ";
    std::vector<Value> params;
    for (std::size_t i = 0; i < set.size(); ++i) {
      sql += fmt::format("{}{} = ?", i ? ", " : "", set[i].first);
      params.push_back(std::move(set[i].second));
    }
    sql += " WHERE id = ?";
    params.emplace_back(id);
    if (db_->exec(sql, params) == 0) not_found_run(id);
  });
}

void SqlStore::finish_run(const std::string& id, const RunResult& res) {
  write("finish_run", [&] {
    std::int64_t now = now_unix_ms();
    std::int64_t n = db_->exec(
        "UPDATE runs SET status = ?, ended_ms = ?, heartbeat_ms = ?, "
        "cv_score = COALESCE(?, cv_score), error = ?, "
        "wall_seconds = COALESCE(?, wall_seconds), cpu_seconds = COALESCE(?, cpu_seconds), "
        "peak_memory_bytes = COALESCE(?, peak_memory_bytes), partial = COALESCE(?, partial) "
        "WHERE id = ?",
        {std::string(run_status_name(res.status)), now, now, opt(res.cv_score), res.error,
         opt(res.wall_seconds), opt(res.cpu_seconds), opt(res.peak_memory_bytes),
         res.partial ? Value(std::int64_t{*res.partial ? 1 : 0}) : Value(), id});
    if (n == 0) not_found_run(id);
    for (const auto& [fold, score] : res.fold_scores) put_fold_score(id, fold, score);
  });
}

void SqlStore::add_fold_score(const std::string& id, int fold, double score) {
  write("add_fold_score", [&] {
    require_run(id);
    put_fold_score(id, fold, score);
  });
}

void SqlStore::delete_run(const std::string& id) {
  write("delete_run", [&] {
    require_run(id);
    db_->exec(
        "DELETE FROM metric_points WHERE series_id IN (SELECT id FROM metric_series WHERE "
        "run_id = ?)",
        {id});
    for (const char* table : {"metric_series", "run_tags", "fold_scores", "artifacts", "lb_scores"})
      db_->exec(fmt::format("DELETE FROM {} WHERE run_id = ?", table), {id});
    db_->exec("DELETE FROM runs WHERE id = ?", {id});
    // Content no other run refers to goes with it (its chunks by the foreign key's cascade).
    db_->exec(
        "DELETE FROM artifact_blobs WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha = "
        "artifact_blobs.sha)",
        {});
  });
}

RunPage SqlStore::list_runs(const RunFilter& f) {
  return read("list_runs", [&] {
    if (f.limit < 0 || f.offset < 0) {
      fail(ErrorCode::kInvalidArgument, "list_runs: limit {} and offset {} must not be negative",
           f.limit, f.offset);
    }
    std::string where = " WHERE 1 = 1";
    std::vector<Value> params;
    if (f.status) {
      where += " AND status = ?";
      params.emplace_back(std::string(run_status_name(*f.status)));
    }
    if (!f.tag.empty()) {
      where += " AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag = ?)";
      params.emplace_back(f.tag);
    }
    if (!f.name_contains.empty()) {
      where += db_->dialect() == Dialect::kSqlite ? " AND instr(name, ?) > 0"
                                                  : " AND strpos(name, ?) > 0";
      params.emplace_back(f.name_contains);
    }
    if (!f.metric.empty()) {
      where += " AND metric = ?";
      params.emplace_back(f.metric);
    }
    if (!f.parent_id.empty()) {
      where += " AND parent_id = ?";
      params.emplace_back(f.parent_id);
    }
    if (!f.kind.empty()) {
      where += " AND kind = ?";
      params.emplace_back(f.kind);
    }
    if (f.complete_only)
      where +=
          " AND partial = 0 AND NOT EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id "
          "AND t.tag = 'archived')";
    if ((f.cv_min && std::isnan(*f.cv_min)) || (f.cv_max && std::isnan(*f.cv_max)))
      fail(ErrorCode::kInvalidArgument, "list_runs: a cv score bound is NaN, expected a number");
    if (f.cv_min) {
      where += " AND cv_score >= ?";
      params.emplace_back(*f.cv_min);
    }
    if (f.cv_max) {
      where += " AND cv_score <= ?";
      params.emplace_back(*f.cv_max);
    }
    RunPage page;
    page.total = db_->query("SELECT COUNT(*) FROM runs" + where, params).at(0).i64(0);

    const char* dir = f.descending ? "DESC" : "ASC";
    std::string order;
    switch (f.sort) {
      case RunSort::kCreated:
        order = fmt::format("created_ms {0}, id {0}", dir);
        break;
      case RunSort::kCvScore:
        order = fmt::format("(cv_score IS NULL), cv_score {}, created_ms DESC, id", dir);
        break;
      case RunSort::kBest:
        order =
            "(cv_score IS NULL), "
            "CASE WHEN direction = 'maximize' THEN -cv_score ELSE cv_score END, "
            "created_ms DESC, id";
        break;
      case RunSort::kName:
      case RunSort::kStatus: {
        // Byte order on both backends (PostgreSQL would otherwise follow the database locale).
        const char* collate = db_->dialect() == Dialect::kPostgres ? " COLLATE \"C\"" : "";
        order = fmt::format("{}{} {}, created_ms DESC, id", f.sort == RunSort::kName ? "name" : "status",
                            collate, dir);
        break;
      }
    }
    params.emplace_back(f.limit == 0 ? std::int64_t{INT64_MAX} : f.limit);
    params.emplace_back(f.offset);
    auto rows = db_->query(fmt::format("SELECT {} FROM runs{} ORDER BY {} LIMIT ? OFFSET ?",
                                       kRunColumns, where, order),
                           params);
    page.runs.reserve(rows.size());
    for (const Row& r : rows) page.runs.push_back(run_from_row(r));
    fill_details(page.runs);
    return page;
  });
}

void SqlStore::heartbeat(const std::string& id) {
  write("heartbeat", [&] {
    if (db_->exec("UPDATE runs SET heartbeat_ms = ? WHERE id = ?", {now_unix_ms(), id}) == 0) {
      not_found_run(id);
    }
  });
}

std::vector<std::string> SqlStore::mark_interrupted_stale(std::chrono::milliseconds timeout) {
  // Listing calls this every time: look in a read transaction first and take the write lock
  // only when some run is found dead.
  struct Stale {
    std::string id, why;
    std::int64_t seen_before = INT64_MAX;  // its last sign of life must still be older than this
  };
  std::vector<Stale> stale = read("mark_interrupted_stale", [&] {
    std::int64_t now = now_unix_ms();
    std::vector<Stale> out;
    auto rows = db_->query(
        "SELECT id, host, pid, COALESCE(heartbeat_ms, started_ms), started_ms FROM runs "
        "WHERE status = ?",
        {std::string("running")});
    for (const Row& r : rows) {
      bool local = r.str(1) == host_ && r.i64(2) > 0;
      if (local && !run_process_alive(r.i64(2), r.i64(4))) {
        out.push_back({r.str(0), fmt::format("interrupted: process {} on {} is gone", r.i64(2), host_)});
      } else if (!local && r.i64(3) < now - timeout.count()) {
        // A run of this host whose process is alive is left alone however old its heartbeat:
        // a long fold without heartbeats is not a dead run.
        out.push_back({r.str(0), fmt::format("interrupted: no heartbeat since {}", iso8601_utc(r.i64(3))),
                       now - timeout.count()});
      }
    }
    return out;
  });
  if (stale.empty()) return {};
  return write("mark_interrupted_stale", [&] {
    std::int64_t now = now_unix_ms();
    std::vector<std::string> changed;
    for (const Stale& st : stale) {
      // Unchanged since the look (not finished, no new heartbeat): tested in the UPDATE itself.
      std::int64_t n = db_->exec(
          "UPDATE runs SET status = ?, ended_ms = ?, error = ? WHERE id = ? AND status = ? "
          "AND COALESCE(heartbeat_ms, started_ms) < ?",
          {std::string("interrupted"), now, st.why, st.id, std::string("running"), st.seen_before});
      if (n == 1) changed.push_back(st.id);
    }
    return changed;
  });
}

void SqlStore::set_tags(const std::string& id, const std::set<std::string>& tags) {
  write("set_tags", [&] {
    require_run(id);
    db_->exec("DELETE FROM run_tags WHERE run_id = ?", {id});
    for (const auto& t : tags) put_tag(id, t);
  });
}

void SqlStore::add_tag(const std::string& id, const std::string& tag) {
  write("add_tag", [&] {
    require_run(id);
    put_tag(id, tag);
  });
}

void SqlStore::remove_tag(const std::string& id, const std::string& tag) {
  write("remove_tag", [&] {
    require_run(id);
    db_->exec("DELETE FROM run_tags WHERE run_id = ? AND tag = ?", {id, tag});
  });
}

void SqlStore::set_note(const std::string& id, const std::string& note) {
  write("set_note", [&] {
    if (db_->exec("UPDATE runs SET note = ? WHERE id = ?", {note, id}) == 0) not_found_run(id);
  });
}

void SqlStore::log_metrics(const std::string& run_id, std::span<const MetricPoint> points) {
  if (points.empty()) return;
  write("log_metrics", [&] {
    require_run(run_id);
    // Points hang off a series (run, key, fold) by a small integer id: the large table holds
    // only (series, step, value), which halves its size and keeps inserts cheap.
    std::map<std::pair<std::string_view, int>, std::int64_t> series;
    for (const MetricPoint& p : points) {
      if (p.key.empty()) {
        fail(ErrorCode::kInvalidArgument, "log_metrics: run '{}': empty metric key", run_id);
      }
      if (p.fold && *p.fold < 0) {
        fail(ErrorCode::kInvalidArgument,
             "log_metrics: run '{}', key '{}': fold {} is negative, expected 0 or more", run_id,
             p.key, *p.fold);
      }
      series.emplace(std::pair<std::string_view, int>{p.key, p.fold.value_or(kWholeRun)}, 0);
    }
    for (auto& [k, id] : series) id = series_id(run_id, std::string(k.first), k.second);
    static constexpr const char* kColumns[] = {"series_id", "step", "value"};
    std::vector<Value> values;
    values.reserve(points.size() * 3);
    auto last = series.end();
    for (const MetricPoint& p : points) {
      std::pair<std::string_view, int> k{p.key, p.fold.value_or(kWholeRun)};
      if (last == series.end() || last->first != k) last = series.find(k);
      values.emplace_back(last->second);
      values.emplace_back(p.step);
      values.emplace_back(p.value);
    }
    db_->insert_rows("metric_points", kColumns, values);
  });
}

std::vector<MetricPoint> SqlStore::read_metrics(const std::string& run_id,
                                      const std::string& key) {
  return read("read_metrics", [&] {
    std::vector<MetricPoint> out;
    auto add = [&](const Row& r) {
      MetricPoint& p = out.emplace_back();
      p.key = r.str(0);
      if (r.i64(1) != kWholeRun) p.fold = static_cast<int>(r.i64(1));
      p.step = r.i64(2);
      p.value = r.f64(3);
    };
    const std::string sql =
        "SELECT s.key, s.fold, p.step, p.value FROM metric_series s "
        "JOIN metric_points p ON p.series_id = s.id WHERE s.run_id = ?";
    const char* order = " ORDER BY s.key, s.fold, p.step";
    if (key.empty()) {
      db_->for_each_row(sql + order, std::array<Value, 1>{run_id}, add);
    } else {
      db_->for_each_row(sql + " AND s.key = ?" + order, std::array<Value, 2>{run_id, key}, add);
    }
    return out;
  });
}

std::vector<std::string> SqlStore::metric_keys(const std::string& run_id) {
  return read("metric_keys", [&] {
    std::vector<std::string> keys;
    for (const Row& r : db_->query(
             "SELECT DISTINCT key FROM metric_series WHERE run_id = ? ORDER BY key", {run_id})) {
      keys.push_back(r.str(0));
    }
    return keys;
  });
}

void SqlStore::require_run(const std::string& id) {
  if (db_->query("SELECT 1 FROM runs WHERE id = ?", {id}).empty()) not_found_run(id);
}

// The id of series (run, key, fold), created when new. Ids come from a counter row: its
// UPDATE serialises concurrent creators on both backends.
std::int64_t SqlStore::series_id(const std::string& run_id, const std::string& key, int fold) {
  const char* find = "SELECT id FROM metric_series WHERE run_id = ? AND key = ? AND fold = ?";
  auto rows = db_->query(find, {run_id, key, std::int64_t{fold}});
  if (!rows.empty()) return rows[0].i64(0);
  std::int64_t id =
      db_->query(
             "UPDATE counters SET value = value + 1 WHERE name = 'metric_series' RETURNING value",
             {})
          .at(0)
          .i64(0);
  db_->exec(
      "INSERT INTO metric_series (id, run_id, key, fold) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (run_id, key, fold) DO NOTHING",
      {id, run_id, key, std::int64_t{fold}});
  return db_->query(find, {run_id, key, std::int64_t{fold}}).at(0).i64(0);
}

void SqlStore::put_fold_score(const std::string& id, int fold, double score) {
  db_->exec(
      "INSERT INTO fold_scores (run_id, fold, score) VALUES (?, ?, ?) "
      "ON CONFLICT (run_id, fold) DO UPDATE SET score = excluded.score",
      {id, std::int64_t{fold}, score});
}

void SqlStore::put_tag(const std::string& id, const std::string& tag) {
  if (tag.empty()) fail(ErrorCode::kInvalidArgument, "run '{}': empty tag", id);
  db_->exec(
      "INSERT INTO run_tags (run_id, tag) VALUES (?, ?) ON CONFLICT (run_id, tag) DO NOTHING",
      {id, tag});
}

// Tags and fold scores of `runs`, a few ids per query.
void SqlStore::fill_details(std::vector<Run>& runs) {
  if (runs.empty()) return;
  std::map<std::string, Run*> by_id;
  for (Run& r : runs) by_id[r.id] = &r;
  constexpr std::size_t kIdsPerQuery = 64;
  for (std::size_t begin = 0; begin < runs.size(); begin += kIdsPerQuery) {
    std::size_t end = std::min(runs.size(), begin + kIdsPerQuery);
    std::vector<Value> ids;
    std::string marks;
    for (std::size_t i = begin; i < end; ++i) {
      ids.emplace_back(runs[i].id);
      marks += i == begin ? "?" : ", ?";
    }
    for (const Row& r : db_->query(
             fmt::format("SELECT run_id, tag FROM run_tags WHERE run_id IN ({})", marks), ids)) {
      by_id.at(r.str(0))->tags.insert(r.str(1));
    }
    for (const Row& r : db_->query(
             fmt::format("SELECT run_id, fold, score FROM fold_scores WHERE run_id IN ({})",
                         marks),
             ids)) {
      by_id.at(r.str(0))->fold_scores[static_cast<int>(r.i64(1))] = r.f64(2);
    }
  }
}

bool SqlStore::copy_run(const Run& run) {
  return write("copy_run", [&] {
    if (run.id.size() != 8)
      fail(ErrorCode::kInvalidArgument, "copy_run: run id '{}' is not 8 characters", run.id);
    std::int64_t n = db_->exec(
        "INSERT INTO runs (id, name, status, created_ms, started_ms, ended_ms, heartbeat_ms, "
        "config, parent_id, folds_hash, data_hash, metric, direction, cv_score, note, command, "
        "workdir, host, pid, git_commit, git_branch, git_dirty, versions, error, wall_seconds, "
        "cpu_seconds, peak_memory_bytes, kind, partial, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) "
        "DO NOTHING",
        {run.id,
         run.name,
         std::string(run_status_name(run.status)),
         run.created_ms,
         run.started_ms,
         opt(run.ended_ms),
         opt(run.heartbeat_ms),
         run.config.dump(),
         run.parent_id,
         run.folds_hash,
         run.data_hash,
         run.metric,
         run.direction,
         opt(run.cv_score),
         run.note,
         run.command,
         run.workdir,
         run.host,
         run.pid,
         run.git_commit,
         run.git_branch,
         run.git_dirty ? Value(std::int64_t{*run.git_dirty ? 1 : 0}) : Value(),
         run.versions.dump(),
         run.error,
         opt(run.wall_seconds),
         opt(run.cpu_seconds),
         opt(run.peak_memory_bytes),
         run.kind,
         std::int64_t{run.partial ? 1 : 0},
         run.user});
    if (n == 0) return false;
    for (const auto& [fold, score] : run.fold_scores) put_fold_score(run.id, fold, score);
    for (const auto& tag : run.tags) put_tag(run.id, tag);
    return true;
  });
}

}  // namespace compe::store
