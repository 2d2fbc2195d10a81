// compe audit: leak audit of the workspace's data and folds.
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/audit.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/table.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

void add_audit_command(CLI::App& app) {
  struct Args {
    std::string workspace, group;
    double threshold = 0.99;
    bool json = false;
    bool adversarial = false;
    std::string adversarial_out;
    int adversarial_folds = 5;
    std::size_t top = 10;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("audit", "Leak audit: group and time overlap, duplicates, too-good features, id order");
  add_workspace_option(cmd, a->workspace);
  cmd->add_option("--group", a->group, "Group column to check (default: compe.toml's folds.group)");
  cmd->add_option("--threshold", a->threshold, "Single-feature AUC/R² at or above which a feature is a leak")
      ->check(CLI::Range(0.5, 1.0));
  cmd->add_flag("--adversarial", a->adversarial,
                "Also adversarial validation: an XGBoost classifier separating train from test");
  cmd->add_option("--adversarial-out", a->adversarial_out,
                  "With --adversarial: write id,test_likeness (the OOF probability of being test) per train row");
  cmd->add_option("--adversarial-folds", a->adversarial_folds, "Folds of the adversarial classifier (default 5)")
      ->check(CLI::Range(2, 100));
  cmd->add_option("--top", a->top, "Drift features shown (default 10)");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a] {
    if (!a->adversarial_out.empty() && !a->adversarial)
      fail(ErrorCode::kInvalidArgument, "--adversarial-out needs --adversarial");
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
    if (std::filesystem::exists(w.folds_path())) o.folds_record = read_folds_record(w.folds_path(), fa.hash);
    audit::Report r = audit::run(train, test, w.config(), fa, o);
    std::optional<audit::Adversarial> adv;
    if (a->adversarial) {
      audit::AdversarialOptions ao;
      ao.folds = a->adversarial_folds;
      ao.seed = w.config().folds.spec.seed;
      ao.top = a->top;
      TerminalProgress bar(stdout, !a->json && stdout_is_tty());
      ao.progress = &bar;
      adv = audit::adversarial(train, test, w.config(), ao);
      r.findings.push_back(adv->finding);
      if (!a->adversarial_out.empty()) {
        Table out;
        out.add_column(train.column(w.config().id_column));
        out.add_column(Column::from_f64("test_likeness", adv->train_test_likeness));
        write_csv(out, a->adversarial_out);
      }
    }
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
      nlohmann::json doc = {{"findings", items}, {"leaks", leaks}, {"warnings", warnings},
                            {"rows", {{"train", r.rows_train}, {"test", r.rows_test}}}, {"folds_hash", fa.hash}};
      if (adv) {
        nlohmann::json feats = nlohmann::json::array();
        for (const auto& f : adv->features)
          feats.push_back({{"name", f.name}, {"gain", f.gain}, {"gain_share", f.gain_share}, {"auc", f.auc}});
        nlohmann::json sep = nlohmann::json::array();
        for (const auto& f : adv->separating)
          sep.push_back({{"name", f.name}, {"gain", f.gain}, {"gain_share", f.gain_share}, {"auc", f.auc}});
        doc["adversarial"] = {{"auc", adv->auc}, {"fold_auc", adv->fold_auc}, {"features", feats},
                              {"separating", sep},
                              {"severity", audit::severity_name(adv->finding.severity)},
                              {"out", a->adversarial_out.empty() ? nlohmann::json(nullptr) : nlohmann::json(a->adversarial_out)}};
      }
      print_json(doc);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : r.findings)
      rows.push_back({f.check, std::string(audit::severity_name(f.severity)), f.subject, f.detail});
    print_table({"check", "result", "subject", "detail"}, rows);
    fmt::print("{} leak(s), {} warning(s)\n", leaks, warnings);
    if (adv) {
      fmt::print("\nadversarial validation: OOF AUC {:.4f} (folds {})\n", adv->auc, [&] {
        std::string s;
        for (double v : adv->fold_auc) s += (s.empty() ? "" : " ") + fmt::format("{:.3f}", v);
        return s;
      }());
      std::vector<std::vector<std::string>> frows;
      for (const auto& f : adv->features)
        frows.push_back({f.name, fmt::format("{:.1f}%", 100 * f.gain_share), fmt::format("{:.4f}", f.auc)});
      print_table({"feature", "share of gain", "alone AUC"}, frows);
      if (!adv->separating.empty()) {
        fmt::print("columns that alone separate train from test:\n");
        std::vector<std::vector<std::string>> srows;
        for (const auto& f : adv->separating)
          srows.push_back({f.name, fmt::format("{:.1f}%", 100 * f.gain_share), fmt::format("{:.4f}", f.auc)});
        print_table({"column", "share of gain", "alone AUC"}, srows);
      }
      if (!a->adversarial_out.empty())
        fmt::print("train rows' test-likeness written to {} (the highest are the most test-like)\n", a->adversarial_out);
    }
  });
}

}  // namespace compe::cli
