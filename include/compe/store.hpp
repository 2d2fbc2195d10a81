#pragma once
/// The run store: every run (one cross-validated training), its fold scores, metric curves,
/// artifacts and leaderboard scores, and the studies and trials of the tuner.
///
/// Backends: SQLite (the embedded default, `<workspace>/.compe/compe.db`) and PostgreSQL (a team
/// or many machines sharing one store). Both implement the same interface and pass the same
/// conformance suite (tests/unit/store/).
///
/// Times are unix milliseconds (UTC); `iso8601_utc` formats them.
/// Errors: backend failures throw Error(kStorage) naming the operation and the store (a URL's
/// password is never shown); unknown runs, studies or trials throw Error(kNotFound); bad
/// arguments Error(kInvalidArgument).
///
/// Contract (what every backend guarantees; the conformance suite checks it):
/// - Atomicity. Every call is one transaction: a write either happens whole or not at all, and
///   a call that throws has changed nothing. Multi-row writes (create_run with tags and fold
///   scores, finish_run, log_metrics batches, delete_run, put_artifact with its content) are
///   never seen half done.
/// - Consistency of reads. A read call sees one snapshot: list_runs never mixes two versions
///   of a run, and a run's tags and fold scores belong to the same moment as its row.
/// - Concurrent workers (threads with their own Store, processes, machines on one PostgreSQL)
///   see each other's committed writes at their next call; nothing is cached between calls.
///   Numbering is atomic: create_trial, create_trial_below and enqueue_trial never hand out one
///   number twice, and claim_trial never gives one waiting trial to two claimers. Writes of
///   different workers to the same run or trial are last-writer-wins per call.
/// - A killed process leaves every transaction it committed and nothing of the one in flight.
///   Its `running` run stays as last written until `mark_interrupted_stale` (any later opener)
///   turns it `interrupted`; its running trials until `fail_stale_trials` ends them `failed`.
///   An artifact whose upload was cut is absent (never partly present): its content is
///   committed in the same transaction as its record.
/// - Artifacts are content-addressed (sha256): identical files are stored once, and readers
///   verify the digest of what they read (Error(kStorage) naming the run and artifact when the
///   content does not match).
/// - Thread safety: one Store may be shared by threads (calls are serialised on its
///   connection, so they do not run in parallel); for parallel writers open one Store per
///   thread or process. A Store must not cross fork(): a child process opens its own.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace compe {

enum class RunStatus { kRunning, kFinished, kFailed, kInterrupted, kPruned };

/// "running", "finished", "failed", "interrupted", "pruned" (a tuning trial stopped by its
/// pruner after some folds: data, not a failure).
std::string_view run_status_name(RunStatus status);
/// Inverse of run_status_name; throws Error(kInvalidArgument) listing the valid names.
RunStatus parse_run_status(std::string_view name);

/// One recorded run.
struct Run {
  std::string id;  ///< 8 lowercase base32 characters, assigned by the store
  std::string name;
  /// What made it: "model" (the fold loop), "trial" (a tuning trial's fold loop), "blend",
  /// "threshold", "import" (a teammate's OOF files), "python" (start_run); "" in stores written
  /// before kinds were recorded.
  std::string kind;
  RunStatus status = RunStatus::kRunning;
  /// True when the run covers only part of the data: some folds (`[run] folds`), a row subset
  /// (the tuner's proxy) or fewer boosting rounds than asked. Partial runs are kept out of
  /// rankings, final selection and shake-up simulations; their scores are not comparable.
  bool partial = false;
  std::int64_t created_ms = 0;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;
  std::optional<std::int64_t> heartbeat_ms;
  nlohmann::json config = nlohmann::json::object();  ///< the resolved experiment
  std::string parent_id;                             ///< "" when none
  std::string folds_hash;
  std::string data_hash;
  std::string metric;                 ///< metric name, e.g. "auc"
  std::string direction;              ///< "maximize", "minimize" or ""
  std::optional<double> cv_score;     ///< overall OOF score
  std::map<int, double> fold_scores;  ///< fold -> score
  std::set<std::string> tags;
  std::string note;
  std::string command;  ///< command line that started the run
  std::string workdir;
  std::string host;
  std::string user;  ///< who made it ($USER, else the account name); "" in older stores
  std::int64_t pid = 0;
  std::string git_commit;
  std::string git_branch;
  std::optional<bool> git_dirty;
  nlohmann::json versions = nlohmann::json::object();  ///< e.g. {"compe": "0.1.0", "xgboost": ...}
  std::string error;                                   ///< why a failed or interrupted run stopped
  std::optional<double> wall_seconds;
  std::optional<double> cpu_seconds;
  std::optional<std::int64_t> peak_memory_bytes;
};

