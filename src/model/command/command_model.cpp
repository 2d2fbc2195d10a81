// The external trainer protocol (docs/COMMAND_TRAINER.md): for each fold compe writes the fold's
// rows as CSV, runs the user's command through /bin/sh -c with COMPE_* variables, and reads back
// oof.csv and test.csv from the output folder.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"
#include "model/params.hpp"

extern char** environ;

namespace compe::model {

namespace {

namespace fs = std::filesystem;
constexpr std::string_view kName = "command";
constexpr std::size_t kLogTailLines = 20;
constexpr std::size_t kShownIds = 5;

// --- CSV in and out (the narrow subset this protocol needs) ------------------------------------
// Prediction files are matched on the id text exactly ("007" is not "7"), so cells stay text
// here rather than going through compe::read_csv's type inference; rows are written straight
// from the tables without copying them into fold tables first.

std::string csv_field(std::string_view s) {
  bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

// Writes the given rows (all rows when `rows` is null) of a table as CSV.
void write_rows(const Table& t, const std::vector<std::size_t>* rows, const fs::path& path) {
  std::string out;
  const auto& cols = t.columns();
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (c) out += ',';
    out += csv_field(cols[c].name);
  }
  out += '\n';
  const std::size_t n = rows ? rows->size() : t.num_rows();
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t r = rows ? (*rows)[i] : i;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) out += ',';
      out += csv_field(cols[c].to_string(r));
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

struct CsvRecord {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

// RFC 4180 records (quoted fields, CRLF or LF). Blank lines are skipped.
std::vector<CsvRecord> parse_csv(std::string_view text, const fs::path& path) {
  std::vector<CsvRecord> records;
  std::size_t i = 0, line = 1;
  if (text.starts_with("\xEF\xBB\xBF")) i = 3;
  while (i < text.size()) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool done = false;
    while (!done) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        ++i;
        for (;;) {
          if (i >= text.size())
            fail(ErrorCode::kBackend, "{}:{}: unterminated quoted field", path.string(), rec.line);
          char ch = text[i++];
          if (ch == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
            } else {
              break;
            }
          } else {
            if (ch == '\n') ++line;
            field += ch;
          }
        }
      }
      while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
      rec.fields.push_back(field);
      if (i < text.size() && text[i] == ',') {
        ++i;
      } else {
        if (i < text.size() && text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        done = true;
      }
    }
    if (!(rec.fields.size() == 1 && rec.fields[0].empty())) records.push_back(std::move(rec));
  }
  return records;
}

std::string shown(const std::vector<std::string>& ids) {
  std::vector<std::string> head(ids.begin(), ids.begin() + static_cast<long>(std::min(ids.size(), kShownIds)));
  std::string out = join(head);
  if (ids.size() > kShownIds) out += fmt::format(" and {} more", ids.size() - kShownIds);
  return out;
}

// The file's column of each name in `names` (multilabel: the target columns, in any order after
// the id and fold columns); an absent or unexpected column is an error naming it.
std::vector<std::size_t> named_columns(const fs::path& path, const std::vector<std::string>& header,
                                       std::size_t first_pred, const std::vector<std::string>& names) {
  std::vector<std::size_t> at;
  std::vector<std::string> missing, extra;
  for (const auto& name : names) {
    auto it = std::find(header.begin() + static_cast<long>(first_pred), header.end(), name);
    if (it == header.end()) missing.push_back(name);
    else at.push_back(static_cast<std::size_t>(it - header.begin()));
  }
  for (std::size_t c = first_pred; c < header.size(); ++c)
    if (std::find(names.begin(), names.end(), header[c]) == names.end()) extra.push_back(header[c]);
  if (!missing.empty() || !extra.empty())
    fail(ErrorCode::kBackend,
         "{}:1: the prediction columns must be the target columns ({}): missing [{}], unexpected [{}]",
         path.string(), join(names), join(missing), join(extra));
  return at;
}

