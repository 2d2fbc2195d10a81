// compe tune's process plumbing: the stop handler and local worker processes.
#include "tune_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/core.h>

#include "compe/error.hpp"

namespace compe::cli {
namespace fs = std::filesystem;
namespace {

int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], &b, 1);
}

// Sends SIGTERM to the workers and reaps them, SIGKILL after `grace`.
void stop_workers(std::vector<pid_t> pids, std::chrono::milliseconds grace) {
  for (pid_t p : pids) ::kill(p, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + grace;
  while (!pids.empty()) {
    std::erase_if(pids, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
    if (pids.empty()) break;
    if (std::chrono::steady_clock::now() >= until) {
      for (pid_t p : pids) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The stop thread's work once a signal came.
[[noreturn]] void stop_now(unsigned char sig) {
  StopState& st = stop_state();
  st.cancel = true;
  std::vector<pid_t> workers;
  {
    std::lock_guard lock(st.mu);
    workers = st.workers;
  }
  stop_workers(workers, std::chrono::seconds(15));
  // Give this process's run a moment to stop its trainer and record itself as interrupted.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!st.idle && st.current >= 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::int64_t n = st.current.load();
  if (st.store && n >= 0) {
    try {
      st.store->finish_trial(
          st.study, n, TrialState::kFailed, {},
          fmt::format("interrupted by signal {} ({})", sig, sig == SIGINT ? "SIGINT" : "SIGTERM"));
    } catch (const std::exception&) {
      // Already ended, or the store is unreachable: the stale check will end it.
    }
  }
  fmt::print(stderr, "interrupted{}{}\n", n >= 0 ? fmt::format(": trial {} ended as failed", n) : "",
             workers.empty() ? "" : fmt::format(", {} worker(s) stopped", workers.size()));
  std::fflush(stderr);
  ::_exit(128 + sig);
}

pid_t spawn_worker(const std::vector<std::string>& args, const fs::path& errors) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fail(ErrorCode::kIo, "cannot start a worker process: {}", std::strerror(rc));
  }
  return pid;
}

std::string last_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("status {}", status);
}

}  // namespace

StopState& stop_state() {
  static StopState s;
  return s;
}

[[noreturn]] void hold_for_exit(StopState& st) {
  st.idle = true;
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void install_stop_handler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  if (::pipe(g_stop_pipe) != 0) return;
  ::fcntl(g_stop_pipe[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(g_stop_pipe[1], F_SETFD, FD_CLOEXEC);
  std::thread([] {
    unsigned char sig = 0;
    while (::read(g_stop_pipe[0], &sig, 1) != 1) {
      if (errno != EINTR) return;
    }
    stop_now(sig);
  }).detach();
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void die_with_parent(std::int64_t parent_pid) {
  // The kernel sends SIGTERM when the parent dies, and the stop handler ends the trial and run
  // cleanly. The parent may have died before this line: then stop the same way at once.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != static_cast<pid_t>(parent_pid)) ::raise(SIGTERM);
}

std::vector<std::string> WorkerCommand::args(int i) const {
  std::vector<std::string> out = {"compe", "tune"};
  if (!experiment.empty()) out.push_back(experiment);
  for (const std::string& v :
       {std::string("--study"), study, std::string("--store"), store_url, std::string("--seed"),
        std::to_string(seed + static_cast<std::uint64_t>(i)), std::string("--worker"),
        std::string("--trial-limit"), std::to_string(limit), std::string("--parent-pid"),
        std::to_string(::getpid())}) {
    out.push_back(v);
  }
  if (!workspace.empty()) {
    out.push_back("--workspace");
    out.push_back(workspace);
  }
  if (timeout > 0) {
    out.push_back("--timeout");
    out.push_back(fmt::format("{}", timeout));
  }
  return out;
}

void LocalWorkers::start(int index, const std::vector<std::string>& args) {
  Worker w;
  w.index = index;
  w.errors = fs::temp_directory_path() / fmt::format("compe-tune-{}-worker{}.err", ::getpid(), index);
  {
    std::lock_guard lock(stop_.mu);
    w.pid = spawn_worker(args, w.errors);
    stop_.workers.push_back(w.pid);
  }
  workers_.push_back(w);
}

std::string LocalWorkers::wait(bool stop_them, Store& store, const std::string& study,
                               const std::function<void()>& poll, int& exit_status) {
  std::string failures;
  if (workers_.empty()) return failures;
  std::vector<pid_t> pids;
  for (const Worker& w : workers_) pids.push_back(w.pid);
  if (stop_them) stop_workers(pids, std::chrono::seconds(10));
  for (Worker& w : workers_) {
    int status = 0;
    while (!stop_them && !w.status) {
      const pid_t r = ::waitpid(w.pid, &status, WNOHANG);
      if (r == w.pid) {
        w.status = status;
      } else if (r < 0) {
        w.status = 0;
      } else {
        poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    if (w.status && *w.status != 0) {
      const std::string why = last_line(w.errors);
      failures += fmt::format("{}worker {} (pid {}) failed with {}{}", failures.empty() ? "" : "; ",
                              w.index, w.pid, describe_status(*w.status),
                              why.empty() ? "" : ": " + why);
      if (WIFEXITED(*w.status)) exit_status = std::max(exit_status, WEXITSTATUS(*w.status));
    }
    std::error_code ec;
    fs::remove(w.errors, ec);
  }
  {
    std::lock_guard lock(stop_.mu);
    stop_.workers.clear();
  }
  // A worker killed mid-trial left it running: end it now rather than at the next call.
  store.fail_stale_trials(study);
  return failures;
}

}  // namespace compe::cli
