// run_experiment's first stage: everything that can fail before a run is recorded.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/image_data.hpp"
#include "compe/image_run.hpp"
#include "compe/pseudo.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

void check_unique_ids(const Table& t, const std::string& id) {
  const Column& c = t.column(id);
  std::unordered_map<std::string, std::size_t> seen;
  seen.reserve(c.size() * 2);
  for (std::size_t r = 0; r < c.size(); ++r) {
    if (c.is_missing(r))
      fail(ErrorCode::kInvalidArgument, "{}: line {}: the id column '{}' is empty", t.source, r + 2, id);
    auto [it, ok] = seen.emplace(c.to_string(r), r);
    if (!ok)
      fail(ErrorCode::kInvalidArgument, "{}: duplicate id '{}' at lines {} and {}: ids must be unique",
           t.source, it->first, it->second + 2, r + 2);
  }
}

void read_data(const Workspace& ws, Plan& p) {
  const CompetitionConfig& cfg = ws.config();
  p.train = ws.read_train();
  p.test = ws.read_test();
  p.sample = ws.read_sample_submission();
  check_unique_ids(p.train, cfg.id_column);
  check_unique_ids(p.test, cfg.id_column);
  // An image competition's sample submission is keyed by image (and class), not by the id column.
  if (!is_image_task(cfg.task)) (void)p.sample.column(cfg.id_column);
  for (const auto& t : cfg.target_columns) (void)p.train.column(t);
}

// [folds] repeats: the further splits, each by compe.toml's splitter with the next seed. A
// splitter that does not shuffle would repeat the same folds: refused.
void make_repeats(const CompetitionConfig& cfg, Plan& p) {
  for (int r = 1; r < cfg.folds.repeats; ++r) {
    FoldsConfig fc = cfg.folds;
    fc.spec.seed = cfg.folds.spec.seed + static_cast<std::uint64_t>(r);
    FoldAssignment a = make_folds(p.train, cfg, fc);
    int k = 0;
    for (int f : a.folds) k = std::max(k, f + 1);
    if (k != p.num_folds)
      fail(ErrorCode::kInvalidArgument,
           "folds.repeats: repeat {} has {} folds but folds.csv has {}: remake folds.csv from compe.toml "
           "(compe folds) so that every repeat uses the same splitter",
           r, k, p.num_folds);
    const std::vector<int>& first = r == 1 ? p.folds_csv.folds : p.repeat_folds.back();
    if (a.folds == first || a.folds == p.folds_csv.folds)
      fail(ErrorCode::kInvalidArgument,
           "folds.repeats = {}: the {} splitter gives the same folds for seed {} as for seed {} (it does not "
           "shuffle{}): repeats need shuffled folds",
           cfg.folds.repeats, cfg.folds.spec.strategy, fc.spec.seed, cfg.folds.spec.seed,
           cfg.folds.spec.shuffle ? "" : ": folds.shuffle is false");
    p.repeat_folds.push_back(std::move(a.folds));
  }
}

// folds.csv (made when missing), the folds to run, and the row filter's flags.
void choose_folds(const Workspace& ws, const Experiment& exp, const Options& opt, const NoteFn& note, Plan& p) {
  const CompetitionConfig& cfg = ws.config();
  if (!fs::exists(ws.folds_path())) {
    p.folds_csv = make_folds(p.train, cfg, cfg.folds);
    write_folds(ws.folds_path(), p.folds_csv);
    write_folds_record(ws.folds_path(), {cfg.folds, p.folds_csv.hash});
    note(fmt::format("no folds.csv: made one ({} k={} seed={}, hash {})", cfg.folds.spec.strategy,
                     cfg.folds.spec.k, cfg.folds.spec.seed, p.folds_csv.hash));
  } else {
    p.folds_csv = read_folds(ws.folds_path(), p.train, cfg.id_column);
  }
  p.split = make_split_data(p.train, cfg, cfg.folds);
  for (int f : p.folds_csv.folds) p.num_folds = std::max(p.num_folds, f + 1);
  p.folds = exp.folds;
  if (p.folds.empty())
    for (int f = 0; f < p.num_folds; ++f) p.folds.push_back(f);
  for (int f : p.folds)
    if (f >= p.num_folds)
      fail(ErrorCode::kInvalidArgument, "fold {} does not exist: folds.csv has folds 0..{}", f, p.num_folds - 1);
  if (cfg.folds.repeats > 1 && !exp.pseudo.is_null())
    fail(ErrorCode::kInvalidArgument,
         "folds.repeats = {} with [pseudo]: a pseudo set is fold-safe for folds.csv's folds only, and the further "
         "repeats split the rows otherwise; run pseudo-labelled experiments with repeats = 1",
         cfg.folds.repeats);
  make_repeats(cfg, p);
  if (opt.row_filter) {
    p.keep_rows = opt.row_filter(p.split.inputs(), p.folds_csv.folds);
    COMPE_ASSERT(p.keep_rows.empty() || p.keep_rows.size() == p.train.num_rows());
  }
}

