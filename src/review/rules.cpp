// Review-queue rules over out-of-fold probabilities (include/compe/review.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/review.hpp"

namespace compe::review {

namespace {

void check(const Probabilities& p, const char* what) {
  if (p.classes < 2)
    fail(ErrorCode::kInvalidArgument, "{}: {} probability columns, expected at least 2", what, p.classes);
  for (std::size_t r = 0; r < p.rows; ++r)
    for (std::size_t c = 0; c < p.classes; ++c) {
      const double v = p.at(r, c);
      if (!(v >= 0.0 && v <= 1.0))
        fail(ErrorCode::kInvalidArgument, "{}: row {} column {}: probability {} is not in [0, 1]", what, r + 1,
             c + 1, v);
    }
}

void check_labels(const Probabilities& p, const std::vector<int>& labels) {
  if (labels.size() != p.rows)
    fail(ErrorCode::kInvalidArgument, "{} labels for {} rows of probabilities", labels.size(), p.rows);
  for (std::size_t r = 0; r < labels.size(); ++r)
    if (labels[r] < 0 || static_cast<std::size_t>(labels[r]) >= p.classes)
      fail(ErrorCode::kInvalidArgument, "row {}: label index {} is not one of the {} classes", r + 1, labels[r],
           p.classes);
}

std::string name_of(const std::vector<std::string>& names, int c) {
  if (c >= 0 && static_cast<std::size_t>(c) < names.size()) return names[static_cast<std::size_t>(c)];
  return std::to_string(c);
}

std::size_t argmax_row(const Probabilities& p, std::size_t r) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < p.classes; ++c)
    if (p.at(r, c) > p.at(r, best)) best = c;
  return best;
}

/// The `top` items of largest score (stable on ties: lower row first).
std::vector<Item> top_by_score(std::vector<Item> items, std::size_t top) {
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.score > b.score; });
  if (items.size() > top) items.resize(top);
  return items;
}

}  // namespace

ConfidentLearning confident_learning(const Probabilities& p, const std::vector<int>& labels,
                                     const std::vector<std::string>& class_names) {
  check(p, "confident learning");
  check_labels(p, labels);
  const std::size_t k = p.classes;
  ConfidentLearning out;
  std::vector<double> sum(k, 0.0);
  std::vector<std::size_t> count(k, 0);
  for (std::size_t r = 0; r < p.rows; ++r) {
    const auto given = static_cast<std::size_t>(labels[r]);
    sum[given] += p.at(r, given);
    ++count[given];
  }
  out.thresholds.resize(k);
  for (std::size_t c = 0; c < k; ++c)
    out.thresholds[c] = count[c] ? sum[c] / static_cast<double>(count[c]) : std::numeric_limits<double>::quiet_NaN();
  out.confident_joint.assign(k, std::vector<std::int64_t>(k, 0));
  for (std::size_t r = 0; r < p.rows; ++r) {
    int best = -1;
    for (std::size_t c = 0; c < k; ++c) {
      const double t = out.thresholds[c];
      if (std::isnan(t) || p.at(r, c) < t) continue;  // a class nobody has cannot be confident
      if (best < 0 || p.at(r, c) > p.at(r, static_cast<std::size_t>(best))) best = static_cast<int>(c);
    }
    if (best < 0) continue;
    const int given = labels[r];
    ++out.confident_joint[static_cast<std::size_t>(given)][static_cast<std::size_t>(best)];
    if (best == given) continue;
    Item item;
    item.row = r;
    item.given = given;
    item.suggested = best;
    item.score = p.at(r, static_cast<std::size_t>(given));
    item.rule = "confident_learning";
    item.reason = fmt::format("labelled {} (p = {:.3f}) but confidently {} (p = {:.3f} >= threshold {:.3f})",
                              name_of(class_names, given), item.score, name_of(class_names, best),
                              p.at(r, static_cast<std::size_t>(best)), out.thresholds[static_cast<std::size_t>(best)]);
    out.issues.push_back(std::move(item));
  }
  std::stable_sort(out.issues.begin(), out.issues.end(),
                   [](const Item& a, const Item& b) { return a.score < b.score; });
  return out;
}

