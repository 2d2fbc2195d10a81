// Blends and imported OOF predictions recorded as runs, with the run folder's usual files.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "compe/artifacts.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/score.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"

namespace compe::blend {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Store> store_for(const Workspace& ws, const RunOptions& run) {
  auto store = open_store(run.store.empty() ? ws.store_path().string() : run.store);
  store->mark_interrupted_stale();
  return store;
}

bool is_member_folder(const std::string& arg) {
  return fs::is_directory(arg) && fs::exists(fs::path(arg) / "oof.csv");
}

std::string folder_name(const fs::path& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

nlohmann::json competition_json(const CompetitionConfig& cfg) {
  return {{"name", cfg.name},
          {"task", metric::task_name(cfg.task)},
          {"metric", cfg.metric},
          {"id", cfg.id_column},
          {"target", cfg.target_columns}};
}

/// A one-column sample submission filled with class labels (the classes' own text).
void write_label_submission(const fs::path& path, const Table& sample, const Reference& ref,
                            const std::vector<int>& labels) {
  std::unordered_map<std::string, std::size_t> test_row;
  for (std::size_t r = 0; r < ref.test_ids.size(); ++r) test_row.emplace(ref.test_ids.to_string(r), r);
  const Column& sid = sample.column(ref.id_column);
  std::vector<std::optional<std::string>> v(sample.num_rows());
  for (std::size_t r = 0; r < sample.num_rows(); ++r) {
    auto it = test_row.find(sid.to_string(r));
    if (it == test_row.end())
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' is not in the test data",
           sample.source, r + 2, sid.to_string(r));
    auto cls = static_cast<std::size_t>(labels[it->second]);
    v[r] = ref.classes.empty() ? std::to_string(cls) : ref.classes.at(cls);
  }
  Table t;
  t.source = path.string();
  t.add_column(sid);
  const Column* pred = nullptr;
  for (const auto& c : sample.columns())
    if (c.name != ref.id_column) pred = &c;
  if (pred->type == DType::kString) {
    t.add_column(Column::from_strings(pred->name, v));
  } else {
    // A numeric sample column: the labels as numbers (whole numbers as integers).
    std::vector<double> num(v.size());
    bool whole = true;
    for (std::size_t r = 0; r < v.size(); ++r) {
      char* end = nullptr;
      num[r] = std::strtod(v[r]->c_str(), &end);
      if (v[r]->empty() || *end != '\0')
        fail(ErrorCode::kInvalidArgument,
             "{}: column '{}' is numeric but class label '{}' is not a number", sample.source,
             pred->name, *v[r]);
      whole = whole && num[r] == std::floor(num[r]) && std::abs(num[r]) < 9e15;
    }
    if (whole) {
      std::vector<std::int64_t> ints(num.begin(), num.end());
      t.add_column(Column::from_i64(pred->name, std::move(ints)));
    } else {
      t.add_column(Column::from_f64(pred->name, std::move(num)));
    }
  }
  score::validate_against_sample(sample, t);
  write_csv(t, path);
}

/// The common part of a recorded run: create it, then write and record its files.
struct Writer {
  const Workspace& ws;
  std::unique_ptr<Store> store;
  Run rec;
  fs::path dir;

  Writer(const Workspace& w, const RunOptions& run, const Reference& ref, std::string name,
         nlohmann::json config, std::string parent)
      : ws(w), store(store_for(w, run)) {
    auto metric = metric::make(ref.metric);
    rec.name = std::move(name);
    rec.config = std::move(config);
    rec.parent_id = std::move(parent);
    rec.folds_hash = ref.folds_hash;
    rec.data_hash = run::data_hash(ws);
    rec.metric = metric->spec();
    rec.direction = metric->info().greater_is_better() ? "maximize" : "minimize";
    rec.command = run.command_line;
    rec.workdir = fs::current_path().string();
    rec.versions = {{"compe", COMPE_VERSION}};
    rec = store->create_run(rec);
    dir = ws.runs_dir() / rec.id;
    fs::create_directories(dir);
    write_file_atomic(dir / "config.json", rec.config.dump(2) + "\n");
  }

