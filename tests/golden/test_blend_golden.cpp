// Golden cases from scikit-learn 1.2.1 (see tests/golden/REFERENCES-blend.md): the binary
// threshold fitted for f1, accuracy and mcc reaches the best score over every threshold the
// reference tries, and for f1 labels the rows as precision_recall_curve's best threshold does.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "compe/blend.hpp"
#include "compe/metric.hpp"

namespace blend = compe::blend;
using nlohmann::json;

TEST(BlendGolden, BinaryThresholdsMatchScikitLearn) {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "blend" /
                   "thresholds.json");
  ASSERT_TRUE(in) << "missing thresholds.json";
  json doc = json::parse(in);
  const double tol = doc.at("tolerance").get<double>();
  ASSERT_EQ(doc.at("cases").size(), 3u);
  for (const auto& c : doc.at("cases")) {
    const auto y = c.at("y").get<std::vector<double>>();
    const auto p = c.at("p").get<std::vector<double>>();
    for (const char* metric : {"f1", "accuracy", "mcc"}) {
      blend::Reference ref;
      ref.task = compe::metric::kBinary;
      ref.metric = metric;
      ref.prediction_columns = {"p"};
      auto d = blend::fit_decision(ref, p, y);
      std::vector<int> got = d.labels(p, 1);
      std::vector<double> labels(got.begin(), got.end());
      double score = compe::metric::score(metric, {.y_true = y, .y_pred = labels});
      EXPECT_NEAR(score, c.at(metric).at("score").get<double>(), tol)
          << c.at("name") << " " << metric;
      if (std::string(metric) == "f1" && c.at("f1").at("unique").get<bool>()) {
        // A unique best: the same labels as the reference's threshold t (p >= t), i.e. our cut
        // lies in (largest score below t, t].
        const double t = c.at("f1").at("threshold").get<double>();
        double below = -1;
        for (double v : p)
          if (v < t) below = std::max(below, v);
        EXPECT_GT(d.cuts[0], below) << c.at("name");
        EXPECT_LE(d.cuts[0], t) << c.at("name");
      }
    }
  }
}