std::vector<Item> highest_loss(const Probabilities& p, const std::vector<int>& labels,
                               const std::vector<std::string>& class_names, std::size_t top) {
  check(p, "highest loss");
  check_labels(p, labels);
  std::vector<Item> items;
  items.reserve(p.rows);
  for (std::size_t r = 0; r < p.rows; ++r) {
    const int given = labels[r];
    const double prob = p.at(r, static_cast<std::size_t>(given));
    Item item;
    item.row = r;
    item.given = given;
    item.suggested = static_cast<int>(argmax_row(p, r));
    item.score = -std::log(std::max(prob, 1e-15));
    item.rule = "highest_loss";
    item.reason = fmt::format("log loss {:.3f}: labelled {} with p = {:.3f}; the model's top class is {}",
                              item.score, name_of(class_names, given), prob, name_of(class_names, item.suggested));
    items.push_back(std::move(item));
  }
  return top_by_score(std::move(items), top);
}

std::vector<Item> low_confidence(const Probabilities& p, const std::vector<std::string>& class_names,
                                 std::size_t top) {
  check(p, "low confidence");
  std::vector<Item> items;
  items.reserve(p.rows);
  for (std::size_t r = 0; r < p.rows; ++r) {
    const std::size_t best = argmax_row(p, r);
    Item item;
    item.row = r;
    item.suggested = static_cast<int>(best);
    item.score = 1.0 - p.at(r, best);
    item.rule = "low_confidence";
    item.reason = fmt::format("top class {} with only p = {:.3f}", name_of(class_names, static_cast<int>(best)),
                              p.at(r, best));
    items.push_back(std::move(item));
  }
  return top_by_score(std::move(items), top);
}

std::vector<Item> disagreement(const Probabilities& a, const Probabilities& b,
                               const std::vector<std::string>& class_names, std::size_t top) {
  check(a, "disagreement (first run)");
  check(b, "disagreement (second run)");
  if (a.rows != b.rows || a.classes != b.classes)
    fail(ErrorCode::kInvalidArgument, "disagreement: runs have {} x {} and {} x {} probabilities, expected the same rows and classes",
         a.rows, a.classes, b.rows, b.classes);
  std::vector<Item> items;
  items.reserve(a.rows);
  for (std::size_t r = 0; r < a.rows; ++r) {
    double l1 = 0.0;
    for (std::size_t c = 0; c < a.classes; ++c) l1 += std::fabs(a.at(r, c) - b.at(r, c));
    const auto ta = static_cast<int>(argmax_row(a, r)), tb = static_cast<int>(argmax_row(b, r));
    Item item;
    item.row = r;
    item.suggested = ta == tb ? ta : -1;
    item.score = l1 / 2.0;
    item.rule = "disagreement";
    item.reason = fmt::format("runs differ by {:.3f} (total variation): {} vs {}", item.score,
                              name_of(class_names, ta), name_of(class_names, tb));
    items.push_back(std::move(item));
  }
  return top_by_score(std::move(items), top);
}

QueueQuality quality_at(const std::vector<Item>& ranked, const std::vector<std::size_t>& wrong_rows, std::size_t k) {
  const std::unordered_set<std::size_t> wrong(wrong_rows.begin(), wrong_rows.end());
  QueueQuality q;
  const std::size_t n = std::min(k, ranked.size());
  for (std::size_t i = 0; i < n; ++i) q.found += wrong.count(ranked[i].row);
  q.precision = n ? static_cast<double>(q.found) / static_cast<double>(n) : 0.0;
  q.recall = wrong.empty() ? 0.0 : static_cast<double>(q.found) / static_cast<double>(wrong.size());
  return q;
}

}  // namespace compe::review
