// compe pseudo's core: a pseudo set and its experiment from a run's per-fold test predictions;
// rounds of pseudo runs.
#include <algorithm>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "compe/error.hpp"
#include "compe/oof.hpp"
#include "compe/pseudo_run.hpp"
#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

namespace compe::pseudo {
namespace fs = std::filesystem;

namespace {

// Fold-by-fold test predictions of one run folder, in the reference's test order.
struct RunFolds {
  std::vector<std::vector<double>> values;  // per fold: rows x cols
};

RunFolds read_test_folds(const run::Reference& ref, const fs::path& csv, const std::string& run_id) {
  const std::size_t n = ref.test_ids.size(), cols = ref.cols();
  std::unordered_map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < n; ++i) pos.emplace(ref.test_ids.to_string(i), i);
  CsvReadOptions o;
  o.dtypes = {{ref.id_column, DType::kString}, {"fold", DType::kInt64}};
  const Table t = read_csv(csv, o);
  const Column& id = t.column(ref.id_column);
  const Column& fold = t.column("fold");
  std::vector<const Column*> pc;
  for (const auto& c : ref.prediction_columns) pc.push_back(&t.column(c));
  const int k = ref.num_folds();
  RunFolds out;
  out.values.assign(static_cast<std::size_t>(k), {});
  std::vector<std::size_t> seen(static_cast<std::size_t>(k), 0);
  std::vector<std::string> unknown;
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    const std::int64_t f = fold.is_missing(r) ? -1 : fold.i64[r];
    if (f < 0 || f >= k)
      fail(ErrorCode::kInvalidArgument, "{}:{}: fold {}: the workspace's folds.csv has folds 0..{}", csv.string(),
           r + 2, fold.to_string(r), k - 1);
    auto it = pos.find(std::string(id.str(r)));
    if (it == pos.end()) {
      if (unknown.size() < 5) unknown.push_back(std::string(id.str(r)));
      continue;
    }
    auto& v = out.values[static_cast<std::size_t>(f)];
    if (v.empty()) v.assign(n * cols, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t c = 0; c < cols; ++c) v[it->second * cols + c] = pc[c]->as_double(r);
    ++seen[static_cast<std::size_t>(f)];
  }
  if (!unknown.empty())
    fail(ErrorCode::kInvalidArgument, "{}: ids {} are not test ids of the sample submission", csv.string(),
         list_shown(unknown, 5));
  for (int f = 0; f < k; ++f)
    if (seen[static_cast<std::size_t>(f)] != n)
      fail(ErrorCode::kInvalidArgument,
           "run {}: {} has {} test predictions for fold {}, expected {} (one per test id): pseudo-labelling needs "
           "every fold's model (a run of all folds)",
           run_id, csv.string(), seen[static_cast<std::size_t>(f)], f, n);
  return out;
}

std::string no_test_folds(const std::string& id, const fs::path& csv) {
  return fmt::format(
      "run {} has no per-fold test predictions ({} is missing): runs made before compe {} or by other tools lack "
      "them; rerun it with `compe rerun {}` (or `compe run` of its experiment) to get them",
      id, csv.string(), COMPE_VERSION, id);
}

// A blend's per-fold test predictions: its members' fold-k predictions, weighted as the blend
// recorded (equal weights when it did not). Only when every member is fold-safe on the
// workspace's folds; otherwise refused, naming the members and why.
RunFolds blend_folds(const Workspace& ws, Store& store, const run::Reference& ref, const Run& blend) {
  const nlohmann::json inputs = blend.config.value("/blend/inputs"_json_pointer, nlohmann::json::array());
  if (!inputs.is_array() || inputs.empty())
    fail(ErrorCode::kInvalidArgument, "blend run {} records no members: it cannot be a pseudo-label source", blend.id);
  std::vector<std::string> problems;
  std::vector<std::pair<std::string, double>> members;
  for (const auto& m : inputs) {
    const std::string id = m.value("run_id", std::string());
    if (id.empty()) {
      problems.push_back(fmt::format("{} is a folder, not a run", m.value("name", std::string("?"))));
      continue;
    }
    Run r = store.get_run(id);
    if (r.folds_hash != ref.folds_hash)
      problems.push_back(fmt::format("{} is on folds {}", id, r.folds_hash));
    else if (!fs::exists(ws.runs_dir() / id / "test_folds.csv"))
      problems.push_back(fmt::format("{} has no test_folds.csv", id));
    const double w = m.contains("weight") && m["weight"].is_number() ? m["weight"].get<double>() : 1.0;
    members.emplace_back(id, w);
  }
  if (!problems.empty())
    fail(ErrorCode::kInvalidArgument,
         "blend run {} is not a fold-safe pseudo source: every member must have per-fold test predictions on the "
         "workspace's folds ({}): {}",
         blend.id, ref.folds_hash, join(problems, "; "));
  RunFolds out;
  double total = 0;
  for (const auto& [id, w] : members) {
    RunFolds f = read_test_folds(ref, ws.runs_dir() / id / "test_folds.csv", id);
    if (out.values.empty()) out.values.assign(f.values.size(), std::vector<double>(f.values[0].size(), 0.0));
    for (std::size_t k = 0; k < f.values.size(); ++k)
      for (std::size_t i = 0; i < f.values[k].size(); ++i) out.values[k][i] += w * f.values[k][i];
    total += w;
  }
  for (auto& v : out.values)
    for (auto& x : v) x /= total;
  return out;
}

