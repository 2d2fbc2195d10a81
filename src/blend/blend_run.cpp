// Blends and imported OOF predictions recorded as runs, with the run folder's usual files.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "compe/artifacts.hpp"
#include "compe/run_writer.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/score.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"

namespace compe::blend {
namespace fs = std::filesystem;

namespace {

// What a blend member needs of a run folder; runs/<id>/ is fetched from the store when missing.
constexpr std::string_view kMemberFilesArray[] = {"oof.csv"};
constexpr std::string_view kOptionalMemberFilesArray[] = {"meta.json", "test.csv", "test_folds.csv",
                                                          "config.json"};
constexpr std::span<const std::string_view> kMemberFiles = kMemberFilesArray;
constexpr std::span<const std::string_view> kOptionalMemberFiles = kOptionalMemberFilesArray;

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

/// Records a run made from OOF predictions of every validated row at once (a blend, a decision,
/// an import) through the run writer: each fold's rows and score, then the files.
run::Summary write_whole(const Workspace& ws, const RunOptions& run, const Reference& ref,
                         run::RunSpec spec, std::span<const double> oof,
                         const std::map<int, double>& fold_scores, const std::string& log,
                         run::FinishOptions fin) {
  auto store = store_for(ws, run);
  spec.command_line = run.command_line;
  run::RunWriter w(ws, *store, ref, std::move(spec));
  try {
    w.log(log);
    const std::size_t k = ref.cols();
    for (const auto& [f, score] : fold_scores) {
      std::vector<std::size_t> rows;
      for (std::size_t r = 0; r < ref.rows(); ++r)
        if (ref.folds[r] == f) rows.push_back(r);
      std::vector<double> pred(rows.size() * k);
      for (std::size_t i = 0; i < rows.size(); ++i)
        std::copy_n(oof.begin() + static_cast<std::ptrdiff_t>(rows[i] * k), k,
                    pred.begin() + static_cast<std::ptrdiff_t>(i * k));
      w.add_fold(f, rows, pred, {}, score);
    }
    return w.finish(fin);
  } catch (const std::exception& e) {
    w.stop(RunStatus::kFailed, e.what());
    throw;
  }
}

/// Fold scores of every fold of `ref` on predictions of every row.
std::map<int, double> scores_by_fold(const Reference& ref, std::span<const double> oof) {
  std::map<int, double> folds;
  for (int f = 0; f < ref.num_folds(); ++f) {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < ref.rows(); ++r)
      if (ref.folds[r] == f) rows.push_back(r);
    if (!rows.empty()) folds[f] = score_rows(ref, oof, rows);
  }
  return folds;
}

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
          {"seed", p.seed},
          {"model_params", p.model_params}};
}

Params params_from_json(const nlohmann::json& j) {
  Params p;
  if (!j.is_object()) return p;
  p.power = j.value("power", p.power);
  p.steps = j.value("steps", p.steps);
  p.bags = j.value("bags", p.bags);
  p.bag_fraction = j.value("bag_fraction", p.bag_fraction);
  p.restarts = j.value("restarts", p.restarts);
  p.max_passes = j.value("max_passes", p.max_passes);
  p.tolerance = j.value("tolerance", p.tolerance);
  p.l2 = j.value("l2", p.l2);
  p.seed = j.value("seed", p.seed);
  if (j.contains("model_params") && j["model_params"].is_object()) p.model_params = j["model_params"];
  return p;
}

