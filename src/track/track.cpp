#include "compe/track.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "compe/error.hpp"

namespace compe::track {

namespace {

void flatten_into(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten_into(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}

double binomial_two_sided(std::size_t k, std::size_t n) {
  // P(X <= min(k, n-k)) * 2 for X ~ Binomial(n, 1/2), capped at 1.
  std::size_t m = std::min(k, n - k);
  double p = 0, c = 1;  // c = C(n, i)
  for (std::size_t i = 0; i <= m; ++i) {
    if (i > 0) c = c * static_cast<double>(n - i + 1) / static_cast<double>(i);
    p += c;
  }
  p *= std::pow(0.5, static_cast<double>(n));
  return std::min(1.0, 2 * p);
}

double wilcoxon_two_sided(std::vector<double> d) {
  d.erase(std::remove(d.begin(), d.end(), 0.0), d.end());
  std::size_t n = d.size();
  if (n == 0) return 1.0;
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  std::vector<double> rank(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && std::fabs(d[idx[j + 1]]) == std::fabs(d[idx[i]])) ++j;
    for (std::size_t t = i; t <= j; ++t) rank[idx[t]] = (static_cast<double>(i + j) / 2.0) + 1.0;
    i = j + 1;
  }
  double w_plus = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (d[i] > 0) w_plus += rank[i];
  double total = static_cast<double>(n * (n + 1)) / 2.0;
  double w = std::min(w_plus, total - w_plus);
  if (n <= 25) {
    // Exact null distribution of W+ over 2^n sign assignments, by dynamic programming on ranks
    // (doubled to stay integral with tied half-ranks).
    std::vector<int> r2(n);
    for (std::size_t i = 0; i < n; ++i) r2[i] = static_cast<int>(std::lround(rank[i] * 2));
    int max_sum = 0;
    for (int r : r2) max_sum += r;
    std::vector<double> count(static_cast<std::size_t>(max_sum) + 1, 0.0);
    count[0] = 1;
    for (int r : r2)
      for (int s = max_sum; s >= r; --s) count[static_cast<std::size_t>(s)] += count[static_cast<std::size_t>(s - r)];
    int limit = static_cast<int>(std::lround(w * 2));
    double tail = 0;
    for (int s = 0; s <= limit; ++s) tail += count[static_cast<std::size_t>(s)];
    return std::min(1.0, 2 * tail / std::pow(2.0, static_cast<double>(n)));
  }
  double mean = total / 2.0;
  double sd = std::sqrt(static_cast<double>(n * (n + 1) * (2 * n + 1)) / 24.0);
  double z = (w - mean) / sd;
  return std::min(1.0, std::erfc(-z / std::sqrt(2.0)));
}

}  // namespace

std::map<std::string, nlohmann::json> flatten(const nlohmann::json& doc) {
  std::map<std::string, nlohmann::json> out;
  flatten_into(doc, "", out);
  return out;
}

std::vector<ConfigChange> config_diff(const nlohmann::json& a, const nlohmann::json& b,
                                      const std::vector<std::string>& ignore) {
  auto fa = flatten(a), fb = flatten(b);
  std::set<std::string> keys;
  for (auto& [k, v] : fa) keys.insert(k);
  for (auto& [k, v] : fb) keys.insert(k);
  std::vector<ConfigChange> out;
  for (const auto& k : keys) {
    bool skip = std::any_of(ignore.begin(), ignore.end(), [&](const std::string& p) {
      return k == p || (k.size() > p.size() && k.compare(0, p.size(), p) == 0 && k[p.size()] == '.');
    });
    if (skip) continue;
    auto ia = fa.find(k), ib = fb.find(k);
    nlohmann::json va = ia == fa.end() ? nlohmann::json(nullptr) : ia->second;
    nlohmann::json vb = ib == fb.end() ? nlohmann::json(nullptr) : ib->second;
    if (va != vb) out.push_back({k, va, vb});
  }
  return out;
}

std::vector<std::string> bookkeeping_keys() {
  return {"name", "parent", "run.threads", "run.parallel_folds", "run.folds", "competition.folds", "proxy", "cv", "features.left_out", "features.count_encoded",
          "features.target_encoded", "run.permutation_importance"};
}

PairedComparison compare_folds(const std::map<int, double>& a, const std::map<int, double>& b,
                               bool greater_is_better) {
  PairedComparison c;
  std::vector<double> d;
  for (const auto& [f, va] : a) {
    auto it = b.find(f);
    if (it == b.end()) continue;
    double delta = it->second - va;
    c.delta[f] = delta;
    d.push_back(greater_is_better ? delta : -delta);
  }
  c.folds = d.size();
  for (double x : d) {
    if (x > 0) ++c.improved;
    else if (x < 0) ++c.worse;
    else ++c.ties;
  }
  double s = 0;
  for (auto& [f, v] : c.delta) s += v;
  c.mean_delta = c.folds ? s / static_cast<double>(c.folds) : 0.0;
  std::size_t n = c.improved + c.worse;
  c.sign_p = n ? binomial_two_sided(c.improved, n) : 1.0;
  c.wilcoxon_p = wilcoxon_two_sided(d);
  return c;
}

std::optional<Run> choose_parent(Store& store, const std::string& explicit_parent, const std::string& metric,
                                 const std::string& folds_hash) {
  if (!explicit_parent.empty()) return store.get_run(store.resolve_run_id(explicit_parent));
  RunFilter f;
  f.status = RunStatus::kFinished;
  f.metric = metric;
  f.sort = RunSort::kBest;
  f.limit = 50;
  for (const Run& r : store.list_runs(f).runs)
    if (r.folds_hash == folds_hash && r.cv_score) return r;
  return std::nullopt;
}

}  // namespace compe::track
