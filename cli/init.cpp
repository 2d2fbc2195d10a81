// compe init DIR --from KAGGLE_DIR: create a workspace.
#include <fmt/core.h>

#include "commands.hpp"
#include "compe/workspace.hpp"
#include "compe/util.hpp"
#include "output.hpp"

namespace compe::cli {

void add_init_command(CLI::App& app) {
  struct Args {
    std::string dir, from, task, metric, id, target;
    bool force = false, json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("init", "Create a workspace (compe.toml) from a Kaggle-style data folder");
  cmd->add_option("DIR", a->dir, "Workspace folder to create")->required();
  cmd->add_option("--from", a->from, "Folder with train.csv, test.csv, sample_submission.csv")->required();
  cmd->add_option("--task", a->task, "binary, multiclass, regression, multilabel (default: inferred)");
  cmd->add_option("--metric", a->metric, "Metric spec (default: meta.json's, else the task's default)");
  cmd->add_option("--id", a->id, "Id column (default: the sample submission's first column)");
  cmd->add_option("--target", a->target, "Target column (default: train columns not in test)");
  cmd->add_flag("--force", a->force, "Overwrite an existing compe.toml");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    InitOptions o;
    o.dir = a->dir;
    o.from = a->from;
    o.force = a->force;
    if (!a->task.empty()) o.task = a->task;
    if (!a->metric.empty()) o.metric = a->metric;
    if (!a->id.empty()) o.id = a->id;
    if (!a->target.empty()) o.target = a->target;
    InitReport r = init_workspace(o);
    const auto& c = r.config;
    if (a->json) {
      print_json({{"workspace", a->dir},
                  {"name", c.name},
                  {"task", metric::task_name(c.task)},
                  {"metric", c.metric},
                  {"id", c.id_column},
                  {"target", c.target_columns},
                  {"folds", {{"strategy", c.folds.spec.strategy}, {"k", c.folds.spec.k}, {"seed", c.folds.spec.seed}}},
                  {"notes", r.notes}});
      return;
    }
    fmt::print("created workspace {} ({})\n", a->dir, (std::filesystem::path(a->dir) / "compe.toml").string());
    for (const auto& n : r.notes) fmt::print("  {}\n", n);
    fmt::print("  folds {} k={} seed={}\nnext: cd {} && compe folds\n", c.folds.spec.strategy,
               c.folds.spec.k, c.folds.spec.seed, a->dir);
  });
}

}  // namespace compe::cli