/// Fields of a run to change; unset fields stay as they are.
struct RunPatch {
  std::optional<std::string> name;
  std::optional<nlohmann::json> config;
  std::optional<std::string> parent_id;
  std::optional<std::string> folds_hash;
  std::optional<std::string> data_hash;
  std::optional<std::string> metric;
  std::optional<std::string> direction;
  std::optional<std::string> command;
  std::optional<std::string> workdir;
  std::optional<std::string> git_commit;
  std::optional<std::string> git_branch;
  std::optional<bool> git_dirty;
  std::optional<nlohmann::json> versions;
  std::optional<double> cv_score;
  std::optional<double> wall_seconds;
  std::optional<double> cpu_seconds;
  std::optional<std::int64_t> peak_memory_bytes;
};

/// The outcome of a run, written by finish_run in one transaction. Unset optionals keep what
/// the run already has.
struct RunResult {
  RunStatus status = RunStatus::kFinished;
  std::optional<double> cv_score;
  std::map<int, double> fold_scores;  ///< merged into those already recorded
  std::optional<bool> partial;
  std::string error;
  std::optional<double> wall_seconds;
  std::optional<double> cpu_seconds;
  std::optional<std::int64_t> peak_memory_bytes;
};

enum class RunSort {
  kCreated,  ///< newest first (descending) by default
  kCvScore,  ///< by raw cv score; runs without a score last
  kBest,     ///< best first by each run's own direction ("" sorts as minimize); unscored last
  kName,     ///< by name, byte order (ties newest first)
  kStatus,   ///< by status name, alphabetical (ties newest first)
};

/// Selects runs for list_runs. Empty strings and unset optionals do not filter.
struct RunFilter {
  std::optional<RunStatus> status;
  std::string tag;            ///< runs carrying this tag
  std::string name_contains;  ///< case-sensitive substring of the name
  std::string metric;         ///< exact metric name
  std::string parent_id;
  std::string kind;  ///< exact kind ("model", "blend", ...)
  /// Leaves out partial runs (Run::partial) and runs tagged "archived".
  bool complete_only = false;
  /// Runs whose cv score lies in [cv_min, cv_max] (inclusive, raw score whatever the direction).
  /// Runs without a score never match once either bound is set. NaN bounds are
  /// Error(kInvalidArgument).
  std::optional<double> cv_min;
  std::optional<double> cv_max;
  RunSort sort = RunSort::kCreated;
  bool descending = true;   ///< all sorts but kBest
  std::int64_t limit = 50;  ///< 0 = no limit
  std::int64_t offset = 0;
};

/// A page of runs and the number of runs matching the filter (ignoring limit and offset).
struct RunPage {
  std::vector<Run> runs;
  std::int64_t total = 0;
};

/// One point of a metric curve, e.g. key "valid-auc", fold 2, step 150.
struct MetricPoint {
  std::string key;
  std::optional<int> fold;  ///< unset for whole-run series
  std::int64_t step = 0;
  double value = 0;  ///< NaN is stored and read back as NaN
};

