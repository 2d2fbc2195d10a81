// The Store's artifact records, over the Db connection of either backend (sql_store.hpp).

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {

void SqlStore::add_artifact(const Artifact& a) {
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

std::vector<Artifact> SqlStore::list_artifacts(const std::string& run_id) {
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

}  // namespace compe::store
