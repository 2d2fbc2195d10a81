// compe list metrics|splitters: the registries, as tables or JSON.
#include <fmt/core.h>

#include "commands.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/split.hpp"
#include "compe/util.hpp"
#include "output.hpp"

namespace compe::cli {

static std::string tasks_text(unsigned tasks) {
  std::vector<std::string> out;
  for (auto t : {metric::kBinary, metric::kMulticlass, metric::kRegression, metric::kMultilabel,
                 metric::kRanking, metric::kDetection, metric::kSegmentation})
    if (tasks & t) out.emplace_back(metric::task_name(t));
  return join(out, ",");
}

void add_list_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "List the built-in metrics, models or splitters");
  cmd->require_subcommand(1);
  static bool json = false;
  auto* metrics = cmd->add_subcommand("metrics", "Metrics: name, direction, tasks, summary");
  metrics->add_flag("--json", json, "Print one JSON document");
  metrics->callback([] {
    if (json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& m : metric::builtin())
        doc.push_back({{"name", m.name},
                       {"aliases", m.aliases},
                       {"summary", m.summary},
                       {"direction", m.greater_is_better() ? "maximize" : "minimize"},
                       {"tasks", tasks_text(m.tasks)},
                       {"needs_proba", m.needs_proba},
                       {"weights", m.supports_weights}});
      print_json(doc);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : metric::builtin()) {
      std::string name = m.name;
      if (m.arg == metric::ArgKind::kOptionalInt || m.arg == metric::ArgKind::kRequiredInt) name += "@k";
      if (m.arg == metric::ArgKind::kRequiredReal) name += "@q";
      rows.push_back({name, m.greater_is_better() ? "max" : "min", tasks_text(m.tasks),
                      m.needs_proba ? "proba" : "label", m.summary});
    }
    print_table({"metric", "best", "tasks", "input", "summary"}, rows);
  });
  auto* models = cmd->add_subcommand("models", "Model backends: name, tasks, summary, default parameters");
  models->add_flag("--json", json, "Print one JSON document");
  models->callback([] {
    if (json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& m : model::builtin())
        doc.push_back({{"name", m.name}, {"aliases", m.aliases}, {"summary", m.summary},
                       {"tasks", tasks_text(m.tasks)}, {"defaults", m.default_params}});
      print_json(doc);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : model::builtin()) rows.push_back({m.name, tasks_text(m.tasks), m.summary});
    print_table({"model", "tasks", "summary"}, rows);
  });
  auto* splitters = cmd->add_subcommand("splitters", "Cross-validation splitters");
  splitters->add_flag("--json", json, "Print one JSON document");
  splitters->callback([] {
    if (json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& s : split::builtin())
        doc.push_back({{"name", s.name}, {"aliases", s.aliases}, {"summary", s.summary},
                       {"needs_target", s.needs_target}, {"needs_groups", s.needs_groups},
                       {"needs_time", s.needs_time}});
      print_json(doc);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : split::builtin()) {
      std::string needs;
      if (s.needs_target) needs += "target ";
      if (s.needs_groups) needs += "--group ";
      if (s.needs_time) needs += "--time";
      rows.push_back({s.name, needs, s.summary});
    }
    print_table({"splitter", "needs", "summary"}, rows);
  });
}

}  // namespace compe::cli
