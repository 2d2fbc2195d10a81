#pragma once
// The one Store implementation, written once over the Db connection of either backend. Its
// calls are split by concern: runs.cpp (runs, tags, metric series), artifacts.cpp (artifact
// records and content), lb.cpp (leaderboard scores), studies.cpp (studies and trials); store.cpp
// opens stores and holds the shared helpers. Every public call is one transaction (`write` or
// `read` below) under the store's mutex; include/compe/store.hpp states the contract.

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "store/db.hpp"
#include "store/schema.hpp"

namespace compe::store {

using json = nlohmann::json;

inline constexpr int kWholeRun = -1;  // metric_series.fold of a series that spans the whole run
inline constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";

// Column list of run_from_row, in order.
inline constexpr const char* kRunColumns =
    "id, name, status, created_ms, started_ms, ended_ms, heartbeat_ms, config, parent_id, "
    "folds_hash, data_hash, metric, direction, cv_score, note, command, workdir, host, pid, "
    "git_commit, git_branch, git_dirty, versions, error, wall_seconds, cpu_seconds, "
    "peak_memory_bytes, kind, partial, user_name";
inline constexpr const char* kTrialColumns =
    "study, number, state, params, objective_values, run_id, error, created_ms, started_ms, "
    "ended_ms, host, pid, heartbeat_ms";

inline Value opt(const std::optional<double>& v) {
  return v ? Value(*v) : Value();
}
inline Value opt(const std::optional<std::int64_t>& v) {
  return v ? Value(*v) : Value();
}

std::string new_run_id();
std::string this_host();
/// The account running this process: $USER, else the password database's name, else "".
std::string this_user();
/// Whether process `pid` of this host lives (a zombie does not).
bool pid_alive(std::int64_t pid);
/// Whether the process that runs a run started at `run_started_ms` still lives (not a reused pid).
bool run_process_alive(std::int64_t pid, std::int64_t run_started_ms);
/// Stored JSON text; Error(kStorage) naming `what` when corrupt.
json parse_json(const std::string& text, std::string_view what);
Run run_from_row(const Row& r);
Trial trial_from_row(const Row& r);
Study study_from_row(const Row& r);
void check_direction(const std::string& d, std::string_view what);
/// Why a new study may not take this name ("" when it may).
std::string study_name_problem(std::string_view name);

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<Db> db, std::string shown_url)
      : db_(std::move(db)), url_(std::move(shown_url)), host_(this_host()) {}

  std::string url() const override { return url_; }

  int schema_version() override {
    return read("schema_version", [&] { return store::read_schema_version(*db_); });
  }

  // ---- runs ----

  // ---- runs, tags and metric series (runs.cpp) ----
  Run create_run(const Run& in) override;
  Run get_run(const std::string& id) override;
  bool copy_run(const Run& run) override;
  std::string resolve_run_id(const std::string& prefix) override;
  void update_run(const std::string& id, const RunPatch& p) override;
  void finish_run(const std::string& id, const RunResult& res) override;
  void add_fold_score(const std::string& id, int fold, double score) override;
  void delete_run(const std::string& id) override;
  RunPage list_runs(const RunFilter& f) override;
  void heartbeat(const std::string& id) override;
  std::vector<std::string> mark_interrupted_stale(std::chrono::milliseconds timeout) override;
  void set_tags(const std::string& id, const std::set<std::string>& tags) override;
  void add_tag(const std::string& id, const std::string& tag) override;
  void remove_tag(const std::string& id, const std::string& tag) override;
  void set_note(const std::string& id, const std::string& note) override;
  void log_metrics(const std::string& run_id, std::span<const MetricPoint> points) override;
  std::vector<MetricPoint> read_metrics(const std::string& run_id,
                                        const std::string& key) override;
  std::vector<std::string> metric_keys(const std::string& run_id) override;

  // ---- artifacts (artifacts.cpp) ----
  void add_artifact(const Artifact& a) override;
  std::vector<Artifact> list_artifacts(const std::string& run_id) override;
  Artifact put_artifact(const Artifact& record, const std::filesystem::path& file,
                        std::int64_t max_bytes) override;
  Artifact read_artifact(const std::string& run_id, const std::string& name,
                         const std::function<void(std::string_view)>& sink) override;
  ArtifactUsage artifact_usage() override;

  // ---- leaderboard scores (lb.cpp) ----
  void add_lb_score(const LbScore& s) override;
  std::int64_t remove_lb_scores(const std::string& run_id,
                                std::optional<std::int64_t> time_ms) override;
  std::vector<LbScore> list_lb_scores(const std::string& run_id) override;

  // ---- studies and trials (studies.cpp) ----
  Study create_study(const Study& s, bool load_if_exists) override;
  Study get_study(const std::string& name) override;
  std::vector<Study> list_studies() override;
  Trial create_trial(const std::string& study, const json& params) override;
  std::optional<Trial> create_trial_below(const std::string& study, const json& params,
                                          std::int64_t limit) override;
  void heartbeat_trial(const std::string& study, std::int64_t number) override;
  std::vector<std::int64_t> fail_stale_trials(const std::string& study,
                                              std::chrono::milliseconds timeout) override;
  Trial enqueue_trial(const std::string& study, const json& params) override;
  std::optional<Trial> claim_trial(const std::string& study) override;
  void report_intermediate(const std::string& study, std::int64_t number, std::int64_t step,
                           double value) override;
  void set_trial_run(const std::string& study, std::int64_t number,
                     const std::string& run_id) override;
  void finish_trial(const std::string& study, std::int64_t number, TrialState state,
                    std::span<const double> values, const std::string& error) override;
  Trial get_trial(const std::string& study, std::int64_t number) override;
  std::vector<Trial> list_trials(const std::string& study,
                                 std::optional<TrialState> state) override;

  // ---- review queues (review.cpp) ----
  ReviewQueue create_review_queue(const ReviewQueue& queue,
                                  std::span<const ReviewItem> items) override;
  ReviewQueue get_review_queue(const std::string& name) override;
  std::vector<ReviewQueue> list_review_queues() override;
  void delete_review_queue(const std::string& name) override;
  std::vector<ReviewItem> list_review_items(const std::string& queue) override;
  ReviewItem get_review_item(const std::string& queue, const std::string& key) override;
  ReviewEditResult edit_review_item(const ReviewEdit& edit) override;
  std::vector<ReviewEdit> review_history(const std::string& queue,
                                         const std::string& key) override;

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


  void require_run(const std::string& id);
  // The id of series (run, key, fold), created when new. Ids come from a counter row: its
  // UPDATE serialises concurrent creators on both backends.
  std::int64_t series_id(const std::string& run_id, const std::string& key, int fold);
  void put_fold_score(const std::string& id, int fold, double score);
  void put_tag(const std::string& id, const std::string& tag);
  // Tags and fold scores of `runs`, a few ids per query.
  void fill_details(std::vector<Run>& runs);
  // Inserts or replaces an artifact record (inside a write transaction).
  void put_artifact_record(const Artifact& a);
  void require_trial(const std::string& study, std::int64_t number);
  // The study's number of objectives, without parsing its sampler document (the per-trial calls
  // only need to know that the study exists, or its objective count).
  std::size_t study_objectives(const std::string& name);
  Study load_study(const std::string& name);
  Trial load_trial(const std::string& study, std::int64_t number);
  // nullopt only when `limit` is given and the study already numbered `limit` trials.
  std::optional<Trial> new_trial(const std::string& study, const json& params, TrialState state,
                                 std::optional<std::int64_t> limit);


  void require_review_queue(const std::string& name);
  std::vector<ReviewItem> load_review_items(const std::string& queue, const std::string& key);
  std::vector<ReviewEdit> load_review_edits(const std::string& queue, const std::string& key,
                                            std::int64_t after);

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  std::string url_;
  std::string host_;
};

}  // namespace compe::store
