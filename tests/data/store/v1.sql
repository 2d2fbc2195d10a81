-- A store as written by compe schema version 1 (before studies, trials and heartbeats).
-- Loaded by tests/unit/store/test_store.cpp (Store.MigratesVersion1Store), which opens it with the
-- current compe and checks that it migrates and that every record survives. Never edit: it
-- stands for stores that exist on users' disks. Valid in SQLite and PostgreSQL.
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ms BIGINT NOT NULL);
INSERT INTO schema_version (version, applied_ms) VALUES (1, 1767225600000);
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

INSERT INTO runs (id, name, status, created_ms, started_ms, ended_ms, config, parent_id, folds_hash,
  data_hash, metric, direction, cv_score, note, command, workdir, host, pid, git_commit, git_branch,
  git_dirty, versions, error, wall_seconds, cpu_seconds, peak_memory_bytes)
VALUES
  ('abcd2345', 'xgb-baseline', 'finished', 1767225601000, 1767225601000, 1767225660000,
   '{"model":{"kind":"xgboost","params":{"eta":0.1,"max_depth":6}}}', '', '9f86d081884c7d65',
   '2c26b46b68ffc68f', 'auc', 'maximize', 0.8731, 'first try', 'compe run experiments/xgb.toml',
   '/home/kaggler/titanic', 'box1', 4242, 'deadbeef', 'main', 0, '{"compe":"0.0.9"}', '', 59.5,
   230.25, 512000000),
  ('efgh6723', 'xgb-deeper', 'failed', 1767225700000, 1767225700000, 1767225710000,
   '{"model":{"kind":"xgboost","params":{"eta":0.1,"max_depth":12}}}', 'abcd2345', '9f86d081884c7d65',
   '2c26b46b68ffc68f', 'auc', 'maximize', NULL, '', 'compe run experiments/deep.toml',
   '/home/kaggler/titanic', 'box1', 4243, 'deadbeef', 'main', 1, '{"compe":"0.0.9"}',
   'fold 2: out of memory', 10.0, 20.0, NULL),
  ('ijkl7777', 'linear', 'running', 1767225800000, 1767225800000, NULL, '{}', '', '9f86d081884c7d65',
   '2c26b46b68ffc68f', 'auc', 'maximize', NULL, '', 'compe run experiments/linear.toml',
   '/home/kaggler/titanic', 'box1', 4244, '', '', NULL, '{}', '', NULL, NULL, NULL);
INSERT INTO run_tags (run_id, tag) VALUES ('abcd2345', 'baseline'), ('abcd2345', 'xgb'), ('efgh6723', 'xgb');
INSERT INTO fold_scores (run_id, fold, score) VALUES
  ('abcd2345', 0, 0.87), ('abcd2345', 1, 0.88), ('abcd2345', 2, 0.8693), ('efgh6723', 0, 0.9);
INSERT INTO metric_series (id, run_id, key, fold) VALUES
  (1, 'abcd2345', 'valid-auc', 0), (2, 'abcd2345', 'valid-auc', 1), (3, 'abcd2345', 'train-seconds', -1);
UPDATE counters SET value = 3 WHERE name = 'metric_series';
INSERT INTO metric_points (series_id, step, value) VALUES
  (1, 0, 0.7), (1, 1, 0.8), (2, 0, 0.71), (3, 0, 59.5);
INSERT INTO artifacts (run_id, name, path, size, sha, kind, created_ms) VALUES
  ('abcd2345', 'oof', 'runs/abcd2345/oof.csv', 12345, 'a1b2c3', 'oof', 1767225660000);
INSERT INTO lb_scores (run_id, public_score, private_score, time_ms, note) VALUES
  ('abcd2345', 0.861, NULL, 1767226000000, 'first submission');
