// The XGBoost backend: the only file that includes the XGBoost C API.

#include <xgboost/c_api.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"
#include "model/params.hpp"

namespace compe::model {

namespace {

constexpr std::string_view kName = "xgboost";
constexpr double kInf = std::numeric_limits<double>::infinity();

// Every C API call goes through here: a non-zero status becomes a backend error naming the call
// and carrying XGBoost's own message.
void check(int status, const char* call) {
  if (status != 0) fail(ErrorCode::kBackend, "xgboost: {} failed: {}", call, XGBGetLastError());
}
#define COMPE_XGB(fn, ...) check(fn(__VA_ARGS__), #fn)

class DMatrix {
 public:
  DMatrix() = default;
  explicit DMatrix(DMatrixHandle h) : h_(h) {}
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrix(DMatrix&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  DMatrix& operator=(DMatrix&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~DMatrix() {
    if (h_) XGDMatrixFree(h_);
  }
  DMatrixHandle get() const { return h_; }

 private:
  DMatrixHandle h_ = nullptr;
};

class Booster {
 public:
  Booster(DMatrixHandle* cache, bst_ulong n) { COMPE_XGB(XGBoosterCreate, cache, n, &h_); }
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (h_) XGBoosterFree(h_);
  }
  BoosterHandle get() const { return h_; }
  void set(const std::string& key, const std::string& value) {
    int status = XGBoosterSetParam(h_, key.c_str(), value.c_str());
    if (status != 0)
      fail(ErrorCode::kBackend, "xgboost: XGBoosterSetParam({} = {}) failed: {}", key, value,
           XGBGetLastError());
  }

 private:
  BoosterHandle h_ = nullptr;
};

// Parameters compe interprets itself (the rest pass to XGBoosterSetParam after a name check).
const std::vector<std::string>& own_params() {
  static const std::vector<std::string> names = {
      "num_boost_round", "early_stopping_rounds", "objective", "num_class", "eval_metric",
      "nthread",         "seed",                  "tree_method", "max_cat_to_onehot",
      "eval_train",      "early_stopping",        "inner_fraction", "refit"};
  return names;
}

// XGBoost 1.7's learner and tree-booster parameters, so a misspelt name fails instead of being
// silently ignored.
const std::vector<std::string>& native_params() {
  static const std::vector<std::string> names = {
      "booster", "verbosity", "validate_parameters", "disable_default_eval_metric",
      "base_score", "eta", "learning_rate", "gamma", "min_split_loss", "max_depth",
      "min_child_weight", "max_delta_step", "subsample", "sampling_method", "colsample_bytree",
      "colsample_bylevel", "colsample_bynode", "lambda", "reg_lambda", "alpha", "reg_alpha",
      "sketch_eps", "scale_pos_weight", "updater", "refresh_leaf", "process_type", "grow_policy",
      "max_leaves", "max_bin", "predictor", "num_parallel_tree", "monotone_constraints",
      "interaction_constraints", "max_cat_threshold", "single_precision_histogram",
      "deterministic_histogram", "gpu_id", "seed_per_iteration", "tweedie_variance_power",
      "huber_slope", "quantile_alpha", "aft_loss_distribution", "aft_loss_distribution_scale",
      "sample_type", "normalize_type", "rate_drop", "one_drop", "skip_drop", "feature_selector",
      "top_k", "lambdarank_pair_method", "max_cached_hist_node", "random_state",
      "use_rmm", "fail_on_invalid_gpu_id"};
  return names;
}

std::string param_text(const std::string& key, const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) return format_double(v.get<double>());
  if (v.is_array()) {  // monotone_constraints = [1, -1] -> "(1,-1)"
    std::string out = "(";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ",";
      out += param_text(key, v[i]);
    }
    return out + ")";
  }
  fail(ErrorCode::kInvalidArgument, "xgboost parameter '{}': unsupported value {}", key, v.dump());
}

// The XGBoost eval_metric equivalent to a competition metric, or "" when there is none.
// XGBoost scores the model's scale: with log1p, rmse there is rmsle of the target, and no other
// regression metric has an equivalent.
std::string native_metric(std::string_view spec, Task task, TargetTransform transform) {
  if (transform == TargetTransform::kLog1p) {
    auto name = spec.substr(0, spec.find('@'));
    return name == "rmsle" ? "rmse" : "";
  }
  auto name = spec.substr(0, spec.find('@'));
  bool multi = task == Task::kMulticlass;
  if (name == "roc_auc" || name == "auc") return task == Task::kRegression ? "" : "auc";
  if (name == "average_precision" || name == "pr_auc" || name == "aucpr")
    return task == Task::kBinary ? "aucpr" : "";
  if (name == "log_loss" || name == "logloss" || name == "mlogloss" || name == "cross_entropy")
    return task == Task::kRegression ? "" : (multi ? "mlogloss" : "logloss");
  if (name == "accuracy" || name == "error") return task == Task::kRegression ? "" : (multi ? "merror" : "error");
  if (task != Task::kRegression) return "";
  if (name == "rmse" || name == "mse") return "rmse";
  if (name == "mae") return "mae";
  if (name == "rmsle") return "rmsle";
  if (name == "mape") return "mape";
  return "";
}

bool native_greater_is_better(std::string_view metric) {
  for (std::string_view m : {"auc", "aucpr", "map", "ndcg", "pre"})
    if (metric.substr(0, metric.find('@')) == m) return true;
  return false;
}

std::string default_objective(Task task) {
  switch (task) {
    case Task::kBinary: return "binary:logistic";
    case Task::kMulticlass: return "multi:softprob";
    default: return "reg:squarederror";
  }
}

void set_feature_types(DMatrixHandle h, const FeatureMatrix& fm) {
  if (!fm.has_categorical()) return;
  std::vector<const char*> types;
  for (const auto& f : fm.features())
    types.push_back(f.kind == FeatureKind::kCategorical && !f.fold_encoded() ? "c" : "q");
  COMPE_XGB(XGDMatrixSetStrFeatureInfo, h, "feature_type", types.data(), types.size());
}

DMatrix dmatrix_from(std::span<const float> data, std::size_t rows, const FeatureMatrix& fm,
                     int threads) {
  DMatrixHandle h = nullptr;
  COMPE_XGB(XGDMatrixCreateFromMat_omp, data.data(), rows, fm.num_features(),
            std::numeric_limits<float>::quiet_NaN(), &h, threads);
  DMatrix m(h);
  set_feature_types(h, fm);
  return m;
}

DMatrix slice(const DMatrix& full, std::span<const std::size_t> rows, const FeatureMatrix& fm) {
  std::vector<int> idx(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    COMPE_ASSERT(rows[i] <= static_cast<std::size_t>(std::numeric_limits<int>::max()));
    idx[i] = static_cast<int>(rows[i]);
  }
  DMatrixHandle h = nullptr;
  COMPE_XGB(XGDMatrixSliceDMatrixEx, full.get(), idx.data(), idx.size(), &h, 0);
  DMatrix m(h);
  set_feature_types(h, fm);
  return m;
}

std::vector<double> predict(const Booster& b, const DMatrix& m, std::size_t iteration_end,
                            std::size_t expected_rows, std::size_t cols) {
  std::string config = fmt::format(
      R"({{"type":0,"training":false,"iteration_begin":0,"iteration_end":{},"strict_shape":false}})",
      iteration_end);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  COMPE_XGB(XGBoosterPredictFromDMatrix, b.get(), m.get(), config.c_str(), &shape, &dim, &out);
  std::size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  if (total != expected_rows * cols)
    fail(ErrorCode::kBackend, "xgboost: prediction has {} values, expected {} rows x {} columns",
         total, expected_rows, cols);
  return std::vector<double>(out, out + total);
}

// One "[i]\ttrain-auc:0.9\tvalid-auc:0.8" line -> (dataset, metric, value) triples.
enum class EvalSet : std::uint8_t { kTrain, kInner, kValid };
struct EvalValue {
  EvalSet set = EvalSet::kTrain;
  std::string metric;
  double value = 0;
};
std::vector<EvalValue> parse_eval(std::string_view line) {
  std::vector<EvalValue> out;
  std::size_t pos = line.find('\t');
  while (pos != std::string_view::npos) {
    std::size_t next = line.find('\t', pos + 1);
    std::string_view tok = line.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    pos = next;
    auto colon = tok.rfind(':');
    if (colon == std::string_view::npos) continue;
    EvalValue v;
    std::string_view name = tok.substr(0, colon);
    if (name.starts_with("train-")) {
      name.remove_prefix(6);
    } else if (name.starts_with("inner-")) {
      v.set = EvalSet::kInner;
      name.remove_prefix(6);
    } else if (name.starts_with("valid-")) {
      v.set = EvalSet::kValid;
      name.remove_prefix(6);
    } else {
      continue;
    }
    v.metric = std::string(name);
    std::string num(tok.substr(colon + 1));
    char* end = nullptr;
    v.value = std::strtod(num.c_str(), &end);
    out.push_back(std::move(v));
  }
  return out;
}

// The rows early stopping watches when nothing may be chosen on the validation rows: a share of
// the training fold held out from fitting. It is taken from the latest rows when the fold loop
// passes times, by whole groups when it passes groups, per class for classification (so a rare
// class has rows on both sides), else at random.
struct InnerSplit {
  std::vector<std::size_t> fit, stop;
};

InnerSplit inner_split(const FoldData& data, double fraction, std::uint64_t seed) {
  const auto rows = data.train_rows;
  const std::size_t n = rows.size();
  std::mt19937_64 rng(seed);
  std::vector<char> stop(n, 0);
  auto share = [&](std::size_t count) {
    auto s = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(count)));
    if (count >= 2) s = std::clamp<std::size_t>(s, 1, count - 1);
    return std::min(s, count);
  };
  if (!data.time.empty()) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return data.time[rows[a]] < data.time[rows[b]]; });
    for (std::size_t i = n - share(n); i < n; ++i) stop[order[i]] = 1;
  } else if (!data.groups.empty()) {
    std::map<std::int64_t, std::vector<std::size_t>> by_group;
    for (std::size_t i = 0; i < n; ++i) by_group[data.groups[rows[i]]].push_back(i);
    std::vector<const std::vector<std::size_t>*> groups;
    for (const auto& [g, members] : by_group) groups.push_back(&members);
    std::shuffle(groups.begin(), groups.end(), rng);
    const std::size_t want = share(n);
    std::size_t taken = 0;
    for (std::size_t g = 0; g + 1 < groups.size() && taken < want; ++g) {
      for (auto i : *groups[g]) stop[i] = 1;
      taken += groups[g]->size();
    }
  } else if (data.target->task != Task::kRegression) {
    std::map<double, std::vector<std::size_t>> by_class;
    for (std::size_t i = 0; i < n; ++i) by_class[data.target->y[rows[i]]].push_back(i);
    for (auto& [cls, members] : by_class) {
      std::shuffle(members.begin(), members.end(), rng);
      for (std::size_t j = 0; j < share(members.size()); ++j) stop[members[j]] = 1;
    }
  } else {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t j = 0; j < share(n); ++j) stop[order[j]] = 1;
  }
  InnerSplit out;
  for (std::size_t i = 0; i < n; ++i) (stop[i] ? out.stop : out.fit).push_back(rows[i]);
  return out;
}