  /// `test_labels`, when given, are class indices of the test rows: a one-column sample
  /// submission then gets the class labels themselves.
  void write(const Reference& ref, std::span<const double> oof, std::span<const double> test,
             double cv, const std::map<int, double>& fold_scores, nlohmann::json meta_extra,
             const std::string& log, double wall, const std::vector<int>* test_labels = nullptr) {
    run::write_oof_csv(dir / "oof.csv", ref.train_ids, ref.folds, ref.prediction_columns, oof);
    run::write_test_csv(dir / "test.csv", ref.test_ids, ref.prediction_columns, test);
    Table sample = ws.read_sample_submission();
    if (test_labels && sample.num_columns() == 2)
      write_label_submission(dir / "submission.csv", sample, ref, *test_labels);
    else
      run::write_submission(dir / "submission.csv", sample, ref.id_column, ref.test_ids,
                            ref.prediction_columns, test, ref.classes);
    const CompetitionConfig& cfg = ws.config();
    nlohmann::json folds = nlohmann::json::object();
    for (auto& [f, s] : fold_scores) folds[std::to_string(f)] = s;
    nlohmann::json meta = {{"format_version", 1},
                           {"competition", cfg.name},
                           {"task", metric::task_name(cfg.task)},
                           {"metric", rec.metric},
                           {"id", cfg.id_column},
                           {"target", cfg.target_columns},
                           {"prediction_columns", ref.prediction_columns},
                           {"folds_hash", ref.folds_hash},
                           {"data_hash", rec.data_hash},
                           {"target_transform", "none"},
                           {"producer", fmt::format("compe {} (blend)", COMPE_VERSION)},
                           {"run_id", rec.id},
                           {"cv", {{"score", cv}, {"folds", folds}}}};
    meta.update(meta_extra);
    write_file_atomic(dir / "meta.json", meta.dump(2) + "\n");
    write_file_atomic(dir / "run.log", log);
    run::record_artifacts(*store, ws, rec.id, dir);
    RunResult rr;
    rr.status = RunStatus::kFinished;
    rr.cv_score = cv;
    rr.fold_scores = fold_scores;
    rr.wall_seconds = wall;
    store->finish_run(rec.id, rr);
  }

  void failed(const std::exception& e) {
    RunResult rr;
    rr.status = RunStatus::kFailed;
    rr.error = e.what();
    try {
      store->finish_run(rec.id, rr);
    } catch (...) {
      // The original error is the one to report.
    }
  }
};

}  // namespace

nlohmann::json params_to_json(const Params& p) {
  return {{"power", p.power},
          {"steps", p.steps},
          {"bags", p.bags},
          {"bag_fraction", p.bag_fraction},
          {"restarts", p.restarts},
          {"max_passes", p.max_passes},
          {"tolerance", p.tolerance},
          {"l2", p.l2},
          {"seed", p.seed}};
}

