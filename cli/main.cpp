// The compe executable: parses the command line, dispatches, and translates errors once.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <system_error>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"

namespace {

// Every --threads option, whichever command declares it, accepts 0..kMaxThreads: an absurd count
// is a usage error naming the option, not a crash or a huge allocation further down.
void bound_thread_options(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (!o->check_lname("threads")) continue;
    o->check(CLI::Validator(
        [](std::string& v) -> std::string {
          std::int64_t n = 0;
          if (!CLI::detail::lexical_cast(v, n)) return {};  // the option's own type check reports it
          try {
            compe::check_threads(n, "the thread count");
          } catch (const compe::Error& e) {
            return e.what();
          }
          return {};
        },
        "", "threads"));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) bound_thread_options(*sub);
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads that busy-wait between parallel regions (libgomp's default) make XGBoost up to
  // 25x slower when the cores are shared with other work. libgomp reads OMP_WAIT_POLICY when it
  // loads, before main: so set it and start again, once, unless the user chose a policy.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
  }
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
  compe::cli::add_wbf_command(app, argc, argv);
  compe::cli::add_ui_command(app);
  compe::cli::add_blend_commands(app, argc, argv);
  compe::cli::add_oof_commands(app, argc, argv);
  compe::cli::add_tune_command(app, argc, argv);
  compe::cli::add_study_command(app);
  compe::cli::add_host_commands(app);
  compe::cli::add_shake_commands(app);
  compe::cli::add_sync_commands(app);
  compe::cli::add_pseudo_command(app);
  compe::cli::add_review_commands(app);
  bound_thread_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const compe::Error& e) {
    // Messages quote user text: never let it drive the terminal.
    fmt::print(stderr, "error[{}]: {}\n", compe::error_code_name(e.code()),
               compe::escape_controls(e.what()));
    return compe::exit_code_for(e.code());
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the system refuses for its length is bad input; any other file system failure is not.
    const bool too_long = e.code() == std::errc::filename_too_long;
    fmt::print(stderr, "error[{}]: {}{}\n", too_long ? "invalid_argument" : "io", e.what(),
               too_long ? " (a name takes at most 255 bytes, a path 4096)" : "");
    return too_long ? 2 : 1;
  } catch (const nlohmann::json::exception& e) {
    // Every JSON input is read through compe/json_input.hpp; a value that still slips through is
    // input compe did not expect, not a crash: exit 2, without the library's prefix.
    std::string what = e.what();
    if (auto p = what.find("] "); what.starts_with("[json.exception") && p != std::string::npos)
      what = what.substr(p + 2);
    fmt::print(stderr, "error[parse]: a JSON value is not what compe expected: {}\n",
               compe::escape_controls(compe::clip(what, 400)));
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error[internal]: {}\n", compe::escape_controls(e.what()));
    return 1;
  }
  return 0;
}