struct Artifact {
  std::string run_id;
  std::string name;  ///< unique per run, e.g. "oof"
  std::string path;  ///< relative to the workspace
  std::int64_t size = 0;
  std::string sha;   ///< hex digest (sha256 for content in the store)
  std::string kind;  ///< e.g. "oof", "test", "submission", "model"
  std::int64_t created_ms = 0;
  /// Whether the store holds the content (put_artifact); false for a record alone (add_artifact,
  /// or runs recorded before the store kept content).
  bool stored = false;
};

/// Artifact content is stored in chunks of this many bytes (before compression).
inline constexpr std::int64_t kArtifactChunkBytes = std::int64_t{1} << 20;
/// The default limit on one artifact's size for put_artifact.
inline constexpr std::int64_t kDefaultArtifactLimitBytes = std::int64_t{2} << 30;

/// Space used by artifact content: distinct blobs, their bytes and their compressed bytes.
struct ArtifactUsage {
  std::int64_t blobs = 0;
  std::int64_t bytes = 0;
  std::int64_t stored_bytes = 0;
};

/// A leaderboard score of a run's submission.
struct LbScore {
  std::string run_id;
  double public_score = 0;
  std::optional<double> private_score;
  std::int64_t time_ms = 0;  ///< 0 on add = now
  std::string note;
};

/// A tuning study (names are unique in a store).
struct Study {
  std::string name;
  std::vector<std::string> directions;  ///< "maximize"/"minimize", one per objective
  nlohmann::json sampler = nlohmann::json::object();
  std::int64_t created_ms = 0;
};

enum class TrialState { kWaiting, kRunning, kComplete, kPruned, kFailed };

/// "waiting", "running", "complete", "pruned", "failed".
std::string_view trial_state_name(TrialState state);
/// Inverse of trial_state_name; throws Error(kInvalidArgument).
TrialState parse_trial_state(std::string_view name);

struct Trial {
  std::string study;
  std::int64_t number = 0;  ///< 0, 1, 2, ... unique within the study
  TrialState state = TrialState::kRunning;
  nlohmann::json params = nlohmann::json::object();
  std::vector<double> values;                   ///< one per objective once complete
  std::map<std::int64_t, double> intermediate;  ///< step -> value (for pruners)
  std::string run_id;                           ///< "" when none
  std::string error;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> started_ms;
  std::optional<std::int64_t> ended_ms;
  std::string host;                         ///< the worker's host once running ("" before)
  std::int64_t pid = 0;                     ///< the worker's process id once running
  std::optional<std::int64_t> heartbeat_ms; ///< its last sign of life (Store::heartbeat_trial)
};

/// A review queue (schema 6): the rows or images a person should look at, built from runs' OOF
/// predictions (src/review) or imported from a file. Names are unique in a store.
struct ReviewQueue {
  std::string name;
  std::vector<std::string> source_runs;
  std::vector<std::string> rules;
  std::string kind = "classification";  ///< "classification" (a label) or "boxes" (COCO-like)
  /// What the items' labels mean: id column, target column, classes, workspace.
  nlohmann::json info = nlohmann::json::object();
  std::int64_t created_ms = 0;  ///< 0 on create = now
  std::int64_t items = 0;       ///< read back: number of items
  std::int64_t reviewed = 0;    ///< read back: items with at least one edit
};

/// One queued row or image. `label` is the current value: the last edit's new value, else the
/// label it had when queued (`original`).
struct ReviewItem {
  std::string queue;
  std::string key;  ///< row id or image id
  std::int64_t rank = 0;
  nlohmann::json reasons = nlohmann::json::array();  ///< why it was queued: [{rule, score, text}]
  nlohmann::json original;                           ///< the label(s) when queued
  nlohmann::json label;                              ///< the current label(s)
  nlohmann::json predictions = nlohmann::json::object();  ///< the models' predictions
  nlohmann::json data = nlohmann::json::object();         ///< the row's features, image size
  std::string status = "open";     ///< "open", or the action of the last edit
  std::int64_t last_edit = 0;      ///< id of the last edit, 0 when none
  std::string last_reviewer;       ///< who made it
  std::int64_t last_edit_ms = 0;
};

