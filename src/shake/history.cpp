#include <algorithm>
#include <map>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/shake.hpp"

namespace compe::shake {

History history(Store& store, const std::string& metric_spec) {
  auto metric = metric::make(metric_spec);
  History h;
  h.metric = metric->spec();
  h.direction = metric->info().direction;
  const bool greater = metric->info().greater_is_better();
  auto better = [greater](double a, double b) { return greater ? a > b : a < b; };

  std::vector<LbScore> scores = store.list_lb_scores();
  if (scores.empty())
    fail(ErrorCode::kInvalidArgument,
         "no run has an LB score: record them with `compe lb add RUN --public SCORE [--private SCORE]`");
  // The latest score of each run, in the order of those latest scores.
  std::map<std::string, std::size_t> latest;
  for (std::size_t i = 0; i < scores.size(); ++i) latest[scores[i].run_id] = i;
  std::vector<std::size_t> order;
  for (auto& [id, i] : latest) order.push_back(i);
  std::sort(order.begin(), order.end());
  for (std::size_t i : order) {
    const LbScore& l = scores[i];
    Run r = store.get_run(l.run_id);
    if (!r.cv_score || r.partial) continue;  // a partial run's CV is not comparable
    if (!r.metric.empty() && r.metric != h.metric) {
      try {
        if (metric::make(r.metric)->spec() != h.metric) continue;
      } catch (const Error&) {
        continue;
      }
    }
    h.rows.push_back({r.id, r.name, r.parent_id, *r.cv_score, l.public_score, l.private_score, ""});
  }
  if (h.rows.empty())
    fail(ErrorCode::kInvalidArgument, "no run with an LB score has a CV score for metric '{}'", h.metric);

  std::size_t best = 0;
  for (std::size_t i = 1; i < h.rows.size(); ++i)
    if (better(h.rows[i].cv, h.rows[best].cv)) best = i;
  h.best_cv_run = h.rows[best].run_id;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < h.rows.size(); ++i) index[h.rows[i].run_id] = i;
  for (auto& row : h.rows) {
    auto flag = [&](const HistoryRow& ref, std::string_view what) {
      if (better(row.public_score, ref.public_score) && better(ref.cv, row.cv))
        row.overfit_reason = fmt::format("public {:+.6g} while CV {:+.6g} against {} {}",
                                         row.public_score - ref.public_score, row.cv - ref.cv, what, ref.run_id);
    };
    auto p = index.find(row.parent_id);
    if (p != index.end()) flag(h.rows[p->second], "parent");
    if (row.overfit_reason.empty() && row.run_id != h.best_cv_run) flag(h.rows[best], "best-CV run");
  }

  if (h.rows.size() >= 3) {
    std::vector<double> cv, pub, cv_priv, priv;
    for (const auto& r : h.rows) {
      cv.push_back(r.cv);
      pub.push_back(r.public_score);
      if (r.private_score) {
        cv_priv.push_back(r.cv);
        priv.push_back(*r.private_score);
      }
    }
    h.pearson = blend::pearson(cv, pub);
    h.spearman = blend::spearman(cv, pub);
    if (priv.size() >= 3) {
      h.pearson_private = blend::pearson(cv_priv, priv);
      h.spearman_private = blend::spearman(cv_priv, priv);
    }
  }
  return h;
}

nlohmann::json to_json(const History& h) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json rows = nlohmann::json::array();
  std::size_t flagged = 0;
  for (const auto& r : h.rows) {
    flagged += !r.overfit_reason.empty();
    rows.push_back({{"run_id", r.run_id},
                    {"name", r.name},
                    {"parent", r.parent_id},
                    {"cv", r.cv},
                    {"public", r.public_score},
                    {"private", opt(r.private_score)},
                    {"overfit", !r.overfit_reason.empty()},
                    {"reason", r.overfit_reason}});
  }
  return {{"metric", h.metric},
          {"direction", h.direction == metric::Direction::kMaximize ? "maximize" : "minimize"},
          {"runs", rows},
          {"pearson", opt(h.pearson)},
          {"spearman", opt(h.spearman)},
          {"pearson_private", opt(h.pearson_private)},
          {"spearman_private", opt(h.spearman_private)},
          {"best_cv_run", h.best_cv_run},
          {"overfit", flagged}};
}

}  // namespace compe::shake
