// compe pseudo: a fold-safe pseudo set and its experiment from a run's per-fold test predictions;
// with --rounds, the pseudo runs themselves.
#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/pseudo_run.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

namespace {

nlohmann::json made_json(const pseudo::Made& m, const std::string& out) {
  return {{"source_run", m.source_run},
          {"set", m.config.set},
          {"sha256", m.sha256},
          {"experiment", out},
          {"rows_per_fold", m.rows_per_fold},
          {"entries_per_fold", m.entries_per_fold},
          {"selection_reads_other_folds", m.selection_reads_other_folds},
          {"pseudo", m.config.to_json()}};
}

}  // namespace

void add_pseudo_command(CLI::App& app) {
  struct Args {
    std::string source, out, experiment, workspace, store, strategy = "concat", set;
    std::optional<double> threshold, top_share, max_spread;
    std::optional<std::size_t> top_k;
    std::vector<std::string> class_threshold;
    double max_share = 1.0, weight = 1.0;
    std::size_t rounds = 1, pretrain_rounds = 100;
    bool soft = false, leaky = false, json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "pseudo", "Pseudo-label test rows from a run's per-fold test predictions (fold-safe) and write the experiment");
  cmd->add_option("SOURCE_RUN", a->source, "Run id (or prefix) whose test_folds.csv labels the test rows")->required();
  cmd->add_option("-o,--output", a->out, "Experiment TOML to write (the base experiment with a [pseudo] table)")
      ->required();
  cmd->add_option("--threshold", a->threshold, "Keep rows whose top class probability is >= T");
  cmd->add_option("--class-threshold", a->class_threshold, "CLASS=T: a threshold for one class (repeatable)");
  auto* k = cmd->add_option("--top-k", a->top_k, "Per class, the K most confident rows");
  cmd->add_option("--top-share", a->top_share, "Per class, at most this share of the test rows")->excludes(k);
  cmd->add_option("--max-share", a->max_share, "At most this many pseudo rows per training row of a fold");
  cmd->add_flag("--soft", a->soft, "Soft labels: one row per class weighted by its probability");
  cmd->add_option("--max-spread", a->max_spread, "Regression: keep rows whose fold-to-fold std is <= X");
  cmd->add_option("--strategy", a->strategy, "concat (train + pseudo rows) or pretrain_finetune")
      ->check(CLI::IsMember({"concat", "pretrain_finetune"}));
  cmd->add_option("--pretrain-rounds", a->pretrain_rounds, "pretrain_finetune: boosting rounds on the pseudo rows")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--weight", a->weight, "Weight of every pseudo row (x its own weight)");
  cmd->add_option("--rounds", a->rounds, "Run N rounds, each labelled by the previous round's run")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--leaky-fold-average", a->leaky,
                "Labels from the fold-averaged test predictions (LEAKY: for measuring the inflated CV)");
  cmd->add_option("--experiment", a->experiment, "Base experiment TOML (default: the source run's config)");
  cmd->add_option("--set", a->set, "Where to write the pseudo set (default: pseudo/<run id>.csv)");
  add_workspace_option(cmd, a->workspace);
  add_store_option(cmd, a->store);
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    Workspace w = open_workspace(a->workspace);
    pseudo::MakeOptions o;
    o.rule.threshold = a->threshold;
    o.rule.top_k = a->top_k;
    o.rule.top_share = a->top_share;
    o.rule.max_share = a->max_share;
    o.rule.soft = a->soft;
    o.rule.max_spread = a->max_spread;
    o.rule.source = a->leaky ? pseudo::Source::kFoldAverage : pseudo::Source::kPerFold;
    for (const auto& ct : a->class_threshold) {
      const auto eq = ct.find('=');
      std::optional<double> t;
      if (eq != std::string::npos) {
        try {
          std::size_t used = 0;
          t = std::stod(ct.substr(eq + 1), &used);
          if (used != ct.size() - eq - 1) t.reset();
        } catch (const std::exception&) {
        }
      }
      if (!t)
        fail(ErrorCode::kInvalidArgument, "--class-threshold {}: expected CLASS=T, e.g. 1=0.9", quote(ct));
      o.class_thresholds.emplace_back(ct.substr(0, eq), *t);
    }
    if (!(a->weight > 0)) fail(ErrorCode::kInvalidArgument, "--weight {}: expected a weight > 0", a->weight);
    o.strategy = pseudo::parse_strategy(a->strategy);
    o.weight = a->weight;
    o.pretrain_rounds = a->pretrain_rounds;
    o.rounds = a->rounds;
    o.set_path = a->set;
    o.store = store_url_or_env(a->store);
    if (!a->experiment.empty()) {
      o.base_experiment = read_file(a->experiment);
      o.base_display = a->experiment;
    }
    if (a->rounds == 1) {
      pseudo::Made m = pseudo::make_set(w, o, a->source);
      write_file_atomic(a->out, m.experiment_toml);
      if (a->json) return print_json(made_json(m, a->out));
      std::vector<std::vector<std::string>> rows;
      for (std::size_t f = 0; f < m.rows_per_fold.size(); ++f)
        rows.push_back({std::to_string(f), std::to_string(m.rows_per_fold[f]), std::to_string(m.entries_per_fold[f])});
      print_table({"fold", "test rows", "set rows"}, rows);
      fmt::print("pseudo set {} (sha256 {}) from run {}{}\n", m.config.set, m.sha256.substr(0, 16), m.source_run,
                 m.config.leaky ? "  LEAKY: fold-averaged labels, its CV is inflated" : "");
      if (m.selection_reads_other_folds)
        fmt::print("note: which rows are kept reads every fold's predictions (their spread); labels are each fold's own\n");
      fmt::print("experiment: {}  (compe run {})\n", a->out, a->out);
      return;
    }
    nlohmann::json rounds = nlohmann::json::array();
    pseudo::run_rounds(w, o, a->source, a->out, [&](const pseudo::RoundResult& r) {
      rounds.push_back({{"round", r.made.config.round}, {"source_run", r.made.source_run}, {"run_id", r.run_id},
                        {"cv", r.cv ? nlohmann::json(*r.cv) : nlohmann::json(nullptr)},
                        {"set", r.made.config.set}, {"rows_per_fold", r.made.rows_per_fold}});
      if (!a->json)
        fmt::print("round {}: run {} from run {}: cv {}\n", r.made.config.round, r.run_id, r.made.source_run,
                   r.cv ? fmt_score(*r.cv) : "-");
    });
    if (a->json) {
      // Each round's run as the one Run record, beside the round's own fields.
      auto store = open_run_store(a->workspace, a->store);
      for (auto& r : rounds) r["run"] = run_record(*store, r["run_id"].get<std::string>());
      print_json({{"rounds", rounds}, {"experiment", a->out}});
    }
  });
}

}  // namespace compe::cli
