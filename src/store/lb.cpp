// The Store's leaderboard scores, over the Db connection of either backend (sql_store.hpp).

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {

void SqlStore::add_lb_score(const LbScore& s) {
  write("add_lb_score", [&] {
    require_run(s.run_id);
    db_->exec(
        "INSERT INTO lb_scores (run_id, public_score, private_score, time_ms, note) VALUES (?, "
        "?, ?, ?, ?)",
        {s.run_id, s.public_score, opt(s.private_score), s.time_ms ? s.time_ms : now_unix_ms(),
         s.note});
  });
}

std::int64_t SqlStore::remove_lb_scores(const std::string& run_id,
                              std::optional<std::int64_t> time_ms) {
  return write("remove_lb_scores", [&] {
    require_run(run_id);
    if (time_ms)
      return db_->exec("DELETE FROM lb_scores WHERE run_id = ? AND time_ms = ?", {run_id, *time_ms});
    return db_->exec("DELETE FROM lb_scores WHERE run_id = ?", {run_id});
  });
}

std::vector<LbScore> SqlStore::list_lb_scores(const std::string& run_id) {
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

}  // namespace compe::store
