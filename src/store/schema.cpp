#include "store/schema.hpp"

#include "compe/error.hpp"
#include "compe/store.hpp"

namespace compe::store {
namespace {

// Free-form values (config, versions, params, sampler) are JSON text in both dialects, so the
// two schemas stay identical. Times are unix milliseconds. Metric points reference their series
// without a foreign key (a per-row check would dominate bulk inserts on PostgreSQL); only the
// store writes them, in the transaction that creates the series. A whole-run series has fold -1.
constexpr Migration kMigrations[] = {
    {1, "runs, tags, fold scores, metric series, artifacts, leaderboard scores",
     R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  started_ms BIGINT NOT NULL,
  ended_ms BIGINT,
  config TEXT NOT NULL DEFAULT '{}',
  parent_id TEXT NOT NULL DEFAULT '',
  folds_hash TEXT NOT NULL DEFAULT '',
  data_hash TEXT NOT NULL DEFAULT '',
  metric TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL DEFAULT '',
  cv_score DOUBLE PRECISION,
  note TEXT NOT NULL DEFAULT '',
  command TEXT NOT NULL DEFAULT '',
  workdir TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  pid BIGINT NOT NULL DEFAULT 0,
  git_commit TEXT NOT NULL DEFAULT '',
  git_branch TEXT NOT NULL DEFAULT '',
  git_dirty INTEGER,
  versions TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT '',
  wall_seconds DOUBLE PRECISION,
  cpu_seconds DOUBLE PRECISION,
  peak_memory_bytes BIGINT
);
CREATE INDEX runs_created ON runs (created_ms);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
);
CREATE INDEX run_tags_tag ON run_tags (tag);
CREATE TABLE fold_scores (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  fold INTEGER NOT NULL,
  score DOUBLE PRECISION,
  PRIMARY KEY (run_id, fold)
);
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('metric_series', 0);
CREATE TABLE metric_series (
  id BIGINT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  fold INTEGER NOT NULL,
  UNIQUE (run_id, key, fold)
);
CREATE TABLE metric_points (
  series_id BIGINT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION
);
CREATE INDEX metric_points_series ON metric_points (series_id, step);
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT NOT NULL DEFAULT 0,
  sha TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE lb_scores (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  public_score DOUBLE PRECISION,
  private_score DOUBLE PRECISION,
  time_ms BIGINT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lb_scores_run ON lb_scores (run_id, time_ms);
)sql",
     nullptr, nullptr},
    {2, "studies and trials for the tuner; run heartbeats; cv score index",
     R"sql(
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
CREATE INDEX runs_cv ON runs (cv_score);
CREATE TABLE studies (
  name TEXT PRIMARY KEY,
  directions TEXT NOT NULL,
  sampler TEXT NOT NULL DEFAULT '{}',
  created_ms BIGINT NOT NULL,
  next_number BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE trials (
  study TEXT NOT NULL REFERENCES studies (name) ON DELETE CASCADE,
  number BIGINT NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  objective_values TEXT NOT NULL DEFAULT '[]',
  run_id TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  started_ms BIGINT,
  ended_ms BIGINT,
  PRIMARY KEY (study, number)
);
CREATE INDEX trials_state ON trials (study, state, number);
CREATE TABLE trial_intermediate (
  study TEXT NOT NULL,
  number BIGINT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION,
  PRIMARY KEY (study, number, step),
  FOREIGN KEY (study, number) REFERENCES trials (study, number) ON DELETE CASCADE
);
)sql",
     nullptr,
     // Many workers poll for waiting trials: keep that index small on the shared server.
     "CREATE INDEX trials_waiting ON trials (study, number) WHERE state = 'waiting';"},
    {3, "trial workers: host, pid and heartbeat, so trials of a killed worker can be ended",
     R"sql(
ALTER TABLE trials ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE trials ADD COLUMN pid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN heartbeat_ms BIGINT;
)sql",
     nullptr, nullptr},
    {4, "run kinds (model, trial, blend, threshold, import, python) and partial runs",
     R"sql(
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;
)sql",
     nullptr, nullptr},
    {5,
     "artifact content in the store: content-addressed (sha256) blobs in compressed chunks; who "
     "made a run",
     R"sql(
ALTER TABLE runs ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
CREATE TABLE artifact_blobs (
  sha TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  chunks BIGINT NOT NULL,
  stored_bytes BIGINT NOT NULL,
  created_ms BIGINT NOT NULL
);
)sql",
     // Chunk bytes: BLOB in SQLite, BYTEA in PostgreSQL (the one column whose type differs).
     R"sql(
