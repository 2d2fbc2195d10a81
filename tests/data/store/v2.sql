-- A store as written by compe schema version 2 (studies and trials before trial heartbeats).
-- Loaded by tests/unit/store/test_store.cpp (Store.MigratesVersion2Store), which opens it with the
-- current compe and checks that it migrates and that every record survives. Never edit: it
-- stands for stores that exist on users' disks. Valid in SQLite and PostgreSQL.
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ms BIGINT NOT NULL);
INSERT INTO schema_version (version, applied_ms) VALUES (1, 1767225600000), (2, 1767225600000);
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

INSERT INTO runs (id, name, status, created_ms, started_ms, ended_ms, config, metric, direction,
  cv_score, command, host, pid, heartbeat_ms)
VALUES
  ('mnop2345', 'xgb-t0', 'finished', 1767225601000, 1767225601000, 1767225660000, '{}', 'auc',
   'maximize', 0.8731, 'compe tune experiments/xgb.toml', 'box1', 4242, 1767225650000);
INSERT INTO run_tags (run_id, tag) VALUES ('mnop2345', 'study:xgb'), ('mnop2345', 'trial:0');
INSERT INTO studies (name, directions, sampler, created_ms, next_number) VALUES
  ('xgb', '["maximize"]',
   '{"sampler":"tpe","sampler_settings":{},"pruner":"fold","pruner_settings":{},"seed":0,"space":[{"name":"max_depth","type":"int","low":2,"high":8,"log":false,"step":1}]}',
   1767225600000, 3);
INSERT INTO trials (study, number, state, params, objective_values, run_id, error, created_ms,
  started_ms, ended_ms)
VALUES
  ('xgb', 0, 'complete', '{"max_depth":6}', '[0.8731]', 'mnop2345', '', 1767225601000,
   1767225601000, 1767225660000),
  ('xgb', 1, 'pruned', '{"max_depth":2}', '[]', '', '', 1767225661000, 1767225661000,
   1767225700000),
  ('xgb', 2, 'running', '{"max_depth":4}', '[]', '', '', 1767225701000, 1767225701000, NULL);
INSERT INTO trial_intermediate (study, number, step, value) VALUES
  ('xgb', 0, 0, 0.87), ('xgb', 0, 1, 0.88), ('xgb', 1, 0, 0.6), ('xgb', 2, 0, 0.86);
