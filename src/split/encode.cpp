#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "compe/error.hpp"
#include "split/splitters.hpp"

namespace compe::split::detail {

namespace {

void check_class_value(double v, std::size_t row) {
  if (!std::isfinite(v))
    fail(ErrorCode::kInvalidArgument, "target at row {} is {}: expected a finite class value", row,
         v);
  if (v != std::floor(v) || std::fabs(v) >= 9.0e18)
    fail(ErrorCode::kInvalidArgument,
         "target at row {} is {}: a class target needs integer class values (for a continuous "
         "target, stratify on quantile bins with y_is_class=false)",
         row, v);
}

}  // namespace

Codes encode_groups(std::span<const std::int64_t> groups) {
  // Codes by first appearance through a hash map, then renumbered in increasing value: one pass
  // over the rows and a sort of the distinct values only.
  const std::size_t n = groups.size();
  std::unordered_map<std::int64_t, int> first_seen;
  std::vector<std::int64_t> values;
  std::vector<int> seen_code(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto [it, added] = first_seen.try_emplace(groups[i], static_cast<int>(values.size()));
    if (added) values.push_back(groups[i]);
    seen_code[i] = it->second;
  }
  std::vector<int> by_value(values.size());
  std::iota(by_value.begin(), by_value.end(), 0);
  std::sort(by_value.begin(), by_value.end(), [&](int a, int b) {
    return values[static_cast<std::size_t>(a)] < values[static_cast<std::size_t>(b)];
  });
  std::vector<int> rank(values.size());
  for (std::size_t r = 0; r < by_value.size(); ++r) rank[static_cast<std::size_t>(by_value[r])] = static_cast<int>(r);
  Codes c;
  c.code.resize(n);
  c.count.assign(values.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    int code = rank[static_cast<std::size_t>(seen_code[i])];
    c.code[i] = code;
    ++c.count[static_cast<std::size_t>(code)];
  }
  return c;
}

Codes encode_classes_sorted(std::span<const double> y) {
  std::vector<std::int64_t> keys(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    check_class_value(y[i], i);
    keys[i] = static_cast<std::int64_t>(y[i]);
  }
  return encode_groups(keys);
}

Codes encode_classes_first_seen(std::span<const double> y) {
  Codes c;
  c.code.resize(y.size());
  std::unordered_map<std::int64_t, int> seen;
  for (std::size_t i = 0; i < y.size(); ++i) {
    check_class_value(y[i], i);
    auto [it, added] = seen.emplace(static_cast<std::int64_t>(y[i]), static_cast<int>(c.count.size()));
    if (added) c.count.push_back(0);
    c.code[i] = it->second;
    ++c.count[static_cast<std::size_t>(it->second)];
  }
  return c;
}

Codes encode_quantile_bins(std::span<const double> y, int bins) {
  const std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i]))
      fail(ErrorCode::kInvalidArgument, "target at row {} is {}: expected a finite value", i, y[i]);
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  // Sorted position p falls in bin floor(p * bins / n); equal values all take the bin of the first.
  std::vector<double> bin(n);
  double current = 0;
  for (std::size_t p = 0; p < n; ++p) {
    if (p == 0 || y[order[p]] != y[order[p - 1]])
      current = static_cast<double>(p * static_cast<std::size_t>(bins) / n);
    bin[order[p]] = current;
  }
  return encode_classes_first_seen(bin);
}

void check_class_counts(const Codes& classes, int k, const char* what, Warnings& warnings) {
  const auto kk = static_cast<std::int64_t>(k);
  std::int64_t largest = 0, smallest = 0;
  if (!classes.count.empty()) {
    largest = *std::max_element(classes.count.begin(), classes.count.end());
    smallest = *std::min_element(classes.count.begin(), classes.count.end());
  }
  if (largest < kk)
    fail(ErrorCode::kInvalidArgument,
         "k={} is greater than the number of members in every {} (the largest has {}): use k <= {}",
         k, what, largest, largest);
  if (smallest < kk)
    warnings.push_back(fmt::format(
        "the least populated {} has only {} members, which is less than k={}: it will be missing "
        "from some validation folds",
        what, smallest, k));
}

std::vector<std::size_t> time_order(const Inputs& in) {
  std::vector<std::size_t> order(in.rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!in.time.empty()) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return in.time[a] < in.time[b]; });
  }
  return order;
}

}  // namespace compe::split::detail