// The (weighted) mean target of the rows a model learns from, as base_score, for objectives whose
// base_score is a mean on the target's scale; nothing for the others (multi:softprob does not
// depend on it).
std::optional<double> prior_base_score(const std::string& objective, const Target& target,
                                       std::span<const double> weights, std::span<const std::size_t> rows) {
  const bool probability = objective == "binary:logistic" || objective == "reg:logistic";
  const bool mean = objective == "reg:squarederror" || objective == "reg:pseudohubererror";
  const bool positive = objective == "count:poisson" || objective == "reg:gamma" || objective == "reg:tweedie";
  if (!probability && !mean && !positive) return std::nullopt;
  double sw = 0, s = 0;
  for (auto r : rows) {
    double w = weights.empty() ? 1.0 : weights[r];
    sw += w;
    s += w * target.y[r];
  }
  if (!(sw > 0)) return std::nullopt;
  double m = s / sw;
  if (!std::isfinite(m)) return std::nullopt;
  if (probability) m = std::clamp(m, 1e-6, 1.0 - 1e-6);
  if (positive && !(m > 0)) return std::nullopt;
  return m;
}

// The full train DMatrix (labels and weights set) and the test DMatrix, built once per model and
// reused by every fold that shares the same feature matrix, target and weights.
struct Cache {
  std::uint64_t features_id = 0;
  std::uint64_t labels_hash = 0;  // of the labels and weights
  DMatrix train;
  DMatrix test;
};

