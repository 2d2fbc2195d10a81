// Decisions for label metrics: a binary threshold, the optimised rounder (ordinal classes, qwk)
// and per-class weights (other multiclass label metrics), fitted on OOF rows.
//
// Every label metric of a binary or multiclass task is a function of the confusion matrix, so a
// candidate decision is scored by the registry's own metric on k x k weighted rows (one per
// cell, weight = count): moving a cut updates a few cells instead of rescoring every row.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe::blend {

namespace {

/// The reference's metric scored from a confusion matrix (counts[true * k + predicted]). Only
/// labels present (in the truth or the predictions) get cells, as the metric averages over
/// those.
class CountScorer {
 public:
  CountScorer(const std::string& metric, std::size_t k) : metric_(metric::make(metric)), k_(k) {}
  double operator()(const std::vector<double>& counts) {
    yt_.clear(), yp_.clear(), w_.clear();
    present_.assign(k_, false);
    for (std::size_t i = 0; i < k_; ++i)
      for (std::size_t j = 0; j < k_; ++j)
        if (counts[i * k_ + j] > 0) present_[i] = present_[j] = true;
    for (std::size_t i = 0; i < k_; ++i)
      for (std::size_t j = 0; j < k_; ++j)
        if (present_[i] && present_[j]) {
          yt_.push_back(static_cast<double>(i));
          yp_.push_back(static_cast<double>(j));
          w_.push_back(counts[i * k_ + j]);
        }
    return metric_->score({.y_true = yt_, .y_pred = yp_, .weights = w_});
  }
  /// Strictly better, ignoring differences at rounding level.
  bool better(double a, double b) const {
    double eps = 1e-12 * std::max(1.0, std::abs(b));
    return metric_->info().greater_is_better() ? a > b + eps : a < b - eps;
  }
  const std::string& name() const { return metric_->info().name; }
  std::size_t classes() const { return k_; }

 private:
  std::unique_ptr<metric::Metric> metric_;
  std::size_t k_;
  std::vector<double> yt_, yp_, w_;
  std::vector<bool> present_;
};

/// The metric's sufficient statistics, updated one moved row at a time: per class the diagonal
/// cell, the predicted and the true counts, and the number correct. Accuracy and the micro
/// averages are read in O(1), the macro / weighted averages, balanced accuracy and mcc in O(k)
/// with the metric's own formulas and summation order (over the labels present, ascending), so
/// scores equal the registry's; any other label metric (qwk) is scored by the CountScorer from
/// the confusion matrix kept alongside.
class LabelStats {
 public:
  enum class Kind { kAccuracy, kBalanced, kPerClass, kMcc, kGeneric };
  enum class Part { kF1, kPrecision, kRecall };
  enum class Average { kBinary, kMacro, kWeighted };

  explicit LabelStats(CountScorer& scorer) : scorer_(scorer), k_(scorer.classes()) {
    const std::string& n = scorer.name();
    const std::string base = n.substr(0, n.find('_'));
    const std::string suffix = n.find('_') == std::string::npos ? "" : n.substr(n.find('_') + 1);
    if (n == "accuracy" || suffix == "micro")
      kind_ = Kind::kAccuracy;
    else if (n == "balanced_accuracy")
      kind_ = Kind::kBalanced;
    else if (n == "mcc")
      kind_ = Kind::kMcc;
    else if ((base == "f1" || base == "precision" || base == "recall") &&
             (suffix.empty() || suffix == "macro" || suffix == "weighted")) {
      kind_ = Kind::kPerClass;
      part_ = base == "f1" ? Part::kF1 : base == "precision" ? Part::kPrecision : Part::kRecall;
      avg_ = suffix.empty() ? Average::kBinary : suffix == "macro" ? Average::kMacro : Average::kWeighted;
    }
  }

  void reset(const std::vector<double>& counts) {
    counts_ = counts;
    diag_.assign(k_, 0.0), pred_.assign(k_, 0.0), true_.assign(k_, 0.0);
    correct_ = total_ = 0;
    for (std::size_t t = 0; t < k_; ++t)
      for (std::size_t p = 0; p < k_; ++p) {
        const double c = counts[t * k_ + p];
        true_[t] += c, pred_[p] += c, total_ += c;
        if (t == p) diag_[t] += c, correct_ += c;
      }
  }

