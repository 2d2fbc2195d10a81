// Multilabel stratification.
//
// multilabel_stratified_kfold is iterative stratification (Sechidis, Tsoumakas and Vlahavas,
// "On the Stratification of Multi-label Data", ECML PKDD 2011), as in the iterative-stratification
// package: repeatedly take the label with the fewest (but some) positives among unassigned rows;
// give each unassigned row holding it to the fold that still wants the most positives of that
// label, ties to the fold that still wants the most rows, then at random (shuffle=true) or to the
// lowest fold (shuffle=false); rows without any label fill the folds that want the most rows.
//
// multilabel_stratified_group_kfold runs the same greedy with groups as the units: a group carries
// the label counts and the row count of its rows. The label processed is the rarest label left
// (by positive rows in unassigned groups), which is also the rarest label of every group holding
// it; those groups go largest count of that label first (ties in the shuffled, or given, group
// order), each to the fold with the largest remaining demand for the label, ties to the fold with
// the largest remaining demand for rows (the smallest fold), then at random or lowest fold.
// Groups without labels go largest first to the fold wanting the most rows. A group is never split.
//
// Demands are kept scaled by k so they stay integers: demand[f][l] = total[l] - k * assigned[f][l].

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "compe/error.hpp"
#include "common/rng.hpp"
#include "split/splitters.hpp"