/// "accept", "relabel", "skip", "boxes", "undo" (reverts the item's latest edit not undone).
inline constexpr const char* kReviewActions[] = {"accept", "relabel", "skip", "boxes", "undo"};

/// One edit of an item, kept forever (its history).
struct ReviewEdit {
  std::int64_t id = 0;  ///< assigned by the store, increasing
  std::string queue;
  std::string key;
  std::string action;
  nlohmann::json old_value;  ///< the item's label before (set by the store)
  nlohmann::json new_value;  ///< skip and undo: set by the store
  std::string reviewer;
  std::int64_t time_ms = 0;   ///< set by the store
  std::int64_t based_on = 0;  ///< the item's last edit the reviewer had seen (0 = none)
  std::int64_t undoes = 0;    ///< undo: the edit it reverted
};

/// What an edit did: the stored edit and the edits of others it overrides (saved after the one
/// the reviewer had seen; both stay in the history and the later edit wins).
struct ReviewEditResult {
  ReviewEdit edit;
  std::vector<ReviewEdit> overridden;
};

/// The schema version this build writes; older stores are migrated when opened.
inline constexpr int kStoreSchemaVersion = 6;

class Store {
 public:
  virtual ~Store() = default;

  /// The store's location as given to open_store, with any password hidden.
  virtual std::string url() const = 0;
  /// The schema version of the opened store (== kStoreSchemaVersion after open).
  virtual int schema_version() = 0;

  // ---- runs ----
  /// Records a new run with status running. The store assigns id and created_ms; started_ms,
  /// heartbeat_ms, host and pid default to now / this host / this process when unset.
  /// Other fields of `run` are stored as given (status, cv_score and ended_ms are ignored).
  virtual Run create_run(const Run& run) = 0;
  /// Throws Error(kNotFound) when no run has this id.
  virtual Run get_run(const std::string& id) = 0;
  /// Records a run of another store as it is there (id, status, times, scores, tags, fold
  /// scores, user and host): `compe push` to a team store. Returns false, changing nothing, when
  /// a run has this id already.
  virtual bool copy_run(const Run& run) = 0;
  /// The id of the one run whose id starts with `prefix`; Error(kNotFound) when none,
  /// Error(kInvalidArgument) naming the candidates when several.
  virtual std::string resolve_run_id(const std::string& prefix) = 0;
  virtual void update_run(const std::string& id, const RunPatch& patch) = 0;
  /// Sets status, ended time, scores and resource use at once.
  virtual void finish_run(const std::string& id, const RunResult& result) = 0;
  virtual void add_fold_score(const std::string& id, int fold, double score) = 0;
  /// Removes a run and everything recorded with it (tags, fold scores, curves, artifact records,
  /// LB scores) in one transaction; Error(kNotFound) when no run has this id. Files are the
  /// caller's.
  virtual void delete_run(const std::string& id) = 0;
  virtual RunPage list_runs(const RunFilter& filter) = 0;
  /// Records that the run's process is alive (now).
  virtual void heartbeat(const std::string& id) = 0;
  /// Turns `running` runs into `interrupted`: runs of this host whose process is gone (pid not
  /// alive, or alive but started more than 5 minutes after the run did: a reused pid, as after a
  /// reboot; Linux), and runs of other hosts whose last sign of life (heartbeat, else start) is older
  /// than heartbeat_timeout. A run whose process is alive on this host is left alone.
  /// Returns the ids changed.
  virtual std::vector<std::string> mark_interrupted_stale(
      std::chrono::milliseconds heartbeat_timeout = std::chrono::minutes(10)) = 0;

  virtual void set_tags(const std::string& id, const std::set<std::string>& tags) = 0;
  virtual void add_tag(const std::string& id, const std::string& tag) = 0;
  virtual void remove_tag(const std::string& id, const std::string& tag) = 0;
  virtual void set_note(const std::string& id, const std::string& note) = 0;

