#include "compe/audit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/profile.hpp"
#include "compe/stats.hpp"
#include "compe/util.hpp"

namespace compe::audit {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kOk: return "ok";
    case Severity::kWarning: return "warning";
    case Severity::kLeak: return "leak";
  }
  return "?";
}

namespace {

std::vector<std::string> feature_columns(const Table& train, const CompetitionConfig& c) {
  std::vector<std::string> out;
  for (const auto& col : train.columns()) {
    if (col.name == c.id_column) continue;
    if (std::find(c.target_columns.begin(), c.target_columns.end(), col.name) != c.target_columns.end()) continue;
    out.push_back(col.name);
  }
  return out;
}

/// Hash of a row's feature values, by text so train and test compare whatever their inferred types.
std::uint64_t row_hash(const Table& t, const std::vector<std::size_t>& cols, std::size_t r) {
  Hasher h;
  for (auto c : cols) {
    const Column& col = t.column(c);
    if (col.is_missing(r)) {
      h.update("\x1e", 1);
    } else if (col.type == DType::kString) {
      h.update(col.str(r));
    } else {
      h.update_f64(col.as_double(r));
    }
    h.update("\x1f", 1);
  }
  return h.digest();
}

/// Rank-based AUC of score s against 0/1 labels, symmetric: max(auc, 1 - auc).
double symmetric_auc(const std::vector<double>& y, const std::vector<double>& s) {
  double auc = metric::score("roc_auc", {.y_true = y, .y_pred = s});
  return std::max(auc, 1.0 - auc);
}

/// r^2 of y on x; 0 where the correlation is undefined (a constant column), as before.
double pearson_r2(const std::vector<double>& y, const std::vector<double>& x) {
  const double r = stats::pearson(x, y);
  return std::isnan(r) ? 0.0 : r * r;
}

}  // namespace

