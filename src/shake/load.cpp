#include <filesystem>
#include <set>

#include "compe/artifacts.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/shake.hpp"
#include "shake/images.hpp"

namespace compe::shake {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Store> open_for(const Workspace& ws, const std::string& url) {
  auto store = open_store(url.empty() ? ws.store_path().string() : url);
  store->mark_interrupted_stale();
  return store;
}

std::optional<double> public_share(const Table& solution) {
  auto idx = solution.find("Usage");
  if (!idx) return std::nullopt;
  const Column& c = solution.column(*idx);
  std::size_t pub = 0, scored = 0;
  for (std::size_t r = 0; r < c.size(); ++r) {
    std::string v = c.to_string(r);
    for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    pub += v == "public";
    scored += v != "ignored";
  }
  if (scored == 0 || pub == 0 || pub == scored) return std::nullopt;
  return static_cast<double>(pub) / static_cast<double>(scored);
}

struct Source {
  std::string name, label;
  fs::path dir;
};

/// Candidate folders: a run (id or unique prefix, finished) or a folder holding predictions.
std::vector<Source> resolve(const Workspace& ws, Store* store, const std::vector<std::string>& inputs,
                            const LoadOptions& options) {
  std::unique_ptr<Store> own;
  std::vector<Source> out;
  std::set<std::string> seen;
  for (const auto& arg : inputs) {
    Source s;
    if (fs::is_directory(arg) && (fs::exists(fs::path(arg) / "oof.csv") || fs::exists(fs::path(arg) / "submission.csv"))) {
      fs::path p = fs::absolute(arg).lexically_normal();
      if (p.filename().empty()) p = p.parent_path();
      s.name = s.label = p.filename().string();
      s.dir = arg;
    } else {
      if (!store) {
        own = open_for(ws, options.store);
        store = own.get();
      }
      s.name = store->resolve_run_id(arg);
      Run r = store->get_run(s.name);
      if (r.status != RunStatus::kFinished)
        fail(ErrorCode::kInvalidArgument, "run {} ({}) is {}: only finished runs are candidates", s.name, r.name,
             run_status_name(r.status));
      if (r.partial)
        fail(ErrorCode::kInvalidArgument,
             "run {} ({}) is partial (some folds or rows only): a shake-up needs predictions of every row; "
             "rerun it on all folds", s.name, r.name);
      s.label = r.name;
      // runs/<id>/ is a cache of the store: a teammate's run is fetched here when missing.
      static constexpr std::string_view kFiles[] = {"oof.csv", "test.csv", "submission.csv",
                                                    "meta.json", "test_folds.csv"};
      s.dir = run::ensure_local(*store, ws, s.name, kFiles, run::Need::kIfStored).dir;
    }
    if (!seen.insert(s.name).second)
      fail(ErrorCode::kInvalidArgument, "{} is given twice: each candidate once", quote(arg));
    out.push_back(std::move(s));
  }
  return out;
}

Loaded from_solution(const Workspace& ws, const std::vector<Source>& sources) {
  const CompetitionConfig& cfg = ws.config();
  fs::path sol_path = ws.resolve(*cfg.solution);
  CsvReadOptions ro;
  ro.display_name = sol_path.string();
  Table solution = read_csv(sol_path, ro);
  const metric::Info& info = metric::make(cfg.metric)->info();
  if (info.accepts(metric::kDetection) || info.accepts(metric::kSegmentation)) {
    std::vector<detail::ImageCandidate> inputs;
    for (const auto& src : sources) {
      fs::path sub_path = src.dir / "submission.csv";
      if (!fs::exists(sub_path))
        fail(ErrorCode::kNotFound, "candidate {} ({}) has no submission.csv ({})", src.name, src.label,
             sub_path.string());
      inputs.push_back({src.name, src.label, sub_path});
    }
    return detail::load_image_candidates(ws, solution, inputs);
  }
  score::Options so;
  so.metric = cfg.metric;
  so.id_column = cfg.id_column;
  so.task = cfg.task;

  Loaded out;
  out.mode = Mode::kResplit;
  out.problem.metric = cfg.metric;
  out.public_fraction = public_share(solution);
  std::vector<std::size_t> scored_rows;
  for (const auto& src : sources) {
    Candidate c;
    c.name = src.name;
    c.label = src.label;
    fs::path sub_path = src.dir / "submission.csv";
    if (!fs::exists(sub_path))
      fail(ErrorCode::kNotFound, "candidate {} ({}) has no submission.csv ({})", c.name, c.label, sub_path.string());
    ro.display_name = sub_path.string();
    Table submission = read_csv(sub_path, ro);
    score::Prepared prep;
    score::Result actual;
    try {
      prep = score::prepare_submission(solution, submission, so);
      actual = score::score_submission(solution, submission, so);
    } catch (const Error& e) {
      fail(e.code(), "candidate {}: {}", c.name, e.what());
    }
    if (prep.result.task == metric::kRanking)
      fail(ErrorCode::kInvalidArgument, "shake does not simulate ranking metrics ({})", quote(prep.result.metric));
    if (scored_rows.empty()) {
      for (std::size_t r = 0; r < prep.usage.size(); ++r)
        if (prep.usage[r] != score::Usage::kIgnored) scored_rows.push_back(r);
      out.problem.true_cols = prep.true_cols;
      out.problem.pred_cols = prep.pred_cols;
      for (auto r : scored_rows)
        for (std::size_t j = 0; j < prep.true_cols; ++j) out.problem.y_true.push_back(prep.y_true[r * prep.true_cols + j]);
    } else if (prep.pred_cols != out.problem.pred_cols) {
      fail(ErrorCode::kInvalidArgument, "candidate {} has {} prediction columns, the first has {}", c.name,
           prep.pred_cols, out.problem.pred_cols);
    }
    c.pred.reserve(scored_rows.size() * prep.pred_cols);
    for (auto r : scored_rows)
      for (std::size_t j = 0; j < prep.pred_cols; ++j) c.pred.push_back(prep.y_pred[r * prep.pred_cols + j]);
    c.actual_public = actual.public_score;
    c.actual_private = actual.private_score;
    out.problem.candidates.push_back(std::move(c));
  }
  out.test_rows = scored_rows.size();
  return out;
}

}  // namespace

