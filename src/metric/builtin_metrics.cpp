// The table of built-in metrics. Every row is covered by the registry test in
// tests/unit/metric/test_registry.cpp; the CLI's `compe list metrics` and the docs read these rows.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>

#include "compe/detect.hpp"
#include "compe/util.hpp"
#include "metric/detail.hpp"

namespace compe::metric {

namespace {

using detail::Factory;
constexpr auto kMax = Direction::kMaximize;
constexpr auto kMin = Direction::kMinimize;
constexpr unsigned kClassify = kBinary | kMulticlass;

Info row(std::string name, std::vector<std::string> aliases, std::string summary, Direction dir,
         unsigned tasks, bool needs_proba, bool weights, Factory factory,
         ArgKind arg = ArgKind::kNone, std::string arg_help = {}) {
  Info info;
  info.name = std::move(name);
  info.aliases = std::move(aliases);
  info.summary = std::move(summary);
  info.direction = dir;
  info.tasks = tasks;
  info.needs_proba = needs_proba;
  info.supports_weights = weights;
  info.arg = arg;
  info.arg_help = std::move(arg_help);
  info.factory = factory;
  return info;
}

std::vector<Info> make_table() {
  using namespace detail;
  std::vector<Info> t;
  // Probability and score metrics for classification.
  t.push_back(row("roc_auc", {"auc"},
                  "area under the ROC curve; multiclass: one-vs-rest macro average", kMax,
                  kClassify, true, true, new_roc_auc));
  t.push_back(row("average_precision", {"ap", "pr_auc"},
                  "average precision (area under the precision-recall step curve)", kMax, kBinary,
                  true, true, new_average_precision));
  t.push_back(row("log_loss", {"logloss", "cross_entropy"},
                  "cross-entropy of probabilities, clipped to [1e-15, 1-1e-15], rows normalised",
                  kMin, kClassify, true, true, new_log_loss));
  // Hard-label classification metrics.
  t.push_back(row("accuracy", {"acc"}, "fraction of rows whose predicted class is right", kMax,
                  kClassify, false, true, new_classification));
  t.push_back(row("balanced_accuracy", {}, "mean recall over the classes present in y_true", kMax,
                  kClassify, false, true, new_classification));
  for (const char* m : {"f1", "precision", "recall"}) {
    std::string base = m;
    t.push_back(row(base, {}, base + " of the positive class (label 1)", kMax, kBinary, false, true,
                    new_classification));
    t.push_back(row(base + "_macro", {}, "unweighted mean of per-class " + base, kMax, kClassify,
                    false, true, new_classification));
    t.push_back(row(base + "_micro", {}, base + " from counts pooled over classes", kMax, kClassify,
                    false, true, new_classification));
    t.push_back(row(base + "_weighted", {}, "per-class " + base + " averaged by class support",
                    kMax, kClassify, false, true, new_classification));
  }
  t.push_back(row("mcc", {"matthews_corrcoef"}, "Matthews correlation coefficient", kMax, kClassify,
                  false, true, new_classification));
  t.push_back(row("qwk", {"quadratic_weighted_kappa", "cohen_kappa_quadratic"},
                  "Cohen's kappa with quadratic weights over the sorted labels present", kMax,
                  kClassify, false, true, new_classification));
  // Regression.
  t.push_back(
      row("rmse", {}, "root mean squared error", kMin, kRegression, false, true, new_elementwise));
  t.push_back(
      row("mse", {}, "mean squared error", kMin, kRegression, false, true, new_elementwise));
  t.push_back(
      row("mae", {}, "mean absolute error", kMin, kRegression, false, true, new_elementwise));
  t.push_back(row("rmsle", {}, "root mean squared error of log1p; values must be >= 0", kMin,
                  kRegression, false, true, new_elementwise));
  t.push_back(row("mape", {}, "mean absolute percentage error, as a fraction", kMin, kRegression,
                  false, true, new_elementwise));
  t.push_back(row("smape", {}, "symmetric MAPE in percent: mean of 200|p-y|/(|y|+|p|), 0/0 = 0",
                  kMin, kRegression, false, true, new_elementwise));
  t.push_back(row("pinball", {"quantile"}, "mean pinball loss at quantile q", kMin, kRegression,
                  false, true, new_elementwise, ArgKind::kOptionalReal,
                  "q: quantile in [0, 1] (default 0.5)"));
  t.push_back(row("r2", {"r2_score"}, "coefficient of determination", kMax, kRegression, false,
                  true, new_regression_stat));
  t.push_back(row("median_ae", {"medae"}, "median absolute error", kMin, kRegression, false, true,
                  new_regression_stat));
  t.push_back(row("pearson", {"pearsonr"}, "Pearson correlation coefficient", kMax, kRegression,
                  false, false, new_regression_stat));
  t.push_back(row("spearman", {"spearmanr"}, "Spearman rank correlation (ties averaged)", kMax,
                  kRegression, false, false, new_regression_stat));
  // Multilabel.
  t.push_back(row("multilabel_log_loss", {"mean_columnwise_log_loss"},
                  "mean over label columns of the binary log loss", kMin, kMultilabel, true, true,
                  new_multilabel_log_loss));
  t.push_back(row("multilabel_auc", {"mean_columnwise_auc"},
                  "mean over label columns of the binary ROC AUC", kMax, kMultilabel, true, true,
                  new_multilabel_auc));
  t.push_back(row("f1_micro_multilabel", {}, "F1 from tp, fp, fn pooled over every label cell, P >= t", kMax,
                  kMultilabel, true, true, new_multilabel_f1, ArgKind::kOptionalReal,
                  "t: threshold on the probabilities (default 0.5)"));
  t.push_back(row("f1_macro_multilabel", {}, "mean over label columns of the F1 with P >= t", kMax,
                  kMultilabel, true, true, new_multilabel_f1, ArgKind::kOptionalReal,
                  "t: threshold on the probabilities (default 0.5)"));
  t.push_back(row("f1_samples_multilabel", {}, "mean over rows of the F1 of the row's labels with P >= t",
                  kMax, kMultilabel, true, true, new_multilabel_f1, ArgKind::kOptionalReal,
                  "t: threshold on the probabilities (default 0.5)"));
  // Ranking.
  t.push_back(row("map", {"mapk"},
                  "mean average precision of ranked label lists against true label sets", kMax,
                  kRanking, false, false, new_map, ArgKind::kOptionalInt,
                  "k: predictions counted per row (default: all)"));
  t.push_back(row("ndcg", {}, "normalised discounted cumulative gain of scores vs relevances", kMax,
                  kRanking, true, true, new_ndcg, ArgKind::kOptionalInt,
                  "k: top positions counted (default: all)"));
  // Detection (definitions in compe/detect.hpp; the factory lives in src/detect/).
  t.push_back(row("coco_map", {"map_50_95", "det_map"},
                  "COCO mAP@[.5:.95]: 101-point AP over 10 IoU thresholds, maxDets 100, crowd "
                  "ignored, mean over classes",
                  kMax, kDetection, true, false, detect::new_detection_metric));
  t.push_back(row("coco_map50", {"map_50", "det_map50"},
                  "COCO AP at IoU 0.5 (101-point), maxDets 100, mean over classes", kMax,
                  kDetection, true, false, detect::new_detection_metric));
  t.push_back(row("kaggle_map", {"wheat_map"},
                  "per image TP/(TP+FP+FN) over IoU 0.5:0.05:0.75, greedy by score (Global "
                  "Wheat), mean over images",
                  kMax, kDetection, true, false, detect::new_detection_metric,
                  ArgKind::kOptionalReal, "s: predictions with score < s are dropped (default 0)"));
  t.push_back(row("det_fbeta", {"iou_fbeta"},
                  "F-beta of dataset TP/FP/FN, mean over IoU 0.3:0.05:0.8, greedy by score",
                  kMax, kDetection, true, false, detect::new_detection_metric,
                  ArgKind::kOptionalReal, "beta: weight of recall (default 1; 2 = F2)"));
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::span<const Info> builtin() {
  static const std::vector<Info> table = make_table();
  return table;
}

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
  }
  return "unknown";
}

Task parse_task(std::string_view name) {
  for (Task t : {kBinary, kMulticlass, kRegression, kMultilabel, kRanking, kDetection})
    if (task_name(t) == name) return t;
  fail(ErrorCode::kInvalidArgument,
       "unknown task '{}'; expected one of binary, multiclass, regression, multilabel, ranking, "
       "detection",
       name);
}

const Info& find(std::string_view name) {
  std::string key = lower(name);
  for (const Info& info : builtin()) {
    if (info.name == key) return info;
    if (std::find(info.aliases.begin(), info.aliases.end(), key) != info.aliases.end()) return info;
  }
  std::vector<std::string> names, all;
  for (const Info& info : builtin()) {
    names.push_back(info.name);
    all.push_back(info.name);
    all.insert(all.end(), info.aliases.begin(), info.aliases.end());
  }
  std::string near = closest_match(key, all);
  if (!near.empty()) near = find(near).name;
  fail(ErrorCode::kNotFound, "unknown metric '{}'{}; known metrics: {}", name,
       near.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", near), join(names));
}

std::unique_ptr<Metric> make(std::string_view spec) {
  std::string_view name = spec, arg_text;
  bool has_arg = false;
  if (auto at = spec.find('@'); at != std::string_view::npos) {
    name = spec.substr(0, at);
    arg_text = spec.substr(at + 1);
    has_arg = true;
  }
  const Info& info = find(name);
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
  }
  fail(ErrorCode::kInvalidArgument, "no default metric for task {}", static_cast<unsigned>(t));
}

double score(std::string_view spec, const Inputs& in) {
  return make(spec)->score(in);
}

}  // namespace compe::metric