// The backend's own parameters, read and checked once per fold.
struct Settings {
  std::int64_t rounds = 0;
  std::int64_t patience = 0;
  int threads = 1;
  std::int64_t seed = 0;
  std::string objective;
  std::string tree_method;
  std::string stopping;  // inner | valid
  double inner_fraction = 0.2;
  bool refit = false;
};

void check_objective(const std::string& objective, Task task) {
  bool ok = (task == Task::kBinary && objective.starts_with("binary:")) ||
            (task == Task::kMulticlass && objective == "multi:softprob") ||
            (task == Task::kRegression &&
             (objective.starts_with("reg:") || objective.starts_with("count:") || objective.starts_with("survival:")));
  if (!ok || objective == "binary:logitraw" || objective == "binary:hinge")
    fail(ErrorCode::kInvalidArgument, "xgboost parameter 'objective' = '{}' does not fit a {} task: expected {}",
         objective, task == Task::kBinary ? "binary" : (task == Task::kMulticlass ? "multiclass" : "regression"),
         task == Task::kBinary ? "binary:logistic" : (task == Task::kMulticlass ? "multi:softprob" : "reg:*"));
}

Settings read_settings(const nlohmann::json& params, const FoldData& data) {
  const FeatureMatrix& fm = *data.features;
  const Target& target = *data.target;
  Settings s;
  s.rounds = param_int(params, kName, "num_boost_round", 1000, 1);
  s.patience = param_int(params, kName, "early_stopping_rounds", 0, 0);
  s.threads = static_cast<int>(resolve_threads(static_cast<std::size_t>(
      param_int(params, kName, "nthread", static_cast<std::int64_t>(data.threads), 0))));
  s.seed = param_int(params, kName, "seed", static_cast<std::int64_t>(data.seed % (1ull << 31)), 0);
  s.objective = param_string(params, kName, "objective", default_objective(target.task));
  check_objective(s.objective, target.task);
  if (params.contains("num_class") && target.task == Task::kMulticlass &&
      param_int(params, kName, "num_class", 0, 0) != static_cast<std::int64_t>(target.num_class))
    fail(ErrorCode::kInvalidArgument, "xgboost parameter 'num_class' = {} but the target '{}' has {} classes",
         params["num_class"].dump(), target.column, target.num_class);
  s.tree_method = param_string(params, kName, "tree_method", "hist");
  param_int(params, kName, "max_cat_to_onehot", 4, 1);
  if (fm.has_categorical() && s.tree_method != "hist" && s.tree_method != "approx" && s.tree_method != "gpu_hist")
    fail(ErrorCode::kInvalidArgument,
         "xgboost parameter 'tree_method' = '{}' cannot use categorical features: expected hist or approx",
         s.tree_method);
  s.stopping = param_string(params, kName, "early_stopping", "inner");
  if (s.stopping != "inner" && s.stopping != "valid")
    fail(ErrorCode::kInvalidArgument,
         "xgboost parameter 'early_stopping' = '{}': expected inner (a held-out share of the training "
         "fold) or valid (the validation rows themselves: an optimistic CV)",
         s.stopping);
  s.inner_fraction = param_double(params, kName, "inner_fraction", 0.2);
  if (!(s.inner_fraction > 0 && s.inner_fraction < 1))
    fail(ErrorCode::kInvalidArgument, "xgboost parameter 'inner_fraction' = {}: expected a number between 0 and 1",
         s.inner_fraction);
  s.refit = param_bool(params, kName, "refit", false);
  return s;
}

