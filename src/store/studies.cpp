// The Store's studies and trials, over the Db connection of either backend (sql_store.hpp).

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {

Study SqlStore::create_study(const Study& s, bool load_if_exists) {
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

Study SqlStore::get_study(const std::string& name) {
  return read("get_study", [&] { return load_study(name); });
}

std::vector<Study> SqlStore::list_studies() {
  return read("list_studies", [&] {
    std::vector<Study> out;
    for (const Row& r : db_->query(
             "SELECT name, directions, sampler, created_ms FROM studies ORDER BY name", {})) {
      out.push_back(study_from_row(r));
    }
    return out;
  });
}

Trial SqlStore::create_trial(const std::string& study, const json& params) {
  return write("create_trial",
               [&] { return *new_trial(study, params, TrialState::kRunning, std::nullopt); });
}

std::optional<Trial> SqlStore::create_trial_below(const std::string& study, const json& params,
                                        std::int64_t limit) {
  return write("create_trial_below",
               [&] { return new_trial(study, params, TrialState::kRunning, limit); });
}

void SqlStore::heartbeat_trial(const std::string& study, std::int64_t number) {
  write("heartbeat_trial", [&] {
    if (db_->exec("UPDATE trials SET heartbeat_ms = ? WHERE study = ? AND number = ?",
                  {now_unix_ms(), study, number}) == 0) {
      not_found_trial(study, number);
    }
  });
}

std::vector<std::int64_t> SqlStore::fail_stale_trials(const std::string& study,
                                            std::chrono::milliseconds timeout) {
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

Trial SqlStore::enqueue_trial(const std::string& study, const json& params) {
  return write("enqueue_trial",
               [&] { return *new_trial(study, params, TrialState::kWaiting, std::nullopt); });
}

std::optional<Trial> SqlStore::claim_trial(const std::string& study) {
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

void SqlStore::report_intermediate(const std::string& study, std::int64_t number, std::int64_t step,
                         double value) {
  write("report_intermediate", [&] {
    require_trial(study, number);
    db_->exec(
        "INSERT INTO trial_intermediate (study, number, step, value) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (study, number, step) DO UPDATE SET value = excluded.value",
        {study, number, step, value});
  });
}

void SqlStore::set_trial_run(const std::string& study, std::int64_t number,
                   const std::string& run_id) {
  write("set_trial_run", [&] {
    if (!run_id.empty()) require_run(run_id);
    if (db_->exec("UPDATE trials SET run_id = ? WHERE study = ? AND number = ?",
                  {run_id, study, number}) == 0) {
      not_found_trial(study, number);
    }
  });
}

void SqlStore::finish_trial(const std::string& study, std::int64_t number, TrialState state,
                  std::span<const double> values, const std::string& error) {
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

Trial SqlStore::get_trial(const std::string& study, std::int64_t number) {
  return read("get_trial", [&] { return load_trial(study, number); });
}

std::vector<Trial> SqlStore::list_trials(const std::string& study,
                               std::optional<TrialState> state) {
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

void SqlStore::require_trial(const std::string& study, std::int64_t number) {
  if (db_->query("SELECT 1 FROM trials WHERE study = ? AND number = ?", {study, number})
          .empty()) {
    not_found_trial(study, number);
  }
}

// The study's number of objectives, without parsing its sampler document (the per-trial calls
// only need to know that the study exists, or its objective count).
std::size_t SqlStore::study_objectives(const std::string& name) {
  auto rows = db_->query("SELECT directions FROM studies WHERE name = ?", {name});
  if (rows.empty()) fail(ErrorCode::kNotFound, "no study '{}' in store '{}'", name, url_);
  return parse_json(rows[0].str(0), "study directions").size();
}

Study SqlStore::load_study(const std::string& name) {
  auto rows = db_->query(
      "SELECT name, directions, sampler, created_ms FROM studies WHERE name = ?", {name});
  if (rows.empty()) fail(ErrorCode::kNotFound, "no study '{}' in store '{}'", name, url_);
  return study_from_row(rows[0]);
}

Trial SqlStore::load_trial(const std::string& study, std::int64_t number) {
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
std::optional<Trial> SqlStore::new_trial(const std::string& study, const json& params, TrialState state,
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

}  // namespace compe::store
