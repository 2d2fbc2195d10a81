// The compe executable: parses the command line, dispatches, and translates errors once.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"compe: a workbench for machine-learning competitions", "compe"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("compe ") + COMPE_VERSION);
  compe::cli::add_init_command(app);
  compe::cli::add_folds_command(app);
  compe::cli::add_audit_command(app);
  compe::cli::add_run_command(app, argc, argv);
  compe::cli::add_runs_command(app);
  compe::cli::add_track_commands(app, argc, argv);
  compe::cli::add_score_command(app);
  compe::cli::add_list_command(app);
  compe::cli::add_wbf_command(app);
  compe::cli::add_tune_command(app, argc, argv);
  compe::cli::add_study_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const compe::Error& e) {
    fmt::print(stderr, "error[{}]: {}\n", compe::error_code_name(e.code()), e.what());
    return compe::exit_code_for(e.code());
  } catch (const std::exception& e) {
    fmt::print(stderr, "error[internal]: {}\n", e.what());
    return 1;
  }
  return 0;
}
