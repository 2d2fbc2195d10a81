// The Store's logic, written once over the Db connection of either backend.

#include "compe/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <random>
#include <type_traits>

#include "compe/error.hpp"
#include "compe/util.hpp"
#include "store/db.hpp"
#include "store/schema.hpp"

namespace compe {

using store::Db;
using store::DbError;
using store::Dialect;
using store::Row;
using store::Value;
using json = nlohmann::json;

namespace {

constexpr std::array kRunStatusNames = {"running", "finished", "failed", "interrupted", "pruned"};
constexpr std::array kTrialStateNames = {"waiting", "running", "complete", "pruned", "failed"};
constexpr int kWholeRun = -1;  // metric_series.fold of a series that spans the whole run
constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";

std::string new_run_id() {
  // std::random_device per id (not a seeded engine): a forked child never repeats its parent.
  std::random_device rd;
  std::uint64_t bits = (std::uint64_t{rd()} << 32) | rd();
  std::string id(8, 'a');
  for (char& c : id) {
    c = kBase32[bits & 31u];
    bits >>= 5;
  }
  return id;
}

std::string this_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

bool pid_alive(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  if (!(::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) return false;
  // A killed process whose parent died too waits as a zombie until init reaps it (late, in some
  // containers): signals still reach it, but it runs nothing.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    auto comm_end = line.rfind(')');
    if (comm_end != std::string::npos && comm_end + 2 < line.size() && line[comm_end + 2] == 'Z') return false;
  }
  return true;
}

// When process `pid` started, in unix ms, from Linux's /proc; nullopt where that is unknown.
std::optional<std::int64_t> process_start_ms(std::int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  auto comm_end = line.rfind(')');  // the command name may hold spaces and parentheses
  if (comm_end == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(comm_end + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }  // field 22: start time in clock ticks after boot
  std::ifstream boot("/proc/stat");
  long long btime = -1;
  for (std::string l; std::getline(boot, l);)
    if (l.rfind("btime ", 0) == 0) btime = std::atoll(l.c_str() + 6);
  long ticks = ::sysconf(_SC_CLK_TCK);
  if (!fields || btime < 0 || ticks <= 0) return std::nullopt;
  long long start_ticks = std::atoll(field.c_str());
  return btime * 1000 + start_ticks * 1000 / ticks;
}

// Whether the process that runs `run_started_ms`'s run still lives. A live process that started
// well after the run did is another one that got the same pid (after a reboot, say). The margin
// absorbs the boot time's one-second resolution and steps of the clock.
bool run_process_alive(std::int64_t pid, std::int64_t run_started_ms) {
  constexpr std::int64_t kMarginMs = 5 * 60 * 1000;
  if (!pid_alive(pid)) return false;
  auto started = process_start_ms(pid);
  return !started || *started <= run_started_ms + kMarginMs;
}

Value opt(const std::optional<double>& v) {
  return v ? Value(*v) : Value();
}
Value opt(const std::optional<std::int64_t>& v) {
  return v ? Value(*v) : Value();
}

json parse_json(const std::string& text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(ErrorCode::kStorage, "corrupt JSON in stored {}: {}", what, quote(text));
  return j;
}

// Column list of run_from_row, in order.
constexpr const char* kRunColumns =
    "id, name, status, created_ms, started_ms, ended_ms, heartbeat_ms, config, parent_id, "
    "folds_hash, data_hash, metric, direction, cv_score, note, command, workdir, host, pid, "
    "git_commit, git_branch, git_dirty, versions, error, wall_seconds, cpu_seconds, "
    "peak_memory_bytes, kind, partial";

Run run_from_row(const Row& r) {
  Run run;
  run.id = r.str(0);
  run.name = r.str(1);
  run.status = parse_run_status(r.str(2));
  run.created_ms = r.i64(3);
  run.started_ms = r.i64(4);
  run.ended_ms = r.opt_i64(5);
  run.heartbeat_ms = r.opt_i64(6);
  run.config = parse_json(r.str(7), "run config");
  run.parent_id = r.str(8);
  run.folds_hash = r.str(9);
  run.data_hash = r.str(10);
  run.metric = r.str(11);
  run.direction = r.str(12);
  run.cv_score = r.opt_f64(13);
  run.note = r.str(14);
  run.command = r.str(15);
  run.workdir = r.str(16);
  run.host = r.str(17);
  run.pid = r.i64(18);
  run.git_commit = r.str(19);
  run.git_branch = r.str(20);
  if (!r.is_null(21)) run.git_dirty = r.i64(21) != 0;
  run.versions = parse_json(r.str(22), "run versions");
  run.error = r.str(23);
  run.wall_seconds = r.opt_f64(24);
  run.cpu_seconds = r.opt_f64(25);
  run.peak_memory_bytes = r.opt_i64(26);
  run.kind = r.str(27);
  run.partial = r.i64(28) != 0;
  return run;
}

constexpr const char* kTrialColumns =
    "study, number, state, params, objective_values, run_id, error, created_ms, started_ms, "
    "ended_ms, host, pid, heartbeat_ms";

Trial trial_from_row(const Row& r) {
  Trial t;
  t.study = r.str(0);
  t.number = r.i64(1);
  t.state = parse_trial_state(r.str(2));
  t.params = parse_json(r.str(3), "trial params");
  for (const json& v : parse_json(r.str(4), "trial values")) {
    t.values.push_back(v.is_number() ? v.get<double>() : std::nan(""));
  }
  t.run_id = r.str(5);
  t.error = r.str(6);
  t.created_ms = r.i64(7);
  t.started_ms = r.opt_i64(8);
  t.ended_ms = r.opt_i64(9);
  t.host = r.str(10);
  t.pid = r.i64(11);
  t.heartbeat_ms = r.opt_i64(12);
  return t;
}

Study study_from_row(const Row& r) {
  Study s;
  s.name = r.str(0);
  s.directions = parse_json(r.str(1), "study directions").get<std::vector<std::string>>();
  s.sampler = parse_json(r.str(2), "study sampler");
  s.created_ms = r.i64(3);
  return s;
}

void check_direction(const std::string& d, std::string_view what) {
  if (d != "maximize" && d != "minimize") {
    fail(ErrorCode::kInvalidArgument,
         "{}: direction '{}' is not valid, expected 'maximize' or 'minimize'", what, d);
  }
}

// Why a new study may not take this name ("" when it may): the name is a path segment of
// /api/studies/<name>, so no '/' or '\\', no control characters, not "." or "..".
std::string study_name_problem(std::string_view name) {
  if (name.size() > 200) return fmt::format("is {} characters long", name.size());
  if (name == "." || name == "..") return "is a path segment of its own";
  for (char c : name) {
    if (c == '/' || c == '\\') return fmt::format("holds '{}'", c);
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "holds a control character";
  }
  return "";
}


class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<Db> db, std::string shown_url)
      : db_(std::move(db)), url_(std::move(shown_url)), host_(this_host()) {}