// Reads a prediction file: `id_column`, an optional "fold" column, then k prediction columns (or,
// with `names`, exactly those columns in any order, each a probability in [0, 1]).
// Returns rows in the order of `expected_ids`.
std::vector<double> read_predictions(const fs::path& path, const std::string& id_column,
                                     const std::vector<std::string>& expected_ids, std::size_t k,
                                     bool allow_fold, const std::vector<std::string>& names = {}) {
  if (!fs::exists(path))
    fail(ErrorCode::kBackend, "command: the trainer did not write {} (expected columns {}, then {} prediction column{})",
         path.string(), id_column, k, k == 1 ? "" : "s");
  auto records = parse_csv(read_file(path), path);
  if (records.empty()) fail(ErrorCode::kBackend, "{}: empty file: expected a header line", path.string());
  const auto& header = records[0].fields;
  if (header[0] != id_column)
    fail(ErrorCode::kBackend, "{}:1: first column is '{}': expected the id column '{}'", path.string(),
         header[0], id_column);
  std::size_t first_pred = 1;
  if (allow_fold && header.size() > 1 && header[1] == "fold") first_pred = 2;
  std::vector<std::size_t> col_of(k);
  if (!names.empty()) {
    COMPE_ASSERT(names.size() == k);
    col_of = named_columns(path, header, first_pred, names);
  } else {
    if (header.size() - first_pred != k)
      fail(ErrorCode::kBackend, "{}:1: {} prediction column{} ({}): expected {}", path.string(),
           header.size() - first_pred, header.size() - first_pred == 1 ? "" : "s",
           join(std::span(header).subspan(first_pred)), k);
    for (std::size_t j = 0; j < k; ++j) col_of[j] = first_pred + j;
  }

  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(expected_ids.size());
  for (std::size_t i = 0; i < expected_ids.size(); ++i) index.emplace(expected_ids[i], i);
  std::vector<double> out(expected_ids.size() * k, std::nan(""));
  std::vector<char> seen(expected_ids.size(), 0);
  std::vector<std::string> unknown, duplicate;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (rec.fields.size() != header.size())
      fail(ErrorCode::kBackend, "{}:{}: {} fields, expected {} as in the header", path.string(),
           rec.line, rec.fields.size(), header.size());
    auto it = index.find(rec.fields[0]);
    if (it == index.end()) {
      unknown.push_back(rec.fields[0]);
      continue;
    }
    if (seen[it->second]) {
      duplicate.push_back(rec.fields[0]);
      continue;
    }
    seen[it->second] = 1;
    for (std::size_t j = 0; j < k; ++j) {
      const std::string& cell = rec.fields[col_of[j]];
      double v = 0;
      auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || ptr != cell.data() + cell.size() || !std::isfinite(v))
        fail(ErrorCode::kBackend, "{}:{}: id {} column '{}': '{}' is not a finite number",
             path.string(), rec.line, rec.fields[0], header[col_of[j]], cell);
      if (!names.empty() && (v < 0.0 || v > 1.0))
        fail(ErrorCode::kBackend, "{}:{}: id {} column '{}': {} is not a probability in [0, 1]",
             path.string(), rec.line, rec.fields[0], header[col_of[j]], cell);
      out[it->second * k + j] = v;
    }
  }
  if (!unknown.empty())
    fail(ErrorCode::kBackend, "{}: {} unexpected id{}: {}", path.string(), unknown.size(),
         unknown.size() == 1 ? "" : "s", shown(unknown));
  if (!duplicate.empty())
    fail(ErrorCode::kBackend, "{}: {} duplicate id{}: {}", path.string(), duplicate.size(),
         duplicate.size() == 1 ? "" : "s", shown(duplicate));
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) missing.push_back(expected_ids[i]);
  if (!missing.empty())
    fail(ErrorCode::kBackend, "{}: {} missing id{}: {}", path.string(), missing.size(),
         missing.size() == 1 ? "" : "s", shown(missing));
  return out;
}

// --- Running the command ------------------------------------------------------------------------

std::string log_tail(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > kLogTailLines) lines.erase(lines.begin());
  }
  std::string out;
  for (const auto& l : lines) out += "\n  | " + l;
  return out;
}

struct RunOutcome {
  bool timed_out = false;
  int status = 0;
};