OofSet load_set(const Workspace& ws, const std::vector<std::string>& inputs, const RunOptions& run,
                const LoadOptions& options) {
  OofSet set;
  set.ref = reference_from_workspace(ws);
  std::unique_ptr<Store> store;
  for (const auto& arg : inputs) {
    if (is_member_folder(arg)) {
      Member m = load_member(set.ref, folder_name(arg), arg, options);
      m.label = m.name;
      set.members.push_back(std::move(m));
    } else {
      if (!store) store = store_for(ws, run);
      std::string id = store->resolve_run_id(arg);
      Run r = store->get_run(id);
      if (r.status != RunStatus::kFinished)
        fail(ErrorCode::kInvalidArgument, "run {} ({}) is {}: only finished runs can be blended",
             id, r.name, run_status_name(r.status));
      set.members.push_back(load_member(set.ref, id, ws.runs_dir() / id, options));
      set.members.back().label = r.name;
    }
    if (options.allow_different_folds) {
      const auto& meta = set.members.back().meta;
      if (!meta.contains("folds_hash") || meta["folds_hash"] != set.ref.folds_hash)
        set.different_folds = true;
    }
  }
  for (std::size_t i = 0; i < set.members.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (set.members[i].name == set.members[j].name)
        fail(ErrorCode::kInvalidArgument, "'{}' is given twice: each member once",
             set.members[i].name);
  return set;
}

Recorded record_blend(const Workspace& ws, const OofSet& set,
                      const std::vector<std::string>& inputs, const Result& result,
                      const Params& params, const RunOptions& run) {
  auto t0 = std::chrono::steady_clock::now();
  const Info& info = find(result.method);
  COMPE_ASSERT(inputs.size() == set.members.size());
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t i = 0; i < set.members.size(); ++i) {
    const Member& m = set.members[i];
    nlohmann::json j = {{"name", m.name},
                        {"label", m.label},
                        {"input", inputs[i]},
                        {"oof_score", result.member_scores[i]}};
    if (is_member_folder(inputs[i]))
      j["path"] = fs::absolute(inputs[i]).lexically_normal().string();
    else
      j["run_id"] = m.name;
    if (!result.weights.empty()) j["weight"] = result.weights[i];
    members.push_back(j);
  }
  nlohmann::json config = {{"blend",
                            {{"method", result.method},
                             {"params", params_to_json(params)},
                             {"inputs", members},
                             {"details", result.details}}},
                           {"competition", competition_json(ws.config())}};
  const Member& best = set.members[static_cast<std::size_t>(result.best_member)];
  std::string parent =
      is_member_folder(inputs[static_cast<std::size_t>(result.best_member)]) ? "" : best.name;
  Writer w(ws, run, set.ref, run.name.empty() ? "blend-" + result.method : run.name, config,
           parent);
  try {
    std::map<int, double> folds;
    for (std::size_t i = 0; i < result.fold_scores.size(); ++i)
      folds[static_cast<int>(i)] = result.fold_scores[i];
    const std::vector<double>& oof = info.fitted ? result.nested_oof : result.oof;
    std::string log = fmt::format("blend {} ({}), method {}, metric {}\n", w.rec.id, w.rec.name,
                                  result.method, set.ref.metric);
    for (std::size_t i = 0; i < set.members.size(); ++i)
      log += fmt::format(
          "member {}: oof {:.6f}{}\n", set.members[i].name, result.member_scores[i],
          result.weights.empty() ? "" : fmt::format(", weight {:.6f}", result.weights[i]));
    log += fmt::format("in-sample oof {:.6f}, nested cv {:.6f}\n", result.oof_score,
                       result.nested_score);
    nlohmann::json extra = {
        {"cv",
         {{"score", result.nested_score},
          {"nested", result.nested_score},
          {"in_sample", result.oof_score},
          {"folds", nlohmann::json::object()}}},
        {"producer", fmt::format("compe {} (blend {})", COMPE_VERSION, result.method)},
        {"inputs", members}};
    for (auto& [f, s] : folds) extra["cv"]["folds"][std::to_string(f)] = s;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    w.write(set.ref, oof, result.test, result.nested_score, folds, extra, log, wall);
  } catch (const std::exception& e) {
    w.failed(e);
    throw;
  }
  return {w.rec.id, w.dir, result.nested_score};
}