// The backend, its parameters, the target and the features.
void choose_model(const Workspace& ws, const Experiment& exp, const NoteFn& note, Plan& p) {
  const CompetitionConfig& cfg = ws.config();
  p.model = &model::find(exp.backend);
  if (!p.model->accepts(cfg.task))
    fail(ErrorCode::kInvalidArgument, "model '{}' does not support {} tasks{}", p.model->name,
         metric::task_name(cfg.task), is_image_task(cfg.task) ? " (use the command backend)" : "");
  p.params = model::resolve_params(*p.model, exp.params);
  p.metric_spec = describe_metric(cfg.task, cfg.metric).spec;
  if (is_image_task(cfg.task)) {
    // The trainer reads the boxes or masks itself; the target only carries the task and classes.
    p.target.task = cfg.task;
    p.target.num_class = cfg.classes.size();
    p.target.classes = cfg.classes;
    p.target.y.assign(p.train.num_rows(), 0.0);
    model::FeatureSpec spec{cfg.id_column, {}, exp.keep, exp.drop, exp.categorical};
    p.features = model::FeatureMatrix::build(p.train, p.test, spec);
    if (cfg.task == metric::kDetection) p.metric = metric::make(cfg.metric);
    return;
  }
  if (cfg.task == metric::kMultilabel) {
    std::vector<const Column*> label_cols;
    for (const auto& t : cfg.target_columns) label_cols.push_back(&p.train.column(t));
    if (model::parse_target_transform(exp.target_transform) != model::TargetTransform::kNone)
      fail(ErrorCode::kInvalidArgument, "target transform '{}' applies to regression only, not to multilabel targets",
           exp.target_transform);
    p.target = model::Target::encode_multilabel(label_cols);
  } else {
    if (cfg.target_columns.size() != 1)
      fail(ErrorCode::kInvalidArgument, "the '{}' model trains one target column; this competition has {}",
           p.model->name, cfg.target_columns.size());
    p.target = model::Target::encode(p.train.column(cfg.target_columns[0]), cfg.task,
                                     model::parse_target_transform(exp.target_transform));
  }
  model::FeatureSpec spec{cfg.id_column, cfg.target_columns, exp.keep, exp.drop, exp.categorical};
  spec.target_encoded = exp.target_encoding;
  spec.encoding = exp.encoding;
  p.features = model::FeatureMatrix::build(p.train, p.test, spec);
  if (!p.features.report().target_encoded.empty() && cfg.task != metric::kBinary && cfg.task != metric::kRegression)
    fail(ErrorCode::kInvalidArgument,
         "target encoding of column {} needs a binary or regression target; this competition is {}: "
         "use features.encoding = \"count\" and leave features.target_encoding out",
         quote(p.features.report().target_encoded[0].column), metric::task_name(cfg.task));
  if (std::string r = p.features.report().to_string(); !r.empty()) note(r);
  p.metric = metric::make(cfg.metric);
  if (exp.permutation_importance && (p.model->name == "command" || cfg.task == metric::kMultilabel))
    fail(ErrorCode::kInvalidArgument,
         "run.permutation_importance: not available for {}: it repredicts each fold's validation rows once per "
         "feature and shuffle with the fold's model in memory, which the xgboost and linear backends keep for "
         "binary, multiclass and regression tasks (an external trainer would have to be run again for every "
         "feature); gain importance is recorded where the backend gives it",
         p.model->name == "command" ? "the command backend" : "multilabel targets");

  // Metric truth: class indices for classification, original values for regression, the n x k
  // indicators for multilabel.
  p.y_true = p.target.y;
  if (cfg.task == metric::kRegression) {
    const Column& target_col = p.train.column(cfg.target_columns[0]);
    for (std::size_t r = 0; r < p.y_true.size(); ++r) p.y_true[r] = target_col.as_double(r);
  }
}