namespace compe::split::detail {

namespace {

// Sparse unit x label counts (a unit is a row or a group).
struct Units {
  std::vector<std::size_t> offsets{0};
  std::vector<std::size_t> label;
  std::vector<std::int64_t> count;
  std::vector<std::int64_t> size;  // rows in the unit
  std::size_t n() const { return size.size(); }
};

void check_labels(const Inputs& in) {
  for (std::size_t i = 0; i < in.y.size(); ++i) {
    double v = in.y[i];
    if (v != 0.0 && v != 1.0)
      fail(ErrorCode::kInvalidArgument,
           "multilabel target at row {}, column {} is {}: expected 0 or 1", i / in.y_cols,
           i % in.y_cols, v);
  }
}

Units row_units(const Inputs& in) {
  Units u;
  u.size.assign(in.rows, 1);
  for (std::size_t r = 0; r < in.rows; ++r) {
    for (std::size_t l = 0; l < in.y_cols; ++l) {
      if (in.y[r * in.y_cols + l] == 1.0) {
        u.label.push_back(l);
        u.count.push_back(1);
      }
    }
    u.offsets.push_back(u.label.size());
  }
  return u;
}

Units group_units(const Inputs& in, const Codes& groups) {
  Units u;
  const std::size_t g_n = groups.size();
  std::vector<std::size_t> start(g_n + 1, 0);
  for (std::size_t r = 0; r < in.rows; ++r) start[static_cast<std::size_t>(groups.code[r]) + 1]++;
  for (std::size_t g = 0; g < g_n; ++g) start[g + 1] += start[g];
  std::vector<std::size_t> rows_by_group(in.rows);
  std::vector<std::size_t> fill(start.begin(), start.end() - 1);
  for (std::size_t r = 0; r < in.rows; ++r) rows_by_group[fill[static_cast<std::size_t>(groups.code[r])]++] = r;
  std::vector<std::int64_t> dense(in.y_cols, 0);
  u.size.resize(g_n);
  for (std::size_t g = 0; g < g_n; ++g) {
    for (std::size_t i = start[g]; i < start[g + 1]; ++i) {
      const double* row = &in.y[rows_by_group[i] * in.y_cols];
      for (std::size_t l = 0; l < in.y_cols; ++l) dense[l] += row[l] == 1.0 ? 1 : 0;
    }
    for (std::size_t l = 0; l < in.y_cols; ++l) {
      if (dense[l] > 0) {
        u.label.push_back(l);
        u.count.push_back(dense[l]);
        dense[l] = 0;
      }
    }
    u.offsets.push_back(u.label.size());
    u.size[g] = static_cast<std::int64_t>(start[g + 1] - start[g]);
  }
  return u;
}

// Picks among candidate folds: the largest primary, then the largest secondary, then at random
// (rng != nullptr) or the lowest.
template <typename Primary, typename Secondary>
std::size_t pick(std::size_t k, Primary primary, Secondary secondary, Rng* rng,
                 std::vector<std::size_t>& ties) {
  ties.clear();
  for (std::size_t f = 0; f < k; ++f) {
    if (ties.empty()) {
      ties.push_back(f);
      continue;
    }
    const std::size_t b = ties.front();
    const auto pf = primary(f), pb = primary(b);
    if (pf > pb || (pf == pb && secondary(f) > secondary(b))) {
      ties.assign(1, f);
    } else if (pf == pb && secondary(f) == secondary(b)) {
      ties.push_back(f);
    }
  }
  if (ties.size() == 1 || rng == nullptr) return ties.front();
  return ties[static_cast<std::size_t>(rng->below(ties.size()))];
}

// The greedy shared by both splitters; returns the fold of each unit.
std::vector<int> stratify_units(const Spec& spec, const Units& u, std::size_t labels,
                                bool largest_first) {
  const std::size_t k = static_cast<std::size_t>(spec.k), n_units = u.n();
  const auto kk = static_cast<std::int64_t>(k);
  Rng rng(spec.seed);
  Rng* tie_rng = spec.shuffle ? &rng : nullptr;

  std::vector<std::size_t> order(n_units);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (spec.shuffle) rng.shuffle(std::span(order));

  std::vector<std::int64_t> total(labels, 0), remaining(labels, 0);
  std::int64_t total_rows = 0;
  for (std::size_t i = 0; i < u.label.size(); ++i) total[u.label[i]] += u.count[i];
  for (std::size_t g = 0; g < n_units; ++g) total_rows += u.size[g];
  remaining = total;

  // For each label, the units holding it in processing order.
  std::vector<std::vector<std::size_t>> holders(labels);
  std::vector<std::size_t> unlabelled;
  for (std::size_t g : order) {
    if (u.offsets[g] == u.offsets[g + 1]) unlabelled.push_back(g);
    for (std::size_t i = u.offsets[g]; i < u.offsets[g + 1]; ++i) holders[u.label[i]].push_back(g);
  }

  std::vector<std::int64_t> demand(k * labels), demand_rows(k, total_rows);
  for (std::size_t f = 0; f < k; ++f) {
    for (std::size_t l = 0; l < labels; ++l) demand[f * labels + l] = total[l];
  }
  std::vector<int> fold_of(n_units, -1);
  std::vector<std::size_t> ties, label_ties;

  auto place = [&](std::size_t g, std::size_t f) {
    fold_of[g] = static_cast<int>(f);
    demand_rows[f] -= kk * u.size[g];
    for (std::size_t i = u.offsets[g]; i < u.offsets[g + 1]; ++i) {
      demand[f * labels + u.label[i]] -= kk * u.count[i];
      remaining[u.label[i]] -= u.count[i];
    }
  };

  for (;;) {
    std::int64_t fewest = std::numeric_limits<std::int64_t>::max();
    label_ties.clear();
    for (std::size_t l = 0; l < labels; ++l) {
      if (remaining[l] <= 0) continue;
      if (remaining[l] < fewest) {
        fewest = remaining[l];
        label_ties.assign(1, l);
      } else if (remaining[l] == fewest) {
        label_ties.push_back(l);
      }
    }
    if (label_ties.empty()) break;
    const std::size_t l = label_ties.size() == 1 || tie_rng == nullptr
                              ? label_ties.front()
                              : label_ties[static_cast<std::size_t>(rng.below(label_ties.size()))];
    std::vector<std::size_t>& units = holders[l];
    if (largest_first) {
      auto count_of = [&](std::size_t g) {
        for (std::size_t i = u.offsets[g]; i < u.offsets[g + 1]; ++i) {
          if (u.label[i] == l) return u.count[i];
        }
        return std::int64_t{0};
      };
      std::vector<std::pair<std::int64_t, std::size_t>> keyed;
      keyed.reserve(units.size());
      for (std::size_t g : units) {
        if (fold_of[g] < 0) keyed.emplace_back(count_of(g), g);
      }
      std::stable_sort(keyed.begin(), keyed.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      units.clear();
      for (const auto& kv : keyed) units.push_back(kv.second);
    }
    for (std::size_t g : units) {
      if (fold_of[g] >= 0) continue;
      std::size_t f = pick(
          k, [&](std::size_t x) { return demand[x * labels + l]; },
          [&](std::size_t x) { return demand_rows[x]; }, tie_rng, ties);
      place(g, f);
    }
    units.clear();
    units.shrink_to_fit();
  }

  if (largest_first) {
    std::stable_sort(unlabelled.begin(), unlabelled.end(),
                     [&](std::size_t a, std::size_t b) { return u.size[a] > u.size[b]; });
  }
  for (std::size_t g : unlabelled) {
    std::size_t f = pick(
        k, [&](std::size_t x) { return demand_rows[x]; }, [](std::size_t) { return 0; }, tie_rng,
        ties);
    place(g, f);
  }
  return fold_of;
}

void warn_rare_labels(const Units& u, std::size_t labels, int k, Warnings& warnings) {
  std::vector<std::int64_t> total(labels, 0);
  for (std::size_t i = 0; i < u.label.size(); ++i) total[u.label[i]] += u.count[i];
  for (std::size_t l = 0; l < labels; ++l) {
    if (total[l] < k) {
      warnings.push_back(fmt::format(
          "label column {} has only {} positive rows, which is less than k={}: it will be missing "
          "from some validation folds",
          l, total[l], k));
    }
  }
}

}  // namespace

std::vector<int> multilabel_stratified_kfold(const Spec& spec, const Inputs& in, Warnings& warnings) {
  check_labels(in);
  Units u = row_units(in);
  warn_rare_labels(u, in.y_cols, spec.k, warnings);
  return stratify_units(spec, u, in.y_cols, false);
}

std::vector<int> multilabel_stratified_group_kfold(const Spec& spec, const Inputs& in,
                                                   Warnings& warnings) {
  check_labels(in);
  Codes groups = encode_groups(in.groups);
  if (groups.size() < static_cast<std::size_t>(spec.k))
    fail(ErrorCode::kInvalidArgument,
         "k={} is greater than the number of groups ({}): use k <= {}", spec.k, groups.size(),
         groups.size());
  Units u = group_units(in, groups);
  warn_rare_labels(u, in.y_cols, spec.k, warnings);
  std::vector<int> group_fold = stratify_units(spec, u, in.y_cols, true);
  std::vector<int> folds(in.rows);
  for (std::size_t r = 0; r < in.rows; ++r) folds[r] = group_fold[static_cast<std::size_t>(groups.code[r])];
  return folds;
}

}  // namespace compe::split::detail