CREATE TABLE artifact_chunks (
  sha TEXT NOT NULL REFERENCES artifact_blobs (sha) ON DELETE CASCADE,
  idx BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (sha, idx)
);
)sql",
     R"sql(
CREATE TABLE artifact_chunks (
  sha TEXT NOT NULL REFERENCES artifact_blobs (sha) ON DELETE CASCADE,
  idx BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (sha, idx)
);
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
)sql"},
    {6, "review queues: items with their current labels, and every edit with its history",
     R"sql(
CREATE TABLE review_queues (
  name TEXT PRIMARY KEY,
  source_runs TEXT NOT NULL DEFAULT '[]',
  rules TEXT NOT NULL DEFAULT '[]',
  kind TEXT NOT NULL DEFAULT 'classification',
  info TEXT NOT NULL DEFAULT '{}',
  created_ms BIGINT NOT NULL
);
CREATE TABLE review_items (
  queue TEXT NOT NULL REFERENCES review_queues (name) ON DELETE CASCADE,
  item_key TEXT NOT NULL,
  rank BIGINT NOT NULL,
  reasons TEXT NOT NULL DEFAULT '[]',
  original TEXT NOT NULL DEFAULT 'null',
  label TEXT NOT NULL DEFAULT 'null',
  predictions TEXT NOT NULL DEFAULT '{}',
  data TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'open',
  last_edit BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, item_key)
);
CREATE INDEX review_items_rank ON review_items (queue, rank);
CREATE TABLE review_edits (
  id BIGINT PRIMARY KEY,
  queue TEXT NOT NULL,
  item_key TEXT NOT NULL,
  action TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  reviewer TEXT NOT NULL DEFAULT '',
  time_ms BIGINT NOT NULL,
  based_on BIGINT NOT NULL DEFAULT 0,
  undoes BIGINT NOT NULL DEFAULT 0,
  FOREIGN KEY (queue, item_key) REFERENCES review_items (queue, item_key) ON DELETE CASCADE
);
CREATE INDEX review_edits_item ON review_edits (queue, item_key, id);
INSERT INTO counters (name, value) VALUES ('review_edits', 0);
)sql",
     nullptr, nullptr},
};

static_assert(std::size(kMigrations) == kStoreSchemaVersion,
              "every schema version needs its migration step");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int read_schema_version(Db& db) {
  if (!db.has_table("schema_version")) return 0;
  auto rows = db.query("SELECT MAX(version) FROM schema_version", {});
  return rows.empty() || rows[0].is_null(0) ? 0 : static_cast<int>(rows[0].i64(0));
}

int migrate(Db& db, const std::string& shown_url) {
  // Fast path without the write lock: most opens find the store current.
  int version = read_schema_version(db);
  if (version == kStoreSchemaVersion) return version;
  if (version > kStoreSchemaVersion) {
    fail(ErrorCode::kStorage,
         "store '{}' has schema version {}, newer than this compe {} (knows up to {}): upgrade "
         "compe",
         shown_url, version, COMPE_VERSION, kStoreSchemaVersion);
  }
  db.begin_write();
  try {
    db.lock_for_migration();
    version = read_schema_version(db);
    if (version == 0) {
      if (db.has_table("runs")) {
        fail(ErrorCode::kStorage,
             "store '{}' has a 'runs' table but no schema_version: not a compe store", shown_url);
      }
      db.exec_script(
          "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ms BIGINT NOT NULL)");
    }
    if (version > kStoreSchemaVersion) {
      fail(ErrorCode::kStorage,
           "store '{}' has schema version {}, newer than this compe {} (knows up to {}): upgrade "
           "compe",
           shown_url, version, COMPE_VERSION, kStoreSchemaVersion);
    }
    int from = version;
    for (const Migration& m : kMigrations) {
      if (m.version <= from) continue;
      db.exec_script(m.sql);
      const char* extra = db.dialect() == Dialect::kSqlite ? m.sqlite_sql : m.postgres_sql;
      if (extra) db.exec_script(extra);
      db.exec("INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)",
              {std::int64_t{m.version}, now_unix_ms()});
    }
    db.commit();
    return from;
  } catch (...) {
    db.rollback();
    throw;
  }
}

}  // namespace compe::store