  std::string url() const override { return url_; }

  int schema_version() override {
    return read("schema_version", [&] { return store::read_schema_version(*db_); });
  }

  // ---- runs ----

  Run create_run(const Run& in) override {
    return write("create_run", [&] {
      Run run = in;
      std::int64_t now = now_unix_ms();
      run.status = RunStatus::kRunning;
      if (run.created_ms == 0) run.created_ms = now;
      if (run.started_ms == 0) run.started_ms = now;
      if (!run.heartbeat_ms) run.heartbeat_ms = now;
      if (run.host.empty()) run.host = host_;
      if (run.pid == 0) run.pid = static_cast<std::int64_t>(::getpid());
      run.cv_score.reset();
      run.ended_ms.reset();
      for (int attempt = 0;; ++attempt) {
        run.id = new_run_id();
        std::int64_t n = db_->exec(
            "INSERT INTO runs (id, name, status, created_ms, started_ms, heartbeat_ms, config, "
            "parent_id, folds_hash, data_hash, metric, direction, note, command, workdir, host, "
            "pid, git_commit, git_branch, git_dirty, versions, error, wall_seconds, cpu_seconds, "
            "peak_memory_bytes, kind, partial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
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
             std::int64_t{run.partial ? 1 : 0}});
        if (n == 1) break;
        COMPE_ASSERT(attempt < 16);  // 2^40 ids: repeated collisions mean a broken generator
      }
      for (const auto& [fold, score] : run.fold_scores) put_fold_score(run.id, fold, score);
      for (const auto& tag : run.tags) put_tag(run.id, tag);
      return run;
    });
  }