  /// One row of truth t moves from predicted label `from` to `to`.
  void move(std::size_t t, std::size_t from, std::size_t to) {
    counts_[t * k_ + from] -= 1, counts_[t * k_ + to] += 1;
    pred_[from] -= 1, pred_[to] += 1;
    if (t == from) diag_[t] -= 1, correct_ -= 1;
    if (t == to) diag_[t] += 1, correct_ += 1;
  }

  double score() const {
    switch (kind_) {
      case Kind::kAccuracy:
        return correct_ / total_;
      case Kind::kBalanced: {
        double sum = 0;
        std::size_t classes = 0;
        for (std::size_t c = 0; c < k_; ++c)
          if (true_[c] > 0) sum += diag_[c] / true_[c], ++classes;
        return sum / static_cast<double>(classes);
      }
      case Kind::kMcc:
        return mcc();
      case Kind::kPerClass:
        return per_class_average();
      case Kind::kGeneric:
        break;
    }
    return scorer_(counts_);
  }

 private:
  static double safe_div(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

  double mcc() const {
    double tp = 0, pp = 0, tt = 0;
    for (std::size_t c = 0; c < k_; ++c) tp += true_[c] * pred_[c], pp += pred_[c] * pred_[c];
    for (std::size_t c = 0; c < k_; ++c) tt += true_[c] * true_[c];
    const double cov_ytyp = correct_ * total_ - tp;
    const double cov_ypyp = total_ * total_ - pp;
    const double cov_ytyt = total_ * total_ - tt;
    if (cov_ypyp * cov_ytyt == 0) return 0.0;
    return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
  }

  double per_class(std::size_t c) const {
    const double precision = safe_div(diag_[c], pred_[c]), recall = safe_div(diag_[c], true_[c]);
    if (part_ == Part::kPrecision) return precision;
    if (part_ == Part::kRecall) return recall;
    return safe_div(2 * precision * recall, precision + recall);
  }

  double per_class_average() const {
    if (avg_ == Average::kBinary) {
      // Label 1 of a binary task; 0 when neither the truth nor the predictions hold it.
      if (k_ < 2 || (true_[1] == 0 && pred_[1] == 0)) return 0.0;
      return per_class(1);
    }
    double sum = 0;
    std::size_t present = 0;
    for (std::size_t c = 0; c < k_; ++c) {
      if (true_[c] == 0 && pred_[c] == 0) continue;
      ++present;
      sum += avg_ == Average::kMacro ? per_class(c) : per_class(c) * true_[c];
    }
    return avg_ == Average::kMacro ? sum / static_cast<double>(present) : safe_div(sum, total_);
  }

  CountScorer& scorer_;
  std::size_t k_;
  Kind kind_ = Kind::kGeneric;
  Part part_ = Part::kF1;
  Average avg_ = Average::kMacro;
  std::vector<double> counts_, diag_, pred_, true_;
  double correct_ = 0, total_ = 0;
};

std::size_t classes_of(const Reference& ref) {
  return ref.task == metric::kBinary ? 2 : ref.cols();
}

// The multilabel F1 metrics threshold each column's probabilities: thresholds per column help.
bool thresholds_columns(std::string_view spec) {
  const std::string& name = metric::make(spec)->info().name;
  return name == "f1_micro_multilabel" || name == "f1_macro_multilabel" || name == "f1_samples_multilabel";
}

void check_decidable(const Reference& ref) {
  if (ref.task == metric::kMultilabel) {
    if (!thresholds_columns(ref.metric))
      fail(ErrorCode::kInvalidArgument,
           "metric '{}' scores probabilities: per-column thresholds apply to the multilabel F1 metrics "
           "(f1_micro_multilabel, f1_macro_multilabel, f1_samples_multilabel)",
           ref.metric);
    return;
  }
  if (ref.task != metric::kBinary && ref.task != metric::kMulticlass)
    fail(ErrorCode::kInvalidArgument,
         "thresholds and rounding apply to binary and multiclass tasks; this one is {}",
         metric::task_name(ref.task));
  if (!scores_labels(ref.metric))
    fail(ErrorCode::kInvalidArgument,
         "metric '{}' scores probabilities or scores, not labels: a threshold cannot change it "
         "(thresholds help accuracy, f1, mcc, qwk and the other label metrics)",
         ref.metric);
}

std::string kind_for(const Reference& ref) {
  if (ref.task == metric::kMultilabel) return "column_thresholds";
  if (ref.task == metric::kBinary) return "threshold";
  return metric::make(ref.metric)->info().name == "qwk" ? "rounder" : "class_weights";
}

/// The expected class index of each row (rounder's score).
std::vector<double> expected_index(std::span<const double> pred, std::size_t cols) {
  const std::size_t rows = pred.size() / cols;
  std::vector<double> s(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    double v = 0;
    for (std::size_t c = 0; c < cols; ++c) v += static_cast<double>(c) * pred[r * cols + c];
    s[r] = v;
  }
  return s;
}

/// A value strictly between a < b (b itself when they are neighbouring doubles).
double between(double a, double b) {
  double m = a + (b - a) / 2;
  return m > a && m < b ? m : b;
}

/// One sweep: `order` holds rows sorted by their switch value `key` ascending; each row moves
/// from label `from[r]` to label `to` as the parameter passes its key (rows of equal keys move
/// together). `counts` is the confusion matrix with every row of `order` at `from`. Returns the
/// number of groups moved (0..G) at the best score (the middle of the positions reaching it) and
/// fills `group_keys`.
struct Sweep {
  std::size_t best_groups = 0;
  double best_score = 0;
  std::vector<double> group_keys;  ///< distinct keys ascending
};

Sweep sweep(CountScorer& scorer, const std::vector<double>& counts,
            const std::vector<std::size_t>& order, std::span<const double> key,
            std::span<const int> from, int to, std::span<const double> y_true) {
  Sweep out;
  LabelStats stats(scorer);
  stats.reset(counts);
  std::vector<double> scores = {stats.score()};
  scores.reserve(order.size() + 1);
  for (std::size_t i = 0; i < order.size();) {
    const double v = key[order[i]];
    out.group_keys.push_back(v);
    for (; i < order.size() && key[order[i]] == v; ++i) {
      const std::size_t r = order[i];
      stats.move(static_cast<std::size_t>(y_true[r]), static_cast<std::size_t>(from[r]),
                 static_cast<std::size_t>(to));
    }
    scores.push_back(stats.score());
  }
  // Step metrics have plateaus: of the positions reaching the best score, the middle one (the
  // lowest would drift to one edge of the plateau, which generalises worse).
  out.best_score = scores[0];
  for (double sc : scores)
    if (scorer.better(sc, out.best_score)) out.best_score = sc;
  std::vector<std::size_t> best;
  for (std::size_t g = 0; g < scores.size(); ++g)
    if (!scorer.better(out.best_score, scores[g])) best.push_back(g);
  out.best_groups = best[best.size() / 2];
  out.best_score = scores[out.best_groups];
  return out;
}

std::vector<double> confusion(std::span<const int> labels, std::span<const double> y_true,
                              std::size_t k) {
  std::vector<double> counts(k * k, 0.0);
  for (std::size_t r = 0; r < labels.size(); ++r)
    counts[static_cast<std::size_t>(y_true[r]) * k + static_cast<std::size_t>(labels[r])] += 1;
  return counts;
}

void check_truth(std::span<const double> y_true, std::size_t k) {
  for (std::size_t r = 0; r < y_true.size(); ++r) {
    double v = y_true[r];
    if (!(v >= 0 && v < static_cast<double>(k) && v == std::floor(v)))
      fail(ErrorCode::kInvalidArgument, "row {}: truth {} is not a class index 0..{}", r, v, k - 1);
  }
}

Decision fit_threshold(CountScorer& scorer, std::span<const double> p,
                       std::span<const double> y_true) {
  const std::size_t n = p.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  // Lowest threshold first: every row labelled 1; passing a score labels its rows 0.
  std::vector<int> from(n, 1);
  std::vector<double> counts(4, 0.0);
  for (std::size_t r = 0; r < n; ++r) counts[static_cast<std::size_t>(y_true[r]) * 2 + 1] += 1;
  Sweep sw = sweep(scorer, counts, order, p, from, 0, y_true);
  const auto& g = sw.group_keys;
  Decision d;
  d.kind = "threshold";
  double t;
  if (sw.best_groups == 0)
    t = g.front();
  else if (sw.best_groups == g.size())
    t = std::nextafter(g.back(), std::numeric_limits<double>::infinity());
  else
    t = between(g[sw.best_groups - 1], g[sw.best_groups]);
  d.cuts = {t};
  return d;
}

Decision fit_rounder(CountScorer& scorer, std::span<const double> pred, std::size_t k,
                     std::span<const double> y_true, int max_passes) {
  const std::vector<double> s = expected_index(pred, k);
  const std::size_t n = s.size();
  std::vector<std::size_t> sorted(n);
  std::iota(sorted.begin(), sorted.end(), 0);
  std::stable_sort(sorted.begin(), sorted.end(), [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
  Decision d;
  d.kind = "rounder";
  for (std::size_t c = 1; c < k; ++c) d.cuts.push_back(static_cast<double>(c) - 0.5);
  std::vector<int> labels = d.labels(pred, k);
  std::vector<double> counts = confusion(labels, y_true, k);
  double current = scorer(counts);
  const double inf = std::numeric_limits<double>::infinity();
  d.converged = false;
  for (int pass = 0; pass < max_passes; ++pass) {
    d.passes = pass + 1;
    bool moved = false;
    for (std::size_t j = 1; j < k; ++j) {
      // Cut j separates labels j-1 and j among the rows in [cut j-1, cut j+1).
      const double lo = j > 1 ? d.cuts[j - 2] : -inf, hi = j + 1 < k ? d.cuts[j] : inf;
      auto first = std::partition_point(sorted.begin(), sorted.end(),
                                        [&](std::size_t r) { return s[r] < lo; });
      auto last = std::partition_point(first, sorted.end(), [&](std::size_t r) { return s[r] < hi; });
      if (first == last) continue;
      std::vector<std::size_t> order(first, last);
      // Sweep from the lowest cut (all of them label j) upwards: passing a score relabels j-1.
      std::vector<double> base = counts;
      std::vector<int> from(n, static_cast<int>(j));
      for (std::size_t r : order) {
        const auto t = static_cast<std::size_t>(y_true[r]);
        base[t * k + static_cast<std::size_t>(labels[r])] -= 1;
        base[t * k + j] += 1;
      }
      Sweep sw = sweep(scorer, base, order, s, from, static_cast<int>(j) - 1, y_true);
      if (!scorer.better(sw.best_score, current)) continue;
      const auto& g = sw.group_keys;
      double cut;
      if (sw.best_groups == 0)
        cut = std::isfinite(lo) ? lo + (g.front() - lo) / 2 : g.front() - 0.5;
      else if (sw.best_groups == g.size())
        cut = std::isfinite(hi) ? between(g.back(), hi) : g.back() + 0.5;
      else
        cut = between(g[sw.best_groups - 1], g[sw.best_groups]);
      d.cuts[j - 1] = cut;
      labels = d.labels(pred, k);
      counts = confusion(labels, y_true, k);
      current = scorer(counts);
      moved = true;
    }
    if (!moved) {
      d.converged = true;
      break;
    }
  }
  return d;
}

/// Per row, the first argmax of w_c * p_c (top1) and the first argmax over the other classes
/// (top2): the first argmax over every class but j is top1 unless top1 is j, then top2.
void top_two_row(const double* p, std::size_t k, const std::vector<double>& w, int& top1, int& top2) {
  std::size_t a = 0;
  for (std::size_t c = 1; c < k; ++c)
    if (w[c] * p[c] > w[a] * p[a]) a = c;
  std::size_t b = a == 0 ? 1 : 0;
  for (std::size_t c = 0; c < k; ++c)
    if (c != a && w[c] * p[c] > w[b] * p[b]) b = c;
  top1 = static_cast<int>(a), top2 = static_cast<int>(b);
}

void top_two(std::span<const double> pred, std::size_t k, const std::vector<double>& w,
             std::vector<int>& top1, std::vector<int>& top2) {
  const std::size_t n = pred.size() / k;
  top1.resize(n), top2.resize(n);
  for (std::size_t r = 0; r < n; ++r) top_two_row(&pred[r * k], k, w, top1[r], top2[r]);
}

/// top_two after w_j alone changed: only rows where j was one of the two, or now reaches the
/// second's product, can change; they are recomputed, the others kept.
void update_top_two(std::span<const double> pred, std::size_t k, const std::vector<double>& w,
                    std::size_t j, std::vector<int>& top1, std::vector<int>& top2) {
  const std::size_t n = pred.size() / k;
  const int jj = static_cast<int>(j);
  for (std::size_t r = 0; r < n; ++r) {
    const double* p = &pred[r * k];
    const auto b = static_cast<std::size_t>(top2[r]);
    if (top1[r] == jj || top2[r] == jj || w[j] * p[j] >= w[b] * p[b])
      top_two_row(p, k, w, top1[r], top2[r]);
  }
}

/// The weight of class j at the sweep's best position.
double weight_at(const Sweep& sw) {
  const auto& g = sw.group_keys;
  if (sw.best_groups == 0) return g.front() > 0 ? g.front() / 2 : std::numeric_limits<double>::denorm_min();
  if (sw.best_groups == g.size()) return g.back() > 0 ? g.back() * 2 : 1.0;
  return between(g[sw.best_groups - 1], g[sw.best_groups]);
}

/// Sorts (key, row) pairs by key, then row, as std::sort would. Rows come in ascending order, so
/// a stable sort by key alone is the same order: non-negative doubles order as their bit
/// patterns, sorted by an LSD radix sort on 8-bit digits (digits that every key shares are
/// skipped); other keys (negative, NaN) go to std::sort.
void sort_keyed(std::vector<std::pair<double, std::uint32_t>>& keyed) {
  const std::size_t n = keyed.size();
  std::uint64_t all_or = 0, all_and = ~std::uint64_t{0};
  for (const auto& e : keyed) {
    const auto b = std::bit_cast<std::uint64_t>(e.first);
    all_or |= b, all_and &= b;
  }
  if (n < 256 || (all_or >> 63) != 0 || std::any_of(keyed.begin(), keyed.end(), [](const auto& e) {
        return std::isnan(e.first);
      })) {
    std::sort(keyed.begin(), keyed.end());
    return;
  }
  std::vector<std::pair<double, std::uint32_t>> tmp(n);
  for (int shift = 0; shift < 64; shift += 8) {
    if (((all_or ^ all_and) >> shift & 0xFF) == 0) continue;  // the same digit in every key
    std::size_t count[257] = {};
    for (const auto& e : keyed) ++count[(std::bit_cast<std::uint64_t>(e.first) >> shift & 0xFF) + 1];
    for (std::size_t d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (const auto& e : keyed) tmp[count[std::bit_cast<std::uint64_t>(e.first) >> shift & 0xFF]++] = e;
    keyed.swap(tmp);
  }
}

/// Coordinate j's sweep: every row moves to label j once w_j * p_rj passes the best other
/// class's w_c * p_rc (its key); rows sorted by key, ties in row order.
Sweep sweep_class(CountScorer& scorer, std::span<const double> pred, std::size_t k, std::size_t j,
                  const std::vector<double>& w, const std::vector<int>& top1,
                  const std::vector<int>& top2, std::span<const double> y_true,
                  std::vector<int>& other, std::vector<double>& key) {
  const std::size_t n = pred.size() / k;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, std::uint32_t>> keyed;
  keyed.reserve(n);
  std::vector<double> base(k * k, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    const double* p = &pred[r * k];
    const auto a = static_cast<std::size_t>(top1[r] == static_cast<int>(j) ? top2[r] : top1[r]);
    other[r] = static_cast<int>(a);
    key[r] = p[j] > 0 ? w[a] * p[a] / p[j] : inf;
    base[static_cast<std::size_t>(y_true[r]) * k + a] += 1;
    if (std::isfinite(key[r])) keyed.emplace_back(key[r], static_cast<std::uint32_t>(r));
  }
  sort_keyed(keyed);
  std::vector<std::size_t> order(keyed.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
  return sweep(scorer, base, order, key, other, static_cast<int>(j), y_true);
}

Decision fit_class_weights(CountScorer& scorer, std::span<const double> pred, std::size_t k,
                           std::span<const double> y_true, int max_passes) {
  const std::size_t n = pred.size() / k;
  Decision d;
  d.kind = "class_weights";
  d.class_weights.assign(k, 1.0);
  std::vector<double> key(n);
  std::vector<int> other(n), top1, top2, trial1, trial2;
  top_two(pred, k, d.class_weights, top1, top2);
  // The labels (first argmax of w_c * p_c) are top1.
  double current = scorer(confusion(top1, y_true, k));
  d.converged = false;
  for (int pass = 0; pass < max_passes; ++pass) {
    d.passes = pass + 1;
    bool moved = false;
    for (std::size_t j = 0; j < k; ++j) {
      Sweep sw = sweep_class(scorer, pred, k, j, d.class_weights, top1, top2, y_true, other, key);
      if (!scorer.better(sw.best_score, current)) continue;
      std::vector<double> trial = d.class_weights;
      trial[j] = weight_at(sw);
      trial1 = top1, trial2 = top2;
      update_top_two(pred, k, trial, j, trial1, trial2);
      const double ts = scorer(confusion(trial1, y_true, k));
      // The sweep's tie rule (a strict >) can differ from the argmax's first maximum at an exact
      // tie: keep only a real improvement.
      if (!scorer.better(ts, current)) continue;
      d.class_weights = std::move(trial);
      top1.swap(trial1), top2.swap(trial2);
      current = ts;
      moved = true;
    }
    const double top = *std::max_element(d.class_weights.begin(), d.class_weights.end());
    if (top != 1.0) {  // dividing by 1 changes no product
      for (double& w : d.class_weights) w /= top;
      top_two(pred, k, d.class_weights, top1, top2);
    }
    if (!moved) {
      d.converged = true;
      break;
    }
  }
  return d;
}

double score_labels(const Reference& ref, std::span<const int> labels,
                    std::span<const double> y_true) {
  std::vector<double> yp(labels.begin(), labels.end());
  // Multilabel labels are 0/1 per cell; the F1 metrics' threshold (in (0, 1]) keeps them as they are.
  const std::size_t tc = ref.true_cols;
  return metric::score(ref.metric, {.y_true = y_true, .true_cols = tc, .y_pred = yp, .pred_cols = tc});
}

// Multilabel: one threshold per column, P >= t_j predicts label j. Coordinate ascent from the
// metric's own threshold: each column's threshold set to the best of the midpoints between its
// distinct predictions (and below the lowest, above the highest) with the other columns fixed,
// until a pass changes nothing (at most `max_passes`). Exact per column for the macro F1.
Decision fit_column_thresholds(const Reference& ref, std::span<const double> pred, std::span<const double> y_true,
                               int max_passes) {
  const std::size_t k = ref.cols(), n = pred.size() / k;
  const auto metric = metric::make(ref.metric);
  const bool greater = metric->info().greater_is_better();
  const std::string& spec = metric->spec();
  const auto at = spec.find('@');
  const double start = at == std::string::npos ? 0.5 : std::stod(spec.substr(at + 1));
  Decision d;
  d.kind = "column_thresholds";
  d.cuts.assign(k, start);
  std::vector<double> labels(n * k);
  auto apply = [&] {
    for (std::size_t i = 0; i < n * k; ++i) labels[i] = pred[i] >= d.cuts[i % k] ? 1.0 : 0.0;
  };
  // Scored at the metric's threshold on 0/1 labels, which leaves them unchanged.
  auto score = [&] { return metric->score({.y_true = y_true, .true_cols = k, .y_pred = labels, .pred_cols = k}); };
  apply();
  double best = score();
  d.converged = false;
  for (d.passes = 1; d.passes <= max_passes; ++d.passes) {
    bool moved = false;
    for (std::size_t j = 0; j < k; ++j) {
      std::vector<double> v(n);
      for (std::size_t r = 0; r < n; ++r) v[r] = pred[r * k + j];
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      std::vector<double> candidates;
      candidates.push_back(v.front());  // every row of the column predicted
      for (std::size_t i = 0; i + 1 < v.size(); ++i) candidates.push_back(between(v[i], v[i + 1]));
      candidates.push_back(std::nextafter(v.back(), 2.0));  // none predicted
      const double keep = d.cuts[j];
      double best_t = keep;
      for (double t : candidates) {
        d.cuts[j] = t;
        for (std::size_t r = 0; r < n; ++r) labels[r * k + j] = pred[r * k + j] >= t ? 1.0 : 0.0;
        const double s = score();
        const double eps = 1e-12 * std::max(1.0, std::abs(best));
        if (greater ? s > best + eps : s < best - eps) best = s, best_t = t;
      }
      d.cuts[j] = best_t;
      for (std::size_t r = 0; r < n; ++r) labels[r * k + j] = pred[r * k + j] >= best_t ? 1.0 : 0.0;
      moved = moved || best_t != keep;
    }
    if (!moved) {
      d.converged = true;
      break;
    }
  }
  d.passes = std::min(d.passes, max_passes);
  return d;
}

}  // namespace

bool scores_labels(std::string_view spec) {
  const metric::Info& info = metric::make(spec)->info();
  return !info.needs_proba && (info.tasks & (metric::kBinary | metric::kMulticlass)) != 0;
}

std::vector<int> Decision::labels(std::span<const double> pred, std::size_t cols) const {
  const std::size_t rows = pred.size() / cols;
  std::vector<int> out(rows);
  if (kind == "column_thresholds") {
    COMPE_ASSERT(cuts.size() == cols);
    out.resize(rows * cols);
    for (std::size_t i = 0; i < rows * cols; ++i) out[i] = pred[i] >= cuts[i % cols] ? 1 : 0;
  } else if (kind == "threshold") {
    COMPE_ASSERT(cols == 1 && cuts.size() == 1);
    for (std::size_t r = 0; r < rows; ++r) out[r] = pred[r] >= cuts[0] ? 1 : 0;
  } else if (kind == "rounder") {
    COMPE_ASSERT(cuts.size() + 1 == cols);
    std::vector<double> s = expected_index(pred, cols);
    for (std::size_t r = 0; r < rows; ++r)
      out[r] = static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), s[r]) - cuts.begin());
  } else {
    COMPE_ASSERT(kind == "class_weights" && class_weights.size() == cols);
    for (std::size_t r = 0; r < rows; ++r) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < cols; ++c)
        if (class_weights[c] * pred[r * cols + c] > class_weights[best] * pred[r * cols + best])
          best = c;
      out[r] = static_cast<int>(best);
    }
  }
  return out;
}

