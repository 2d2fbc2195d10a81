// compe audit: leak audit of the workspace's data and folds.
#include <filesystem>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/audit.hpp"
#include "compe/folds.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

void add_audit_command(CLI::App& app) {
  struct Args {
    std::string workspace, group;
    double threshold = 0.99;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("audit", "Leak audit: group and time overlap, duplicates, too-good features, id order");
  cmd->add_option("--workspace", a->workspace, "Workspace folder (default: the current one)");
  cmd->add_option("--group", a->group, "Group column to check (default: compe.toml's folds.group)");
  cmd->add_option("--threshold", a->threshold, "Single-feature AUC/R² at or above which a feature is a leak")
      ->check(CLI::Range(0.5, 1.0));
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    Workspace w = open_workspace(a->workspace);
    Table train = w.read_train();
    Table test = w.read_test();
    FoldAssignment fa;
    if (std::filesystem::exists(w.folds_path())) {
      fa = read_folds(w.folds_path(), train, w.config().id_column);
    } else {
      fa = make_folds(train, w.config(), w.config().folds);
      if (!a->json) fmt::print("no folds.csv yet: auditing the folds compe.toml would make\n");
    }
    audit::Options o;
    o.group_column = a->group;
    o.single_feature_threshold = a->threshold;
    audit::Report r = audit::run(train, test, w.config(), fa, o);
    std::size_t leaks = 0, warnings = 0;
    for (const auto& f : r.findings) {
      leaks += f.severity == audit::Severity::kLeak;
      warnings += f.severity == audit::Severity::kWarning;
    }
    if (a->json) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& f : r.findings)
        items.push_back({{"check", f.check}, {"severity", audit::severity_name(f.severity)},
                         {"subject", f.subject}, {"value", f.value}, {"detail", f.detail}});
      print_json({{"findings", items}, {"leaks", leaks}, {"warnings", warnings},
                  {"rows", {{"train", r.rows_train}, {"test", r.rows_test}}}, {"folds_hash", fa.hash}});
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : r.findings)
      rows.push_back({f.check, std::string(audit::severity_name(f.severity)), f.subject, f.detail});
    print_table({"check", "result", "subject", "detail"}, rows);
    fmt::print("{} leak(s), {} warning(s)\n", leaks, warnings);
  });
}

}  // namespace compe::cli