Recorded rerun(const Workspace& ws, const Run& r, const RunOptions& options) {
  RunOptions ro = options;
  if (ro.name.empty()) ro.name = r.name + "-rerun";
  const nlohmann::json& cfg = r.config;
  if (cfg.contains("blend") && cfg["blend"].is_object()) {
    std::vector<std::string> inputs;
    for (const auto& m : cfg["blend"].value("inputs", nlohmann::json::array())) {
      if (m.contains("run_id") && m["run_id"].is_string()) inputs.push_back(m["run_id"]);
      else if (m.contains("path") && m["path"].is_string()) inputs.push_back(m["path"]);
      else
        fail(ErrorCode::kInvalidArgument, "blend {}: a member has neither a run id nor a folder in its record", r.id);
    }
    const std::string method = cfg["blend"].value("method", std::string());
    Params params = params_from_json(cfg["blend"].value("params", nlohmann::json::object()));
    OofSet set = load_set(ws, inputs, ro);
    Result res = blend(set, method, params);
    return record_blend(ws, set, inputs, res, params, ro);
  }
  if (cfg.contains("decision") && cfg["decision"].is_object()) {
    const nlohmann::json& d = cfg["decision"];
    const nlohmann::json source = d.value("source", nlohmann::json::object());
    std::string input = source.value("run_id", source.value("path", std::string()));
    if (input.empty())
      fail(ErrorCode::kInvalidArgument, "threshold {}: its record names no source run or folder", r.id);
    OofSet set = load_set(ws, {input}, ro);
    const Member& m = set.members.at(0);
    DecisionResult res = optimize_decision(set.ref, m.oof, m.test);
    return record_decision(ws, set.ref, {input}, res, source, ro);
  }
  fail(ErrorCode::kInvalidArgument,
       "run {} ({}) is {}: it cannot be rerun{}", r.id, r.name,
       r.kind.empty() ? "not a model, blend or threshold run" : "an '" + r.kind + "' run",
       r.kind == "import"   ? ": its predictions came from outside compe (import the folder again)"
       : r.kind == "python" ? ": its folds were trained by Python code (run that code again)"
                            : "");
}

// A run given by id may come from a teammate's workspace on a shared store: its folds and data
// must be this workspace's, as for imported OOF files. Named hashes in the message.
void check_same_data(const Workspace& ws, const Run& r, const Reference& ref,
                     const LoadOptions& options, std::optional<std::string>& data_hash_now) {
  if (!options.allow_different_folds && !r.folds_hash.empty() && r.folds_hash != ref.folds_hash) {
    fail(ErrorCode::kInvalidArgument,
         "run {} ({}) was made on other folds (folds hash {}) than this workspace's (folds hash "
         "{}){}: blend runs of the same folds.csv",
         r.id, r.name, r.folds_hash, ref.folds_hash,
         r.host.empty() ? "" : fmt::format(", by {}@{}", r.user.empty() ? "?" : r.user, r.host));
  }
  if (r.data_hash.empty()) return;
  if (!data_hash_now) data_hash_now = run::data_hash(ws);
  if (r.data_hash != *data_hash_now) {
    fail(ErrorCode::kInvalidArgument,
         "run {} ({}) was made on other train/test data (data hash {}) than this workspace's "
         "(data hash {}){}: blend runs made on the same data",
         r.id, r.name, r.data_hash, *data_hash_now,
         r.host.empty() ? "" : fmt::format(", by {}@{}", r.user.empty() ? "?" : r.user, r.host));
  }
}

OofSet load_set(const Workspace& ws, const std::vector<std::string>& inputs, const RunOptions& run,
                const LoadOptions& options) {
  OofSet set;
  set.ref = reference_from_workspace(ws);
  std::unique_ptr<Store> store;
  std::optional<std::string> data_hash_now;
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
      check_same_data(ws, r, set.ref, options, data_hash_now);
      run::ensure_local(*store, ws, id, kMemberFiles);
      run::ensure_local(*store, ws, id, kOptionalMemberFiles, run::Need::kIfStored);
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
  std::map<int, double> folds;
  for (std::size_t i = 0; i < result.fold_scores.size(); ++i)
    folds[static_cast<int>(i)] = result.fold_scores[i];
  const std::vector<double>& oof = info.fitted ? result.nested_oof : result.oof;
  std::string log = fmt::format("blend, method {}, metric {}\n", result.method, set.ref.metric);
  for (std::size_t i = 0; i < set.members.size(); ++i)
    log += fmt::format(
        "member {}: oof {:.6f}{}\n", set.members[i].name, result.member_scores[i],
        result.weights.empty() ? "" : fmt::format(", weight {:.6f}", result.weights[i]));
  log += fmt::format("in-sample oof {:.6f}, nested cv {:.6f}", result.oof_score,
                     result.nested_score);
  run::FinishOptions fin;
  fin.cv = result.nested_score;
  fin.test = result.test;
  fin.cv_details = {{"nested", result.nested_score}, {"in_sample", result.oof_score}};
  fin.meta_extra = {{"inputs", members}};
  run::Summary s = write_whole(
      ws, run, set.ref,
      {.kind = "blend",
       .name = run.name.empty() ? "blend-" + result.method : run.name,
       .config = config,
       .parent_id = parent,
       .producer = fmt::format("compe {} (blend {})", COMPE_VERSION, result.method)},
      oof, folds, log, std::move(fin));
  return {s.run_id, s.dir, result.nested_score};
}

