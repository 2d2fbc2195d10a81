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
  std::string solution, submission, metric, id, workspace, image_size;
  bool json = false;
};

/// Image competitions: the class names and image sizes meta.json beside the solution gives
/// (`classes`, `image_size` [width, height]).
void read_meta_images(const JsonAt& j, score::Options& opt) {
  if (auto classes = j.find("classes")) opt.classes = classes->strings();
  if (auto size = j.find("image_size")) {
    size->array();
    const bool ok = size->size() == 2 && size->at(0).integer() >= 1 && size->at(1).integer() >= 1;
    if (!ok) size->expected("[width, height] in pixels");
    opt.image_size = score::ImageSize{size->at(0).integer(), size->at(1).integer()};
  }
}

/// The metric for a solution: --metric, else meta.json beside the solution, else the workspace's.
/// Image competitions also take their classes and image sizes from there (segmentation: sizes
/// from the workspace's test.csv when it has width,height).
std::string find_metric(const ScoreArgs& a, std::optional<std::string>& task, score::Options& opt) {
  if (!a.metric.empty()) {
    const metric::Info& info = metric::make(a.metric)->info();
    if (!info.accepts(metric::kDetection) && !info.accepts(metric::kSegmentation)) return a.metric;
  }
  fs::path meta = fs::path(a.solution).parent_path() / "meta.json";
  if (fs::exists(meta)) {
    const nlohmann::json doc = read_json_file(meta);
    const JsonAt j(doc, meta.string());
    j.object();
    read_meta_images(j, opt);
    if (!a.metric.empty()) return a.metric;  // meta.json's task goes with its own metric only
    if (auto t = j.opt_string("task")) task = *t;
    if (auto m = j.opt_string("metric")) return *m;
  }
  for (fs::path dir : {fs::path(a.solution).parent_path(), fs::path(a.workspace)}) {
    if (dir.empty()) dir = ".";
    if (fs::exists(dir / "compe.toml")) {
      Workspace w = Workspace::open(dir);
      const auto kind = w.config().task;
      if (kind == metric::kSegmentation && fs::exists(w.resolve(w.config().test))) {
        Table test = w.read_test();
        if (test.has("width") && test.has("height")) opt.image_sizes = score::read_image_sizes(test);
      }
      if (!a.metric.empty()) return a.metric;
      task = std::string(metric::task_name(kind));
      return w.config().metric;
    }
  }
  if (!a.metric.empty()) return a.metric;
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
  cmd->add_option("--image-size", a->image_size,
                  "Segmentation: WIDTHxHEIGHT of every image, where neither the solution's width,height "
                  "columns nor the workspace's test.csv give it");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    std::optional<std::string> task;
    score::Options opt;
    opt.metric = find_metric(*a, task, opt);
    opt.id_column = a->id;
    if (task) opt.task = metric::parse_task(*task);
    if (!a->image_size.empty()) opt.image_size = score::parse_image_size(a->image_size, "--image-size");
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