// Where early stopping looks: a held-out share of the training fold (inner), the validation rows
// (valid), or nowhere. Records the choice in `result`.
struct Stopping {
  bool on_inner = false, on_valid = false;
  InnerSplit inner;
};

Stopping choose_stopping(const Settings& s, const FoldData& data, FoldResult& result) {
  Stopping st;
  st.on_inner = s.patience > 0 && s.stopping == "inner";
  st.on_valid = s.patience > 0 && s.stopping == "valid" && !data.valid_rows.empty();
  if (st.on_inner) {
    st.inner = inner_split(data, s.inner_fraction,
                           static_cast<std::uint64_t>(s.seed) * 1000003u + static_cast<std::uint64_t>(data.fold));
    if (st.inner.stop.size() < 2 || st.inner.fit.empty()) {
      st.on_inner = false;
      result.notes.push_back(fmt::format(
          "xgboost fold {}: {} train rows are too few to hold out an early-stopping share: every round is kept",
          data.fold, data.train_rows.size()));
    }
  }
  result.early_stopping = st.on_inner ? "inner" : st.on_valid ? "valid" : "none";
  result.inner_rows = st.on_inner ? st.inner.stop.size() : 0;
  result.optimistic = st.on_valid;
  return st;
}

// The fold's matrices: slices of the full train matrix (the learning rows, the held-out share,
// the validation rows) and the test matrix.
struct Matrices {
  DMatrix train, fit, stop, valid;
  DMatrix pretrain;  // pretrain_finetune: the fold's pseudo rows alone
  DMatrix fold_train, fold_test;  // count-encoded features: this fold's own full matrices
  const DMatrix* test = nullptr;
  const DMatrix& learn(const Stopping& st) const { return st.on_inner ? fit : train; }
};

DMatrix labelled(std::span<const float> values, std::size_t rows, const FeatureMatrix& fm, const Target& target,
                 std::span<const double> weights, int threads) {
  DMatrix m = dmatrix_from(values, rows, fm, threads);
  std::vector<float> labels(target.y.begin(), target.y.end());
  COMPE_XGB(XGDMatrixSetFloatInfo, m.get(), "label", labels.data(), labels.size());
  if (!weights.empty()) {
    std::vector<float> w(weights.begin(), weights.end());
    COMPE_XGB(XGDMatrixSetFloatInfo, m.get(), "weight", w.data(), w.size());
  }
  return m;
}

// The given train-table rows followed by the fold's pseudo rows (test rows, their labels and
// weights), as one matrix: what concat learns from. Train rows keep their labels and weights.
DMatrix with_pseudo(std::span<const float> train_values, std::span<const float> test_values,
                    std::span<const std::size_t> rows, const FoldData& data, int threads) {
  const FeatureMatrix& fm = *data.features;
  const PseudoRows& ps = *data.pseudo;
  const std::size_t nf = fm.num_features(), n = rows.size() + ps.test_rows.size();
  std::vector<float> values(n * nf);
  std::vector<float> labels(n), weights(n, 1.0f);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(train_values.begin() + static_cast<std::ptrdiff_t>(rows[i] * nf), nf,
                values.begin() + static_cast<std::ptrdiff_t>(i * nf));
    labels[i] = static_cast<float>(data.target->y[rows[i]]);
    if (!data.weights.empty()) weights[i] = static_cast<float>(data.weights[rows[i]]);
  }
  for (std::size_t j = 0; j < ps.test_rows.size(); ++j) {
    const std::size_t i = rows.size() + j;
    std::copy_n(test_values.begin() + static_cast<std::ptrdiff_t>(ps.test_rows[j] * nf), nf,
                values.begin() + static_cast<std::ptrdiff_t>(i * nf));
    labels[i] = static_cast<float>(ps.labels[j]);
    weights[i] = static_cast<float>(ps.weights[j]);
  }
  DMatrix m = dmatrix_from(values, n, fm, threads);
  COMPE_XGB(XGDMatrixSetFloatInfo, m.get(), "label", labels.data(), labels.size());
  COMPE_XGB(XGDMatrixSetFloatInfo, m.get(), "weight", weights.data(), weights.size());
  return m;
}

