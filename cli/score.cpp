// compe score: Kaggle-exact scoring of a submission against a solution with a Usage column.
#include <filesystem>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/score.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "output.hpp"

namespace compe::cli {
namespace fs = std::filesystem;

namespace {

struct ScoreArgs {
  std::string solution, submission, metric, id, workspace;
  bool json = false;
};

/// The metric for a solution: --metric, else meta.json beside the solution, else the workspace's.
std::string find_metric(const ScoreArgs& a, std::optional<std::string>& task) {
  if (!a.metric.empty()) return a.metric;
  fs::path meta = fs::path(a.solution).parent_path() / "meta.json";
  if (fs::exists(meta)) {
    const nlohmann::json doc = read_json_file(meta);
    const JsonAt j(doc, meta.string());
    j.object();
    if (auto t = j.opt_string("task")) task = *t;
    if (auto m = j.opt_string("metric")) return *m;
  }
  for (fs::path dir : {fs::path(a.solution).parent_path(), fs::path(a.workspace)}) {
    if (dir.empty()) dir = ".";
    if (fs::exists(dir / "compe.toml")) {
      Workspace w = Workspace::open(dir);
      task = std::string(metric::task_name(w.config().task));
      return w.config().metric;
    }
  }
  fail(ErrorCode::kInvalidArgument,
       "no metric: pass --metric, or keep a meta.json or compe.toml beside the solution");
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto a = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand("score", "Score a submission against a solution (Kaggle's rules, public and private)");
  cmd->add_option("--solution", a->solution, "Solution CSV: id, target column(s), Usage")->required();
  cmd->add_option("--submission", a->submission, "Submission CSV")->required();
  cmd->add_option("--metric", a->metric, "Metric spec (default: meta.json or compe.toml beside the solution)");
  cmd->add_option("--id", a->id, "Id column (default: the solution's first column)");
  cmd->add_option("--workspace", a->workspace, "Workspace whose compe.toml names the metric");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    std::optional<std::string> task;
    score::Options opt;
    opt.metric = find_metric(*a, task);
    opt.id_column = a->id;
    if (task) opt.task = metric::parse_task(*task);
    CsvReadOptions ro;
    ro.display_name = a->solution;
    Table solution = read_csv(a->solution, ro);
    ro.display_name = a->submission;
    Table submission = read_csv(a->submission, ro);
    score::Result r = score::score_submission(solution, submission, opt);
    auto val = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    if (a->json) {
      print_json({{"metric", r.metric},
                  {"direction", r.direction == metric::Direction::kMaximize ? "maximize" : "minimize"},
                  {"public", val(r.public_score)},
                  {"private", val(r.private_score)},
                  {"overall", val(r.overall_score)},
                  {"rows", {{"public", r.public_rows}, {"private", r.private_rows}, {"ignored", r.ignored_rows}}}});
      return;
    }
    auto txt = [](const std::optional<double>& v) { return v ? fmt::format("{:.6f}", *v) : std::string("-"); };
    std::vector<std::vector<std::string>> rows;
    if (r.public_score || r.private_score) {
      rows.push_back({"public", txt(r.public_score), std::to_string(r.public_rows)});
      rows.push_back({"private", txt(r.private_score), std::to_string(r.private_rows)});
    }
    rows.push_back({"overall", txt(r.overall_score), std::to_string(r.public_rows + r.private_rows)});
    fmt::print("metric: {} ({} is better)\n", r.metric,
               r.direction == metric::Direction::kMaximize ? "higher" : "lower");
    print_table({"split", "score", "rows"}, rows);
    if (r.ignored_rows) fmt::print("{} ignored row(s) not scored\n", r.ignored_rows);
  });
}

}  // namespace compe::cli