// Runs the command and waits for it, calling `tick` about every kTickSeconds: when tick throws
// (the caller cancels the run) the command's process group is killed and the exception goes on.
constexpr double kTickSeconds = 0.5;

RunOutcome run_shell(const std::string& command, const std::vector<std::string>& env,
                     const fs::path& cwd, const fs::path& log, double timeout_s,
                     const std::function<void()>& tick) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  struct Cleanup {
    posix_spawn_file_actions_t* a;
    posix_spawnattr_t* b;
    ~Cleanup() {
      posix_spawn_file_actions_destroy(a);
      posix_spawnattr_destroy(b);
    }
  } cleanup{&actions, &attr};
  const std::string log_path = log.string();
  const std::string cwd_path = cwd.string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd_path.c_str());
  // Its own process group, so a timeout stops the command's children too.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);

  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {shell.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  if (rc != 0) fail(ErrorCode::kBackend, "command: cannot start /bin/sh -c '{}': {}", command, std::strerror(rc));

  RunOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  auto last_tick = start;
  for (;;) {
    int status = 0;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      outcome.status = status;
      return outcome;
    }
    if (got < 0 && errno != EINTR)
      fail(ErrorCode::kBackend, "command: waiting for '{}' failed: {}", command, std::strerror(errno));
    const auto now = std::chrono::steady_clock::now();
    if (timeout_s > 0 && !outcome.timed_out &&
        std::chrono::duration<double>(now - start).count() > timeout_s) {
      outcome.timed_out = true;
      kill(-pid, SIGKILL);
    }
    if (tick && std::chrono::duration<double>(now - last_tick).count() >= kTickSeconds) {
      last_tick = now;
      try {
        tick();
      } catch (...) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        throw;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string task_text(Task t) {
  switch (t) {
    case Task::kBinary: return "binary";
    case Task::kMulticlass: return "multiclass";
    case Task::kMultilabel: return "multilabel";
    case Task::kDetection: return "detection";
    case Task::kSegmentation: return "segmentation";
    default: return "regression";
  }
}

bool image_task(Task t) { return t == Task::kDetection || t == Task::kSegmentation; }

std::vector<std::string> ids_of(const Column& id, std::span<const std::size_t> rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto r : rows) out.push_back(id.to_string(r));
  return out;
}

class CommandModel final : public Model {
 public:
  explicit CommandModel(const Info& info) : Model(info) {}
  FoldResult fit_predict(const FoldData& data, const nlohmann::json& user_params,
                         const ProgressCallback& progress) override;

 private:
  // The test rows are written once per work folder and shared by every fold.
  fs::path test_csv(const SourceData& src) {
    std::lock_guard lock(mutex_);
    fs::path path = src.work_dir / "command" / "test.csv";
    fs::create_directories(path.parent_path());
    if (written_test_ != path || written_table_ != src.test) {
      write_rows(*src.test, nullptr, path);
      written_test_ = path;
      written_table_ = src.test;
    }
    return path;
  }

  std::mutex mutex_;
  fs::path written_test_;
  const Table* written_table_ = nullptr;
};

FoldResult CommandModel::fit_predict(const FoldData& data, const nlohmann::json& user_params,
                                     const ProgressCallback& progress) {
  check_fold_data(data);
  const nlohmann::json params = resolve_params(info(), user_params);
  const std::string command = param_string(params, kName, "command", "");
  if (command.empty())
    fail(ErrorCode::kInvalidArgument,
         "command parameter 'command' is required: the shell command that trains one fold, "
         "e.g. \"python3 train_fold.py\"");
  const double timeout_s = param_double(params, kName, "timeout_s", 0);
  const nlohmann::json user = params.value("params", nlohmann::json::object());
  if (!user.is_object())
    fail(ErrorCode::kInvalidArgument, "command parameter 'params': expected a table, got {}", user.dump());
  const SourceData* src = data.source;
  if (!src || !src->train || !src->test || src->work_dir.empty())
    fail(ErrorCode::kInvalidArgument,
         "the command backend needs the raw train and test tables and a work folder");
  const Column& train_ids = src->train->column(src->id_column);
  const Column& test_ids = src->test->column(src->id_column);
  const Target& target = *data.target;
  const std::size_t k = target.prediction_columns();

  // Inside the run folder, apart from the run's own artifacts (its test.csv is predictions).
  const fs::path fold_dir = src->work_dir / "command" / fmt::format("fold{}", data.fold);
  const fs::path out_dir = fold_dir / "output";
  fs::remove_all(out_dir);
  fs::create_directories(out_dir);
  std::vector<std::size_t> train_rows(data.train_rows.begin(), data.train_rows.end());
  std::vector<std::size_t> valid_rows(data.valid_rows.begin(), data.valid_rows.end());
  const fs::path train_csv = fold_dir / "train.csv", valid_csv = fold_dir / "valid.csv";
  write_rows(*src->train, &train_rows, train_csv);
  write_rows(*src->train, &valid_rows, valid_csv);
  const fs::path test_path = test_csv(*src);
  const std::string params_text = user.dump();
  write_file_atomic(fold_dir / "params.json", params_text + "\n");

  nlohmann::json classes = target.classes;
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (std::string_view(*e).substr(0, 6) != "COMPE_") env.emplace_back(*e);
  auto abs = [](const fs::path& p) { return fs::absolute(p).lexically_normal().string(); };
  std::string targets;
  for (std::size_t i = 0; i < src->target_columns.size(); ++i)
    targets += (i ? "," : "") + src->target_columns[i];
  env.push_back(fmt::format("COMPE_FOLD={}", data.fold));
  env.push_back(fmt::format("COMPE_NUM_FOLDS={}", src->num_folds));
  env.push_back("COMPE_TRAIN_CSV=" + abs(train_csv));
  env.push_back("COMPE_VALID_CSV=" + abs(valid_csv));
  env.push_back("COMPE_TEST_CSV=" + abs(test_path));
  env.push_back("COMPE_FOLDS_CSV=" + (src->folds_csv.empty() ? std::string() : abs(src->folds_csv)));
  env.push_back("COMPE_OUTPUT_DIR=" + abs(out_dir));
  env.push_back("COMPE_PARAMS_JSON=" + params_text);
  env.push_back("COMPE_TASK=" + task_text(target.task));
  env.push_back(fmt::format("COMPE_NUM_CLASS={}", target.num_class));
  env.push_back("COMPE_CLASSES=" + classes.dump());
  env.push_back("COMPE_ID_COLUMN=" + src->id_column);
  env.push_back("COMPE_TARGET_COLUMNS=" + targets);
  env.push_back(fmt::format("COMPE_SEED={}", data.seed));
  env.push_back(fmt::format("COMPE_THREADS={}", resolve_threads(data.threads)));
  if (!data.metrics_file.empty()) env.push_back("COMPE_METRICS_FILE=" + abs(data.metrics_file));
  if (!src->data_dir.empty()) env.push_back("COMPE_DATA_DIR=" + abs(src->data_dir));
  if (image_task(target.task)) {
    // The train images' boxes or masks (absolute), the images' folder; the program writes boxes
    // or masks (docs/COMMAND_TRAINER.md, "Detection and segmentation").
    env.push_back(std::string(target.task == Task::kDetection ? "COMPE_BOXES_CSV=" : "COMPE_MASKS_CSV=") +
                  abs(src->ground_truth));
    env.push_back("COMPE_IMAGES_DIR=" + abs(src->images_dir));
  }
  if (data.pseudo && !data.pseudo->test_rows.empty()) {
    // The fold's own pseudo rows (id,label,weight); the program decides how to use them.
    const PseudoRows& ps = *data.pseudo;
    std::vector<std::optional<std::string>> ids, labels;
    for (std::size_t i = 0; i < ps.test_rows.size(); ++i) {
      ids.emplace_back(test_ids.to_string(ps.test_rows[i]));
      labels.emplace_back(ps.label_text[i]);
    }
    Table t;
    t.add_column(Column::from_strings(src->id_column, ids));
    t.add_column(Column::from_strings("label", labels));
    t.add_column(Column::from_f64("weight", ps.weights));
    const fs::path pseudo_csv = fold_dir / "pseudo.csv";
    write_csv(t, pseudo_csv);
    env.push_back("COMPE_PSEUDO_CSV=" + abs(pseudo_csv));
    env.push_back("COMPE_PSEUDO_WEIGHT=" + format_double(ps.weight));
    env.push_back("COMPE_PSEUDO_STRATEGY=" + ps.strategy);
  }

  if (progress) progress(Progress{data.fold, 0, 1, "running: " + command});
  FoldResult result;
  result.cols = k;
  result.log_file = fold_dir / "train.log";
  const auto started = std::chrono::steady_clock::now();
  std::function<void()> tick;
  if (progress)
    tick = [&] {
      auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      progress(Progress{data.fold, 0, 1, fmt::format("running for {:.0f} s", s)});
    };
  auto outcome = run_shell(command, env, src->cwd, result.log_file, timeout_s, tick);
  if (outcome.timed_out)
    fail(ErrorCode::kBackend, "command '{}' (fold {}) ran past timeout_s = {} and was stopped; log {}:{}",
         command, data.fold, timeout_s, result.log_file.string(), log_tail(result.log_file));
  if (WIFSIGNALED(outcome.status))
    fail(ErrorCode::kBackend, "command '{}' (fold {}) was killed by signal {}; log {}:{}", command,
         data.fold, WTERMSIG(outcome.status), result.log_file.string(), log_tail(result.log_file));
  if (!WIFEXITED(outcome.status) || WEXITSTATUS(outcome.status) != 0)
    fail(ErrorCode::kBackend, "command '{}' (fold {}) exited with status {}; log {}:{}", command,
         data.fold, WEXITSTATUS(outcome.status), result.log_file.string(), log_tail(result.log_file));

  if (image_task(target.task)) {
    for (const char* name : {"oof.csv", "test.csv"})
      if (!fs::exists(out_dir / name))
        fail(ErrorCode::kBackend, "command: the trainer did not write {} (expected {} rows: {})",
             (out_dir / name).string(), target.task == Task::kDetection ? "box" : "mask",
             target.task == Task::kDetection ? "image_id,x1,y1,x2,y2,score,label" : "image_id,label,EncodedPixels");
    result.image_oof = out_dir / "oof.csv";
    result.image_test = out_dir / "test.csv";
    result.num_iterations = 1;
    if (progress) progress(Progress{data.fold, 1, 1, "done"});
    return result;
  }
  // Multilabel: one probability column per target column, matched by name.
  const std::vector<std::string> names = target.task == Task::kMultilabel ? target.columns : std::vector<std::string>{};
  result.valid_pred = read_predictions(out_dir / "oof.csv", src->id_column,
                                       ids_of(train_ids, data.valid_rows), k, true, names);
  std::vector<std::size_t> all_test(src->test->num_rows());
  for (std::size_t i = 0; i < all_test.size(); ++i) all_test[i] = i;
  result.test_pred = read_predictions(out_dir / "test.csv", src->id_column, ids_of(test_ids, all_test), k, false,
                                      names);

  // The trainer predicts on the target's own scale; models return the transformed scale.
  if (target.transform == TargetTransform::kLog1p) {
    for (auto* preds : {&result.valid_pred, &result.test_pred})
      for (double& v : *preds) {
        if (v <= -1.0)
          fail(ErrorCode::kBackend, "command fold {}: prediction {} is <= -1, which log1p target transform cannot take",
               data.fold, v);
        v = std::log1p(v);
      }
  }
  result.num_iterations = 1;
  if (progress) progress(Progress{data.fold, 1, 1, "done"});
  check_predictions(result, data, kName);
  return result;
}

}  // namespace

std::unique_ptr<Model> make_command(const Info& info) { return std::make_unique<CommandModel>(info); }

nlohmann::json command_default_params() {
  return {{"params", nlohmann::json::object()}, {"timeout_s", 0}};
}

std::vector<std::string> command_known_params() { return {"command", "params", "timeout_s"}; }

std::vector<ParamSpec> command_param_specs() {
  using T = ParamSpec::Type;
  return {{.name = "command", .type = T::kString},
          {.name = "params", .type = T::kTable},
          {.name = "timeout_s", .type = T::kNumber, .min = 0}};
}

}  // namespace compe::model