// Pseudo rows into the fold's matrices: concat appends them to the matrices the booster learns
// from (never to the held-out stopping share or the validation rows); pretrain_finetune keeps
// them alone for the first rounds.
void add_pseudo(const FoldData& data, const Settings& s, const Stopping& st, Matrices& m) {
  if (!data.pseudo || data.pseudo->test_rows.empty()) return;
  const FeatureMatrix& fm = *data.features;
  std::vector<float> fold_train, fold_test;
  std::span<const float> train_values = fm.train(), test_values = fm.test();
  if (fm.has_fold_encoding()) {
    fold_train = fm.fold_values(data.train_rows, false, *data.target);
    fold_test = fm.fold_values(data.train_rows, true, *data.target);
    train_values = fold_train;
    test_values = fold_test;
  }
  if (data.pseudo->pretrain()) {
    m.pretrain = with_pseudo(train_values, test_values, {}, data, s.threads);
    return;
  }
  if (st.on_inner) m.fit = with_pseudo(train_values, test_values, st.inner.fit, data, s.threads);
  if (!st.on_inner || s.refit) m.train = with_pseudo(train_values, test_values, data.train_rows, data, s.threads);
}

// pretrain_finetune: the first boosting rounds on the pseudo rows alone; returns how many.
std::size_t pretrain(Booster& booster, const FoldData& data, const Matrices& m, const ProgressCallback& progress) {
  if (!m.pretrain.get()) return 0;
  const std::size_t rounds = data.pseudo->pretrain_rounds;
  for (std::size_t i = 0; i < rounds; ++i) {
    COMPE_XGB(XGBoosterUpdateOneIter, booster.get(), static_cast<int>(i), m.pretrain.get());
    if (progress) progress(Progress{data.fold, i + 1, rounds, "pretrain on pseudo rows"});
  }
  return rounds;
}

void slice_fold(const DMatrix& full, const FoldData& data, const Stopping& st, bool refit, Matrices& m) {
  const FeatureMatrix& fm = *data.features;
  if (st.on_inner) {
    m.fit = slice(full, st.inner.fit, fm);
    m.stop = slice(full, st.inner.stop, fm);
  }
  if (!st.on_inner || refit) m.train = slice(full, data.train_rows, fm);
  if (!data.valid_rows.empty()) m.valid = slice(full, data.valid_rows, fm);
}

// XGBoost 1.7 starts every model from base_score 0.5; from the prior of the rows it learns from
// instead, an early stop after few rounds still predicts on the target's scale, so the folds'
// predictions pool into one OOF ranking.
std::unique_ptr<Booster> make_booster(const Settings& s, const nlohmann::json& params, const FoldData& data,
                                      const Matrices& m, const DMatrix& learn,
                                      std::span<const std::size_t> learn_rows, FoldResult& result) {
  const Target& target = *data.target;
  const bool user_base_score = params.contains("base_score") && !params["base_score"].is_null();
  std::vector<DMatrixHandle> handles{learn.get()};
  if (m.stop.get()) handles.push_back(m.stop.get());
  if (m.valid.get()) handles.push_back(m.valid.get());
  if (m.pretrain.get()) handles.push_back(m.pretrain.get());
  auto b = std::make_unique<Booster>(handles.data(), handles.size());
  b->set("objective", s.objective);
  if (target.task == Task::kMulticlass) b->set("num_class", std::to_string(target.num_class));
  b->set("tree_method", s.tree_method);
  b->set("nthread", std::to_string(s.threads));
  b->set("seed", std::to_string(s.seed));
  b->set("verbosity", "0");  // core code never prints; users may raise it
  if (!user_base_score) {
    if (auto prior = prior_base_score(s.objective, target, data.weights, learn_rows)) {
      b->set("base_score", format_double(*prior));
      result.base_score = *prior;
    }
  }
  for (const auto& [key, value] : params.items()) {
    if (std::find(own_params().begin(), own_params().end(), key) != own_params().end() &&
        key != "max_cat_to_onehot")
      continue;
    b->set(key, param_text(key, value));
  }
  return b;
}

// Early-stopping metric: the user's eval_metric (last one), else the competition metric's native
// equivalent, else (stopping on the validation rows only) the user evaluator, else the
// objective's default metric. Returns true when the user evaluator is to be used.
bool set_eval_metrics(Booster& booster, const nlohmann::json& params, const FoldData& data, const Stopping& st) {
  std::vector<std::string> eval_metrics;
  bool use_evaluator = false;
  if (auto it = params.find("eval_metric"); it != params.end() && !it->is_null()) {
    if (it->is_array()) {
      for (const auto& m : *it) eval_metrics.push_back(param_text("eval_metric", m));
    } else {
      eval_metrics.push_back(param_text("eval_metric", *it));
    }
  } else if (auto native = native_metric(data.metric, data.target->task, data.target->transform); !native.empty()) {
    eval_metrics.push_back(native);
  } else if (data.evaluator && data.evaluator->score && !st.on_inner) {
    use_evaluator = true;
  }
  for (const auto& m : eval_metrics) booster.set("eval_metric", m);
  return use_evaluator;
}

