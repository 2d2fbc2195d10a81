// One test over every row of the metric registry: a new metric is covered the day it arrives.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/metric.hpp"

namespace cm = compe::metric;

namespace {

/// Inputs of one task, owning their storage.
struct Data {
  std::vector<double> y_true, y_pred, weights;
  std::size_t true_cols = 1, pred_cols = 1;
  cm::LabelLists true_lists, pred_lists;
  bool lists = false;
  cm::BoxLists true_boxes, pred_boxes;
  bool boxes = false;

  cm::Inputs inputs() const {
    cm::Inputs in;
    in.y_true = y_true;
    in.true_cols = true_cols;
    in.y_pred = y_pred;
    in.pred_cols = pred_cols;
    in.weights = weights;
    if (lists) {
      in.true_lists = &true_lists;
      in.pred_lists = &pred_lists;
    }
    if (boxes) {
      in.true_boxes = &true_boxes;
      in.pred_boxes = &pred_boxes;
    }
    return in;
  }
  std::size_t rows() const { return boxes ? true_boxes.rows() : y_true.size() / true_cols; }

  Data permuted(const std::vector<std::size_t>& perm) const {
    Data d = *this;
    for (std::size_t i = 0; i < perm.size() && !boxes; ++i) {
      for (std::size_t c = 0; c < true_cols; ++c)
        d.y_true[i * true_cols + c] = y_true[perm[i] * true_cols + c];
      for (std::size_t c = 0; c < pred_cols; ++c)
        d.y_pred[i * pred_cols + c] = y_pred[perm[i] * pred_cols + c];
      if (!weights.empty()) d.weights[i] = weights[perm[i]];
    }
    if (lists) {
      d.true_lists = {};
      d.pred_lists = {};
      for (std::size_t i : perm) {
        d.true_lists.push_row(true_lists.row(i));
        d.pred_lists.push_row(pred_lists.row(i));
      }
    }
    if (boxes) {
      d.true_boxes = {};
      d.pred_boxes = {};
      for (std::size_t i : perm) {
        d.true_boxes.push_row(true_boxes.row(i));
        d.pred_boxes.push_row(pred_boxes.row(i));
      }
    }
    return d;
  }
};

// An odd row count: with an even one scikit-learn's median_ae differs between no weights (mean of
// the two middle errors) and unit weights (lower weighted median), and compe follows it.
Data make_data(cm::Task task, std::size_t n = 61) {
  std::mt19937_64 rng(7 + static_cast<unsigned>(task));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Data d;
  switch (task) {
    case cm::kBinary:
      for (std::size_t i = 0; i < n; ++i) {
        double y = i < 2 ? static_cast<double>(i) : (u(rng) < 0.4 ? 1.0 : 0.0);
        d.y_true.push_back(y);
        d.y_pred.push_back(std::round((0.3 * y + 0.7 * u(rng)) * 100) / 100);  // some ties
      }
      break;
    case cm::kMulticlass:
      d.pred_cols = 3;
      for (std::size_t i = 0; i < n; ++i) {
        double y = i < 3 ? static_cast<double>(i) : std::floor(u(rng) * 3);
        d.y_true.push_back(y);
        // Probabilities in sixteenths: rows sum to exactly 1.
        int a = static_cast<int>(u(rng) * 9), b = static_cast<int>(u(rng) * (17 - a));
        int c = 16 - a - b;
        double p[3] = {a / 16.0, b / 16.0, c / 16.0};
        std::swap(p[0], p[static_cast<int>(y)]);
        d.y_pred.insert(d.y_pred.end(), p, p + 3);
      }
      break;
    case cm::kRegression:
      for (std::size_t i = 0; i < n; ++i) {
        double y = std::exp(2 * u(rng)) - 0.5;
        d.y_true.push_back(y);
        d.y_pred.push_back(std::max(0.0, y + u(rng) - 0.5));
      }
      break;
    case cm::kMultilabel:
      d.true_cols = d.pred_cols = 3;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < 3; ++c) {
          double y = i < 2 ? static_cast<double>(i) : (u(rng) < 0.5 ? 1.0 : 0.0);
          d.y_true.push_back(y);
          d.y_pred.push_back(0.3 * y + 0.7 * u(rng));
        }
      break;
    case cm::kRanking:
      // Both layouts: label lists (map@k) and relevance/score matrices (ndcg@k).
      d.true_cols = d.pred_cols = 5;
      d.lists = true;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < 5; ++c) {
          double rel = std::floor(u(rng) * 4);
          d.y_true.push_back(rel);
          d.y_pred.push_back(std::round((rel * 0.2 + u(rng)) * 10) / 10);
        }
        std::vector<std::int64_t> t, p;
        for (int j = 0; j < 1 + static_cast<int>(u(rng) * 3); ++j)
          t.push_back(static_cast<int>(u(rng) * 8));
        for (int j = 0; j < static_cast<int>(u(rng) * 7); ++j)
          p.push_back(static_cast<int>(u(rng) * 8));
        d.true_lists.push_row(t);
        d.pred_lists.push_row(p);
      }
      break;
    case cm::kDetection:
      // Images with a few objects of two labels and jittered, sometimes missing, detections.
      d.boxes = true;
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<cm::DetBox> t, p;
        for (int j = 0; j < static_cast<int>(u(rng) * 4); ++j) {
          cm::DetBox b;
          b.x1 = u(rng) * 50;
          b.y1 = u(rng) * 50;
          b.x2 = b.x1 + 5 + u(rng) * 100;
          b.y2 = b.y1 + 5 + u(rng) * 100;
          b.label = u(rng) < 0.5 ? 0 : 1;
          t.push_back(b);
          if (u(rng) < 0.8) {
            cm::DetBox q = b;
            q.x1 += u(rng) * 4;
            q.x2 += u(rng) * 4;
            q.score = u(rng);  // no ties: COCO breaks ties by image order
            p.push_back(q);
          }
        }
        d.true_boxes.push_row(t);
        d.pred_boxes.push_row(p);
      }
      break;
    case cm::kSegmentation:  // masks are scored by compe/segment.hpp, not by registry rows
      break;
  }
  return d;
}

