// The [tune] table of experiment files, and parameter importance.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "compe/error.hpp"
#include "compe/stats.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace compe::tune {
namespace {

Settings settings_of(const nlohmann::json& j, std::string_view display, std::string_view key) {
  Settings s;
  if (j.is_null()) return s;
  if (!j.is_object()) {
    fail(ErrorCode::kInvalidArgument, "{}: 'tune.{}' must be a table", display, key);
  }
  for (const auto& [k, v] : j.items()) s[k] = v;
  return s;
}

/// r^2; 0 where the correlation is undefined (a constant input), as before.
double pearson_sq(const std::vector<double>& a, const std::vector<double>& b) {
  const double r = stats::pearson(a, b);
  return std::isnan(r) ? 0.0 : r * r;
}

ProxyConfig parse_proxy(const nlohmann::json& p, std::string_view display) {
  if (!p.is_object()) {
    fail(ErrorCode::kInvalidArgument, "{}: 'tune.proxy' must be a table such as {{rows = 0.25}}",
         display);
  }
  static const std::vector<std::string> kKeys = {"rows", "rounds", "folds"};
  for (const auto& [k, v] : p.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), k) != kKeys.end()) continue;
    const std::string hint = closest_match(k, kKeys);
    fail(ErrorCode::kInvalidArgument, "{}: unknown key 'tune.proxy.{}'{}; allowed: {}", display, k,
         hint.empty() ? "" : fmt::format(" (did you mean 'tune.proxy.{}'?)", hint), join(kKeys));
  }
  ProxyConfig c;
  if (p.contains("rows")) {
    const nlohmann::json& v = p["rows"];
    if (v.is_number_integer() && v.get<std::int64_t>() > 1) {
      c.rows_count = v.get<std::int64_t>();
    } else if (v.is_number() && v.get<double>() > 0 && v.get<double>() <= 1) {
      c.rows_fraction = v.get<double>();
    } else {
      fail(ErrorCode::kInvalidArgument,
           "{}: 'tune.proxy.rows' is {}; expected a fraction 0 < rows <= 1 or a row count > 1",
           display, v.dump());
    }
  }
  auto positive = [&](const char* key) -> std::int64_t {
    if (!p.contains(key)) return 0;
    const nlohmann::json& v = p[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1) {
      fail(ErrorCode::kInvalidArgument, "{}: 'tune.proxy.{}' is {}; expected an integer >= 1",
           display, key, v.dump());
    }
    return v.get<std::int64_t>();
  };
  c.rounds = positive("rounds");
  c.folds = static_cast<int>(std::min<std::int64_t>(positive("folds"), 1 << 20));
  return c;
}

}  // namespace