// [pseudo]: the set checked against this run (folds hash, sha256, source folds, test ids of the
// sample submission) and its labels encoded as the target encodes the train labels.
void read_pseudo(const Workspace& ws, const Experiment& exp, const NoteFn& note, Plan& p) {
  if (exp.pseudo.is_null()) return;
  const CompetitionConfig& cfg = ws.config();
  const pseudo::Config c = pseudo::Config::from_json(exp.pseudo, "[pseudo]");
  if (p.model->name != "xgboost" && p.model->name != "command")
    fail(ErrorCode::kInvalidArgument, "[pseudo]: the '{}' model does not train on pseudo rows; use xgboost or command",
         p.model->name);
  if (c.strategy == pseudo::Strategy::kPretrainFinetune && p.model->name == "xgboost" && p.features.has_fold_encoding())
    note("pseudo: pretrain_finetune with count-encoded features: each fold's counts come from its train rows");
  std::vector<std::string> test_ids, sample_ids;
  const Column& tid = p.test.column(cfg.id_column);
  for (std::size_t r = 0; r < tid.size(); ++r) test_ids.push_back(tid.to_string(r));
  const Column& sid = p.sample.column(cfg.id_column);
  for (std::size_t r = 0; r < sid.size(); ++r) sample_ids.push_back(sid.to_string(r));
  const auto folds =
      pseudo::load_for_run(c, ws.root(), p.folds_csv.hash, p.num_folds, test_ids, sample_ids);
  const model::Target& t = p.target;
  p.pseudo.assign(folds.size(), {});
  nlohmann::json added = nlohmann::json::object();
  for (std::size_t f = 0; f < folds.size(); ++f) {
    model::PseudoRows& rows = p.pseudo[f];
    rows.strategy = pseudo::strategy_name(c.strategy);
    rows.pretrain_rounds = c.pretrain_rounds;
    rows.weight = c.weight;
    rows.test_rows = folds[f].test_rows;
    rows.weights = folds[f].weights;
    rows.label_text = folds[f].labels;
    for (std::size_t i = 0; i < folds[f].labels.size(); ++i) {
      const std::string& text = folds[f].labels[i];
      double y = 0;
      if (t.task == metric::kRegression) {
        std::vector<double> v{std::numeric_limits<double>::quiet_NaN()};
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v[0]);
        if (ec != std::errc() || ptr != text.data() + text.size()) v[0] = std::numeric_limits<double>::quiet_NaN();
        if (!std::isfinite(v[0]))
          fail(ErrorCode::kInvalidArgument, "pseudo set {}: fold {} id {}: label {} is not a number", c.set, f,
               quote(test_ids[rows.test_rows[i]]), quote(text));
        if (t.transform == model::TargetTransform::kLog1p) {
          if (!(v[0] > -1))
            fail(ErrorCode::kInvalidArgument, "pseudo set {}: label {} cannot take log1p", c.set, quote(text));
          v[0] = std::log1p(v[0]);
        }
        y = v[0];
      } else {
        auto it = std::find(t.classes.begin(), t.classes.end(), text);
        if (it == t.classes.end())
          fail(ErrorCode::kInvalidArgument, "pseudo set {}: fold {} id {}: label {} is not a class of '{}' ({})", c.set,
               f, quote(test_ids[rows.test_rows[i]]), quote(text), t.column, list_shown(t.classes, 10));
        y = static_cast<double>(it - t.classes.begin());
      }
      rows.labels.push_back(y);
    }
    added[std::to_string(f)] = rows.test_rows.size();
  }
  p.pseudo_lineage = exp.pseudo;
  p.pseudo_lineage["rows_added"] = added;
  note(fmt::format("pseudo: {} rows from run {} ({}, {}{}), set {}", [&] {
                     std::size_t n = 0;
                     for (const auto& f : p.pseudo) n += f.test_rows.size();
                     return n;
                   }(),
                   c.source_run, pseudo::strategy_name(c.strategy), c.leaky ? "LEAKY fold average, " : "",
                   fmt::format("weight {}", c.weight), c.set));
}

}  // namespace

Plan plan_experiment(const Workspace& ws, const Experiment& exp, const Options& opt, const NoteFn& note) {
  Plan p;
  read_data(ws, p);
  choose_folds(ws, exp, opt, note, p);
  // Corrected labels replace the train labels after the folds are read or made: every row stays
  // in its fold.
  p.labels_lineage = apply_label_override(ws, p.train);
  choose_model(ws, exp, note, p);
  if (is_image_task(ws.config().task) && !exp.pseudo.is_null())
    fail(ErrorCode::kInvalidArgument, "[pseudo] does not apply to {} runs", metric::task_name(ws.config().task));
  read_pseudo(ws, exp, note, p);
  if (is_image_task(ws.config().task)) {
    p.ref = image_reference(ws, p.train, p.test, p.folds_csv);
    p.ref_pos.resize(p.train.num_rows());
    for (std::size_t r = 0; r < p.ref_pos.size(); ++r) p.ref_pos[r] = r;
    return p;
  }
  p.ref = make_reference(ws.config(), p.train, p.test, p.sample, p.folds_csv, p.target);
  p.ref_pos.assign(p.train.num_rows(), 0);
  for (std::size_t r = 0, pos = 0; r < p.train.num_rows(); ++r)
    if (p.folds_csv.folds[r] >= 0) p.ref_pos[r] = pos++;
  return p;
}

}  // namespace compe::run