nlohmann::json Decision::to_json() const {
  nlohmann::json j = {{"kind", kind}};
  if (kind == "column_thresholds") {
    j["thresholds"] = cuts;
    j["passes"] = passes, j["converged"] = converged;
    return j;
  }
  if (!cuts.empty()) j[kind == "threshold" ? "threshold" : "cuts"] =
      kind == "threshold" ? nlohmann::json(cuts[0]) : nlohmann::json(cuts);
  if (!class_weights.empty()) j["class_weights"] = class_weights;
  if (kind != "threshold") j["passes"] = passes, j["converged"] = converged;
  return j;
}

namespace {

/// fit_decision's checks of its inputs (rows of `pred` and `y_true` as there).
void check_fit_inputs(const Reference& ref, std::span<const double> pred,
                      std::span<const double> y_true, int max_passes) {
  check_decidable(ref);
  const std::size_t cols = ref.cols();
  COMPE_ASSERT(pred.size() * ref.true_cols == y_true.size() * cols);
  if (y_true.empty()) fail(ErrorCode::kInvalidArgument, "no rows to fit a decision on");
  if (max_passes < 1)
    fail(ErrorCode::kInvalidArgument, "max passes = {}: need at least 1", max_passes);
  if (ref.task != metric::kMultilabel) check_truth(y_true, classes_of(ref));
}

}  // namespace

