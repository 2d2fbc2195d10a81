// The table of built-in metrics. Every row is covered by the registry test in
// tests/unit/metric/test_registry.cpp; the CLI's `compe list metrics` and the docs read these rows.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>

#include "compe/registry.hpp"
#include "compe/util.hpp"
#include "metric/detail.hpp"

namespace compe::metric {

namespace {

constexpr auto kMax = Direction::kMaximize;
constexpr auto kMin = Direction::kMinimize;
constexpr unsigned kClassify = kBinary | kMulticlass;

// long-function: the metric registry's rows, one designated initialiser each; data, not logic.
std::vector<Info> make_table() {
  using namespace detail;
  std::vector<Info> t;
  // Probability and score metrics for classification.
  t.push_back({.name = "roc_auc",
               .aliases = {"auc"},
               .summary = "area under the ROC curve; multiclass: one-vs-rest macro average",
               .direction = kMax,
               .tasks = kClassify,
               .needs_proba = true,
               .supports_weights = true,
               .factory = new_roc_auc});
  t.push_back({.name = "average_precision",
               .aliases = {"ap", "pr_auc"},
               .summary = "average precision (area under the precision-recall step curve)",
               .direction = kMax,
               .tasks = kBinary,
               .needs_proba = true,
               .supports_weights = true,
               .factory = new_average_precision});
  t.push_back({.name = "log_loss",
               .aliases = {"logloss", "cross_entropy"},
               .summary = "cross-entropy of probabilities, clipped to [1e-15, 1-1e-15], rows "
                          "normalised",
               .direction = kMin,
               .tasks = kClassify,
               .needs_proba = true,
               .supports_weights = true,
               .factory = new_log_loss});
  // Hard-label classification metrics.
  t.push_back({.name = "accuracy",
               .aliases = {"acc"},
               .summary = "fraction of rows whose predicted class is right",
               .direction = kMax,
               .tasks = kClassify,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_classification});
  t.push_back({.name = "balanced_accuracy",
               .aliases = {},
               .summary = "mean recall over the classes present in y_true",
               .direction = kMax,
               .tasks = kClassify,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_classification});
  for (const char* m : {"f1", "precision", "recall"}) {
    std::string base = m;
    t.push_back({.name = base,
                 .aliases = {},
                 .summary = base + " of the positive class (label 1)",
                 .direction = kMax,
                 .tasks = kBinary,
                 .needs_proba = false,
                 .supports_weights = true,
                 .factory = new_classification});
    t.push_back({.name = base + "_macro",
                 .aliases = {},
                 .summary = "unweighted mean of per-class " + base,
                 .direction = kMax,
                 .tasks = kClassify,
                 .needs_proba = false,
                 .supports_weights = true,
                 .factory = new_classification});
    t.push_back({.name = base + "_micro",
                 .aliases = {},
                 .summary = base + " from counts pooled over classes",
                 .direction = kMax,
                 .tasks = kClassify,
                 .needs_proba = false,
                 .supports_weights = true,
                 .factory = new_classification});
    t.push_back({.name = base + "_weighted",
                 .aliases = {},
                 .summary = "per-class " + base + " averaged by class support",
                 .direction = kMax,
                 .tasks = kClassify,
                 .needs_proba = false,
                 .supports_weights = true,
                 .factory = new_classification});
  }
  t.push_back({.name = "mcc",
               .aliases = {"matthews_corrcoef"},
               .summary = "Matthews correlation coefficient",
               .direction = kMax,
               .tasks = kClassify,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_classification});
  t.push_back({.name = "qwk",
               .aliases = {"quadratic_weighted_kappa", "cohen_kappa_quadratic"},
               .summary = "Cohen's kappa with quadratic weights over the sorted labels present",
               .direction = kMax,
               .tasks = kClassify,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_classification});
  // Regression.
  t.push_back({.name = "rmse",
          .aliases = {},
          .summary = "root mean squared error",
          .direction = kMin,
          .tasks = kRegression,
          .needs_proba = false,
          .supports_weights = true,
          .factory = new_elementwise});
  t.push_back({.name = "mse",
          .aliases = {},
          .summary = "mean squared error",
          .direction = kMin,
          .tasks = kRegression,
          .needs_proba = false,
          .supports_weights = true,
          .factory = new_elementwise});
  t.push_back({.name = "mae",
          .aliases = {},
          .summary = "mean absolute error",
          .direction = kMin,
          .tasks = kRegression,
          .needs_proba = false,
          .supports_weights = true,
          .factory = new_elementwise});
  t.push_back({.name = "rmsle",
               .aliases = {},
               .summary = "root mean squared error of log1p; values must be >= 0",
               .direction = kMin,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_elementwise});
  t.push_back({.name = "mape",
               .aliases = {},
               .summary = "mean absolute percentage error, as a fraction",
               .direction = kMin,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_elementwise});
  t.push_back({.name = "smape",
               .aliases = {},
               .summary = "symmetric MAPE in percent: mean of 200|p-y|/(|y|+|p|), 0/0 = 0",
               .direction = kMin,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_elementwise});
  t.push_back({.name = "pinball",
               .aliases = {"quantile"},
               .summary = "mean pinball loss at quantile q",
               .direction = kMin,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .arg = ArgKind::kOptionalReal,
               .arg_help = "q: quantile in [0, 1] (default 0.5)",
               .factory = new_elementwise});
  t.push_back({.name = "r2",
               .aliases = {"r2_score"},
               .summary = "coefficient of determination",
               .direction = kMax,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_regression_stat});
  t.push_back({.name = "median_ae",
               .aliases = {"medae"},
               .summary = "median absolute error",
               .direction = kMin,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = true,
               .factory = new_regression_stat});
  t.push_back({.name = "pearson",
               .aliases = {"pearsonr"},
               .summary = "Pearson correlation coefficient",
               .direction = kMax,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = false,
               .factory = new_regression_stat});
  t.push_back({.name = "spearman",
               .aliases = {"spearmanr"},
               .summary = "Spearman rank correlation (ties averaged)",
               .direction = kMax,
               .tasks = kRegression,
               .needs_proba = false,
               .supports_weights = false,
               .factory = new_regression_stat});
  // Multilabel.
  t.push_back({.name = "multilabel_log_loss",
               .aliases = {"mean_columnwise_log_loss"},
               .summary = "mean over label columns of the binary log loss",
               .direction = kMin,
               .tasks = kMultilabel,
               .needs_proba = true,
               .supports_weights = true,
               .factory = new_multilabel_log_loss});
  t.push_back({.name = "multilabel_auc",
               .aliases = {"mean_columnwise_auc"},
               .summary = "mean over label columns of the binary ROC AUC",
               .direction = kMax,
               .tasks = kMultilabel,
               .needs_proba = true,
               .supports_weights = true,
               .factory = new_multilabel_auc});
  t.push_back({.name = "f1_micro_multilabel",
               .aliases = {},
               .summary = "F1 from tp, fp, fn pooled over every label cell, P >= t",
               .direction = kMax,
               .tasks = kMultilabel,
               .needs_proba = true,
               .supports_weights = true,
               .arg = ArgKind::kOptionalReal,
               .arg_help = "t: threshold on the probabilities (default 0.5)",
               .factory = new_multilabel_f1});
  t.push_back({.name = "f1_macro_multilabel",
               .aliases = {},
               .summary = "mean over label columns of the F1 with P >= t",
               .direction = kMax,
               .tasks = kMultilabel,
               .needs_proba = true,
               .supports_weights = true,
               .arg = ArgKind::kOptionalReal,
               .arg_help = "t: threshold on the probabilities (default 0.5)",
               .factory = new_multilabel_f1});
  t.push_back({.name = "f1_samples_multilabel",
               .aliases = {},
               .summary = "mean over rows of the F1 of the row's labels with P >= t",
               .direction = kMax,
               .tasks = kMultilabel,
               .needs_proba = true,
               .supports_weights = true,
               .arg = ArgKind::kOptionalReal,
               .arg_help = "t: threshold on the probabilities (default 0.5)",
               .factory = new_multilabel_f1});
  // Ranking.
  t.push_back({.name = "map",
               .aliases = {"mapk"},
               .summary = "mean average precision of ranked label lists against true label sets",
               .direction = kMax,
               .tasks = kRanking,
               .needs_proba = false,
               .supports_weights = false,
               .arg = ArgKind::kOptionalInt,
               .arg_help = "k: predictions counted per row (default: all)",
               .factory = new_map});
  t.push_back({.name = "ndcg",
               .aliases = {},
               .summary = "normalised discounted cumulative gain of scores vs relevances",
               .direction = kMax,
               .tasks = kRanking,
               .needs_proba = true,
               .supports_weights = true,
               .arg = ArgKind::kOptionalInt,
               .arg_help = "k: top positions counted (default: all)",
               .factory = new_ndcg});
  // Detection (src/metric/detection.cpp, declared in compe/detection_metrics.hpp).
  for (Info& info : detection_rows()) t.push_back(std::move(info));
  // Ranges of bounded metrics; the rest are unbounded on at least one side.
  const double inf = std::numeric_limits<double>::infinity();
  const std::pair<std::vector<std::string>, std::pair<double, double>> ranges[] = {
      {{"roc_auc", "average_precision", "accuracy", "balanced_accuracy", "f1", "precision", "recall",
        "f1_macro", "f1_micro", "f1_weighted", "precision_macro", "precision_micro",
        "precision_weighted", "recall_macro", "recall_micro", "recall_weighted", "multilabel_auc", "f1_micro_multilabel", "f1_macro_multilabel",
        "f1_samples_multilabel", "map", "ndcg", "coco_map", "coco_map50", "kaggle_map", "det_fbeta"},
       {0.0, 1.0}},
      {{"mcc", "qwk", "pearson", "spearman"}, {-1.0, 1.0}},
      {{"log_loss", "multilabel_log_loss", "rmse", "mse", "mae", "rmsle", "mape", "smape",
        "pinball", "median_ae"},
       {0.0, inf}},
      {{"r2"}, {-inf, 1.0}},
  };
  for (Info& info : t)
    for (const auto& [names, range] : ranges)
      if (std::find(names.begin(), names.end(), info.name) != names.end())
        std::tie(info.lower, info.upper) = range;
  return t;
}

const Registry<Info>& registry() {
  static const Registry<Info> r("metric", make_table());
  return r;
}

}  // namespace

std::span<const Info> builtin() { return registry().rows(); }

std::string_view task_name(Task t) {
  switch (t) {
    case kBinary:
      return "binary";
    case kMulticlass:
      return "multiclass";
    case kRegression:
      return "regression";
    case kMultilabel:
      return "multilabel";
    case kRanking:
      return "ranking";
    case kDetection:
      return "detection";
    case kSegmentation:
      return "segmentation";
  }
  return "unknown";
}

Task parse_task(std::string_view name) {
  for (Task t : {kBinary, kMulticlass, kRegression, kMultilabel, kRanking, kDetection, kSegmentation})
    if (task_name(t) == name) return t;
  fail(ErrorCode::kInvalidArgument,
       "unknown task '{}'; expected one of binary, multiclass, regression, multilabel, ranking, "
       "detection, segmentation",
       name);
}

const Info& find(std::string_view name) { return registry().find(name); }

std::unique_ptr<Metric> make(std::string_view spec) {
  const NameSpec parts = split_spec(spec);
  const std::string_view arg_text = parts.arg.value_or(std::string_view());
  const bool has_arg = parts.arg.has_value();
  const Info& info = find(parts.name);
  std::optional<double> arg;
  if (has_arg) {
    if (info.arg == ArgKind::kNone)
      fail(ErrorCode::kInvalidArgument, "metric '{}' takes no @argument (got '{}')", info.name,
           spec);
    double v = 0;
    auto [ptr, ec] = std::from_chars(arg_text.data(), arg_text.data() + arg_text.size(), v);
    if (ec != std::errc() || ptr != arg_text.data() + arg_text.size() || !std::isfinite(v))
      fail(ErrorCode::kInvalidArgument, "metric '{}': argument '{}' is not a number; {}", info.name,
           arg_text, info.arg_help);
    bool integral = info.arg == ArgKind::kOptionalInt || info.arg == ArgKind::kRequiredInt;
    if (integral && (v != std::floor(v) || v < 1 || v > 1e9))
      fail(ErrorCode::kInvalidArgument, "metric '{}': argument '{}' must be a positive integer; {}",
           info.name, arg_text, info.arg_help);
    arg = v;
  } else if (info.arg == ArgKind::kRequiredInt || info.arg == ArgKind::kRequiredReal) {
    fail(ErrorCode::kInvalidArgument, "metric '{}' needs an argument: '{}@...'; {}", info.name,
         info.name, info.arg_help);
  }
  return info.factory(info, arg);
}

std::string default_for(Task t) {
  switch (t) {
    case kBinary:
      return "roc_auc";
    case kMulticlass:
      return "log_loss";
    case kRegression:
      return "rmse";
    case kMultilabel:
      return "multilabel_log_loss";
    case kRanking:
      return "map@10";
    case kDetection:
      return "coco_map";
    case kSegmentation:
      return "dice";
  }
  fail(ErrorCode::kInvalidArgument, "no default metric for task {}", static_cast<unsigned>(t));
}

double score(std::string_view spec, const Inputs& in) {
  return make(spec)->score(in);
}

void check_score_range(std::string_view spec, double value, std::string_view what) {
  const auto m = make(spec);
  const Info& mi = m->info();
  if (!std::isfinite(value) || value < mi.lower || value > mi.upper)
    fail(ErrorCode::kInvalidArgument, "{} {}: {} scores lie in [{}, {}]", what, value, m->spec(), mi.lower,
         mi.upper);
}

}  // namespace compe::metric
