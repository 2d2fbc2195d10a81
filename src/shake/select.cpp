#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "common/toml_util.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/shake.hpp"
#include "compe/util.hpp"

namespace compe::shake {
namespace fs = std::filesystem;

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> names = {"best_cv", "best_public", "most_diverse", "best_cv_other_model"};
  return names;
}

namespace {

const std::vector<std::string> kSelectKeys = {"first", "second", "min_cv", "tag"};

std::string rule_value(const toml::table& t, std::string_view key, std::string_view display, bool first) {
  const toml::node* n = t.get(key);
  if (!n) return first ? "best_cv" : "best_public";
  auto v = n->value<std::string>();
  const auto& names = policy_names();
  // The first final has nothing to differ from: only the two "best" rules apply.
  std::vector<std::string> allowed = first ? std::vector<std::string>{"best_cv", "best_public"} : names;
  if (!v || std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    std::string closest = v ? closest_match(*v, allowed) : "";
    fail(ErrorCode::kInvalidArgument, "{}:{}: select.{} is {}, expected one of: {}{}", display,
         n->source().begin.line, key, v ? "'" + *v + "'" : std::string("not a string"), join(allowed),
         closest.empty() ? "" : fmt::format(" (did you mean {}?)", quote(closest)));
  }
  return *v;
}

}  // namespace

Policy parse_policy(std::string_view text, std::string_view display) {
  toml::table root = parse_toml(text, display);
  Policy p;
  const toml::node* n = root.get("select");
  if (!n) return p;
  if (!n->is_table())
    fail(ErrorCode::kInvalidArgument, "{}:{}: 'select' must be a table ([select])", display, n->source().begin.line);
  const toml::table& t = *n->as_table();
  check_toml_keys(t, "select.", kSelectKeys, display);
  p.declared = true;
  p.first = rule_value(t, "first", display, true);
  p.second = rule_value(t, "second", display, false);
  if (const toml::node* m = t.get("min_cv")) {
    auto v = m->value<double>();
    if (!v || !std::isfinite(*v))
      fail(ErrorCode::kInvalidArgument, "{}:{}: select.min_cv must be a finite number", display, m->source().begin.line);
    p.min_cv = *v;
  }
  if (const toml::node* m = t.get("tag")) {
    auto v = m->value<std::string>();
    if (!v || v->empty())
      fail(ErrorCode::kInvalidArgument, "{}:{}: select.tag must be a non-empty string", display, m->source().begin.line);
    p.tag = *v;
  }
  return p;
}