  Run get_run(const std::string& id) override {
    return read("get_run", [&] {
      auto rows = db_->query(fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns), {id});
      if (rows.empty()) fail(ErrorCode::kNotFound, "no run '{}' in store '{}'", id, url_);
      std::vector<Run> runs{run_from_row(rows[0])};
      fill_details(runs);
      return std::move(runs[0]);
    });
  }

  std::string resolve_run_id(const std::string& prefix) override {
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

  void update_run(const std::string& id, const RunPatch& p) override {
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

  void finish_run(const std::string& id, const RunResult& res) override {
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

  void add_fold_score(const std::string& id, int fold, double score) override {
    write("add_fold_score", [&] {
      require_run(id);
      put_fold_score(id, fold, score);
    });
  }

  void delete_run(const std::string& id) override {
    write("delete_run", [&] {
      require_run(id);
      db_->exec(
          "DELETE FROM metric_points WHERE series_id IN (SELECT id FROM metric_series WHERE "
          "run_id = ?)",
          {id});
      for (const char* table : {"metric_series", "run_tags", "fold_scores", "artifacts", "lb_scores"})
        db_->exec(fmt::format("DELETE FROM {} WHERE run_id = ?", table), {id});
      db_->exec("DELETE FROM runs WHERE id = ?", {id});
    });
  }

  RunPage list_runs(const RunFilter& f) override {
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

  void heartbeat(const std::string& id) override {
    write("heartbeat", [&] {
      if (db_->exec("UPDATE runs SET heartbeat_ms = ? WHERE id = ?", {now_unix_ms(), id}) == 0) {
        not_found_run(id);
      }
    });
  }

  std::vector<std::string> mark_interrupted_stale(std::chrono::milliseconds timeout) override {
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

  void set_tags(const std::string& id, const std::set<std::string>& tags) override {
    write("set_tags", [&] {
      require_run(id);
      db_->exec("DELETE FROM run_tags WHERE run_id = ?", {id});
      for (const auto& t : tags) put_tag(id, t);
    });
  }

  void add_tag(const std::string& id, const std::string& tag) override {
    write("add_tag", [&] {
      require_run(id);
      put_tag(id, tag);
    });
  }

  void remove_tag(const std::string& id, const std::string& tag) override {
    write("remove_tag", [&] {
      require_run(id);
      db_->exec("DELETE FROM run_tags WHERE run_id = ? AND tag = ?", {id, tag});
    });
  }

  void set_note(const std::string& id, const std::string& note) override {
    write("set_note", [&] {
      if (db_->exec("UPDATE runs SET note = ? WHERE id = ?", {note, id}) == 0) not_found_run(id);
    });
  }

  // ---- metric series ----

  void log_metrics(const std::string& run_id, std::span<const MetricPoint> points) override {
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

  std::vector<MetricPoint> read_metrics(const std::string& run_id,
                                        const std::string& key) override {
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

  std::vector<std::string> metric_keys(const std::string& run_id) override {
    return read("metric_keys", [&] {
      std::vector<std::string> keys;
      for (const Row& r : db_->query(
               "SELECT DISTINCT key FROM metric_series WHERE run_id = ? ORDER BY key", {run_id})) {
        keys.push_back(r.str(0));
      }
      return keys;
    });
  }

  // ---- artifacts and leaderboard ----

  void add_artifact(const Artifact& a) override {
    write("add_artifact", [&] {
      if (a.name.empty())
        fail(ErrorCode::kInvalidArgument, "add_artifact: run '{}': empty artifact name", a.run_id);
      require_run(a.run_id);
      db_->exec(
          "INSERT INTO artifacts (run_id, name, path, size, sha, kind, created_ms) VALUES (?, ?, "
          "?, ?, ?, ?, ?) "
          "ON CONFLICT (run_id, name) DO UPDATE SET path = excluded.path, size = excluded.size, "
          "sha = excluded.sha, kind = excluded.kind, created_ms = excluded.created_ms",
          {a.run_id, a.name, a.path, a.size, a.sha, a.kind,
           a.created_ms ? a.created_ms : now_unix_ms()});
    });
  }

  std::vector<Artifact> list_artifacts(const std::string& run_id) override {
    return read("list_artifacts", [&] {
      std::vector<Artifact> out;
      for (const Row& r :
           db_->query("SELECT run_id, name, path, size, sha, kind, created_ms FROM artifacts "
                      "WHERE run_id = ? ORDER BY name",
                      {run_id})) {
        out.push_back({r.str(0), r.str(1), r.str(2), r.i64(3), r.str(4), r.str(5), r.i64(6)});
      }
      return out;
    });
  }

  void add_lb_score(const LbScore& s) override {
    write("add_lb_score", [&] {
      require_run(s.run_id);
      db_->exec(
          "INSERT INTO lb_scores (run_id, public_score, private_score, time_ms, note) VALUES (?, "
          "?, ?, ?, ?)",
          {s.run_id, s.public_score, opt(s.private_score), s.time_ms ? s.time_ms : now_unix_ms(),
           s.note});
    });
  }

  std::int64_t remove_lb_scores(const std::string& run_id,
                                std::optional<std::int64_t> time_ms) override {
    return write("remove_lb_scores", [&] {
      require_run(run_id);
      if (time_ms)
        return db_->exec("DELETE FROM lb_scores WHERE run_id = ? AND time_ms = ?", {run_id, *time_ms});
      return db_->exec("DELETE FROM lb_scores WHERE run_id = ?", {run_id});
    });
  }

  std::vector<LbScore> list_lb_scores(const std::string& run_id) override {
    return read("list_lb_scores", [&] {
      std::vector<Row> rows;
      const char* cols = "SELECT run_id, public_score, private_score, time_ms, note FROM lb_scores";
      if (run_id.empty()) {
        rows = db_->query(std::string(cols) + " ORDER BY time_ms, run_id", {});
      } else {
        rows = db_->query(std::string(cols) + " WHERE run_id = ? ORDER BY time_ms", {run_id});
      }
      std::vector<LbScore> out;
      for (const Row& r : rows)
        out.push_back({r.str(0), r.f64(1), r.opt_f64(2), r.i64(3), r.str(4)});
      return out;
    });
  }

  // ---- studies and trials ----

  Study create_study(const Study& s, bool load_if_exists) override {
    return write("create_study", [&] {
      if (s.name.empty()) fail(ErrorCode::kInvalidArgument, "create_study: empty study name");
      if (s.directions.empty()) {
        fail(ErrorCode::kInvalidArgument, "create_study '{}': at least one direction is needed",
             s.name);
      }
      for (const auto& d : s.directions) check_direction(d, fmt::format("study '{}'", s.name));
      // Names are checked once, here, when a study is made: one made before the rule existed
      // stays loadable by its name.
      if (const std::string why = study_name_problem(s.name); !why.empty()) {
        const bool exists = !db_->query("SELECT name FROM studies WHERE name = ?", {s.name}).empty();
        if (!exists || !load_if_exists)
          fail(ErrorCode::kInvalidArgument,
               "study name '{}' {}: a name is up to 200 characters without '/', '\\' or control "
               "characters (it is part of the study's URL on the dashboard)",
               escape_ascii_controls(s.name), why);
      }
      Study out = s;
      if (out.created_ms == 0) out.created_ms = now_unix_ms();
      std::int64_t n = db_->exec(
          "INSERT INTO studies (name, directions, sampler, created_ms) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (name) DO NOTHING",
          {s.name, json(s.directions).dump(), s.sampler.dump(), out.created_ms});
      if (n == 0) {
        if (!load_if_exists) {
          fail(ErrorCode::kInvalidArgument, "study '{}' already exists in store '{}'", s.name,
               url_);
        }
        return load_study(s.name);
      }
      return out;
    });
  }

  Study get_study(const std::string& name) override {
    return read("get_study", [&] { return load_study(name); });
  }

  std::vector<Study> list_studies() override {
    return read("list_studies", [&] {
      std::vector<Study> out;
      for (const Row& r : db_->query(
               "SELECT name, directions, sampler, created_ms FROM studies ORDER BY name", {})) {
        out.push_back(study_from_row(r));
      }
      return out;
    });
  }

  Trial create_trial(const std::string& study, const json& params) override {
    return write("create_trial",
                 [&] { return *new_trial(study, params, TrialState::kRunning, std::nullopt); });
  }

  std::optional<Trial> create_trial_below(const std::string& study, const json& params,
                                          std::int64_t limit) override {
    return write("create_trial_below",
                 [&] { return new_trial(study, params, TrialState::kRunning, limit); });
  }

  void heartbeat_trial(const std::string& study, std::int64_t number) override {
    write("heartbeat_trial", [&] {
      if (db_->exec("UPDATE trials SET heartbeat_ms = ? WHERE study = ? AND number = ?",
                    {now_unix_ms(), study, number}) == 0) {
        not_found_trial(study, number);
      }
    });
  }

  std::vector<std::int64_t> fail_stale_trials(const std::string& study,
                                              std::chrono::milliseconds timeout) override {
    // Read first without the write lock: most calls find nothing stale, and many workers call.
    auto stale = [&](const Row& r, std::int64_t now) -> std::string {
      const bool local = r.str(1) == host_ && r.i64(2) > 0;
      if (local) {
        if (pid_alive(r.i64(2))) return "";  // alive here: a long fold is not a dead trial
        return fmt::format("worker process {} on {} is gone; the trial was left running", r.i64(2),
                           host_);
      }
      if (r.is_null(3) || r.i64(3) >= now - timeout.count()) return "";
      return fmt::format("no heartbeat from its worker ({} pid {}) since {}; the trial was left "
                         "running",
                         r.str(1).empty() ? "unknown host" : r.str(1), r.i64(2),
                         iso8601_utc(r.i64(3)));
    };
    const char* sql =
        "SELECT number, host, pid, COALESCE(heartbeat_ms, started_ms, created_ms) FROM trials "
        "WHERE study = ? AND state = 'running' ORDER BY number";
    bool any = false;
    read("fail_stale_trials", [&] {
      study_objectives(study);  // not found -> error
      const std::int64_t now = now_unix_ms();
      for (const Row& r : db_->query(sql, {study})) any = any || !stale(r, now).empty();
      return 0;
    });
    if (!any) return {};
    return write("fail_stale_trials", [&] {
      const std::int64_t now = now_unix_ms();
      std::vector<std::int64_t> changed;
      for (const Row& r : db_->query(sql, {study})) {
        const std::string why = stale(r, now);
        if (why.empty()) continue;
        // The state test in the UPDATE makes concurrent sweepers (and a late finisher) safe.
        if (db_->exec("UPDATE trials SET state = 'failed', error = ?, ended_ms = ? WHERE study = ? "
                      "AND number = ? AND state = 'running'",
                      {why, now, study, r.i64(0)}) == 1) {
          changed.push_back(r.i64(0));
        }
      }
      return changed;
    });
  }

  Trial enqueue_trial(const std::string& study, const json& params) override {
    return write("enqueue_trial",
                 [&] { return *new_trial(study, params, TrialState::kWaiting, std::nullopt); });
  }

  std::optional<Trial> claim_trial(const std::string& study) override {
    return write("claim_trial", [&]() -> std::optional<Trial> {
      // SQLite: BEGIN IMMEDIATE already excludes other writers. PostgreSQL: lock the row and let
      // concurrent claimers skip it rather than wait for it.
      std::string sql =
          "SELECT number FROM trials WHERE study = ? AND state = 'waiting' ORDER BY number LIMIT 1";
      if (db_->dialect() == Dialect::kPostgres) sql += " FOR UPDATE SKIP LOCKED";
      auto rows = db_->query(sql, {study});
      if (rows.empty()) {
        load_study(study);  // not found -> error
        return std::nullopt;
      }
      std::int64_t number = rows[0].i64(0);
      const std::int64_t now = now_unix_ms();
      db_->exec(
          "UPDATE trials SET state = 'running', started_ms = ?, heartbeat_ms = ?, host = ?, "
          "pid = ? WHERE study = ? AND number = ?",
          {now, now, host_, std::int64_t{::getpid()}, study, number});
      return load_trial(study, number);
    });
  }

  void report_intermediate(const std::string& study, std::int64_t number, std::int64_t step,
                           double value) override {
    write("report_intermediate", [&] {
      require_trial(study, number);
      db_->exec(
          "INSERT INTO trial_intermediate (study, number, step, value) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (study, number, step) DO UPDATE SET value = excluded.value",
          {study, number, step, value});
    });
  }

  void set_trial_run(const std::string& study, std::int64_t number,
                     const std::string& run_id) override {
    write("set_trial_run", [&] {
      if (!run_id.empty()) require_run(run_id);
      if (db_->exec("UPDATE trials SET run_id = ? WHERE study = ? AND number = ?",
                    {run_id, study, number}) == 0) {
        not_found_trial(study, number);
      }
    });
  }

  void finish_trial(const std::string& study, std::int64_t number, TrialState state,
                    std::span<const double> values, const std::string& error) override {
    write("finish_trial", [&] {
      if (state == TrialState::kWaiting || state == TrialState::kRunning) {
        fail(ErrorCode::kInvalidArgument,
             "finish_trial: study '{}' trial {}: state '{}' does not end a trial", study, number,
             trial_state_name(state));
      }
      const std::size_t objectives = study_objectives(study);
      if (state == TrialState::kComplete && values.size() != objectives) {
        fail(ErrorCode::kInvalidArgument,
             "finish_trial: study '{}' trial {}: {} objective values given, the study has {} "
             "directions",
             study, number, values.size(), objectives);
      }
      json vals = json::array();
      for (double v : values) vals.push_back(std::isfinite(v) ? json(v) : json(nullptr));
      // The state test is in the UPDATE itself, so two finishers cannot both succeed.
      std::int64_t n = db_->exec(
          "UPDATE trials SET state = ?, objective_values = ?, error = ?, ended_ms = ? "
          "WHERE study = ? AND number = ? AND state IN ('waiting', 'running')",
          {std::string(trial_state_name(state)), vals.dump(), error, now_unix_ms(), study, number});
      if (n == 0) {
        Trial t = load_trial(study, number);  // not found -> error
        fail(ErrorCode::kInvalidArgument, "finish_trial: study '{}' trial {} is already {}", study,
             number, trial_state_name(t.state));
      }
    });
  }

  Trial get_trial(const std::string& study, std::int64_t number) override {
    return read("get_trial", [&] { return load_trial(study, number); });
  }

  std::vector<Trial> list_trials(const std::string& study,
                                 std::optional<TrialState> state) override {
    return read("list_trials", [&] {
      study_objectives(study);  // not found -> error
      std::vector<Row> rows;
      std::string sql = fmt::format("SELECT {} FROM trials WHERE study = ?", kTrialColumns);
      if (state) {
        rows = db_->query(sql + " AND state = ? ORDER BY number",
                          {study, std::string(trial_state_name(*state))});
      } else {
        rows = db_->query(sql + " ORDER BY number", {study});
      }
      std::vector<Trial> out;
      out.reserve(rows.size());
      for (const Row& r : rows) out.push_back(trial_from_row(r));
      std::map<std::int64_t, Trial*> by_number;
      for (Trial& t : out) by_number[t.number] = &t;
      for (const Row& r : db_->query(
               "SELECT number, step, value FROM trial_intermediate WHERE study = ?", {study})) {
        auto it = by_number.find(r.i64(0));
        if (it != by_number.end()) it->second->intermediate[r.i64(1)] = r.f64(2);
      }
      return out;
    });
  }

 private:
  template <typename F>
  std::invoke_result_t<F&> write(std::string_view op, F&& fn) {
    std::lock_guard lock(mu_);
    try {
      db_->begin_write();
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        db_->commit();
      } else {
        auto out = fn();
        db_->commit();
        return out;
      }
    } catch (const DbError& e) {
      db_->rollback();
      fail(ErrorCode::kStorage, "store '{}': {} failed: {}", url_, op, e.what());
    } catch (...) {
      db_->rollback();
      throw;
    }
  }

  template <typename F>
  std::invoke_result_t<F&> read(std::string_view op, F&& fn) {
    std::lock_guard lock(mu_);
    try {
      db_->begin_read();
      auto out = fn();
      db_->commit();
      return out;
    } catch (const DbError& e) {
      db_->rollback();
      fail(ErrorCode::kStorage, "store '{}': {} failed: {}", url_, op, e.what());
    } catch (...) {
      db_->rollback();
      throw;
    }
  }

  [[noreturn]] void not_found_run(const std::string& id) {
    fail(ErrorCode::kNotFound, "no run '{}' in store '{}'", id, url_);
  }
  [[noreturn]] void not_found_trial(const std::string& study, std::int64_t number) {
    fail(ErrorCode::kNotFound, "no trial {} in study '{}' of store '{}'", number, study, url_);
  }

  void require_run(const std::string& id) {
    if (db_->query("SELECT 1 FROM runs WHERE id = ?", {id}).empty()) not_found_run(id);
  }
  void require_trial(const std::string& study, std::int64_t number) {
    if (db_->query("SELECT 1 FROM trials WHERE study = ? AND number = ?", {study, number})
            .empty()) {
      not_found_trial(study, number);
    }
  }

  // The id of series (run, key, fold), created when new. Ids come from a counter row: its
  // UPDATE serialises concurrent creators on both backends.
  std::int64_t series_id(const std::string& run_id, const std::string& key, int fold) {
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

  void put_fold_score(const std::string& id, int fold, double score) {
    db_->exec(
        "INSERT INTO fold_scores (run_id, fold, score) VALUES (?, ?, ?) "
        "ON CONFLICT (run_id, fold) DO UPDATE SET score = excluded.score",
        {id, std::int64_t{fold}, score});
  }

  void put_tag(const std::string& id, const std::string& tag) {
    if (tag.empty()) fail(ErrorCode::kInvalidArgument, "run '{}': empty tag", id);
    db_->exec(
        "INSERT INTO run_tags (run_id, tag) VALUES (?, ?) ON CONFLICT (run_id, tag) DO NOTHING",
        {id, tag});
  }

  // Tags and fold scores of `runs`, a few ids per query.
  void fill_details(std::vector<Run>& runs) {
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

  // The study's number of objectives, without parsing its sampler document (the per-trial calls
  // only need to know that the study exists, or its objective count).
  std::size_t study_objectives(const std::string& name) {
    auto rows = db_->query("SELECT directions FROM studies WHERE name = ?", {name});
    if (rows.empty()) fail(ErrorCode::kNotFound, "no study '{}' in store '{}'", name, url_);
    return parse_json(rows[0].str(0), "study directions").size();
  }

  Study load_study(const std::string& name) {
    auto rows = db_->query(
        "SELECT name, directions, sampler, created_ms FROM studies WHERE name = ?", {name});
    if (rows.empty()) fail(ErrorCode::kNotFound, "no study '{}' in store '{}'", name, url_);
    return study_from_row(rows[0]);
  }

  Trial load_trial(const std::string& study, std::int64_t number) {
    auto rows = db_->query(
        fmt::format("SELECT {} FROM trials WHERE study = ? AND number = ?", kTrialColumns),
        {study, number});
    if (rows.empty()) not_found_trial(study, number);
    Trial t = trial_from_row(rows[0]);
    for (const Row& r :
         db_->query("SELECT step, value FROM trial_intermediate WHERE study = ? AND number = ?",
                    {study, number})) {
      t.intermediate[r.i64(0)] = r.f64(1);
    }
    return t;
  }

  // nullopt only when `limit` is given and the study already numbered `limit` trials.
  std::optional<Trial> new_trial(const std::string& study, const json& params, TrialState state,
                                 std::optional<std::int64_t> limit) {
    // The study row's counter hands out numbers: the UPDATE locks the row (PostgreSQL) or runs
    // under the write lock (SQLite), so concurrent workers never share a number, and the limit
    // test in the same statement never lets them pass it.
    std::vector<Row> rows;
    if (limit) {
      rows = db_->query(
          "UPDATE studies SET next_number = next_number + 1 WHERE name = ? AND next_number < ? "
          "RETURNING next_number",
          {study, *limit});
      if (rows.empty()) {
        load_study(study);  // not found -> error
        return std::nullopt;
      }
    } else {
      rows = db_->query(
          "UPDATE studies SET next_number = next_number + 1 WHERE name = ? RETURNING next_number",
          {study});
    }
    if (rows.empty()) fail(ErrorCode::kNotFound, "no study '{}' in store '{}'", study, url_);
    Trial t;
    t.study = study;
    t.number = rows[0].i64(0) - 1;
    t.state = state;
    t.params = params.is_null() ? json::object() : params;
    t.created_ms = now_unix_ms();
    if (state == TrialState::kRunning) {
      t.started_ms = t.created_ms;
      t.heartbeat_ms = t.created_ms;
      t.host = host_;
      t.pid = ::getpid();
    }
    db_->exec(
        "INSERT INTO trials (study, number, state, params, created_ms, started_ms, host, pid, "
        "heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {study, t.number, std::string(trial_state_name(state)), t.params.dump(), t.created_ms,
         opt(t.started_ms), t.host, t.pid, opt(t.heartbeat_ms)});
    return t;
  }

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  std::string url_;
  std::string host_;
};

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Removes the query parameter `schema=NAME` (compe's own, unknown to libpq) from a URL.
std::string take_schema_param(std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return "";
  std::string base = url.substr(0, q);
  std::string rest = url.substr(q + 1);
  std::string schema;
  std::string kept;
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    std::size_t amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    std::string part = rest.substr(pos, amp - pos);
    if (starts_with(part, "schema=")) {
      schema = part.substr(7);
    } else if (!part.empty()) {
      kept += (kept.empty() ? "" : "&") + part;
    }
    pos = amp + 1;
  }
  url = kept.empty() ? base : base + "?" + kept;
  return schema;
}

}  // namespace

namespace store {

std::int64_t Row::i64(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  throw DbError(fmt::format("column {}: expected an integer, got NULL", i));
}

double Row::f64(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stod(*s);
  return std::nan("");
}

std::string Row::str(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

std::optional<std::int64_t> Row::opt_i64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return i64(i);
}

std::optional<double> Row::opt_f64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return f64(i);
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto at = out.find('@', scheme + 3);
    auto slash = out.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      auto colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  auto pw = out.find("password=");
  if (pw != std::string::npos) {
    auto end = out.find_first_of("& ", pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

}  // namespace store

std::string_view run_status_name(RunStatus status) {
  return kRunStatusNames.at(static_cast<std::size_t>(status));
}

RunStatus parse_run_status(std::string_view name) {
  for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (name == kRunStatusNames[i]) return static_cast<RunStatus>(i);
  }
  fail(ErrorCode::kInvalidArgument,
       "run status '{}' is not valid, expected one of: running, finished, failed, interrupted, pruned",
       name);
}

std::string_view trial_state_name(TrialState state) {
  return kTrialStateNames.at(static_cast<std::size_t>(state));
}

TrialState parse_trial_state(std::string_view name) {
  for (std::size_t i = 0; i < kTrialStateNames.size(); ++i) {
    if (name == kTrialStateNames[i]) return static_cast<TrialState>(i);
  }
  fail(ErrorCode::kInvalidArgument,
       "trial state '{}' is not valid, expected one of: waiting, running, complete, pruned, failed",
       name);
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso8601_utc(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  auto ms = static_cast<int>(unix_ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string default_store_path(const std::string& workspace) {
  return (std::filesystem::path(workspace) / ".compe" / "compe.db").string();
}

std::unique_ptr<Store> open_store(const std::string& url_or_path) {
  std::string shown = store::redact_url(url_or_path);
  if (url_or_path.empty())
    fail(ErrorCode::kInvalidArgument, "store location is empty: give a path or a URL");
  std::unique_ptr<Db> db;
  try {
    if (starts_with(url_or_path, "postgresql://") || starts_with(url_or_path, "postgres://")) {
      std::string url = url_or_path;
      std::string schema = take_schema_param(url);
      db = store::open_postgres(url, schema);
    } else {
      std::string path = url_or_path;
      if (starts_with(path, "sqlite://")) path = path.substr(9);  // sqlite:///abs -> /abs
      if (path.empty())
        fail(ErrorCode::kInvalidArgument, "store URL '{}' names no file", url_or_path);
      if (path != ":memory:") {
        std::filesystem::path parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec)
          fail(ErrorCode::kStorage, "cannot open store '{}': cannot create folder '{}': {}", shown,
               parent.string(), ec.message());
      }
      db = store::open_sqlite(path);
    }
    store::migrate(*db, shown);
  } catch (const DbError& e) {
    fail(ErrorCode::kStorage, "cannot open store '{}': {}", shown, e.what());
  }
  return std::make_unique<SqlStore>(std::move(db), shown);
}

}  // namespace compe