  // ---- metric series ----
  /// Appends points in one transaction (thousands per call are cheap).
  virtual void log_metrics(const std::string& run_id, std::span<const MetricPoint> points) = 0;
  /// Points of a run ordered by key, fold (whole-run first), step; `key` "" = every key.
  virtual std::vector<MetricPoint> read_metrics(const std::string& run_id,
                                                const std::string& key = "") = 0;

  /// The distinct metric keys logged for a run, sorted.
  virtual std::vector<std::string> metric_keys(const std::string& run_id) = 0;

  // ---- artifacts and leaderboard ----
  /// Adds or replaces (same run and name) an artifact record.
  virtual void add_artifact(const Artifact& artifact) = 0;
  virtual std::vector<Artifact> list_artifacts(const std::string& run_id) = 0;
  /// Stores the content of `file` as artifact `record.name` of run `record.run_id` with its
  /// record, in one transaction (never one without the other): sha256 and size come from the
  /// file; content already in the store (same sha256) is not stored twice. The file is read
  /// twice, chunk by chunk (kArtifactChunkBytes, zlib-compressed), never whole in memory.
  /// Error(kInvalidArgument) naming the file, its size and the limit when it is larger than
  /// `max_bytes`; Error(kIo) when it cannot be read or changed while being stored;
  /// Error(kNotFound) for an unknown run. Returns the record as stored.
  virtual Artifact put_artifact(const Artifact& record, const std::filesystem::path& file,
                                std::int64_t max_bytes = kDefaultArtifactLimitBytes) = 0;
  /// Streams the content of artifact `name` of `run_id` to `sink` chunk by chunk and verifies
  /// size and sha256 at the end; returns its record. Error(kNotFound) naming the run and the
  /// artifact when the store has no record of it or no content for it; Error(kStorage) naming
  /// them when a chunk is corrupt or the content does not match its digest (the sink has then
  /// seen bad bytes: write to a temporary file and keep it only when this returns).
  virtual Artifact read_artifact(const std::string& run_id, const std::string& name,
                                 const std::function<void(std::string_view)>& sink) = 0;
  /// Space used by artifact content in the store.
  virtual ArtifactUsage artifact_usage() = 0;
  virtual void add_lb_score(const LbScore& score) = 0;
  /// Scores of one run, or of every run when run_id is "", oldest first.
  virtual std::vector<LbScore> list_lb_scores(const std::string& run_id = "") = 0;
  /// Removes a run's LB scores recorded at `time_ms`, or all of them when unset; returns how many
  /// were removed. Error(kNotFound) for an unknown run.
  virtual std::int64_t remove_lb_scores(const std::string& run_id,
                                        std::optional<std::int64_t> time_ms = std::nullopt) = 0;

