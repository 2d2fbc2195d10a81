#pragma once
// compe tune's process plumbing: stopping on SIGINT / SIGTERM, and local worker processes (more
// `compe tune --worker` processes of the same study). The tuning itself is tune::tune_experiment.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compe/store.hpp"

namespace compe::cli {

// A signal handler may do almost nothing, so it only writes the signal to a pipe; a thread reads
// it and does the work: cancel this process's run (which then stops its trainer and records
// itself as interrupted), stop the local workers, end the running trial as failed, and exit. So
// Ctrl-C leaves no trial running and no worker behind.
struct StopState {
  std::mutex mu;
  std::vector<pid_t> workers;  // local worker processes still to reap
  Store* store = nullptr;
  std::string study;
  std::atomic<std::int64_t> current{-1};  // this process's running trial
  std::atomic<bool> cancel{false};        // set on a signal: the run stops at its next step
  std::atomic<bool> idle{false};          // the main thread has left the run and waits to exit
};

StopState& stop_state();
void install_stop_handler();
// Called by the main thread once a signal came: it must not start anything else.
[[noreturn]] void hold_for_exit(StopState& st);
// A worker must not outlive its parent `parent_pid`, even one killed with SIGKILL.
void die_with_parent(std::int64_t parent_pid);

// The command line of a local worker of study `study`: worker i samples with seed + i and stops
// at the shared trial limit.
struct WorkerCommand {
  std::string experiment, workspace;  // as given to the parent ("" = none)
  std::string study, store_url;
  std::uint64_t seed = 0;
  std::int64_t limit = 0;
  double timeout = 0;
  std::vector<std::string> args(int i) const;
};

// The local worker processes of one compe tune call.
class LocalWorkers {
 public:
  explicit LocalWorkers(StopState& stop) : stop_(stop) {}
  // Starts `compe` (this binary) with `args` (argv[0] included); its stderr goes to a temporary
  // file read when it fails.
  void start(int index, const std::vector<std::string>& args);
  std::size_t size() const { return workers_.size(); }
  bool empty() const { return workers_.empty(); }
  // Stops the workers (`stop_them`) or waits for them, calling `poll` while waiting; ends the
  // trials a killed worker left running. Returns "" or what failed, and the highest exit status.
  std::string wait(bool stop_them, Store& store, const std::string& study,
                   const std::function<void()>& poll, int& exit_status);

 private:
  struct Worker {
    int index = 0;
    pid_t pid = -1;
    std::filesystem::path errors;  // its stderr
    std::optional<int> status;
  };
  StopState& stop_;
  std::vector<Worker> workers_;
};

}  // namespace compe::cli