TuneConfig parse_tune_config(const nlohmann::json& t, std::string_view display) {
  if (!t.is_object()) fail(ErrorCode::kInvalidArgument, "{}: 'tune' must be a table", display);
  static const std::vector<std::string> kKeys = {
      "trials", "timeout", "sampler",         "pruner",         "seed",
      "study",  "space",   "sampler_options", "pruner_options", "max_failures", "proxy",
      "objectives"};
  for (const auto& [k, v] : t.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), k) != kKeys.end()) continue;
    const std::string hint = closest_match(k, kKeys);
    fail(ErrorCode::kInvalidArgument, "{}: unknown key 'tune.{}'{}; allowed: {}", display, k,
         hint.empty() ? "" : fmt::format(" (did you mean 'tune.{}'?)", hint), join(kKeys));
  }
  TuneConfig c;
  auto integer = [&](const char* key, std::int64_t lo) -> std::optional<std::int64_t> {
    if (!t.contains(key)) return std::nullopt;
    const nlohmann::json& v = t[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < lo) {
      fail(ErrorCode::kInvalidArgument, "{}: 'tune.{}' is {}; expected an integer >= {}", display,
           key, v.dump(), lo);
    }
    return v.get<std::int64_t>();
  };
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (!t.contains(key)) return std::nullopt;
    if (!t[key].is_string()) {
      fail(ErrorCode::kInvalidArgument, "{}: 'tune.{}' is {}; expected a string", display, key,
           t[key].dump());
    }
    return t[key].get<std::string>();
  };
  if (auto v = integer("trials", 1)) c.trials = *v;
  if (auto v = integer("seed", 0)) c.seed = static_cast<std::uint64_t>(*v);
  if (auto v = integer("max_failures", 1)) c.max_failures = static_cast<int>(*v);
  if (t.contains("timeout")) {
    if (!t["timeout"].is_number() || t["timeout"].get<double>() < 0) {
      fail(ErrorCode::kInvalidArgument, "{}: 'tune.timeout' is {}; expected seconds >= 0", display,
           t["timeout"].dump());
    }
    c.timeout = t["timeout"].get<double>();
  }
  if (auto v = text("sampler")) c.sampler = *v;
  if (auto v = text("pruner")) c.pruner = *v;
  if (auto v = text("study")) c.study = *v;
  if (t.contains("objectives")) {
    const nlohmann::json& o = t["objectives"];
    if (!o.is_array() || o.empty()) {
      fail(ErrorCode::kInvalidArgument,
           "{}: 'tune.objectives' is {}; expected a list such as [\"cv\", \"fit_seconds\"]",
           display, o.dump());
    }
    c.objectives.clear();
    for (const nlohmann::json& v : o) {
      const auto known = objective_names();
      if (!v.is_string() || std::find(known.begin(), known.end(), v.get<std::string>()) ==
                                known.end()) {
        fail(ErrorCode::kInvalidArgument, "{}: 'tune.objectives' has {}; known: {}", display,
             v.dump(), join(known));
      }
      if (std::find(c.objectives.begin(), c.objectives.end(), v.get<std::string>()) !=
          c.objectives.end()) {
        fail(ErrorCode::kInvalidArgument, "{}: 'tune.objectives' names {} twice", display,
             v.dump());
      }
      c.objectives.push_back(v.get<std::string>());
    }
  }
  c.sampler_settings =
      settings_of(t.value("sampler_options", nlohmann::json()), display, "sampler_options");
  c.pruner_settings =
      settings_of(t.value("pruner_options", nlohmann::json()), display, "pruner_options");
  // Check names and settings now rather than at the first trial.
  try {
    make_sampler(c.sampler, c.sampler_settings);
    make_pruner(c.pruner, c.pruner_settings);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: tune: {}", display, e.what()));
  }
  if (!t.contains("space") || !t["space"].is_object() || t["space"].empty()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: [tune.space] is missing or empty; expected e.g. max_depth = {{type = \"int\", "
         "low = 2, high = 8}}",
         display);
  }
  try {
    c.space = SearchSpace::from_json(t["space"]);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: tune.space: {}", display, e.what()));
  }
  if (t.contains("proxy")) c.proxy = parse_proxy(t["proxy"], display);
  return c;
}

std::vector<std::pair<std::string, double>> parameter_importance(
    const SearchSpace& space, std::span<const FrozenTrial> trials) {
  std::vector<const FrozenTrial*> done;
  for (const FrozenTrial& t : trials) {
    if (t.state == TrialState::kComplete && t.value && std::isfinite(*t.value)) done.push_back(&t);
  }
  std::vector<std::pair<std::string, double>> out;
  double total = 0;
  for (const auto& [name, d] : space.params()) {
    std::vector<double> x, y;
    for (const FrozenTrial* t : done) {
      auto it = t->params.find(name);
      if (it == t->params.end()) continue;
      x.push_back(d.kind != ParamKind::kCategorical && d.log ? std::log(it->second) : it->second);
      y.push_back(*t->value);
    }
    double score = 0;
    if (x.size() >= 3) {
      const std::vector<double> ry = stats::average_ranks(y);
      if (d.kind == ParamKind::kCategorical) {
        // eta^2 = between-group sum of squares / total sum of squares of the ranks.
        const double mean =
            std::accumulate(ry.begin(), ry.end(), 0.0) / static_cast<double>(ry.size());
        std::map<double, std::pair<double, double>> groups;  // choice -> (sum, count)
        double ss_total = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          groups[x[i]].first += ry[i];
          groups[x[i]].second += 1;
          ss_total += (ry[i] - mean) * (ry[i] - mean);
        }
        double ss_between = 0;
        for (const auto& [k, g] : groups) {
          const double m = g.first / g.second;
          ss_between += g.second * (m - mean) * (m - mean);
        }
        score = ss_total > 0 ? ss_between / ss_total : 0;
      } else {
        score = pearson_sq(stats::average_ranks(x), ry);
      }
    }
    out.emplace_back(name, score);
    total += score;
  }
  if (total > 0) {
    for (auto& [n, s] : out) s /= total;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace compe::tune