Decision fit_decision(const Reference& ref, std::span<const double> pred,
                      std::span<const double> y_true, int max_passes) {
  check_fit_inputs(ref, pred, y_true, max_passes);
  const std::size_t cols = ref.cols(), k = classes_of(ref);
  if (ref.task == metric::kMultilabel) return fit_column_thresholds(ref, pred, y_true, max_passes);
  CountScorer scorer(ref.metric, k);
  std::string kind = kind_for(ref);
  if (kind == "threshold") {
    if (cols != 1)
      fail(ErrorCode::kInvalidArgument,
           "a binary threshold needs one prediction column; this competition has {}", cols);
    return fit_threshold(scorer, pred, y_true);
  }
  if (kind == "rounder") return fit_rounder(scorer, pred, k, y_true, max_passes);
  return fit_class_weights(scorer, pred, k, y_true, max_passes);
}

namespace {

/// Rows of fold f (validation) and of the other folds (training), predictions and truth.
struct FoldRows {
  std::vector<std::size_t> va;
  std::vector<double> ptr, ytr, pva, yva;
};

FoldRows fold_rows(const Reference& ref, std::span<const double> oof, int f) {
  const std::size_t cols = ref.cols(), rows = ref.rows(), tc = ref.true_cols;
  std::vector<std::size_t> tr;
  FoldRows out;
  for (std::size_t r = 0; r < rows; ++r) (ref.folds[r] == f ? out.va : tr).push_back(r);
  auto take = [&](const std::vector<std::size_t>& idx, std::vector<double>& p, std::vector<double>& y) {
    p.resize(idx.size() * cols);
    y.resize(idx.size() * tc);
    for (std::size_t i = 0; i < idx.size(); ++i) {
      std::copy_n(ref.y_true.begin() + static_cast<std::ptrdiff_t>(idx[i] * tc), tc,
                  y.begin() + static_cast<std::ptrdiff_t>(i * tc));
      std::copy_n(oof.begin() + static_cast<std::ptrdiff_t>(idx[i] * cols), cols,
                  p.begin() + static_cast<std::ptrdiff_t>(i * cols));
    }
  };
  if (!out.va.empty() && tr.empty())
    fail(ErrorCode::kInvalidArgument,
         "fold {} holds every validated row: nested CV needs two folds or more", f);
  take(tr, out.ptr, out.ytr);
  take(out.va, out.pva, out.yva);
  return out;
}

}  // namespace