void expect_invalid(const cm::Metric& m, const cm::Inputs& in, const std::string& what,
                    const std::string& must_contain = {}) {
  try {
    double v = m.score(in);
    ADD_FAILURE() << m.spec() << ": " << what << " accepted (score " << v << ")";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << m.spec() << ": " << e.what();
    if (!must_contain.empty()) {
      EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos)
          << m.spec() << ": " << what << ": '" << e.what() << "' lacks '" << must_contain << "'";
    }
  }
}

bool close(double a, double b) {
  return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(b));
}

}  // namespace

TEST(MetricRegistry, EveryRow) {
  const cm::Task kTasks[] = {cm::kBinary, cm::kMulticlass, cm::kRegression, cm::kMultilabel,
                             cm::kRanking, cm::kDetection};
  std::vector<std::string> seen;
  std::size_t checked = 0;
  for (const cm::Info& info : cm::builtin()) {
    SCOPED_TRACE(info.name);
    // Metadata and spec round trips.
    EXPECT_FALSE(info.summary.empty());
    EXPECT_NE(info.tasks, 0u);
    EXPECT_TRUE(info.factory);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), info.name), 0) << "duplicate name";
    seen.push_back(info.name);
    for (const auto& a : info.aliases) {
      EXPECT_EQ(std::count(seen.begin(), seen.end(), a), 0) << "duplicate alias " << a;
      seen.push_back(a);
      EXPECT_EQ(&cm::find(a), &info);
      EXPECT_EQ(cm::make(a)->spec(), info.name);
    }
    EXPECT_EQ(&cm::find(info.name), &info);
    auto m = cm::make(info.name);
    EXPECT_EQ(m->spec(), info.name);
    EXPECT_EQ(&m->info(), &info);
    EXPECT_EQ(cm::make(m->spec())->spec(), m->spec());
    if (info.arg != cm::ArgKind::kNone) {
      EXPECT_FALSE(info.arg_help.empty());
      bool integral =
          info.arg == cm::ArgKind::kOptionalInt || info.arg == cm::ArgKind::kRequiredInt;
      std::string spec = info.name + (integral ? "@3" : "@0.25");
      EXPECT_EQ(cm::make(spec)->spec(), spec);
    } else {
      EXPECT_THROW(cm::make(info.name + "@3"), compe::Error);
    }

    for (cm::Task task : kTasks) {
      if (!info.accepts(task)) continue;
      SCOPED_TRACE(std::string(cm::task_name(task)));
      Data d = make_data(task);
      cm::Inputs in = d.inputs();
      double v = m->score(in);
      EXPECT_TRUE(std::isfinite(v));
      // Determinism, and the convenience wrapper agrees.
      EXPECT_EQ(m->score(in), v);
      EXPECT_EQ(cm::score(info.name, in), v);
      // Permutation invariance.
      std::vector<std::size_t> perm(d.rows());
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), std::mt19937_64(3));
      Data p = d.permuted(perm);
      EXPECT_TRUE(close(m->score(p.inputs()), v)) << m->score(p.inputs()) << " vs " << v;
      // Weights.
      Data w = d;
      w.weights.assign(d.rows(), 1.0);
      if (info.supports_weights) {
        EXPECT_TRUE(close(m->score(w.inputs()), v));
        Data wp = w.permuted(perm);
        for (std::size_t i = 0; i < wp.weights.size(); ++i) wp.weights[i] = 0.5 + (i % 3);
        EXPECT_TRUE(std::isfinite(m->score(wp.inputs())));
        w.weights[2] = -1.0;
        expect_invalid(*m, w.inputs(), "a negative weight", "row 2");
        w.weights.pop_back();
        w.weights[2] = 1.0;
        expect_invalid(*m, w.inputs(), "too few weights");
      } else {
        expect_invalid(*m, w.inputs(), "weights on a metric without weight support");
      }
      // Does this metric read label lists? Then matrices may be absent.
      bool reads_lists = false;
      if (d.lists) {
        Data l = d;
        l.y_true.clear();
        l.y_pred.clear();
        try {
          reads_lists = std::isfinite(m->score(l.inputs()));
        } catch (const compe::Error&) {
        }
      }
      // Size mismatch.
      Data s = d;
      if (d.boxes) {
        s.pred_boxes = {};
        for (std::size_t i = 0; i + 1 < d.rows(); ++i) s.pred_boxes.push_row(d.pred_boxes.row(i));
      } else if (reads_lists) {
        s.pred_lists = {};
        for (std::size_t i = 0; i + 1 < d.rows(); ++i) s.pred_lists.push_row(d.pred_lists.row(i));
      } else {
        s.y_pred.pop_back();
      }
      expect_invalid(*m, s.inputs(), "y_pred shorter than y_true");
      // NaN / inf predictions, naming the row.
      if (d.boxes) {
        Data b = d;
        std::size_t row = 0;
        while (b.pred_boxes.row(row).empty()) ++row;
        b.pred_boxes.boxes[b.pred_boxes.offsets[row]].score = std::nan("");
        expect_invalid(*m, b.inputs(), "a NaN score", "row " + std::to_string(row));
      } else if (!reads_lists) {
        for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
          Data b = d;
          b.y_pred[3 * d.pred_cols] = bad;
          expect_invalid(*m, b.inputs(), "a non-finite prediction", "row 3");
        }
        Data t = d;
        t.y_true[4 * d.true_cols] = std::nan("");
        expect_invalid(*m, t.inputs(), "a NaN truth", "row 4");
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, cm::builtin().size());
  EXPECT_GE(cm::builtin().size(), 34u);
}