Selection select_finals(const Workspace& ws, const SelectOptions& options) {
  Selection sel;
  sel.policy = parse_policy(read_file(ws.config_path()), ws.config_path().string());
  if (!sel.policy.declared)
    fail(ErrorCode::kInvalidArgument,
         "{} has no [select] table: declare the final-selection policy before the end, e.g.\n"
         "[select]\nfirst = \"best_cv\"\nsecond = \"best_public\"   # or most_diverse, best_cv_other_model\n"
         "min_cv = 0.85",
         ws.config_path().string());
  const Policy& pol = sel.policy;
  const metric::Info& metric_info = metric::make(ws.config().metric)->info();
  const bool image_kind = metric_info.accepts(metric::kDetection) || metric_info.accepts(metric::kSegmentation);
  if (!fs::exists(ws.folds_path()))
    fail(ErrorCode::kNotFound, "{}: no folds.csv: run `compe folds` or `compe run` first", ws.folds_path().string());
  Table train = ws.read_train();
  const std::string folds_hash = read_folds(ws.folds_path(), train, ws.config().id_column).hash;
  auto metric = metric::make(ws.config().metric);
  const bool greater = metric->info().greater_is_better();
  auto better = [greater](double a, double b) { return greater ? a > b : a < b; };

  auto store = open_store(options.store.empty() ? ws.store_path().string() : options.store);
  store->mark_interrupted_stale();
  RunFilter filter;  // every run: failed and interrupted ones are listed among those left out
  filter.limit = 0;
  filter.sort = RunSort::kCreated;
  filter.descending = false;
  std::vector<Run> runs = store->list_runs(filter).runs;
  std::map<std::string, LbScore> lb;
  for (const auto& l : store->list_lb_scores()) lb[l.run_id] = l;

  std::vector<Run> eligible;
  for (const auto& r : runs) {
    std::string why;
    // A teammate's run on a shared store has its submission in the store, not in runs/.
    bool has_sub = fs::exists(ws.runs_dir() / r.id / "submission.csv");
    if (!has_sub && r.status == RunStatus::kFinished) {
      for (const Artifact& a : store->list_artifacts(r.id))
        if (a.name == "submission" && a.stored) has_sub = true;
    }
    if (r.status != RunStatus::kFinished) {
      const std::string error = r.error.substr(0, r.error.find('\n'));
      why = fmt::format("{}{}", run_status_name(r.status), error.empty() ? "" : " (" + error + ")");
    } else if (!has_sub) why = "no submission.csv";
    else if (r.folds_hash != folds_hash)
      why = fmt::format("folds hash {} differs from the workspace's {}", r.folds_hash.empty() ? "(none)" : r.folds_hash, folds_hash);
    else if (!r.cv_score) why = "no CV score";
    else if (r.partial) why = "partial run (some folds or rows only)";
    else if (r.tags.count("archived")) why = "archived";
    else if (!r.metric.empty() && r.metric != metric->spec()) why = fmt::format("metric {} is not the workspace's {}", r.metric, metric->spec());
    else if (pol.min_cv && better(*pol.min_cv, *r.cv_score))
      why = fmt::format("CV {:.6g} is worse than min_cv {:.6g}", *r.cv_score, *pol.min_cv);
    else if (!pol.tag.empty() && !r.tags.count(pol.tag)) why = fmt::format("no tag {}", quote(pol.tag));
    if (why.empty()) eligible.push_back(r);
    else sel.excluded.push_back(fmt::format("{} ({}): {}", r.id, r.name, why));
  }
  sel.eligible = eligible.size();
  if (eligible.empty())
    fail(ErrorCode::kInvalidArgument, "no run is eligible for the finals ({} run(s) left out{}{})", runs.size(),
         sel.excluded.empty() ? "" : ": ", join(std::vector<std::string>(
             sel.excluded.begin(), sel.excluded.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(5, sel.excluded.size()))), "; "));
  for (const auto& rule : {pol.first, pol.second})
    if (rule == "best_public" &&
        std::none_of(eligible.begin(), eligible.end(), [&](const Run& r) { return lb.count(r.id) > 0; }))
      fail(ErrorCode::kInvalidArgument,
           "the policy's rule 'best_public' needs public LB scores, and none of the {} eligible run(s) has one: "
           "record them with `compe lb add RUN --public SCORE`, or choose another rule in [select]",
           eligible.size());

  auto model_of = [](const Run& r) { return r.config.value("/model/backend"_json_pointer, std::string()); };
  std::vector<std::string> chosen;
  auto taken = [&](const Run& r) { return std::find(chosen.begin(), chosen.end(), r.id) != chosen.end(); };
  auto pick = [&](const std::string& rule) -> const Run* {
    const Run* best = nullptr;
    if (rule == "best_cv") {
      for (const auto& r : eligible)
        if (!taken(r) && (!best || better(*r.cv_score, *best->cv_score))) best = &r;
    } else if (rule == "best_public") {
      for (const auto& r : eligible)
        if (!taken(r) && lb.count(r.id) && (!best || better(lb[r.id].public_score, lb[best->id].public_score))) best = &r;
    } else if (rule == "best_cv_other_model") {
      std::string first_model = model_of(*std::find_if(eligible.begin(), eligible.end(), [&](const Run& r) { return r.id == chosen[0]; }));
      for (const auto& r : eligible)
        if (!taken(r) && model_of(r) != first_model && (!best || better(*r.cv_score, *best->cv_score))) best = &r;
    } else if (rule == "most_diverse") {
      if (image_kind)
        fail(ErrorCode::kInvalidArgument,
             "[select] second = \"most_diverse\" compares OOF prediction columns, which {} runs do not have (they "
             "keep boxes or masks); use best_cv_other_model or best_public",
             metric::task_name(ws.config().task));
      std::vector<std::string> ids{chosen[0]};
      for (const auto& r : eligible)
        if (!taken(r)) ids.push_back(r.id);
      if (ids.size() < 2) return nullptr;
      blend::RunOptions ro;
      ro.store = options.store;
      blend::OofSet set = blend::load_set(ws, ids, ro);
      double lowest = 2;
      for (std::size_t i = 1; i < set.members.size(); ++i) {
        double c = blend::pearson(set.members[0].oof, set.members[i].oof);
        if (c < lowest) {
          lowest = c;
          best = &*std::find_if(eligible.begin(), eligible.end(), [&](const Run& r) { return r.id == set.members[i].name; });
        }
      }
    }
    return best;
  };

  for (const auto& rule : {pol.first, pol.second}) {
    const Run* r = pick(rule);
    if (!r) continue;
    chosen.push_back(r->id);
    Final f;
    f.rule = rule;
    f.run = *r;
    if (lb.count(r->id)) {
      f.public_score = lb[r->id].public_score;
      f.private_score = lb[r->id].private_score;
    }
    f.config_path = (fs::path("runs") / r->id / "config.json").string();
    Hasher h;
    h.update(r->config.dump());
    f.config_hash = h.hex();
    f.model = model_of(*r);
    sel.finals.push_back(std::move(f));
  }
  // Detection and segmentation runs keep boxes or masks, not OOF columns: no correlation, and
  // their shake needs the test solution (images re-split).
  if (sel.finals.size() == 2 && (!image_kind || ws.config().solution)) {
    if (!image_kind) {
      blend::RunOptions ro;
      ro.store = options.store;
      blend::OofSet set = blend::load_set(ws, {sel.finals[0].run.id, sel.finals[1].run.id}, ro);
      sel.oof_correlation = blend::pearson(set.members[0].oof, set.members[1].oof);
    }
    LoadOptions lo;
    lo.store = options.store;
    Loaded loaded = load_candidates(ws, {sel.finals[0].run.id, sel.finals[1].run.id}, lo);
    Options so;
    so.mode = loaded.mode;
    so.public_fraction = loaded.public_fraction.value_or(0.3);
    so.test_rows = loaded.test_rows;
    so.simulations = options.simulations;
    so.seed = options.seed;
    so.threads = options.threads;
    sel.shake = simulate(loaded.problem, so);
  }
  return sel;
}