Loaded load_candidates(const Workspace& ws, const std::vector<std::string>& inputs,
                       const LoadOptions& options, Store* store) {
  if (inputs.empty()) fail(ErrorCode::kInvalidArgument, "no candidate: name one or more runs");
  const CompetitionConfig& cfg = ws.config();
  std::vector<Source> sources = resolve(ws, store, inputs, options);
  if (options.use_solution && cfg.solution) return from_solution(ws, sources);
  const metric::Info& info = metric::make(cfg.metric)->info();
  if (info.accepts(metric::kDetection) || info.accepts(metric::kSegmentation))
    fail(ErrorCode::kInvalidArgument,
         "shake from OOF predictions is not supported for {} metrics ({}): name the test solution in compe.toml "
         "([data] solution) and shake the runs' submission.csv against it",
         info.accepts(metric::kDetection) ? "detection" : "segmentation", quote(cfg.metric));
  std::vector<std::string> dirs;
  for (const auto& s : sources) {
    if (!fs::exists(s.dir / "oof.csv"))
      fail(ErrorCode::kNotFound, "candidate {} ({}) has no oof.csv ({})", s.name, s.label, (s.dir / "oof.csv").string());
    dirs.push_back(s.dir.string());
  }
  blend::LoadOptions lo;
  lo.allow_different_folds = true;
  blend::OofSet set = blend::load_set(ws, dirs, {}, lo);
  Loaded out;
  out.mode = Mode::kResample;
  out.problem.metric = set.ref.metric;
  out.problem.y_true = set.ref.y_true;
  out.problem.true_cols = set.ref.true_cols;
  out.problem.pred_cols = set.ref.cols();
  out.test_rows = set.ref.test_ids.size();
  for (std::size_t i = 0; i < set.members.size(); ++i)
    out.problem.candidates.push_back({sources[i].name, sources[i].label, std::move(set.members[i].oof), {}, {}});
  if (cfg.solution && fs::exists(ws.resolve(*cfg.solution))) {
    CsvReadOptions ro2;
    ro2.display_name = ws.resolve(*cfg.solution).string();
    out.public_fraction = public_share(read_csv(ws.resolve(*cfg.solution), ro2));
  }
  return out;
}

}  // namespace compe::shake
