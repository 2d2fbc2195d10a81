// compe folds: assign cross-validation folds, write folds.csv, report balance and the hash.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/folds.hpp"
#include "compe/split.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

void add_folds_command(CLI::App& app) {
  struct Args {
    std::string workspace, strategy, group, time;
    int k = 0, gap = -1;
    long long seed = -1;
    bool no_shuffle = false, json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("folds", "Assign cross-validation folds and write folds.csv");
  add_workspace_option(cmd, a->workspace);
  cmd->add_option("--strategy", a->strategy, "Splitter (`compe list splitters`; default: compe.toml's)");
  cmd->add_option("--k", a->k, "Number of folds")->check(CLI::Range(2, 1000));
  cmd->add_option("--seed", a->seed, "Random seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--group", a->group, "Group column (rows of a group stay in one fold)");
  cmd->add_option("--time", a->time, "Time column (ordering for timeseries)");
  cmd->add_option("--gap", a->gap, "Rows left out between train and validation (timeseries)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-shuffle", a->no_shuffle, "Do not shuffle before splitting");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    Workspace w = open_workspace(a->workspace);
    CompetitionConfig cfg = w.config();
    FoldsConfig f = cfg.folds;
    if (!a->strategy.empty()) f.spec.strategy = split::find(a->strategy).name;
    if (a->k) f.spec.k = a->k;
    if (a->seed >= 0) f.spec.seed = static_cast<std::uint64_t>(a->seed);
    if (a->gap >= 0) f.spec.gap = a->gap;
    if (a->no_shuffle) f.spec.shuffle = false;
    if (!a->group.empty()) f.group_column = a->group;
    if (!a->time.empty()) f.time_column = a->time;
    Table train = w.read_train();
    SplitData d = make_split_data(train, cfg, f);
    FoldAssignment fa;
    fa.ids.reserve(train.num_rows());
    const Column& id = train.column(cfg.id_column);
    for (std::size_t r = 0; r < id.size(); ++r) fa.ids.push_back(id.to_string(r));
    split::Assignment asg = split::assign(f.spec, d.inputs());
    fa.folds = std::move(asg.folds);
    fa.hash = folds_hash(fa.ids, fa.folds);
    write_folds(w.folds_path(), fa);
    write_folds_record(w.folds_path(), {f, fa.hash});

    // Per-fold sizes and balance.
    int k = f.spec.k;
    bool cls = d.y_is_class && d.y_cols == 1;
    std::size_t n_classes = cls ? d.classes.size() : 0;
    std::vector<std::size_t> size(static_cast<std::size_t>(k), 0), groups_per(static_cast<std::size_t>(k), 0);
    std::vector<std::vector<double>> cls_count(static_cast<std::size_t>(k), std::vector<double>(n_classes, 0));
    std::vector<double> sum(static_cast<std::size_t>(k), 0);
    std::size_t unassigned = 0;
    // Group splitters: distinct groups per fold (a group never spans two folds).
    const bool grouped = !d.groups.empty();
    if (grouped) {
      std::vector<std::set<std::int64_t>> seen(static_cast<std::size_t>(k));
      for (std::size_t r = 0; r < fa.folds.size(); ++r)
        if (fa.folds[r] >= 0) seen[static_cast<std::size_t>(fa.folds[r])].insert(d.groups[r]);
      for (std::size_t u = 0; u < seen.size(); ++u) groups_per[u] = seen[u].size();
    }
    for (std::size_t r = 0; r < fa.folds.size(); ++r) {
      int fo = fa.folds[r];
      if (fo < 0) {
        ++unassigned;
        continue;
      }
      auto u = static_cast<std::size_t>(fo);
      size[u]++;
      if (cls) cls_count[u][static_cast<std::size_t>(d.y[r])] += 1;
      else if (d.y_cols == 1) sum[u] += d.y[r];
    }
    nlohmann::json jf = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (std::size_t u = 0; u < static_cast<std::size_t>(k); ++u) {
      std::vector<std::string> row{std::to_string(u), std::to_string(size[u])};
      nlohmann::json jr = {{"fold", u}, {"rows", size[u]}};
      if (grouped) {
        row.push_back(std::to_string(groups_per[u]));
        jr["groups"] = groups_per[u];
      }
      if (cls) {
        nlohmann::json props = nlohmann::json::object();
        for (std::size_t c = 0; c < n_classes; ++c) {
          double p = size[u] ? cls_count[u][c] / static_cast<double>(size[u]) : 0.0;
          row.push_back(fmt::format("{:.3f}", p));
          props[d.classes[c]] = p;
        }
        jr["class_proportions"] = props;
      } else if (d.y_cols == 1) {
        double mean = size[u] ? sum[u] / static_cast<double>(size[u]) : NAN;
        row.push_back(fmt::format("{:.6g}", mean));
        jr["target_mean"] = mean;
      }
      rows.push_back(row);
      jf.push_back(jr);
    }
    if (a->json) {
      print_json({{"path", w.folds_path().string()}, {"strategy", f.spec.strategy}, {"k", k},
                  {"seed", f.spec.seed}, {"hash", fa.hash}, {"rows", fa.folds.size()},
                  {"unassigned", unassigned}, {"folds", jf}, {"warnings", asg.warnings}});
      return;
    }
    std::vector<std::string> header{"fold", "rows"};
    if (grouped) header.push_back("groups");
    if (cls)
      for (const auto& c : d.classes) header.push_back("p(" + c + ")");
    else if (d.y_cols == 1)
      header.push_back("target mean");
    fmt::print("{} folds ({}, seed {}) -> {}\n", k, f.spec.strategy, f.spec.seed, w.folds_path().string());
    print_table(header, rows);
    if (unassigned) fmt::print("{} row(s) are never validated (the first time block)\n", unassigned);
    for (const auto& wmsg : asg.warnings) fmt::print("warning: {}\n", wmsg);
    fmt::print("folds hash: {}\n", fa.hash);
  });
}

}  // namespace compe::cli
