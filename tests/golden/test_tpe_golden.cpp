// TPE internals against Optuna 3.1.0 (tests/golden/gen/gen_tpe.py,
// tests/golden/REFERENCES-tpe.md): Parzen estimator weights, centres, bandwidths, truncation
// bounds, categorical kernels and mixture log-density; the good/bad split; truncated-normal
// quantiles. Tolerance 1e-9 (absolute, relative for magnitudes above 1).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace {

namespace fs = std::filesystem;
namespace tune = compe::tune;
using nlohmann::json;

constexpr double kTol = 1e-9;

json load(const std::string& name) {
  return json::parse(
      compe::read_file(fs::path(COMPE_TEST_DATA) / "golden" / "cases" / "tpe" / name));
}

void expect_close(double got, double want, const std::string& what) {
  if (std::isinf(want)) {
    EXPECT_EQ(got, want) << what;
    return;
  }
  EXPECT_NEAR(got, want, kTol * std::max(1.0, std::abs(want))) << what;
}

void expect_vec(const std::vector<double>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    expect_close(got[i], want[i].get<double>(), what + "[" + std::to_string(i) + "]");
  }
}

TEST(TpeGolden, ParzenEstimators) {
  const json doc = load("parzen.json");
  ASSERT_GE(doc.at("cases").size(), 30u);
  for (const json& c : doc.at("cases")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    std::vector<tune::Distribution> dists;
    for (const json& p : c.at("params")) {
      dists.push_back(tune::distribution_from_json(p.at("name").get<std::string>(), p.at("dist")));
    }
    tune::TpeOptions opt;
    opt.multivariate = c.at("multivariate");
    opt.consider_prior = c.at("consider_prior");
    opt.consider_endpoints = c.at("consider_endpoints");
    opt.consider_magic_clip = c.at("consider_magic_clip");
    const auto obs = c.at("observations").get<std::vector<std::vector<double>>>();
    const tune::ParzenEstimator pe(obs, dists, opt);
    expect_vec(pe.weights(), c.at("weights"), "weights");
    for (std::size_t p = 0; p < dists.size(); ++p) {
      const std::string pn = c.at("params")[p].at("name");
      if (dists[p].kind == tune::ParamKind::kCategorical) {
        const json& cat = c.at("categorical")[p];
        ASSERT_EQ(pe.categorical(p).size(), cat.size());
        for (std::size_t k = 0; k < cat.size(); ++k) {
          expect_vec(pe.categorical(p)[k], cat[k], pn + " categorical row " + std::to_string(k));
        }
        continue;
      }
      expect_vec(pe.mus(p), c.at("mus")[p], pn + " mus");
      expect_vec(pe.sigmas(p), c.at("sigmas")[p], pn + " sigmas");
      expect_close(pe.low(p), c.at("low")[p], pn + " low");
      expect_close(pe.high(p), c.at("high")[p], pn + " high");
    }
    const auto cands = c.at("candidates").get<std::vector<std::vector<double>>>();
    expect_vec(pe.log_pdf(cands), c.at("log_pdf_optuna310"), "log_pdf as Optuna 3.1.0 scores");
    opt.optuna31_kernels = false;
    const tune::ParzenEstimator true_density(obs, dists, opt);
    expect_vec(true_density.log_pdf(cands), c.at("log_pdf"), "log_pdf with true densities");
  }
}

TEST(TpeGolden, GammaWeightsAndSplit) {
  const json doc = load("split.json");
  for (const auto& [n, g] : doc.at("gamma").items()) {
    EXPECT_EQ(tune::default_tpe_gamma(std::stoul(n)), g.get<std::size_t>()) << n;
  }
  for (const auto& [n, w] : doc.at("weights").items()) {
    expect_vec(tune::default_tpe_weights(std::stoul(n)), w, "weights n=" + n);
  }
  ASSERT_GE(doc.at("splits").size(), 4u);
  for (const json& s : doc.at("splits")) {
    std::vector<std::pair<double, double>> keys;
    for (const json& k : s.at("keys")) {
      // JSON has no infinities: the generator writes them as "inf" / "-inf".
      auto num = [](const json& v) {
        return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
      };
      keys.emplace_back(num(k[0]), num(k[1]));
    }
    const auto [below, above] = tune::split_observations(keys, s.at("n_below").get<std::size_t>());
    EXPECT_EQ(below, s.at("below").get<std::vector<std::size_t>>());
    EXPECT_EQ(above, s.at("above").get<std::vector<std::size_t>>());
  }
}

TEST(TpeGolden, TruncatedNormalQuantilesAndMass) {
  const json doc = load("truncnorm.json");
  ASSERT_GE(doc.at("cases").size(), 50u);
  for (const json& r : doc.at("cases")) {
    const double q = r.at("q"), a = r.at("a"), b = r.at("b");
    const std::string what =
        "q=" + std::to_string(q) + " a=" + std::to_string(a) + " b=" + std::to_string(b);
    expect_close(tune::truncnorm_ppf(q, a, b), r.at("x"), what + " ppf");
    expect_close(tune::log_gauss_mass(a, b), r.at("log_mass"), what + " log mass");
  }
}

}  // namespace