namespace {

// The data a check reads.
struct Data {
  const Table& train;
  const Table& test;
  const CompetitionConfig& c;
  const FoldAssignment& fa;
  const Options& opt;
  std::size_t n = 0;                       // train rows
  std::vector<std::string> feats;          // feature columns (not id, not targets)
  std::vector<std::size_t> tr_cols, te_cols;  // their indices in train and (when present) test
};

// 0. Columns that are not features as they stand: id-like, free text, high cardinality,
// constant, duplicates and near-duplicates.
void column_checks(const Data& d, Report& rep) {
  const Table& train = d.train;
  const CompetitionConfig& c = d.c;
  std::vector<std::string> skip = c.target_columns;
  skip.push_back(c.id_column);
  Profile prof = profile_columns(train, skip, true);
  for (const auto& p : prof.columns) {
    if (p.id_like)
      rep.findings.push_back({"id_like", Severity::kWarning, p.name, static_cast<double>(p.distinct),
                              fmt::format("{} is id-like ({}): the default baseline leaves it out", p.name, p.reason)});
    else if (p.free_text)
      rep.findings.push_back({"free_text", Severity::kWarning, p.name, static_cast<double>(p.distinct),
                              fmt::format("{} is free text ({}): the default baseline leaves it out", p.name, p.reason)});
    else if (p.high_cardinality)
      rep.findings.push_back({"high_cardinality", Severity::kOk, p.name, static_cast<double>(p.distinct),
                              fmt::format("{} has {}: the default baseline count-encodes it within each training fold",
                                          p.name, p.reason)});
    else if (p.constant)
      rep.findings.push_back({"constant", Severity::kWarning, p.name, static_cast<double>(p.distinct),
                              fmt::format("{} is constant ({})", p.name, p.reason)});
  }
  for (const auto& r : prof.relations)
    rep.findings.push_back({r.exact ? "duplicate_column" : "near_duplicate_column", Severity::kWarning, r.column, r.r,
                            r.exact ? fmt::format("{} duplicates {}", r.column, r.other)
                                    : fmt::format("{} nearly duplicates {} (r = {:.4f}: proportional or shifted)",
                                                  r.column, r.other, r.r)});
}

// 1. Groups in more than one fold.
void group_overlap(const Data& d, Report& rep) {
  const Table& train = d.train;
  const CompetitionConfig& c = d.c;
  const FoldAssignment& fa = d.fa;
  const Options& opt = d.opt;
  const std::size_t n = d.n;
  std::string group = opt.group_column.empty() ? c.folds.group_column : opt.group_column;
  if (group.empty()) return;
  const Column& g = train.column(group);
  std::unordered_map<std::string, int> first_fold;
  std::unordered_set<std::string> split_groups;
  for (std::size_t r = 0; r < n; ++r) {
    if (fa.folds[r] < 0) continue;
    auto [it, ok] = first_fold.emplace(g.to_string(r), fa.folds[r]);
    if (!ok && it->second != fa.folds[r]) split_groups.insert(it->first);
  }
  Finding f{"group_overlap", split_groups.empty() ? Severity::kOk : Severity::kLeak, group,
            static_cast<double>(split_groups.size()), ""};
  f.detail = split_groups.empty()
                 ? fmt::format("all {} groups of {} stay within one fold", first_fold.size(), quote(group))
                 : fmt::format("{} of {} groups of {} appear in more than one fold: use a group splitter",
                               split_groups.size(), first_fold.size(), quote(group));
  rep.findings.push_back(f);
}

// 1b. folds.csv made otherwise than compe.toml says: runs use folds.csv, readers of compe.toml
// (teammates, compe folds) would make other folds.
void folds_spec(const Data& d, Report& rep) {
  const CompetitionConfig& c = d.c;
  const Options& opt = d.opt;
  if (!opt.folds_record) return;
  const FoldsConfig& made = opt.folds_record->folds;
  auto text = [](const FoldsConfig& f) {
    return fmt::format("{} k={} seed={}{}", f.spec.strategy, f.spec.k, f.spec.seed,
                       f.group_column.empty() ? "" : " group=" + f.group_column);
  };
  const bool same = made.spec.strategy == c.folds.spec.strategy && made.spec.k == c.folds.spec.k &&
                    made.spec.seed == c.folds.spec.seed && made.group_column == c.folds.group_column &&
                    made.time_column == c.folds.time_column;
  rep.findings.push_back(
      {"folds_spec", same ? Severity::kOk : Severity::kWarning, "", same ? 0.0 : 1.0,
       same ? fmt::format("folds.csv was made with compe.toml's spec ({})", text(made))
            : fmt::format("folds.csv was made with {} but compe.toml's [folds] says {}: runs use folds.csv; "
                          "put the same spec in compe.toml (or run `compe folds` again) so that everyone makes "
                          "the same folds", text(made), text(c.folds))});
}

// 2. Exact duplicate feature rows across folds and between train and test.
void duplicates(const Data& d, Report& rep) {
  const Table& train = d.train;
  const Table& test = d.test;
  const FoldAssignment& fa = d.fa;
  const std::size_t n = d.n;
  const auto& tr_cols = d.tr_cols;
  const auto& te_cols = d.te_cols;
  std::size_t across = 0;
  std::vector<std::uint64_t> hashes(n);
  for (std::size_t r = 0; r < n; ++r) hashes[r] = row_hash(train, tr_cols, r);
  std::unordered_map<std::uint64_t, std::vector<int>> folds_by_hash;
  for (std::size_t r = 0; r < n; ++r) folds_by_hash[hashes[r]].push_back(fa.folds[r]);
  for (auto& [h, fs] : folds_by_hash) {
    if (fs.size() < 2) continue;
    bool mixed = std::any_of(fs.begin(), fs.end(), [&first = fs[0]](int x) { return x != first; });
    if (mixed) across += fs.size();
  }
  rep.findings.push_back({"duplicates_across_folds", across ? Severity::kWarning : Severity::kOk, "",
                          static_cast<double>(across),
                          across ? fmt::format("{} train rows have an exact copy of their features in another fold", across)
                                 : "no train row repeats its features in another fold"});
  if (te_cols.size() == tr_cols.size()) {
    std::size_t dup = 0;
    for (std::size_t r = 0; r < test.num_rows(); ++r)
      if (folds_by_hash.count(row_hash(test, te_cols, r))) ++dup;
    rep.findings.push_back({"train_test_duplicates", dup ? Severity::kWarning : Severity::kOk, "",
                            static_cast<double>(dup),
                            dup ? fmt::format("{} test rows have exactly the features of a train row", dup)
                                : "no test row copies a train row's features"});
  }
}

// 3. Time overlap between train and validation (time-series folds).
void time_overlap(const Data& d, Report& rep) {
  const Table& train = d.train;
  const CompetitionConfig& c = d.c;
  const FoldAssignment& fa = d.fa;
  if (c.folds.time_column.empty() || c.folds.spec.strategy != "timeseries") return;
  const Column& t = train.column(c.folds.time_column);
  split::Spec spec = c.folds.spec;
  SplitData sd = make_split_data(train, c, c.folds);
  std::size_t overlaps = 0;
  for (int f = 0; f < spec.k; ++f) {
    auto valid = split::valid_rows(fa.folds, f);
    if (valid.empty()) continue;
    auto tr = split::train_rows(spec, sd.inputs(), fa.folds, f);
    double vmin = INFINITY, tmax = -INFINITY;
    for (auto r : valid) vmin = std::min(vmin, sd.time[r]);
    for (auto r : tr) tmax = std::max(tmax, sd.time[r]);
    if (tmax >= vmin) ++overlaps;
  }
  rep.findings.push_back({"time_overlap", overlaps ? Severity::kLeak : Severity::kOk, t.name,
                          static_cast<double>(overlaps),
                          overlaps ? fmt::format("{} fold(s) train on rows at or after their validation start", overlaps)
                                   : "every fold trains only on the past"});
}

// The feature as one number per row: out-of-fold target mean per level for text (an unseen
// level gets the fold's global mean), the value for numbers (missing below the minimum).
std::vector<double> feature_values(const Column& col, const std::vector<double>& y, const FoldAssignment& fa, int k) {
  const std::size_t n = col.size();
  std::vector<double> x(n);
  if (col.type == DType::kString) {
    // Out-of-fold target mean per level (unseen level -> fold's global mean).
    std::size_t L = col.dict.size() + 1;
    std::vector<double> sum(static_cast<std::size_t>(k) * L, 0), cnt(static_cast<std::size_t>(k) * L, 0);
    std::vector<double> tot_sum(L, 0), tot_cnt(L, 0);
    double all_sum = 0;
    for (std::size_t r = 0; r < n; ++r) {
      std::size_t lv = static_cast<std::size_t>(col.codes[r] + 1);
      tot_sum[lv] += y[r];
      tot_cnt[lv] += 1;
      all_sum += y[r];
      if (fa.folds[r] >= 0) {
        sum[static_cast<std::size_t>(fa.folds[r]) * L + lv] += y[r];
        cnt[static_cast<std::size_t>(fa.folds[r]) * L + lv] += 1;
      }
    }
    for (std::size_t r = 0; r < n; ++r) {
      std::size_t lv = static_cast<std::size_t>(col.codes[r] + 1);
      double s = tot_sum[lv], ct = tot_cnt[lv];
      if (fa.folds[r] >= 0) {
        s -= sum[static_cast<std::size_t>(fa.folds[r]) * L + lv];
        ct -= cnt[static_cast<std::size_t>(fa.folds[r]) * L + lv];
      } else {
        s -= y[r];
        ct -= 1;
      }
      x[r] = ct > 0 ? s / ct : all_sum / static_cast<double>(n);
    }
  } else {
    double fill = INFINITY;
    for (std::size_t r = 0; r < n; ++r) {
      x[r] = col.as_double(r);
      if (!std::isnan(x[r])) fill = std::min(fill, x[r]);
    }
    for (auto& v : x)
      if (std::isnan(v)) v = std::isfinite(fill) ? fill - 1.0 : 0.0;
  }
  return x;
}

// 4. Features that alone predict the target (binary or regression).
void single_feature(const Data& d, const SplitData& sd, bool binary, Report& rep) {
  const Table& train = d.train;
  const FoldAssignment& fa = d.fa;
  const Options& opt = d.opt;
  const auto& feats = d.feats;
  const auto& tr_cols = d.tr_cols;
  const int k = *std::max_element(fa.folds.begin(), fa.folds.end()) + 1;
  for (std::size_t j = 0; j < feats.size(); ++j) {
    const Column& col = train.column(tr_cols[j]);
    std::vector<double> x = feature_values(col, sd.y, fa, k);
    const std::vector<double>& y = sd.y;
    double v;
    std::string what;
    if (binary) {
      bool both = std::find(y.begin(), y.end(), 0.0) != y.end() && std::find(y.begin(), y.end(), 1.0) != y.end();
      if (!both) continue;
      v = symmetric_auc(y, x);
      what = "AUC";
    } else {
      v = pearson_r2(y, x);
      what = "R²";
    }
    Severity s = v >= opt.single_feature_threshold ? Severity::kLeak
                 : v >= 0.95                       ? Severity::kWarning
                                                   : Severity::kOk;
    rep.findings.push_back({"single_feature", s, col.name, v,
                            fmt::format("{} alone: {} {:.4f}{}", col.name, what, v,
                                        col.type == DType::kString ? " (out-of-fold target encoding)" : "")});
  }
}

// 5. Ids whose order predicts the target (binary or regression).
void id_order(const Data& d, const SplitData& sd, bool binary, Report& rep) {
  const Table& train = d.train;
  const CompetitionConfig& c = d.c;
  const Options& opt = d.opt;
  const std::size_t n = d.n;
  const Column& id = train.column(c.id_column);
  std::vector<double> order(n);
  if (id.type == DType::kString) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return id.str(a) < id.str(b); });
    for (std::size_t i = 0; i < n; ++i) order[idx[i]] = static_cast<double>(i);
  } else {
    for (std::size_t r = 0; r < n; ++r) order[r] = id.as_double(r);
  }
  double stat, z;
  std::string what;
  if (binary) {
    double n1 = static_cast<double>(std::count(sd.y.begin(), sd.y.end(), 1.0));
    double n0 = static_cast<double>(n) - n1;
    if (n1 == 0 || n0 == 0) return;
    double auc = metric::score("roc_auc", {.y_true = sd.y, .y_pred = order});
    double se = std::sqrt((n0 + n1 + 1) / (12.0 * n0 * n1));
    stat = auc;
    z = std::fabs(auc - 0.5) / se;
    what = fmt::format("AUC of id order vs target {:.4f} (z = {:.1f})", auc, z);
  } else {
    double rho = metric::score("spearman", {.y_true = sd.y, .y_pred = order});
    stat = rho;
    z = std::fabs(rho) * std::sqrt(static_cast<double>(n) - 1.0);
    what = fmt::format("Spearman of id order vs target {:.4f} (z = {:.1f})", rho, z);
  }
  rep.findings.push_back({"id_order", z > opt.id_order_z ? Severity::kWarning : Severity::kOk,
                          c.id_column, stat, what});
}

}  // namespace

Report run(const Table& train, const Table& test, const CompetitionConfig& c, const FoldAssignment& fa,
           const Options& opt) {
  Report rep;
  rep.rows_train = train.num_rows();
  rep.rows_test = test.num_rows();
  Data d{train, test, c, fa, opt};
  d.n = train.num_rows();
  d.feats = feature_columns(train, c);
  for (const auto& f : d.feats) {
    d.tr_cols.push_back(*train.find(f));
    if (auto j = test.find(f)) d.te_cols.push_back(*j);
  }
  column_checks(d, rep);
  group_overlap(d, rep);
  folds_spec(d, rep);
  duplicates(d, rep);
  time_overlap(d, rep);
  // 4 and 5 on single-target binary and regression tasks.
  if (c.target_columns.size() == 1 && c.task != metric::kMultilabel) {
    SplitData sd = make_split_data(train, c, c.folds);
    const bool binary = c.task == metric::kBinary;
    if (binary || c.task == metric::kRegression) {
      single_feature(d, sd, binary, rep);
      id_order(d, sd, binary, rep);
    }
  }
  return rep;
}

}  // namespace compe::audit
