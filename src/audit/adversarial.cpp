#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "compe/audit.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/split.hpp"
#include "compe/util.hpp"

namespace compe::audit {
namespace {

constexpr const char* kLabel = "__compe_is_test";
constexpr const char* kRow = "__compe_row";

/// Train rows then test rows of the feature columns both tables have. A column that is text on
/// either side becomes text on both, so categorical levels compare as written.
Table stack(const Table& train, const Table& test, const CompetitionConfig& c) {
  Table out;
  const std::size_t nt = train.num_rows(), ns = test.num_rows();
  for (const auto& col : train.columns()) {
    if (col.name == c.id_column) continue;
    if (std::find(c.target_columns.begin(), c.target_columns.end(), col.name) != c.target_columns.end()) continue;
    auto ti = test.find(col.name);
    if (!ti) continue;
    const Column& other = test.column(*ti);
    if (col.type == DType::kString || other.type == DType::kString) {
      std::vector<std::optional<std::string>> v;
      v.reserve(nt + ns);
      for (std::size_t r = 0; r < nt; ++r)
        v.push_back(col.is_missing(r) ? std::nullopt : std::optional<std::string>(col.to_string(r)));
      for (std::size_t r = 0; r < ns; ++r)
        v.push_back(other.is_missing(r) ? std::nullopt : std::optional<std::string>(other.to_string(r)));
      out.add_column(Column::from_strings(col.name, v));
    } else {
      std::vector<double> v;
      v.reserve(nt + ns);
      for (std::size_t r = 0; r < nt; ++r) v.push_back(col.as_double(r));
      for (std::size_t r = 0; r < ns; ++r) v.push_back(other.as_double(r));
      out.add_column(Column::from_f64(col.name, std::move(v)));
    }
  }
  if (out.num_columns() == 0)
    fail(ErrorCode::kInvalidArgument, "adversarial validation: train and test share no feature column");
  std::vector<std::int64_t> label(nt + ns, 0), row(nt + ns);
  std::fill(label.begin() + static_cast<std::ptrdiff_t>(nt), label.end(), 1);
  std::iota(row.begin(), row.end(), 0);
  out.add_column(Column::from_i64(kLabel, std::move(label)));
  out.add_column(Column::from_i64(kRow, std::move(row)));
  return out;
}

double symmetric(double auc) { return std::max(auc, 1.0 - auc); }

}  // namespace

Adversarial adversarial(const Table& train, const Table& test, const CompetitionConfig& c,
                        const AdversarialOptions& o) {
  if (o.folds < 2 || o.folds > 100)
    fail(ErrorCode::kInvalidArgument, "adversarial folds is {}, expected 2 to 100", o.folds);
  Adversarial res;
  res.rows_train = train.num_rows();
  res.rows_test = test.num_rows();
  if (res.rows_train < static_cast<std::size_t>(o.folds) || res.rows_test < static_cast<std::size_t>(o.folds))
    fail(ErrorCode::kInvalidArgument, "adversarial validation needs at least {} train and {} test rows (one per fold); found {} and {}",
         o.folds, o.folds, res.rows_train, res.rows_test);
  Table stacked = stack(train, test, c);
  const std::size_t n = stacked.num_rows();

  // Folds: the workspace's splitter machinery, stratified on the train/test label.
  CompetitionConfig ac;
  ac.task = metric::kBinary;
  ac.metric = "roc_auc";
  ac.id_column = kRow;
  ac.target_columns = {kLabel};
  FoldsConfig fc;
  fc.spec.strategy = "stratified_kfold";
  fc.spec.k = o.folds;
  fc.spec.seed = o.seed;
  FoldAssignment fa = make_folds(stacked, ac, fc);

  model::FeatureSpec spec{kRow, {kLabel}, {}, {}, {}, false};
  model::FeatureMatrix fm = model::FeatureMatrix::build(stacked, stacked.take({0}), spec);
  model::Target target = model::Target::encode(stacked.column(kLabel), model::Task::kBinary);
  const model::Info& mi = model::find("xgboost");
  nlohmann::json params = {{"num_boost_round", 300}, {"early_stopping_rounds", 30}, {"learning_rate", 0.1},
                           {"max_depth", 6}};
  if (!o.params.is_object()) fail(ErrorCode::kInvalidArgument, "adversarial model parameters must be an object");
  for (auto& [k, v] : o.params.items()) params[k] = v;
  params = model::resolve_params(mi, params);
  auto model = model::make(mi.name);
  split::Spec sspec = fc.spec;
  SplitData sd = make_split_data(stacked, ac, fc);

  std::vector<double> oof(n, 0.0);
  std::map<std::string, double> gain;
  if (o.progress) o.progress->start("adversarial folds", static_cast<std::size_t>(std::max(0, o.folds)));
  for (int f = 0; f < o.folds; ++f) {
    std::vector<std::size_t> tr = split::train_rows(sspec, sd.inputs(), fa.folds, f);
    std::vector<std::size_t> va = split::valid_rows(fa.folds, f);
    model::FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = tr;
    d.valid_rows = va;
    d.metric = "roc_auc";
    d.fold = f;
    d.seed = o.seed;
    d.threads = o.threads;
    model::FoldResult fr = model->fit_predict(d, params, nullptr);
    model::check_predictions(fr, d, mi.name);
    std::vector<double> yt(va.size());
    for (std::size_t i = 0; i < va.size(); ++i) {
      oof[va[i]] = fr.valid_pred[i];
      yt[i] = target.y[va[i]];
    }
    res.fold_auc.push_back(metric::score("roc_auc", {.y_true = yt, .y_pred = fr.valid_pred}));
    for (auto& [name, g] : fr.importance) gain[name] += g;
    if (o.progress) o.progress->advance(static_cast<std::size_t>(f + 1));
  }
  if (o.progress) o.progress->finish();
  res.auc = metric::score("roc_auc", {.y_true = target.y, .y_pred = oof});
  res.train_test_likeness.assign(oof.begin(), oof.begin() + static_cast<std::ptrdiff_t>(res.rows_train));

  double total = 0;
  for (auto& [name, g] : gain) total += g;
  std::vector<std::pair<std::string, double>> ranked(gain.begin(), gain.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (ranked.size() > o.top) ranked.resize(o.top);
  auto names = fm.feature_names();
  // Single-column AUC of every shared column: numbers as they are, text by its level order
  // (codes of the stacked levels), missing lowest.
  std::vector<DriftFeature> single(names.size());
  {
    std::vector<double> v(n);
    for (std::size_t f = 0; f < names.size(); ++f) {
      double lowest = std::numeric_limits<double>::infinity();
      for (std::size_t r = 0; r < n; ++r) {
        v[r] = fm.train_at(r, f);
        if (!std::isnan(v[r])) lowest = std::min(lowest, v[r]);
      }
      if (!std::isfinite(lowest)) lowest = 0;
      for (auto& q : v)
        if (std::isnan(q)) q = lowest - 1;
      single[f].name = names[f];
      single[f].auc = symmetric(metric::score("roc_auc", {.y_true = target.y, .y_pred = v}));
    }
  }
  for (const auto& [name, g] : ranked) {
    std::size_t f = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    if (f >= names.size()) continue;
    DriftFeature df;
    df.name = name;
    df.gain = g;
    df.gain_share = total > 0 ? g / total : 0;
    df.auc = single[f].auc;
    res.features.push_back(df);
  }
  for (auto& df : single) {
    if (df.auc < 0.8) continue;
    if (auto it = gain.find(df.name); it != gain.end()) {
      df.gain = it->second;
      df.gain_share = total > 0 ? it->second / total : 0;
    }
    res.separating.push_back(df);
  }
  std::stable_sort(res.separating.begin(), res.separating.end(),
                   [](const DriftFeature& a, const DriftFeature& b) { return a.auc > b.auc; });

  Finding& fd = res.finding;
  fd.check = "adversarial";
  const double single_best = res.separating.empty() ? 0.5 : res.separating[0].auc;
  const double verdict = std::max(res.auc, single_best);
  fd.value = verdict;
  fd.severity = verdict >= 0.8 ? Severity::kLeak : verdict >= 0.6 ? Severity::kWarning : Severity::kOk;
  std::string top = res.features.empty() ? "" : fmt::format("; top feature '{}' ({:.0f}% of gain, alone AUC {:.3f})",
                                                            res.features[0].name, 100 * res.features[0].gain_share,
                                                            res.features[0].auc);
  if (single_best > res.auc && !res.separating.empty()) {
    std::vector<std::string> cols;
    for (const auto& df : res.separating) {
      if (cols.size() == 3) break;
      cols.push_back(fmt::format("'{}' (AUC {:.3f})", df.name, df.auc));
    }
    fd.subject = res.separating[0].name;
    fd.detail = fmt::format(
        "a classifier tells test from train with OOF AUC {:.4f}, but {} alone separate{} them: {}",
        res.auc, join(cols), res.separating.size() == 1 ? "s" : "",
        single_best >= 0.8 ? "train and test differ strongly: CV may not predict the LB (an id-like or drifting column?)"
                           : "some drift between train and test");
  } else {
    fd.detail = fmt::format("a classifier tells test from train with OOF AUC {:.4f} ({}){}", res.auc,
                            res.auc >= 0.8   ? "train and test differ strongly: CV may not predict the LB"
                            : res.auc >= 0.6 ? "some drift between train and test"
                                             : "train and test look alike",
                            top);
  }
  return res;
}

}  // namespace compe::audit