  // ---- studies and trials ----
  /// Creates a study; when it exists, returns it if load_if_exists, else Error(kInvalidArgument).
  virtual Study create_study(const Study& study, bool load_if_exists = false) = 0;
  virtual Study get_study(const std::string& name) = 0;
  virtual std::vector<Study> list_studies() = 0;
  /// Creates a running trial with the next number of the study. Atomic across processes and
  /// machines: concurrent callers never get the same number.
  virtual Trial create_trial(const std::string& study, const nlohmann::json& params) = 0;
  /// Like create_trial, but only while the study has numbered fewer than `limit` trials (a trial
  /// budget shared by workers); nullopt once it has, atomically: workers never exceed the limit.
  /// Running trials record this host, this process and a heartbeat (now).
  virtual std::optional<Trial> create_trial_below(const std::string& study,
                                                  const nlohmann::json& params,
                                                  std::int64_t limit) = 0;
  /// Records that the worker of a running trial is alive (now).
  virtual void heartbeat_trial(const std::string& study, std::int64_t number) = 0;
  /// Ends as `failed` (with the reason as its error) the running trials whose worker is gone:
  /// trials of this host whose process is not alive, and trials of other hosts whose last sign
  /// of life (heartbeat, else start) is older than heartbeat_timeout. A trial whose process is
  /// alive on this host is left alone. Returns the numbers changed; safe to call concurrently.
  virtual std::vector<std::int64_t> fail_stale_trials(
      const std::string& study,
      std::chrono::milliseconds heartbeat_timeout = std::chrono::minutes(10)) = 0;
  /// Queues a waiting trial with fixed params (numbered like create_trial).
  virtual Trial enqueue_trial(const std::string& study, const nlohmann::json& params) = 0;
  /// Atomically takes the lowest-numbered waiting trial and makes it running; nullopt when none.
  /// Concurrent claimers never get the same trial.
  virtual std::optional<Trial> claim_trial(const std::string& study) = 0;
  virtual void report_intermediate(const std::string& study, std::int64_t number, std::int64_t step,
                                   double value) = 0;
  virtual void set_trial_run(const std::string& study, std::int64_t number,
                             const std::string& run_id) = 0;
  /// Ends a waiting or running trial: state complete (one value per direction), pruned or
  /// failed (error recorded). Ending a trial twice is Error(kInvalidArgument).
  virtual void finish_trial(const std::string& study, std::int64_t number, TrialState state,
                            std::span<const double> values, const std::string& error = "") = 0;
  virtual Trial get_trial(const std::string& study, std::int64_t number) = 0;
  /// Trials of a study by number, optionally only those in `state`.
  virtual std::vector<Trial> list_trials(const std::string& study,
                                         std::optional<TrialState> state = std::nullopt) = 0;

  // ---- review queues (schema 6) ----
  /// Creates a queue with its items in one transaction. A name already used is
  /// Error(kInvalidArgument); items with the same key are Error(kInvalidArgument).
  virtual ReviewQueue create_review_queue(const ReviewQueue& queue,
                                          std::span<const ReviewItem> items) = 0;
  virtual ReviewQueue get_review_queue(const std::string& name) = 0;
  virtual std::vector<ReviewQueue> list_review_queues() = 0;
  /// Deletes a queue, its items and their history.
  virtual void delete_review_queue(const std::string& name) = 0;
  /// The queue's items by rank.
  virtual std::vector<ReviewItem> list_review_items(const std::string& queue) = 0;
  virtual ReviewItem get_review_item(const std::string& queue, const std::string& key) = 0;
  /// Saves one edit in one transaction: the edit row and the item's new current label. An unknown
  /// action, queue or item, or an undo with nothing to undo, is an error and saves nothing.
  virtual ReviewEditResult edit_review_item(const ReviewEdit& edit) = 0;
  /// Edits of one item (or of the whole queue when `key` is empty), oldest first.
  virtual std::vector<ReviewEdit> review_history(const std::string& queue,
                                                 const std::string& key = "") = 0;

};

/// Opens (creating and migrating when needed) a store:
///   ":memory:"                              private in-memory SQLite (tests)
///   "path/to/compe.db" or "sqlite:///abs/path" SQLite file (parent folders are created)
///   "postgresql://user[:pw]@host[:port]/db[?...]" or "postgres://..."  PostgreSQL; the extra
///       query parameter `schema=NAME` keeps compe's tables in that schema (created if missing),
///       so several workspaces can share one database.
/// A PostgreSQL store reconnects once when the server dropped its connection between calls.
/// Throws Error(kStorage) when the store cannot be opened, or when it was written by a newer
/// compe (schema version above kStoreSchemaVersion).
std::unique_ptr<Store> open_store(const std::string& url_or_path);

/// Default store path of a workspace: <workspace>/.compe/compe.db.
std::string default_store_path(const std::string& workspace);

/// "2026-01-31T12:34:56.789Z".
std::string iso8601_utc(std::int64_t unix_ms);

/// Current time in unix milliseconds.
std::int64_t now_unix_ms();

}  // namespace compe