// The boosting rounds with evaluation, curves, progress and early stopping; sets the result's
// curves, num_iterations and best_iteration.
// `start`: rounds the booster already holds (pretrain_finetune's rounds on the pseudo rows); the
// rounds here continue from them and the iterations recorded count them.
void boost(Booster& booster, const Settings& s, const nlohmann::json& params, const FoldData& data,
           const Matrices& m, const Stopping& st, bool use_evaluator, const ProgressCallback& progress,
           std::size_t start, FoldResult& result) {
  const std::size_t k = data.target->prediction_columns();
  const bool has_valid = !data.valid_rows.empty();
  const DMatrix& dlearn = m.learn(st);
  // The training curve costs a metric over every train row each round (an AUC sorts them): by
  // default it is drawn for up to 100,000 train rows; `eval_train` forces it on or off.
  const bool eval_train = param_bool(params, kName, "eval_train", data.train_rows.size() <= 100000);
  std::vector<const char*> names;
  std::vector<DMatrixHandle> evals;
  if (eval_train) {
    names.push_back("train");
    evals.push_back(dlearn.get());
  }
  if (st.on_inner) {
    names.push_back("inner");
    evals.push_back(m.stop.get());
  }
  if (has_valid) {
    names.push_back("valid");
    evals.push_back(m.valid.get());
  }

  std::optional<double> best;
  bool greater = true;
  std::size_t best_iter = 0;
  std::size_t iter = 0;
  Curve user_curve;
  if (use_evaluator) user_curve.metric = data.evaluator->name;
  for (; iter < static_cast<std::size_t>(s.rounds); ++iter) {
    COMPE_XGB(XGBoosterUpdateOneIter, booster.get(), static_cast<int>(start + iter), dlearn.get());
    const char* line = nullptr;
    if (!evals.empty())
      COMPE_XGB(XGBoosterEvalOneIter, booster.get(), static_cast<int>(start + iter), evals.data(), names.data(),
                evals.size(), &line);
    auto values = parse_eval(line ? line : "");
    std::optional<double> stop_value;
    std::string message;
    for (const auto& v : values) {
      if (v.set == EvalSet::kInner) {  // the stopping metric; the fold's curves stay train / valid
        stop_value = v.value;
        greater = native_greater_is_better(v.metric);
        continue;
      }
      auto curve = std::find_if(result.curves.begin(), result.curves.end(),
                                [&](const Curve& c) { return c.metric == v.metric; });
      if (curve == result.curves.end()) {
        result.curves.push_back(Curve{v.metric, {}, {}});
        curve = std::prev(result.curves.end());
      }
      (v.set == EvalSet::kValid ? curve->valid : curve->train).push_back(v.value);
      if (v.set == EvalSet::kValid) {
        if (!st.on_inner) {
          stop_value = v.value;
          greater = native_greater_is_better(v.metric);
        }
        message = fmt::format("valid-{}:{}", v.metric, v.value);
      }
    }
    if (use_evaluator && has_valid) {
      auto pred = predict(booster, m.valid, start + iter + 1, data.valid_rows.size(), k);
      double score = data.evaluator->score(pred, k);
      user_curve.valid.push_back(score);
      stop_value = score;
      greater = data.evaluator->greater_is_better;
      message = fmt::format("valid-{}:{}", data.evaluator->name, score);
    }
    if (progress) progress(Progress{data.fold, iter + 1, static_cast<std::size_t>(s.rounds), message});
    if (stop_value && !std::isnan(*stop_value)) {
      if (!best || (greater ? *stop_value > *best : *stop_value < *best)) {
        best = stop_value;
        best_iter = iter;
      } else if ((st.on_inner || st.on_valid) && iter - best_iter >= static_cast<std::size_t>(s.patience)) {
        ++iter;
        break;
      }
    }
  }
  if (use_evaluator) result.curves.push_back(std::move(user_curve));
  result.num_iterations = start + iter;
  result.best_iteration = start + (((st.on_inner || st.on_valid) && best) ? best_iter : iter - 1);
}

// Total gain per feature, by the feature matrix's names.
void feature_importance(const Booster& booster, const FeatureMatrix& fm, FoldResult& result) {
  bst_ulong n_features = 0, dim = 0;
  const char** fnames = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  COMPE_XGB(XGBoosterFeatureScore, booster.get(), R"({"importance_type":"total_gain","feature_map":""})",
            &n_features, &fnames, &dim, &shape, &scores);
  std::size_t per_feature = 1;
  for (bst_ulong i = 1; i < dim; ++i) per_feature *= shape[i];
  for (bst_ulong i = 0; i < n_features; ++i) {
    std::string_view fname = fnames[i];
    std::size_t index = 0;
    if (fname.starts_with("f")) {
      auto [ptr, ec] = std::from_chars(fname.data() + 1, fname.data() + fname.size(), index);
      if (ec != std::errc() || index >= fm.num_features()) continue;
    } else {
      continue;
    }
    double total = 0;
    for (std::size_t j = 0; j < per_feature; ++j) total += scores[i * per_feature + j];
    result.importance[fm.features()[index].name] = total;
  }
}

// Permutation importance with the fold's booster: its validation rows as it saw them (count
// encodings of the training fold), one feature shuffled at a time.
void permuted(const Booster& booster, const FoldData& data, const Settings& s, FoldResult& result) {
  const FeatureMatrix& fm = *data.features;
  const std::size_t nf = fm.num_features();
  std::vector<float> fold_train;
  std::span<const float> train_values = fm.train();
  if (fm.has_fold_encoding()) {
    fold_train = fm.fold_values(data.train_rows, false, *data.target);
    train_values = fold_train;
  }
  std::vector<float> valid(data.valid_rows.size() * nf);
  for (std::size_t i = 0; i < data.valid_rows.size(); ++i)
    std::copy_n(train_values.begin() + static_cast<std::ptrdiff_t>(data.valid_rows[i] * nf), nf,
                valid.begin() + static_cast<std::ptrdiff_t>(i * nf));
  const std::size_t end = result.best_iteration + 1;
  permutation_scores(data, valid, [&](std::span<const float> values, std::size_t rows) {
    DMatrix m = dmatrix_from(values, rows, fm, s.threads);
    return predict(booster, m, end, rows, result.cols);
  }, result);
}

