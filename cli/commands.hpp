#pragma once
// Each command group lives in its own file and registers itself here. No algorithms in cli/.

#include <CLI/CLI.hpp>

namespace compe::cli {

void add_list_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_init_command(CLI::App& app);
void add_folds_command(CLI::App& app);
void add_audit_command(CLI::App& app);
void add_run_command(CLI::App& app, int argc, char** argv);
void add_runs_command(CLI::App& app);
void add_track_commands(CLI::App& app, int argc, char** argv);
void add_wbf_command(CLI::App& app, int argc, char** argv);
void add_ui_command(CLI::App& app);
void add_blend_commands(CLI::App& app, int argc, char** argv);
void add_oof_commands(CLI::App& app, int argc, char** argv);
void add_tune_command(CLI::App& app, int argc, char** argv);
void add_study_command(CLI::App& app);
void add_host_commands(CLI::App& app);
void add_shake_commands(CLI::App& app);
void add_sync_commands(CLI::App& app);
void add_pseudo_command(CLI::App& app);
void add_review_commands(CLI::App& app);

}  // namespace compe::cli