nlohmann::json to_json(const Selection& s) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json finals = nlohmann::json::array();
  for (const auto& f : s.finals)
    finals.push_back({{"rule", f.rule},
                      {"run_id", f.run.id},
                      {"name", f.run.name},
                      {"cv", opt(f.run.cv_score)},
                      {"public", opt(f.public_score)},
                      {"private", opt(f.private_score)},
                      {"model", f.model},
                      {"lineage",
                       {{"run_id", f.run.id},
                        {"parent", f.run.parent_id},
                        {"commit", f.run.git_commit},
                        {"dirty", f.run.git_dirty ? nlohmann::json(*f.run.git_dirty) : nlohmann::json(nullptr)},
                        {"config_path", f.config_path},
                        {"config_hash", f.config_hash},
                        {"folds_hash", f.run.folds_hash}}}});
  return {{"policy",
           {{"first", s.policy.first},
            {"second", s.policy.second},
            {"min_cv", opt(s.policy.min_cv)},
            {"tag", s.policy.tag}}},
          {"finals", finals},
          {"oof_correlation", opt(s.oof_correlation)},
          {"shake", s.shake ? to_json(*s.shake) : nlohmann::json(nullptr)},
          {"eligible", s.eligible},
          {"excluded", s.excluded}};
}

}  // namespace compe::shake
