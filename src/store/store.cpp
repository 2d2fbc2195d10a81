// The Store's logic, written once over the Db connection of either backend.

#include "compe/store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <random>
#include <type_traits>

#include "compe/error.hpp"
#include "compe/util.hpp"
#include "store/db.hpp"
#include "store/schema.hpp"
#include "store/sql_store.hpp"

namespace compe {

using store::Db;
using store::DbError;
using store::Dialect;
using store::Row;
using store::Value;
using json = nlohmann::json;


namespace {

constexpr std::array kRunStatusNames = {"running", "finished", "failed", "interrupted", "pruned"};
constexpr std::array kTrialStateNames = {"waiting", "running", "complete", "pruned", "failed"};

}  // namespace

namespace store {

std::string new_run_id() {
  // std::random_device per id (not a seeded engine): a forked child never repeats its parent.
  std::random_device rd;
  std::uint64_t bits = (std::uint64_t{rd()} << 32) | rd();
  std::string id(8, 'a');
  for (char& c : id) {
    c = kBase32[bits & 31u];
    bits >>= 5;
  }
  return id;
}

std::string this_user() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "";
}

std::string this_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

bool pid_alive(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  if (!(::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) return false;
  // A killed process whose parent died too waits as a zombie until init reaps it (late, in some
  // containers): signals still reach it, but it runs nothing.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    auto comm_end = line.rfind(')');
    if (comm_end != std::string::npos && comm_end + 2 < line.size() && line[comm_end + 2] == 'Z') return false;
  }
  return true;
}

// When process `pid` started, in unix ms, from Linux's /proc; nullopt where that is unknown.
std::optional<std::int64_t> process_start_ms(std::int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  auto comm_end = line.rfind(')');  // the command name may hold spaces and parentheses
  if (comm_end == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(comm_end + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }  // field 22: start time in clock ticks after boot
  std::ifstream boot("/proc/stat");
  long long btime = -1;
  for (std::string l; std::getline(boot, l);)
    if (l.rfind("btime ", 0) == 0) btime = std::atoll(l.c_str() + 6);
  long ticks = ::sysconf(_SC_CLK_TCK);
  if (!fields || btime < 0 || ticks <= 0) return std::nullopt;
  long long start_ticks = std::atoll(field.c_str());
  return btime * 1000 + start_ticks * 1000 / ticks;
}

// Whether the process that runs `run_started_ms`'s run still lives. A live process that started
// well after the run did is another one that got the same pid (after a reboot, say). The margin
// absorbs the boot time's one-second resolution and steps of the clock.
bool run_process_alive(std::int64_t pid, std::int64_t run_started_ms) {
  constexpr std::int64_t kMarginMs = 5 * 60 * 1000;
  if (!pid_alive(pid)) return false;
  auto started = process_start_ms(pid);
  return !started || *started <= run_started_ms + kMarginMs;
}

json parse_json(const std::string& text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(ErrorCode::kStorage, "corrupt JSON in stored {}: {}", what, quote(text));
  return j;
}


Run run_from_row(const Row& r) {
  Run run;
  run.id = r.str(0);
  run.name = r.str(1);
  run.status = parse_run_status(r.str(2));
  run.created_ms = r.i64(3);
  run.started_ms = r.i64(4);
  run.ended_ms = r.opt_i64(5);
  run.heartbeat_ms = r.opt_i64(6);
  run.config = parse_json(r.str(7), "run config");
  run.parent_id = r.str(8);
  run.folds_hash = r.str(9);
  run.data_hash = r.str(10);
  run.metric = r.str(11);
  run.direction = r.str(12);
  run.cv_score = r.opt_f64(13);
  run.note = r.str(14);
  run.command = r.str(15);
  run.workdir = r.str(16);
  run.host = r.str(17);
  run.pid = r.i64(18);
  run.git_commit = r.str(19);
  run.git_branch = r.str(20);
  if (!r.is_null(21)) run.git_dirty = r.i64(21) != 0;
  run.versions = parse_json(r.str(22), "run versions");
  run.error = r.str(23);
  run.wall_seconds = r.opt_f64(24);
  run.cpu_seconds = r.opt_f64(25);
  run.peak_memory_bytes = r.opt_i64(26);
  run.kind = r.str(27);
  run.partial = r.i64(28) != 0;
  run.user = r.str(29);
  return run;
}


Trial trial_from_row(const Row& r) {
  Trial t;
  t.study = r.str(0);
  t.number = r.i64(1);
  t.state = parse_trial_state(r.str(2));
  t.params = parse_json(r.str(3), "trial params");
  for (const json& v : parse_json(r.str(4), "trial values")) {
    t.values.push_back(v.is_number() ? v.get<double>() : std::nan(""));
  }
  t.run_id = r.str(5);
  t.error = r.str(6);
  t.created_ms = r.i64(7);
  t.started_ms = r.opt_i64(8);
  t.ended_ms = r.opt_i64(9);
  t.host = r.str(10);
  t.pid = r.i64(11);
  t.heartbeat_ms = r.opt_i64(12);
  return t;
}

Study study_from_row(const Row& r) {
  Study s;
  s.name = r.str(0);
  s.directions = parse_json(r.str(1), "study directions").get<std::vector<std::string>>();
  s.sampler = parse_json(r.str(2), "study sampler");
  s.created_ms = r.i64(3);
  return s;
}

void check_direction(const std::string& d, std::string_view what) {
  if (d != "maximize" && d != "minimize") {
    fail(ErrorCode::kInvalidArgument,
         "{}: direction '{}' is not valid, expected 'maximize' or 'minimize'", what, d);
  }
}

// Why a new study may not take this name ("" when it may): the name is a path segment of
// /api/studies/<name>, so no '/' or '\\', no control characters, not "." or "..".
std::string study_name_problem(std::string_view name) {
  if (name.size() > 200) return fmt::format("is {} characters long", name.size());
  if (name == "." || name == "..") return "is a path segment of its own";
  for (char c : name) {
    if (c == '/' || c == '\\') return fmt::format("holds '{}'", c);
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "holds a control character";
  }
  return "";
}

}  // namespace store

namespace {

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Removes the query parameter `schema=NAME` (compe's own, unknown to libpq) from a URL.
std::string take_schema_param(std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return "";
  std::string base = url.substr(0, q);
  std::string rest = url.substr(q + 1);
  std::string schema;
  std::string kept;
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    std::size_t amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    std::string part = rest.substr(pos, amp - pos);
    if (starts_with(part, "schema=")) {
      schema = part.substr(7);
    } else if (!part.empty()) {
      kept += (kept.empty() ? "" : "&") + part;
    }
    pos = amp + 1;
  }
  url = kept.empty() ? base : base + "?" + kept;
  return schema;
}

}  // namespace

namespace store {

std::int64_t Row::i64(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  throw DbError(fmt::format("column {}: expected an integer, got NULL", i));
}

double Row::f64(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stod(*s);
  return std::nan("");
}

std::string Row::str(std::size_t i) const {
  const Value& v = cells.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (const auto* b = std::get_if<Blob>(&v)) return b->bytes;
  return "";
}

std::optional<std::int64_t> Row::opt_i64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return i64(i);
}

std::optional<double> Row::opt_f64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return f64(i);
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto at = out.find('@', scheme + 3);
    auto slash = out.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      auto colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  auto pw = out.find("password=");
  if (pw != std::string::npos) {
    auto end = out.find_first_of("& ", pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

}  // namespace store

std::string_view run_status_name(RunStatus status) {
  return kRunStatusNames.at(static_cast<std::size_t>(status));
}

RunStatus parse_run_status(std::string_view name) {
  for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (name == kRunStatusNames[i]) return static_cast<RunStatus>(i);
  }
  fail(ErrorCode::kInvalidArgument,
       "run status '{}' is not valid, expected one of: running, finished, failed, interrupted, pruned",
       name);
}

std::string_view trial_state_name(TrialState state) {
  return kTrialStateNames.at(static_cast<std::size_t>(state));
}

TrialState parse_trial_state(std::string_view name) {
  for (std::size_t i = 0; i < kTrialStateNames.size(); ++i) {
    if (name == kTrialStateNames[i]) return static_cast<TrialState>(i);
  }
  fail(ErrorCode::kInvalidArgument,
       "trial state '{}' is not valid, expected one of: waiting, running, complete, pruned, failed",
       name);
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso8601_utc(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  auto ms = static_cast<int>(unix_ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string default_store_path(const std::string& workspace) {
  return (std::filesystem::path(workspace) / ".compe" / "compe.db").string();
}

std::unique_ptr<Store> open_store(const std::string& url_or_path) {
  std::string shown = store::redact_url(url_or_path);
  if (url_or_path.empty())
    fail(ErrorCode::kInvalidArgument, "store location is empty: give a path or a URL");
  std::unique_ptr<Db> db;
  try {
    if (starts_with(url_or_path, "postgresql://") || starts_with(url_or_path, "postgres://")) {
      std::string url = url_or_path;
      std::string schema = take_schema_param(url);
      db = store::open_postgres(url, schema);
    } else {
      std::string path = url_or_path;
      if (starts_with(path, "sqlite://")) path = path.substr(9);  // sqlite:///abs -> /abs
      if (path.empty())
        fail(ErrorCode::kInvalidArgument, "store URL '{}' names no file", url_or_path);
      if (path != ":memory:") {
        std::filesystem::path parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec)
          fail(ErrorCode::kStorage, "cannot open store '{}': cannot create folder '{}': {}", shown,
               parent.string(), ec.message());
      }
      db = store::open_sqlite(path);
    }
    store::migrate(*db, shown);
  } catch (const DbError& e) {
    fail(ErrorCode::kStorage, "cannot open store '{}': {}", shown, e.what());
  }
  return std::make_unique<store::SqlStore>(std::move(db), shown);
}

}  // namespace compe