toml::array to_toml_array(const nlohmann::json& a);

toml::table to_toml_table(const nlohmann::json& j) {
  toml::table t;
  for (const auto& [k, v] : j.items()) {
    if (v.is_null()) continue;
    if (v.is_object()) t.insert(k, to_toml_table(v));
    else if (v.is_array()) t.insert(k, to_toml_array(v));
    else if (v.is_boolean()) t.insert(k, v.get<bool>());
    else if (v.is_number_integer()) t.insert(k, v.get<std::int64_t>());
    else if (v.is_number()) t.insert(k, v.get<double>());
    else t.insert(k, v.get<std::string>());
  }
  return t;
}

toml::array to_toml_array(const nlohmann::json& a) {
  toml::array out;
  for (const auto& v : a) {
    if (v.is_object()) out.push_back(to_toml_table(v));
    else if (v.is_array()) out.push_back(to_toml_array(v));
    else if (v.is_boolean()) out.push_back(v.get<bool>());
    else if (v.is_number_integer()) out.push_back(v.get<std::int64_t>());
    else if (v.is_number()) out.push_back(v.get<double>());
    else if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string render(const toml::table& t) {
  std::ostringstream s;
  s << t;
  return s.str() + "\n";
}

}  // namespace

Made make_set(const Workspace& ws, const MakeOptions& opt, const std::string& source_run) {
  auto store = open_store(opt.store.empty() ? ws.store_path().string() : opt.store);
  const std::string id = store->resolve_run_id(source_run);
  const Run src = store->get_run(id);
  const run::Reference ref = run::reference_from_workspace(ws);
  if (src.folds_hash != ref.folds_hash)
    fail(ErrorCode::kInvalidArgument,
         "run {} was made on folds {}; the workspace's folds.csv has {}: its per-fold test predictions do not "
         "match this run's folds",
         id, src.folds_hash, ref.folds_hash);
  RunFolds folds;
  const fs::path csv = ws.runs_dir() / id / "test_folds.csv";
  if (src.kind == "blend") folds = blend_folds(ws, *store, ref, src);
  else if (!fs::exists(csv)) fail(ErrorCode::kNotFound, "{}", no_test_folds(id, csv));
  else folds = read_test_folds(ref, csv, id);

  FoldPredictions p;
  p.task = ref.task == metric::kBinary ? Task::kBinary : ref.task == metric::kMulticlass ? Task::kMulticlass
                                                                                         : Task::kRegression;
  p.rows = ref.test_ids.size();
  p.columns = ref.cols();
  p.values = folds.values;
  for (int f = 0; f < ref.num_folds(); ++f) p.train_rows_per_fold.push_back(ref.rows() - ref.rows_of(f).size());
  Rule rule = opt.rule;
  for (const auto& [label, t] : opt.class_thresholds) {
    auto it = std::find(ref.classes.begin(), ref.classes.end(), label);
    if (it == ref.classes.end())
      fail(ErrorCode::kInvalidArgument, "--class-threshold {}: not a class of this competition ({})", quote(label),
           ref.classes.empty() ? std::string("a regression target has none") : list_shown(ref.classes, 10));
    rule.class_threshold[static_cast<int>(it - ref.classes.begin())] = t;
  }
  const Selection sel = select(p, rule);

  Made m;
  m.source_run = id;
  m.selection_reads_other_folds = sel.selection_reads_other_folds;
  const bool leaky = opt.rule.source == Source::kFoldAverage;
  std::vector<SetRow> rows;
  for (std::size_t f = 0; f < sel.per_fold.size(); ++f) {
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < sel.per_fold[f].size(); ++i) {
      const Row& r = sel.per_fold[f][i];
      distinct += i == 0 || r.test_row != sel.per_fold[f][i - 1].test_row;
      std::string label = p.task == Task::kRegression ? format_double(r.label)
                                                      : ref.classes.at(static_cast<std::size_t>(r.label));
      rows.push_back({static_cast<int>(f), leaky ? -1 : static_cast<int>(f), ref.test_ids.to_string(r.test_row),
                      std::move(label), r.weight});
    }
    m.rows_per_fold.push_back(distinct);
    m.entries_per_fold.push_back(sel.per_fold[f].size());
  }
  m.set_path = opt.set_path.empty() ? ws.root() / "pseudo" / fmt::format("{}{}.csv", id, leaky ? "-leaky" : "")
                                    : opt.set_path;
  m.sha256 = write_set(m.set_path, rows);

  Config& c = m.config;
  c.source_run = id;
  std::error_code ec;
  const fs::path rel = fs::relative(fs::absolute(m.set_path), fs::absolute(ws.root()), ec);
  c.set = !ec && !rel.empty() && rel.native().rfind("..", 0) != 0 ? rel.generic_string() : fs::absolute(m.set_path).string();
  c.sha256 = m.sha256;
  c.folds_hash = ref.folds_hash;
  c.strategy = opt.strategy;
  c.weight = opt.weight;
  c.pretrain_rounds = opt.pretrain_rounds;
  c.rounds = opt.rounds;
  c.round = opt.round;
  c.leaky = leaky;
  c.rule = rule_json(rule);

  toml::table pseudo_table{{"pseudo", to_toml_table(c.to_json())}};
  if (!opt.base_experiment.empty()) {
    const run::Experiment base = run::parse_experiment(opt.base_experiment, opt.base_display);
    if (!base.pseudo.is_null())
      fail(ErrorCode::kInvalidArgument, "{} already has a [pseudo] table: give an experiment without one",
           opt.base_display);
    m.experiment_toml = opt.base_experiment + "\n" + render(pseudo_table);
  } else {
    run::Experiment x;
    try {
      x = run::experiment_from_json(src.config);
    } catch (const Error& e) {
      fail(ErrorCode::kInvalidArgument,
           "run {} ({} run) records no experiment to train again ({}): give the base experiment with --experiment",
           id, src.kind.empty() ? "an external" : src.kind, e.what());
    }
    x.pseudo = nullptr;
    x.parent = id;
    const std::string stem = x.name.empty() ? src.name : x.name;
    const std::string suffix = leaky ? "-pseudo-leaky" : "-pseudo";
    x.name = stem.size() >= suffix.size() && stem.rfind(suffix) == stem.size() - suffix.size() ? stem : stem + suffix;
    nlohmann::json j = x.to_json();
    j["pseudo"] = c.to_json();
    m.experiment_toml = fmt::format("# Made by compe pseudo from run {} ({}).\n", id, src.name) +
                        render(to_toml_table(j));
  }
  // The experiment must read back as it will be run.
  (void)run::parse_experiment(m.experiment_toml, "the experiment compe pseudo made");
  return m;
}