class XgboostModel final : public Model {
 public:
  explicit XgboostModel(const Info& info) : Model(info) {}

  FoldResult fit_predict(const FoldData& data, const nlohmann::json& user_params,
                         const ProgressCallback& progress) override;

 private:
  // The fold's matrices: with count-encoded features its own, else slices of the cached ones.
  void build_matrices(const FoldData& data, const Settings& s, const Stopping& st, Matrices& m);
  // Multilabel: one binary booster per label column, each label with a model (and matrix cache)
  // of its own that the folds share.
  FoldResult fit_multilabel(const FoldData& data, const nlohmann::json& user_params, const ProgressCallback& progress);

  std::mutex mutex_;
  Cache cache_;
  std::vector<std::unique_ptr<XgboostModel>> labels_;
};

FoldResult XgboostModel::fit_multilabel(const FoldData& data, const nlohmann::json& user_params,
                                        const ProgressCallback& progress) {
  std::vector<XgboostModel*> models;
  {
    std::lock_guard lock(mutex_);
    while (labels_.size() < data.target->num_class) labels_.push_back(std::make_unique<XgboostModel>(info()));
    for (std::size_t j = 0; j < data.target->num_class; ++j) models.push_back(labels_[j].get());
  }
  return fit_per_label(data, progress, [&](const FoldData& d, const ProgressCallback& p, std::size_t j) {
    return models[j]->fit_predict(d, user_params, p);
  });
}

void XgboostModel::build_matrices(const FoldData& data, const Settings& s, const Stopping& st, Matrices& m) {
  const FeatureMatrix& fm = *data.features;
  const Target& target = *data.target;
  if (fm.has_fold_encoding()) {
    auto train_values = fm.fold_values(data.train_rows, false, *data.target);
    m.fold_train = labelled(train_values, fm.num_train_rows(), fm, target, data.weights, s.threads);
    if (fm.num_test_rows() > 0) {
      auto test_values = fm.fold_values(data.train_rows, true, *data.target);
      m.fold_test = dmatrix_from(test_values, fm.num_test_rows(), fm, s.threads);
      m.test = &m.fold_test;
    }
    slice_fold(m.fold_train, data, st, s.refit, m);
    return;
  }
  std::lock_guard lock(mutex_);
  Hasher h;
  h.update(target.y.data(), target.y.size() * sizeof(double));
  h.update_i64(static_cast<std::int64_t>(data.weights.size()));
  h.update(data.weights.data(), data.weights.size() * sizeof(double));
  if (cache_.features_id != fm.id() || cache_.labels_hash != h.digest() || !cache_.train.get()) {
    cache_ = Cache{};
    cache_.train = labelled(fm.train(), fm.num_train_rows(), fm, target, data.weights, s.threads);
    if (fm.num_test_rows() > 0) cache_.test = dmatrix_from(fm.test(), fm.num_test_rows(), fm, s.threads);
    cache_.features_id = fm.id();
    cache_.labels_hash = h.digest();
  }
  slice_fold(cache_.train, data, st, s.refit, m);
  m.test = fm.num_test_rows() > 0 ? &cache_.test : nullptr;
}

FoldResult XgboostModel::fit_predict(const FoldData& data, const nlohmann::json& user_params,
                                     const ProgressCallback& progress) {
  check_fold_data(data);
  if (data.target->task == Task::kMultilabel) return fit_multilabel(data, user_params, progress);
  const nlohmann::json params = resolve_params(info(), user_params);
  const Settings s = read_settings(params, data);
  const std::size_t k = data.target->prediction_columns();
  FoldResult result;
  result.cols = k;
  const Stopping st = choose_stopping(s, data, result);
  Matrices m;
  build_matrices(data, s, st, m);
  add_pseudo(data, s, st, m);

  std::unique_ptr<Booster> booster = make_booster(
      s, params, data, m, m.learn(st), st.on_inner ? std::span<const std::size_t>(st.inner.fit) : data.train_rows,
      result);
  const bool use_evaluator = set_eval_metrics(*booster, params, data, st);
  const std::size_t pretrained = pretrain(*booster, data, m, progress);
  boost(*booster, s, params, data, m, st, use_evaluator, progress, pretrained, result);

  if (st.on_inner && s.refit) {
    // The round count found on the held-out share, trained again on the whole training fold.
    booster = make_booster(s, params, data, m, m.train, data.train_rows, result);
    const std::size_t refit_rounds = result.best_iteration + 1;
    for (std::size_t i = pretrain(*booster, data, m, progress); i < refit_rounds; ++i) {
      COMPE_XGB(XGBoosterUpdateOneIter, booster->get(), static_cast<int>(i), m.train.get());
      if (progress) progress(Progress{data.fold, i + 1, refit_rounds, "refit"});
    }
  }

  if (!data.valid_rows.empty())
    result.valid_pred = predict(*booster, m.valid, result.best_iteration + 1, data.valid_rows.size(), k);
  if (m.test) {
    std::lock_guard lock(mutex_);  // the test DMatrix is shared by every fold
    result.test_pred = predict(*booster, *m.test, result.best_iteration + 1, data.features->num_test_rows(), k);
  }
  feature_importance(*booster, *data.features, result);
  if (data.permutation_repeats > 0) permuted(*booster, data, s, result);
  check_predictions(result, data, kName);
  return result;
}

}  // namespace

