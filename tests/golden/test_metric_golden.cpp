// Golden cases for every metric: reference values written by tests/golden/gen/gen_metrics.py from
// scikit-learn 1.2.1 / scipy 1.10 (see tests/golden/REFERENCES-metrics.md).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
namespace cm = compe::metric;

namespace {

const fs::path kDir = fs::path(COMPE_TEST_DATA) / "golden" / "cases" / "metrics";

struct Dataset {
  std::vector<double> y_true, y_pred, weights;
  std::size_t true_cols = 1, pred_cols = 1;
  cm::LabelLists true_lists, pred_lists;
  bool lists = false;
};

cm::LabelLists lists_of(const json& j) {
  cm::LabelLists out;
  for (const auto& row : j) {
    std::vector<std::int64_t> r = row.get<std::vector<std::int64_t>>();
    out.push_row(r);
  }
  return out;
}

const std::map<std::string, Dataset>& datasets() {
  static const std::map<std::string, Dataset> sets = [] {
    std::map<std::string, Dataset> out;
    json doc = json::parse(compe::read_file(kDir / "inputs.json"));
    for (const auto& [name, d] : doc.at("datasets").items()) {
      Dataset ds;
      ds.true_cols = d.at("true_cols").get<std::size_t>();
      ds.pred_cols = d.at("pred_cols").get<std::size_t>();
      if (d.contains("y_true")) {
        ds.y_true = d.at("y_true").get<std::vector<double>>();
        ds.y_pred = d.at("y_pred").get<std::vector<double>>();
      }
      if (d.contains("true_lists")) {
        ds.true_lists = lists_of(d.at("true_lists"));
        ds.pred_lists = lists_of(d.at("pred_lists"));
        ds.lists = true;
      }
      ds.weights = d.at("weights").get<std::vector<double>>();
      out.emplace(name, std::move(ds));
    }
    return out;
  }();
  return sets;
}

cm::Inputs inputs_of(const Dataset& ds, bool weighted) {
  cm::Inputs in;
  in.y_true = ds.y_true;
  in.true_cols = ds.true_cols;
  in.y_pred = ds.y_pred;
  in.pred_cols = ds.pred_cols;
  if (weighted) in.weights = ds.weights;
  if (ds.lists) {
    in.true_lists = &ds.true_lists;
    in.pred_lists = &ds.pred_lists;
  }
  return in;
}

}  // namespace

TEST(MetricGolden, EveryRegistryRowHasGoldenValues) {
  for (const cm::Info& info : cm::builtin()) {
    // Detection and segmentation rows have their own cases (tests/golden/
    // test_detect_metrics_golden.cpp, test_segment_golden.cpp).
    if (info.accepts(cm::kDetection) || info.accepts(cm::kSegmentation)) continue;
    fs::path file = kDir / (info.name + ".json");
    ASSERT_TRUE(fs::exists(file)) << "no golden file for metric " << info.name;
    json doc = json::parse(compe::read_file(file));
    std::size_t values = 0;
    for (const auto& c : doc.at("cases")) values += c.contains("expected");
    EXPECT_GE(values, 5u) << info.name;
  }
}

TEST(MetricGolden, MatchesReference) {
  std::size_t checked = 0, errors = 0, files = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() != ".json" || entry.path().filename() == "inputs.json") continue;
    ++files;
    json doc = json::parse(compe::read_file(entry.path()));
    double tol = doc.at("tolerance").get<double>();
    for (const auto& c : doc.at("cases")) {
      std::string spec = c.at("spec").get<std::string>();
      std::string data = c.at("data").get<std::string>();
      bool weighted = c.at("weighted").get<bool>();
      auto it = datasets().find(data);
      ASSERT_NE(it, datasets().end()) << data;
      cm::Inputs in = inputs_of(it->second, weighted);
      std::string where = spec + " on " + data + (weighted ? " (weighted)" : "");
      if (c.contains("error")) {
        ++errors;
        try {
          double v = cm::score(spec, in);
          ADD_FAILURE() << where << ": expected an error like the reference ("
                        << c.at("error").get<std::string>() << "), got " << v;
        } catch (const compe::Error& e) {
          EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << where << ": " << e.what();
        }
        continue;
      }
      double expected = c.at("expected").get<double>();
      try {
        double v = cm::score(spec, in);
        EXPECT_LE(std::fabs(v - expected), tol * std::fabs(expected) + 1e-15)
            << where << ": got " << fmt::format("{}", v) << ", reference "
            << fmt::format("{}", expected);
        ++checked;
      } catch (const compe::Error& e) {
        ADD_FAILURE() << where << ": unexpected error: " << e.what();
      }
    }
  }
  const auto detection = std::count_if(cm::builtin().begin(), cm::builtin().end(),
                                       [](const cm::Info& i) {
                                         return i.accepts(cm::kDetection) || i.accepts(cm::kSegmentation);
                                       });
  EXPECT_GE(files, cm::builtin().size() - static_cast<std::size_t>(detection));
  EXPECT_GT(checked, 500u);
  EXPECT_GT(errors, 50u);
}