std::vector<std::string> lineage_warnings(Store& store, const std::vector<std::string>& run_ids) {
  // Each run's chain of pseudo sources: itself, its source, its source's source, ...
  std::map<std::string, std::vector<std::string>> chain;
  auto source_of = [&](const std::string& id) -> std::string {
    try {
      const Run r = store.get_run(id);
      const auto p = r.config.value("/pseudo/source_run"_json_pointer, std::string());
      return p;
    } catch (const Error&) {
      return "";
    }
  };
  for (const auto& id : run_ids) {
    std::vector<std::string> c{id};
    for (std::string s = source_of(id); !s.empty() && c.size() < 64; s = source_of(s)) {
      if (std::find(c.begin(), c.end(), s) != c.end()) break;
      c.push_back(s);
    }
    chain[id] = c;
  }
  std::vector<std::string> out;
  for (const auto& a : run_ids) {
    const auto& ca = chain[a];
    if (ca.size() < 2) continue;
    const std::string& s = ca[1];
    for (const auto& b : run_ids) {
      if (b == a) continue;
      const auto& cb = chain[b];
      const bool b_in_s = std::find(ca.begin() + 1, ca.end(), b) != ca.end();
      const bool s_in_b = std::find(cb.begin(), cb.end(), s) != cb.end();
      if (!b_in_s && !s_in_b) continue;
      out.push_back(fmt::format(
          "run {} was pseudo-labelled from run {}{}: {}'s training saw test labels predicted by {}'s models", a, s,
          b == s ? "" : fmt::format(", which shares its lineage with run {}", b), a, b));
    }
  }
  return out;
}

std::vector<RoundResult> run_rounds(const Workspace& ws, const MakeOptions& opt, const std::string& source_run,
                                    const fs::path& experiment_out,
                                    const std::function<void(const RoundResult&)>& on_round) {
  std::vector<RoundResult> out;
  std::string source = source_run, base_name;
  for (std::size_t round = 1; round <= opt.rounds; ++round) {
    MakeOptions o = opt;
    o.round = round;
    if (round > 1) o.set_path.clear();
    RoundResult rr;
    rr.made = make_set(ws, o, source);
    const fs::path path =
        round == opt.rounds ? experiment_out
                            : experiment_out.parent_path() /
                                  fmt::format("{}.round{}{}", experiment_out.stem().string(), round,
                                              experiment_out.extension().string());
    write_file_atomic(path, rr.made.experiment_toml);
    run::Experiment x = run::parse_experiment(rr.made.experiment_toml, path.string());
    if (round == 1) base_name = x.name.empty() ? "pseudo" : x.name;
    if (opt.rounds > 1) x.name = fmt::format("{}-r{}", base_name, round);
    run::Options ro;
    ro.store = opt.store;
    ro.command_line = fmt::format("compe pseudo {} --rounds {} (round {})", source_run, opt.rounds, round);
    ro.allow_multi = true;
    const run::Summary s = run::run_experiment(ws, x, ro, {});
    rr.run_id = s.run_id;
    rr.cv = s.cv;
    if (on_round) on_round(rr);
    out.push_back(rr);
    source = s.run_id;
  }
  return out;
}

}  // namespace compe::pseudo