Recorded record_decision(const Workspace& ws, const Reference& ref,
                         const std::vector<std::string>& inputs, const DecisionResult& result,
                         const nlohmann::json& source, const RunOptions& run) {
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
  std::map<int, double> folds;
  for (std::size_t i = 0; i < result.fold_scores.size(); ++i)
    folds[static_cast<int>(i)] = result.fold_scores[i];
  std::string log = fmt::format(
      "decision {} on {}, metric {}\nrule {}\nas predicted {:.6f}, in-sample {:.6f}, nested cv "
      "{:.6f}",
      result.decision.kind, join(inputs), ref.metric, result.decision.to_json().dump(),
      result.default_score, result.in_sample_score, result.nested_score);
  run::FinishOptions fin;
  fin.cv = result.nested_score;
  fin.test = labels_as_predictions(ref, result.test_labels);
  fin.test_labels = &result.test_labels;
  fin.cv_details = {{"nested", result.nested_score},
                    {"in_sample", result.in_sample_score},
                    {"as_predicted", result.default_score}};
  fin.meta_extra = {{"decision", result.decision.to_json()}};
  std::vector<double> oof = labels_as_predictions(ref, result.nested_labels);
  run::Summary s = write_whole(
      ws, run, ref,
      {.kind = "threshold",
       .name = run.name.empty() ? "decision-" + result.decision.kind : run.name,
       .config = config,
       .parent_id = parent,
       .producer = fmt::format("compe {} (decision {})", COMPE_VERSION, result.decision.kind)},
      oof, folds, log, std::move(fin));
  return {s.run_id, s.dir, result.nested_score};
}

Recorded import_oof(const Workspace& ws, const fs::path& dir, const RunOptions& run,
                    const LoadOptions& options) {
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
  std::map<int, double> folds = scores_by_fold(ref, m.oof);
  const std::string path = fs::absolute(dir).lexically_normal().string();
  // The same folder imported again is most often a mistake (two runs, one model).
  std::vector<std::string> notes;
  {
    auto store = store_for(ws, run);
    RunFilter f;
    f.kind = "import";
    f.limit = 0;
    for (const Run& r : store->list_runs(f).runs)
      if (r.config.value("/import/path"_json_pointer, std::string()) == path)
        notes.push_back(fmt::format("warning: {} was imported before, as run {} ({})", dir.string(), r.id, r.name));
  }
  nlohmann::json config = {{"import", {{"path", path}, {"producer", m.meta.value("producer", "")}}},
                           {"competition", competition_json(ws.config())}};
  run::FinishOptions fin;
  fin.cv = cv;
  fin.test = m.test;
  fin.meta_extra = {{"imported_from", path}};
  run::Summary s = write_whole(
      ws, run, ref,
      {.kind = "import",
       .name = name,
       .config = config,
       .producer = m.meta.value("producer", std::string("external")),
       .record_git = false},
      m.oof, folds, fmt::format("import from {}\noof {} = {:.6f}", dir.string(), ref.metric, cv),
      std::move(fin));
  return {s.run_id, s.dir, cv, notes};
}

std::vector<fs::path> export_oof(const Workspace& ws, const std::string& run, const fs::path& dir,
                                 const RunOptions& options) {
  auto store = store_for(ws, options);
  std::string id = store->resolve_run_id(run);
  run::ensure_local(*store, ws, id, kMemberFiles);
  run::ensure_local(*store, ws, id, kOptionalMemberFiles, run::Need::kIfStored);
  fs::path src = ws.runs_dir() / id;
  std::vector<fs::path> out;
  for (const char* f : {"oof.csv", "test.csv"})
    if (!fs::exists(src / f))
      fail(ErrorCode::kNotFound, "run {} has no {} ({}): nothing to export", id, f,
           (src / f).string());
  fs::create_directories(dir);
  for (const char* f : {"oof.csv", "test.csv", "test_folds.csv", "meta.json"}) {
    if (!fs::exists(src / f)) continue;
    write_file_atomic(dir / f, read_file(src / f));
    out.push_back(dir / f);
  }
  return out;
}

}  // namespace compe::blend
