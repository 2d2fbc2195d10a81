// Hard-label classification metrics, all read from one weighted confusion matrix over the sorted
// labels present in y_true or y_pred (scikit-learn's unique_labels).

#include <algorithm>
#include <cmath>

#include "compe/util.hpp"
#include "metric/detail.hpp"

namespace compe::metric::detail {
namespace {

enum class Kind { kAccuracy, kBalanced, kF1, kPrecision, kRecall, kMcc, kQwk };
enum class Average { kBinary, kMacro, kMicro, kWeighted };

struct Confusion {
  std::vector<std::int64_t> labels;  // sorted
  std::vector<double> c;             // c[t * k + p]
  std::size_t k() const { return labels.size(); }
  double at(std::size_t t, std::size_t p) const { return c[t * labels.size() + p]; }
};

Confusion confusion(const Labels& l, const Inputs& in) {
  Confusion m;
  m.labels = l.y_true;
  m.labels.insert(m.labels.end(), l.y_pred.begin(), l.y_pred.end());
  std::sort(m.labels.begin(), m.labels.end());
  m.labels.erase(std::unique(m.labels.begin(), m.labels.end()), m.labels.end());
  std::size_t k = m.labels.size();
  m.c.assign(k * k, 0.0);
  auto index = [&](std::int64_t v) {
    return static_cast<std::size_t>(std::lower_bound(m.labels.begin(), m.labels.end(), v) -
                                    m.labels.begin());
  };
  for (std::size_t i = 0; i < l.y_true.size(); ++i)
    m.c[index(l.y_true[i]) * k + index(l.y_pred[i])] += weight(in, i);
  return m;
}

double safe_div(double a, double b) {
  return b == 0.0 ? 0.0 : a / b;
}

class Classification final : public Metric {
 public:
  Classification(const Info& info, std::string spec, Kind kind, Average avg)
      : Metric(info, std::move(spec)), kind_(kind), avg_(avg) {}

  double score(const Inputs& in) const override {
    Labels l = class_labels(in, spec());
    Confusion m = confusion(l, in);
    if (avg_ == Average::kBinary &&
        (kind_ == Kind::kF1 || kind_ == Kind::kPrecision || kind_ == Kind::kRecall))
      check_binary_labels(m);
    std::size_t k = m.k();
    std::vector<double> true_sum(k, 0), pred_sum(k, 0);
    double total = 0, correct = 0;
    for (std::size_t t = 0; t < k; ++t)
      for (std::size_t p = 0; p < k; ++p) {
        true_sum[t] += m.at(t, p);
        pred_sum[p] += m.at(t, p);
        total += m.at(t, p);
        if (t == p) correct += m.at(t, p);
      }
    switch (kind_) {
      case Kind::kAccuracy:
        return correct / total;
      case Kind::kBalanced: {
        double sum = 0;
        std::size_t classes = 0;
        for (std::size_t t = 0; t < k; ++t)
          if (true_sum[t] > 0) {
            sum += m.at(t, t) / true_sum[t];
            ++classes;
          }
        return sum / static_cast<double>(classes);
      }
      case Kind::kMcc: {
        double tp = 0, pp = 0;
        for (std::size_t c = 0; c < k; ++c) {
          tp += true_sum[c] * pred_sum[c];
          pp += pred_sum[c] * pred_sum[c];
        }
        double tt = 0;
        for (std::size_t c = 0; c < k; ++c) tt += true_sum[c] * true_sum[c];
        double cov_ytyp = correct * total - tp;
        double cov_ypyp = total * total - pp;
        double cov_ytyt = total * total - tt;
        if (cov_ypyp * cov_ytyt == 0) return 0.0;
        return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
      }
      case Kind::kQwk: {
        double observed = 0, expected = 0;
        for (std::size_t t = 0; t < k; ++t)
          for (std::size_t p = 0; p < k; ++p) {
            double d = static_cast<double>(t) - static_cast<double>(p);
            observed += d * d * m.at(t, p);
            expected += d * d * pred_sum[p] * true_sum[t] / total;
          }
        if (expected == 0)
          fail(ErrorCode::kInvalidArgument,
               "{}: kappa is undefined when y_true and y_pred hold a single label between them",
               spec());
        return 1.0 - observed / expected;
      }
      default:
        break;
    }
    auto per_class = [&](std::size_t c) {
      double precision = safe_div(m.at(c, c), pred_sum[c]);
      double recall = safe_div(m.at(c, c), true_sum[c]);
      switch (kind_) {
        case Kind::kPrecision:
          return precision;
        case Kind::kRecall:
          return recall;
        default:
          return safe_div(2 * precision * recall, precision + recall);
      }
    };
    switch (avg_) {
      case Average::kBinary: {
        auto it = std::lower_bound(m.labels.begin(), m.labels.end(), 1);
        if (it == m.labels.end() || *it != 1) return 0.0;
        return per_class(static_cast<std::size_t>(it - m.labels.begin()));
      }
      case Average::kMicro:
        return correct / total;
      case Average::kMacro: {
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += per_class(c);
        return sum / static_cast<double>(k);
      }
      case Average::kWeighted: {
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += per_class(c) * true_sum[c];
        return safe_div(sum, total);
      }
    }
    return 0.0;
  }

 private:
  // scikit-learn's average='binary': at most two labels between y_true and y_pred, and when there
  // are two, one of them is the positive label 1.
  void check_binary_labels(const Confusion& m) const {
    bool has_one = std::binary_search(m.labels.begin(), m.labels.end(), 1);
    if (m.k() > 2 || (m.k() == 2 && !has_one)) {
      std::vector<std::string> names;
      for (auto v : m.labels) names.push_back(std::to_string(v));
      fail(ErrorCode::kInvalidArgument,
           "{}: y_true and y_pred hold the labels [{}]; binary {} needs labels 0 and 1 with 1 "
           "positive (use {}_macro, {}_micro or {}_weighted for multiclass)",
           spec(), join(names), info().name, info().name, info().name, info().name);
    }
  }

  Kind kind_;
  Average avg_;
};

}  // namespace

std::unique_ptr<Metric> new_classification(const Info& info, std::optional<double> arg) {
  const std::string& n = info.name;
  Kind kind = Kind::kAccuracy;
  Average avg = Average::kBinary;
  if (n == "accuracy")
    kind = Kind::kAccuracy;
  else if (n == "balanced_accuracy")
    kind = Kind::kBalanced;
  else if (n == "mcc")
    kind = Kind::kMcc;
  else if (n == "qwk")
    kind = Kind::kQwk;
  else {
    std::string base = n.substr(0, n.find('_'));
    std::string suffix = n.find('_') == std::string::npos ? "" : n.substr(n.find('_') + 1);
    if (base == "f1")
      kind = Kind::kF1;
    else if (base == "precision")
      kind = Kind::kPrecision;
    else if (base == "recall")
      kind = Kind::kRecall;
    else
      COMPE_ASSERT(!"unknown classification metric");
    if (suffix == "macro")
      avg = Average::kMacro;
    else if (suffix == "micro")
      avg = Average::kMicro;
    else if (suffix == "weighted")
      avg = Average::kWeighted;
    else
      COMPE_ASSERT(suffix.empty());
  }
  return std::make_unique<Classification>(info, canonical_spec(info, arg), kind, avg);
}

}  // namespace compe::metric::detail