DecisionResult optimize_decision(const Reference& ref, std::span<const double> oof,
                                 std::span<const double> test, int max_passes, std::size_t threads) {
  check_decidable(ref);
  const std::size_t cols = ref.cols(), rows = ref.rows();
  COMPE_ASSERT(oof.size() == rows * cols);
  DecisionResult res;
  res.default_score = score_rows(ref, oof);
  const std::size_t tc = ref.true_cols;  // multilabel: labels are 0/1 per cell
  const auto folds = static_cast<std::size_t>(ref.num_folds());
  std::vector<FoldRows> parts(folds);
  // Bad input fails here, before the parallel fits, with the row numbers of the whole OOF.
  check_fit_inputs(ref, oof, ref.y_true, max_passes);
  for (std::size_t f = 0; f < folds; ++f) parts[f] = fold_rows(ref, oof, static_cast<int>(f));
  // The fit on every row and the nested fits are independent: one task each, on all cores.
  std::vector<Decision> fitted(folds + 1);
  parallel_for(folds + 1, resolve_threads(threads), [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (i == folds)
        fitted[i] = fit_decision(ref, oof, ref.y_true, max_passes);
      else if (!parts[i].va.empty())
        fitted[i] = fit_decision(ref, parts[i].ptr, parts[i].ytr, max_passes);
    }
  });
  res.decision = std::move(fitted[folds]);
  res.in_sample_labels = res.decision.labels(oof, cols);
  res.in_sample_score = score_labels(ref, res.in_sample_labels, ref.y_true);
  res.test_labels = res.decision.labels(test, cols);
  res.nested_labels.assign(rows * tc, 0);
  for (std::size_t f = 0; f < folds; ++f) {
    const FoldRows& part = parts[f];
    if (part.va.empty()) continue;
    std::vector<int> lv = fitted[f].labels(part.pva, cols);
    for (std::size_t i = 0; i < part.va.size(); ++i)
      for (std::size_t j = 0; j < tc; ++j) res.nested_labels[part.va[i] * tc + j] = lv[i * tc + j];
    res.fold_scores.push_back(score_labels(ref, lv, part.yva));
    res.fold_decisions.push_back(std::move(fitted[f]));
  }
  res.nested_score = score_labels(ref, res.nested_labels, ref.y_true);
  res.beats_input = better(ref, res.nested_score, res.default_score);
  return res;
}

std::vector<double> labels_as_predictions(const Reference& ref, std::span<const int> labels) {
  const std::size_t cols = ref.cols();
  if (ref.task == metric::kMultilabel) return std::vector<double>(labels.begin(), labels.end());
  std::vector<double> out(labels.size() * cols, 0.0);
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (cols == 1)
      out[r] = labels[r];
    else
      out[r * cols + static_cast<std::size_t>(labels[r])] = 1.0;
  }
  return out;
}

}  // namespace compe::blend