std::unique_ptr<Model> make_xgboost(const Info& info) { return std::make_unique<XgboostModel>(info); }

nlohmann::json xgboost_default_params() {
  return {{"num_boost_round", 1000}, {"early_stopping_rounds", 100}, {"learning_rate", 0.05},
          {"max_depth", 6},          {"tree_method", "hist"},       {"max_cat_to_onehot", 4},
          {"early_stopping", "inner"}, {"inner_fraction", 0.2},     {"refit", false}};
}

std::vector<std::string> xgboost_known_params() { return own_params(); }

std::vector<std::string> xgboost_passthrough_params() { return native_params(); }

std::vector<ParamSpec> xgboost_param_specs() {
  using T = ParamSpec::Type;
  constexpr double inf = kInf;
  auto integer = [](std::string n, double lo, double hi = kInf) {
    return ParamSpec{.name = std::move(n), .type = T::kInt, .min = lo, .max = hi};
  };
  auto number = [](std::string n, double lo = -kInf, double hi = kInf, bool lo_open = false,
                   bool hi_open = false) {
    return ParamSpec{.name = std::move(n), .type = T::kNumber, .min = lo, .max = hi,
                     .min_open = lo_open, .max_open = hi_open};
  };
  auto boolean = [](std::string n) { return ParamSpec{.name = std::move(n), .type = T::kBool}; };
  auto text = [](std::string n, std::vector<std::string> choices = {}) {
    return ParamSpec{.name = std::move(n), .type = T::kString, .choices = std::move(choices)};
  };
  auto list = [](std::string n) { return ParamSpec{.name = std::move(n), .type = T::kList}; };
  return {
      // compe's own
      integer("num_boost_round", 1), integer("early_stopping_rounds", 0), text("objective"),
      integer("num_class", 1), ParamSpec{.name = "eval_metric", .type = T::kStrings},
      integer("nthread", 0, static_cast<double>(kMaxThreads)), integer("seed", 0),
      text("tree_method", {"auto", "exact", "approx", "hist", "gpu_hist"}),
      integer("max_cat_to_onehot", 1), boolean("eval_train"),
      text("early_stopping", {"inner", "valid"}), number("inner_fraction", 0, 1, true, true),
      boolean("refit"),
      // XGBoost 1.7's, with the bounds its parameter declarations give
      text("booster", {"gbtree", "gblinear", "dart"}), integer("verbosity", 0, 3),
      boolean("validate_parameters"), boolean("disable_default_eval_metric"), number("base_score"),
      number("eta", 0), number("learning_rate", 0), number("gamma", 0), number("min_split_loss", 0),
      integer("max_depth", 0), number("min_child_weight", 0), number("max_delta_step", 0),
      number("subsample", 0, 1, true), text("sampling_method", {"uniform", "gradient_based"}),
      number("colsample_bytree", 0, 1, true), number("colsample_bylevel", 0, 1, true),
      number("colsample_bynode", 0, 1, true), number("lambda", 0), number("reg_lambda", 0),
      number("alpha", 0), number("reg_alpha", 0), number("sketch_eps", 0, 1, true, true),
      number("scale_pos_weight", 0), text("updater"), boolean("refresh_leaf"),
      text("process_type", {"default", "update"}), text("grow_policy", {"depthwise", "lossguide"}),
      integer("max_leaves", 0), integer("max_bin", 2),
      text("predictor", {"auto", "cpu_predictor", "gpu_predictor"}), integer("num_parallel_tree", 1),
      list("monotone_constraints"), list("interaction_constraints"), integer("max_cat_threshold", 1),
      boolean("single_precision_histogram"), boolean("deterministic_histogram"),
      integer("gpu_id", -1), boolean("seed_per_iteration"), number("tweedie_variance_power", 1, 2, false, true),
      number("huber_slope", 0, inf, true), number("quantile_alpha", 0, 1, true, true),
      text("aft_loss_distribution", {"normal", "logistic", "extreme"}),
      number("aft_loss_distribution_scale", 0, inf, true), text("sample_type", {"uniform", "weighted"}),
      text("normalize_type", {"tree", "forest"}), number("rate_drop", 0, 1), boolean("one_drop"),
      number("skip_drop", 0, 1), text("feature_selector", {"cyclic", "shuffle", "random", "greedy", "thrifty"}),
      integer("top_k", 0), text("lambdarank_pair_method"), integer("max_cached_hist_node", 1),
      integer("random_state", 0), boolean("use_rmm"), boolean("fail_on_invalid_gpu_id")};
}

std::vector<std::pair<std::string, std::string>> xgboost_param_aliases() {
  return {{"eta", "learning_rate"}, {"lambda", "reg_lambda"}, {"alpha", "reg_alpha"},
          {"gamma", "min_split_loss"}, {"seed", "random_state"}};
}

std::string xgboost_library_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return fmt::format("xgboost {}.{}.{}", major, minor, patch);
}

}  // namespace compe::model