Recorded record_decision(const Workspace& ws, const Reference& ref,
                         const std::vector<std::string>& inputs, const DecisionResult& result,
                         const nlohmann::json& source, const RunOptions& run) {
  auto t0 = std::chrono::steady_clock::now();
  nlohmann::json folds_json = nlohmann::json::array();
  for (const auto& d : result.fold_decisions) folds_json.push_back(d.to_json());
  nlohmann::json config = {{"decision",
                            {{"rule", result.decision.to_json()},
                             {"fold_rules", folds_json},
                             {"inputs", inputs},
                             {"source", source},
                             {"default_score", result.default_score},
                             {"in_sample_score", result.in_sample_score},
                             {"nested_score", result.nested_score}}},
                           {"competition", competition_json(ws.config())}};
  std::string parent = source.value("run_id", std::string());
  Writer w(ws, run, ref, run.name.empty() ? "decision-" + result.decision.kind : run.name, config,
           parent);
  try {
    std::map<int, double> folds;
    for (std::size_t i = 0; i < result.fold_scores.size(); ++i)
      folds[static_cast<int>(i)] = result.fold_scores[i];
    std::string log = fmt::format(
        "decision {} ({}), {} on {}, metric {}\nrule {}\nas predicted {:.6f}, in-sample {:.6f}, "
        "nested cv {:.6f}\n",
        w.rec.id, w.rec.name, result.decision.kind, join(inputs), ref.metric,
        result.decision.to_json().dump(), result.default_score, result.in_sample_score,
        result.nested_score);
    nlohmann::json extra = {
        {"cv",
         {{"score", result.nested_score},
          {"nested", result.nested_score},
          {"in_sample", result.in_sample_score},
          {"as_predicted", result.default_score},
          {"folds", nlohmann::json::object()}}},
        {"producer", fmt::format("compe {} (decision {})", COMPE_VERSION, result.decision.kind)},
        {"decision", result.decision.to_json()}};
    for (auto& [f, s] : folds) extra["cv"]["folds"][std::to_string(f)] = s;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<double> oof = labels_as_predictions(ref, result.nested_labels);
    std::vector<double> test = labels_as_predictions(ref, result.test_labels);
    w.write(ref, oof, test, result.nested_score, folds, extra, log, wall, &result.test_labels);
  } catch (const std::exception& e) {
    w.failed(e);
    throw;
  }
  return {w.rec.id, w.dir, result.nested_score};
}

Recorded import_oof(const Workspace& ws, const fs::path& dir, const RunOptions& run,
                    const LoadOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  if (!fs::is_directory(dir)) fail(ErrorCode::kNotFound, "{}: no such folder", dir.string());
  Reference ref = reference_from_workspace(ws);
  std::string name = run.name.empty() ? folder_name(dir) : run.name;
  Member m = load_member(ref, name, dir, options);
  if (m.folds != ref.folds) {
    // Accepted on other folds: the run keeps the member's own folds and their hash.
    std::vector<std::string> ids(ref.rows());
    for (std::size_t r = 0; r < ref.rows(); ++r) ids[r] = ref.train_ids.to_string(r);
    ref.folds = m.folds;
    ref.folds_hash = m.meta.contains("folds_hash") && m.meta["folds_hash"].is_string()
                         ? m.meta["folds_hash"].get<std::string>()
                         : folds_hash(ids, m.folds);
  }
  double cv = score_rows(ref, m.oof);
  std::map<int, double> folds;
  for (int f = 0; f < ref.num_folds(); ++f) {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < ref.rows(); ++r)
      if (ref.folds[r] == f) rows.push_back(r);
    if (!rows.empty()) folds[f] = score_rows(ref, m.oof, rows);
  }
  nlohmann::json config = {{"import",
                            {{"path", fs::absolute(dir).lexically_normal().string()},
                             {"producer", m.meta.value("producer", "")}}},
                           {"competition", competition_json(ws.config())}};
  Writer w(ws, run, ref, name, config, "");
  try {
    nlohmann::json extra = {{"producer", m.meta.value("producer", std::string("external"))},
                            {"imported_from", fs::absolute(dir).lexically_normal().string()}};
    std::string log = fmt::format("import {} ({}) from {}\noof {} = {:.6f}\n", w.rec.id, name,
                                  dir.string(), ref.metric, cv);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    w.write(ref, m.oof, m.test, cv, folds, extra, log, wall);
  } catch (const std::exception& e) {
    w.failed(e);
    throw;
  }
  return {w.rec.id, w.dir, cv};
}

std::vector<fs::path> export_oof(const Workspace& ws, const std::string& run, const fs::path& dir,
                                 const RunOptions& options) {
  auto store = store_for(ws, options);
  std::string id = store->resolve_run_id(run);
  fs::path src = ws.runs_dir() / id;
  std::vector<fs::path> out;
  for (const char* f : {"oof.csv", "test.csv"})
    if (!fs::exists(src / f))
      fail(ErrorCode::kNotFound, "run {} has no {} ({}): nothing to export", id, f,
           (src / f).string());
  fs::create_directories(dir);
  for (const char* f : {"oof.csv", "test.csv", "meta.json"}) {
    if (!fs::exists(src / f)) continue;
    write_file_atomic(dir / f, read_file(src / f));
    out.push_back(dir / f);
  }
  return out;
}

}  // namespace compe::blend
