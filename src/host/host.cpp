// The local competition host: the host folder, submissions, finals, boards and the reveal.
#include "compe/host.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "common/toml_util.hpp"
#include "compe/metric.hpp"
#include "compe/score.hpp"
#include "compe/store.hpp"
#include "compe/store_sql.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::host {
namespace fs = std::filesystem;
using store::Value;

namespace {

constexpr int kSchemaVersion = 1;
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  public_score REAL NOT NULL,
  private_score REAL NOT NULL,
  final INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS submissions_team_time ON submissions(team, time_ms);
)";
constexpr const char* kColumns =
    "id, team, time_ms, sha256, name, bytes, public_score, private_score, final";

const fs::path kToml = "host.toml";
const fs::path kSolution = fs::path("private") / "solution.csv";
const fs::path kDb = "host.db";
const fs::path kFiles = "submissions";

bool valid_team_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::string random_token() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

/// The file name as shown back to the team: the last path part, no control characters, at most
/// 100 bytes (cut on a UTF-8 character boundary).
std::string clean_name(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (char c : name)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  if (out.size() > 100) {
    std::size_t cut = 100;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out.empty() ? "submission.csv" : out;
}

std::unique_ptr<store::Db> open_db(const fs::path& path) {
  try {
    auto db = store::open_sqlite(path.string());
    db->exec_script(kSchema);
    db->exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
             {Value(std::to_string(kSchemaVersion))});
    return db;
  } catch (const store::DbError& e) {
    fail(ErrorCode::kStorage, "{}: {}", path.string(), e.what());
  }
}

/// The solution whose Ignored rows without a target borrow the first scored row's target, so
/// they never make a submission fail (they are never scored). With `drop_usage`, every row is
/// scored together: validation messages then name ids and rows in the solution's order only.
Table filled_solution(const Table& solution, const std::string& id, bool drop_usage) {
  Table t = solution;
  auto uidx = solution.find("Usage");
  if (!uidx) return t;
  const Column& usage = solution.column(*uidx);
  std::vector<std::uint8_t> ignored(solution.num_rows(), 0);
  std::optional<std::size_t> first;
  for (std::size_t r = 0; r < ignored.size(); ++r) {
    std::string u = usage.to_string(r);
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::tolower(c); });
    ignored[r] = u == "ignored";
    if (!ignored[r] && !first) first = r;
  }
  if (drop_usage) t.drop_column("Usage");
  if (!first) return t;
  for (std::size_t j = 0; j < t.num_columns(); ++j) {
    Column& c = t.column(j);
    if (c.name == id || c.name == "Usage") continue;
    for (std::size_t r = 0; r < ignored.size(); ++r) {
      if (!ignored[r] || !c.is_missing(r)) continue;
      if (c.type == DType::kFloat64) c.f64[r] = c.f64[*first];
      if (c.type == DType::kInt64) {
        c.i64[r] = c.i64[*first];
        c.missing[r] = c.missing.empty() ? 0 : c.missing[*first];
      }
      if (c.type == DType::kString) c.codes[r] = c.codes[*first];
    }
  }
  return t;
}

Submission submission_of(const store::Row& r) {
  Submission s;
  s.id = r.i64(0);
  s.team = r.str(1);
  s.time_ms = r.i64(2);
  s.sha256 = r.str(3);
  s.name = r.str(4);
  s.bytes = r.i64(5);
  s.public_score = r.f64(6);
  s.private_score = r.f64(7);
  s.final = r.i64(8) != 0;
  return s;
}

std::string toml_string(const toml::table& t, const char* key, const std::string& display,
                        bool required = true) {
  auto v = t[key].value<std::string>();
  if (!v && required) fail(ErrorCode::kInvalidArgument, "{}: missing string key {}", display, quote(key));
  return v.value_or("");
}

enum class Kind { kTable, kDetection, kSegmentation };

Kind kind_of(const std::string& spec) {
  const metric::Info& info = metric::make(spec)->info();
  if (info.accepts(metric::kDetection)) return Kind::kDetection;
  if (info.accepts(metric::kSegmentation)) return Kind::kSegmentation;
  return Kind::kTable;
}

std::string csv_cell(const Column& c, std::size_t r) {
  if (c.is_missing(r)) return "";
  std::string v = c.to_string(r);
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

/// The solution's own answers as a submission in a layout uploads may use (init scores it to
/// check the solution): tables and masks less Usage (and masks' width,height), ground-truth boxes
/// as detections of score 1.
Table self_submission(const Table& solution, const std::string& id, Kind kind) {
  Table t = solution;
  if (t.has("Usage")) t.drop_column("Usage");
  if (kind == Kind::kSegmentation) {
    if (t.has("width")) t.drop_column("width");
    if (t.has("height")) t.drop_column("height");
  }
  if (kind != Kind::kDetection || solution.has("PredictionString") || !solution.has("label")) return t;
  const bool xyxy = solution.has("x1");
  const std::vector<std::string> box = xyxy ? std::vector<std::string>{"x1", "y1", "x2", "y2"}
                                            : std::vector<std::string>{"x", "y", "w", "h"};
  for (const auto& b : box)
    if (!solution.has(b)) return t;  // not a ground-truth layout: the scorer says what it expects
  std::string text = id + "," + (xyxy ? "x1,y1,x2,y2" : "x,y,w,h") + ",score,label\n";
  for (std::size_t r = 0; r < solution.num_rows(); ++r) {
    bool empty = true;
    for (const auto& b : box) empty = empty && solution.column(b).is_missing(r);
    if (empty) continue;
    text += csv_cell(solution.column(id), r);
    for (const auto& b : box) text += "," + csv_cell(solution.column(b), r);
    text += ",1," + csv_cell(solution.column("label"), r) + "\n";
  }
  return read_csv_string(text, "solution boxes");
}

}  // namespace

std::vector<TeamToken> init(const InitOptions& o) {
  std::int64_t now = o.now_ms ? o.now_ms : now_ms();
  if (o.metric.empty()) fail(ErrorCode::kInvalidArgument, "--metric is required");
  auto m = metric::make(o.metric);
  std::int64_t deadline = parse_iso8601(o.deadline);
  if (deadline <= now)
    fail(ErrorCode::kInvalidArgument, "--deadline {} is not in the future (now {})", o.deadline,
         iso8601_utc(now));
  if (o.daily_limit < 1)
    fail(ErrorCode::kInvalidArgument, "--daily-limit {}: expected at least 1", o.daily_limit);
  if (o.teams.empty()) fail(ErrorCode::kInvalidArgument, "--teams: expected at least one team");
  for (std::size_t i = 0; i < o.teams.size(); ++i) {
    if (!valid_team_name(o.teams[i]))
      fail(ErrorCode::kInvalidArgument,
           "--teams: team name {} must be 1 to 64 characters from A-Z a-z 0-9 . _ -", quote(o.teams[i]));
    for (std::size_t j = 0; j < i; ++j)
      if (o.teams[j] == o.teams[i])
        fail(ErrorCode::kInvalidArgument, "--teams: team {} is listed twice", quote(o.teams[i]));
  }
  std::error_code ec;
  if (fs::exists(o.dir, ec) && !(fs::is_directory(o.dir, ec) && fs::is_empty(o.dir, ec)))
    fail(ErrorCode::kInvalidArgument, "{}: exists and is not an empty folder; choose a new one",
         o.dir.string());

  // The solution must score: its own targets as a submission, on the real and the all-rows split.
  std::string text = read_file(o.solution);
  CsvReadOptions ro;
  ro.display_name = o.solution.string();
  Table solution = read_csv_string(text, o.solution.string(), ro);
  if (solution.num_columns() < 3 || !solution.has("Usage"))
    fail(ErrorCode::kInvalidArgument,
         "{}: a solution needs an id column, target column(s) and a Usage column (Public, "
         "Private, Ignored); columns are: {}",
         o.solution.string(), list_shown(solution.column_names()));
  std::string id = solution.column(0).name;
  const Kind kind = kind_of(o.metric);
  // Images: an Ignored image has no boxes or empty masks, never a missing target to fill.
  Table all_rows = kind == Kind::kTable ? filled_solution(solution, id, true) : self_submission(solution, id, Kind::kTable);
  Table self = kind == Kind::kTable ? all_rows : self_submission(solution, id, kind);
  self.source = "solution targets";
  score::Options so{.metric = o.metric, .id_column = id};
  so.classes = o.classes;
  so.image_size = o.image_size;
  score::Result r;
  try {
    r = score::score_submission(kind == Kind::kTable ? filled_solution(solution, id, false) : solution, self, so);
    score::score_submission(all_rows, self, so);
  } catch (const Error& e) {
    fail(ErrorCode::kInvalidArgument, "{}: cannot be scored with metric {}: {}",
         o.solution.string(), quote(o.metric), e.what());
  }
  if (r.public_rows == 0 || r.private_rows == 0)
    fail(ErrorCode::kInvalidArgument,
         "{}: the Usage column needs Public and Private rows; found {} Public, {} Private",
         o.solution.string(), r.public_rows, r.private_rows);
  // A part on which the metric is undefined (COCO AP without a ground-truth box) would score every
  // upload as the worst value there.
  if (!r.public_score || !r.private_score)
    fail(ErrorCode::kInvalidArgument, "{}: metric {} is undefined on the {} rows alone{}; choose another split",
         o.solution.string(), quote(o.metric), r.public_score ? "Private" : "Public",
         kind == Kind::kDetection ? " (they have no ground-truth box)" : "");

  fs::create_directories(o.dir / "private", ec);
  if (ec) fail(ErrorCode::kIo, "cannot create folder {}: {}", quote(o.dir.string(), 1000), ec.message());
  ::chmod(o.dir.c_str(), 0700);
  ::chmod((o.dir / "private").c_str(), 0700);
  write_file_atomic(o.dir / kSolution, text);
  ::chmod((o.dir / kSolution).c_str(), 0600);
  fs::create_directories(o.dir / kFiles, ec);

  std::vector<TeamToken> tokens;
  toml::table teams;
  for (const auto& name : o.teams) {
    TeamToken t{name, random_token()};
    teams.insert(name, toml::table{{"token_sha256", sha256_hex(t.token)}});
    tokens.push_back(std::move(t));
  }
  std::size_t bound = o.max_upload_bytes ? o.max_upload_bytes : text.size() * 4 + 64 * 1024;
  toml::table doc{
      {"format", 1},
      {"title", o.title.empty() ? fs::absolute(o.dir).lexically_normal().filename().string() : o.title},
      {"metric", m->spec()},
      {"id_column", id},
      {"deadline", iso8601_utc(deadline)},
      {"daily_limit", o.daily_limit},
      {"max_upload_bytes", static_cast<std::int64_t>(bound)},
      {"created", iso8601_utc(now)},
      {"solution", kSolution.generic_string()},
      {"teams", teams},
  };
  if (!o.classes.empty()) {
    toml::array classes;
    for (const auto& c : o.classes) classes.push_back(c);
    doc.insert("classes", classes);
  }
  if (o.image_size) doc.insert("image_size", toml::array{o.image_size->first, o.image_size->second});
  std::ostringstream out;
  out << "# compe host: edit with care; tokens are stored as their sha256 only.\n" << doc << "\n";
  open_db(o.dir / kDb);
  write_file_atomic(o.dir / kToml, out.str());
  return tokens;
}

struct Host::Impl {
  fs::path dir;
  Config config;
  Table solution, all_rows;
  score::Options options;
  bool maximize = true;
  std::vector<std::string> columns;
  std::size_t upload_rows = 0;
  mutable std::mutex mu;
  std::unique_ptr<store::Db> db;

  bool has_team(const std::string& team) const {
    return std::any_of(config.teams.begin(), config.teams.end(),
                       [&](const Team& t) { return t.name == team; });
  }
  void require_team(const std::string& team) const {
    if (!has_team(team)) fail(ErrorCode::kNotFound, "no team {}", quote(team));
  }
  bool better(double a, double b) const { return maximize ? a > b : a < b; }
  /// What an upload of a detection or segmentation competition looks like: detection
  /// image_id,PredictionString, one row per image; segmentation the key columns and EncodedPixels.
  void expect_images(Kind kind) {
    const Table& sol = solution;
    if (kind == Kind::kDetection) {
      const std::string id = sol.has(config.id_column) ? config.id_column : sol.column(0).name;
      columns = {id, "PredictionString"};
      std::set<std::string> images;
      for (std::size_t r = 0; r < sol.num_rows(); ++r) images.insert(sol.column(id).to_string(r));
      upload_rows = images.size();
      return;
    }
    for (const auto& col : sol.columns())
      if (col.name != "Usage" && col.name != "width" && col.name != "height") columns.push_back(col.name);
    upload_rows = sol.num_rows();
  }

  // The callers hold `mu`.
  std::optional<std::int64_t> recorded_reveal() const {
    auto rows = db->query("SELECT value FROM meta WHERE key = 'revealed_ms'", {});
    if (rows.empty()) return std::nullopt;
    return std::stoll(rows[0].str(0));
  }
  std::optional<std::int64_t> revealed_at(std::int64_t now) const {
    auto rec = recorded_reveal();
    if (rec) return rec;
    if (now >= config.deadline_ms) return config.deadline_ms;
    return std::nullopt;
  }
  void check_open(std::int64_t now) const {
    if (auto rec = recorded_reveal())
      throw Refused(Refusal::kClosed, fmt::format("the competition has ended: results were revealed at {}",
                                                  iso8601_utc(*rec)));
    if (now >= config.deadline_ms)
      throw Refused(Refusal::kClosed, fmt::format("the competition has ended: the deadline was {}",
                                                  iso8601_utc(config.deadline_ms)));
  }
  int today(const std::string& team, std::int64_t now) const {
    std::int64_t day = utc_day_start(now);
    auto rows = db->query("SELECT COUNT(*) FROM submissions WHERE team = ? AND time_ms >= ? AND time_ms < ?",
                          {Value(team), Value(day), Value(day + 86400000)});
    return static_cast<int>(rows[0].i64(0));
  }
  void check_daily(const std::string& team, std::int64_t now) const {
    if (today(team, now) >= config.daily_limit)
      throw Refused(Refusal::kDailyLimit,
                    fmt::format("daily submission limit reached: {} submission(s) per UTC day; the "
                                "next is accepted from {}",
                                config.daily_limit, iso8601_utc(utc_day_start(now) + 86400000)));
  }
  std::vector<Submission> select(const std::string& where, std::initializer_list<Value> params) const {
    std::vector<Submission> out;
    db->for_each_row(fmt::format("SELECT {} FROM submissions {} ORDER BY id", kColumns, where),
                     std::span<const Value>(params.begin(), params.size()),
                     [&](const store::Row& r) { out.push_back(submission_of(r)); });
    return out;
  }
  /// Index of the best submission by `score`; the earlier one wins ties.
  template <typename F>
  std::size_t best_of(const std::vector<Submission>& subs, F score) const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < subs.size(); ++i)
      if (better(score(subs[i]), score(subs[best]))) best = i;
    return best;
  }
  std::vector<std::int64_t> finals_of(const std::vector<Submission>& subs) const {
    std::vector<std::int64_t> marked;
    for (const auto& s : subs)
      if (s.final) marked.push_back(s.id);
    if (!marked.empty()) return marked;
    std::vector<const Submission*> order;
    for (const auto& s : subs) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(), [&](const Submission* a, const Submission* b) {
      return better(a->public_score, b->public_score);
    });
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < order.size() && i < 2; ++i) out.push_back(order[i]->id);
    return out;
  }
  std::vector<PublicRow> public_board() const {
    std::map<std::string, std::vector<Submission>> by_team;
    for (auto& s : select("", {})) by_team[s.team].push_back(std::move(s));
    std::vector<PublicRow> rows;
    for (const auto& [team, subs] : by_team) {
      const Submission& b = subs[best_of(subs, [](const Submission& s) { return s.public_score; })];
      PublicRow r;
      r.team = team;
      r.score = b.public_score;
      r.best_id = b.id;
      r.entries = static_cast<int>(subs.size());
      r.last_ms = subs.back().time_ms;
      rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [&](const PublicRow& a, const PublicRow& b) {
      if (a.score != b.score) return better(a.score, b.score);
      return a.best_id < b.best_id;
    });
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].rank = static_cast<int>(i + 1);
    return rows;
  }
};

namespace {

/// host.toml's optional classes = [...] and image_size = [width, height].
void read_image_settings(const toml::table& t, const std::string& display, Config& c) {
  if (const toml::array* a = t["classes"].as_array())
    for (const auto& v : *a) {
      auto name = v.value<std::string>();
      if (!name) fail(ErrorCode::kInvalidArgument, "{}: classes: expected an array of strings", display);
      c.classes.push_back(*name);
    }
  if (const toml::array* a = t["image_size"].as_array()) {
    auto w = a->size() == 2 ? (*a)[0].value<std::int64_t>() : std::nullopt;
    auto h = a->size() == 2 ? (*a)[1].value<std::int64_t>() : std::nullopt;
    if (!w || !h || *w < 1 || *h < 1)
      fail(ErrorCode::kInvalidArgument, "{}: image_size: expected [width, height], two positive integers", display);
    c.image_size = std::pair{*w, *h};
  }
}

}  // namespace

Host::Host(const fs::path& dir) : impl_(std::make_unique<Impl>()) {
  Impl& I = *impl_;
  I.dir = dir;
  std::string display = (dir / kToml).string();
  if (!fs::exists(dir / kToml))
    fail(ErrorCode::kNotFound, "{}: no such file; create the host with `compe host init`", display);
  toml::table t = parse_toml(read_file(dir / kToml), display);
  check_toml_keys(t, "",
                  {"format", "title", "metric", "id_column", "deadline", "daily_limit",
                   "max_upload_bytes", "created", "solution", "teams", "classes", "image_size"},
                  display);
  Config& c = I.config;
  c.format = static_cast<int>(t["format"].value_or(std::int64_t{1}));
  if (c.format != 1)
    fail(ErrorCode::kInvalidArgument, "{}: format {} is newer than this compe reads (1)", display, c.format);
  c.title = toml_string(t, "title", display, false);
  c.metric = toml_string(t, "metric", display);
  c.id_column = toml_string(t, "id_column", display);
  c.deadline_ms = parse_iso8601(toml_string(t, "deadline", display));
  c.daily_limit = static_cast<int>(t["daily_limit"].value_or(std::int64_t{5}));
  c.max_upload_bytes = static_cast<std::size_t>(t["max_upload_bytes"].value_or(std::int64_t{16 << 20}));
  if (auto created = t["created"].value<std::string>()) c.created_ms = parse_iso8601(*created);
  if (c.daily_limit < 1)
    fail(ErrorCode::kInvalidArgument, "{}: daily_limit {}: expected at least 1", display, c.daily_limit);
  if (const toml::table* teams = t["teams"].as_table()) {
    for (const auto& [name, v] : *teams) {
      Team team{std::string(name.str()), ""};
      if (const toml::table* tt = v.as_table()) team.token_sha256 = (*tt)["token_sha256"].value_or(std::string());
      if (!valid_team_name(team.name) || team.token_sha256.size() != 64)
        fail(ErrorCode::kInvalidArgument, "{}: team {} needs a name from A-Z a-z 0-9 . _ - and a token_sha256",
             display, quote(team.name));
      c.teams.push_back(std::move(team));
    }
  }
  if (c.teams.empty()) fail(ErrorCode::kInvalidArgument, "{}: no [teams]", display);
  std::string sol = toml_string(t, "solution", display);
  CsvReadOptions ro;
  ro.display_name = "solution.csv";
  I.solution = read_csv(dir / sol, ro);
  read_image_settings(t, display, c);
  I.options = score::Options{.metric = c.metric, .id_column = c.id_column};
  I.options.classes = c.classes;
  I.options.image_size = c.image_size;
  I.maximize = metric::make(c.metric)->info().greater_is_better();
  const Kind kind = kind_of(c.metric);
  if (kind == Kind::kTable) {
    I.all_rows = filled_solution(I.solution, c.id_column, true);
    I.solution = filled_solution(I.solution, c.id_column, false);
    for (const auto& col : I.solution.columns())
      if (col.name != "Usage") I.columns.push_back(col.name);
    I.upload_rows = I.solution.num_rows();
  } else {
    I.all_rows = self_submission(I.solution, c.id_column, Kind::kTable);
    I.all_rows.source = I.solution.source;
    I.expect_images(kind);
  }
  I.db = open_db(dir / kDb);
  // Leftovers of file writes a killed process never finished (never referenced by a record).
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / kFiles, ec)) {
    auto age = fs::file_time_type::clock::now() - e.last_write_time(ec);
    if (e.path().filename().string().find(".tmp-") != std::string::npos && age > std::chrono::minutes(10))
      fs::remove(e.path(), ec);
  }
}

Host::~Host() = default;

const Config& Host::config() const { return impl_->config; }
const fs::path& Host::dir() const { return impl_->dir; }
bool Host::greater_is_better() const { return impl_->maximize; }
std::vector<std::string> Host::submission_columns() const { return impl_->columns; }
std::size_t Host::submission_rows() const { return impl_->upload_rows; }

std::optional<std::string> Host::team_for_token(std::string_view token) const {
  std::string h = sha256_hex(token);
  std::optional<std::string> found;
  for (const auto& t : impl_->config.teams) {
    unsigned char diff = 0;
    for (std::size_t i = 0; i < h.size() && i < t.token_sha256.size(); ++i)
      diff |= static_cast<unsigned char>(h[i] ^ t.token_sha256[i]);
    if (diff == 0 && h.size() == t.token_sha256.size()) found = t.name;
  }
  return found;
}

std::optional<std::int64_t> Host::revealed_at(std::int64_t now) const {
  std::lock_guard lock(impl_->mu);
  return impl_->revealed_at(now);
}

Submission Host::submit(const std::string& team, std::string_view csv, std::string_view name,
                        std::int64_t now) {
  Impl& I = *impl_;
  I.require_team(team);
  if (csv.size() > I.config.max_upload_bytes)
    throw Refused(Refusal::kTooLarge, fmt::format("the file has {} bytes; at most {} are accepted",
                                                  csv.size(), I.config.max_upload_bytes));
  {
    std::lock_guard lock(I.mu);
    I.check_open(now);
    I.check_daily(team, now);
  }
  std::string display = clean_name(name);
  CsvReadOptions ro;
  ro.display_name = display;
  ro.threads = 1;
  Table sub = read_csv_string(csv, display, ro);
  // Kaggle's checks and the metric over every row at once: whatever they refuse, they refuse
  // whatever the split.
  try {
    score::score_submission(I.all_rows, sub, I.options);
  } catch (const Error& e) {
    // A metric names rows by position; over all rows that position is an id anyone may know.
    static const std::regex kRow(R"(y_pred row (\d+))");
    std::string msg = e.what();
    std::smatch m;
    if (std::regex_search(msg, m, kRow)) {
      std::size_t row = std::stoul(m[1].str());
      if (row < I.all_rows.num_rows())
        fail(e.code(), "{}: {} (id {})", display, msg, quote(I.all_rows.column(I.config.id_column).to_string(row)));
    }
    if (!msg.starts_with(display)) fail(e.code(), "{}: {}", display, msg);
    throw;
  }
  // The split scores. A part where the metric is undefined (constant predictions on it alone)
  // scores as the worst value rather than being refused: a free refusal would tell which rows are
  // Public, a counted worst score tells nothing for free.
  score::Options split = I.options;
  split.undefined_as_worst = true;
  const score::Result r = score::score_submission(I.solution, sub, split);
  COMPE_ASSERT(r.public_score && r.private_score);
  Submission s;
  s.team = team;
  s.time_ms = now;
  s.sha256 = sha256_hex(csv);
  s.name = display;
  s.bytes = static_cast<std::int64_t>(csv.size());
  s.public_score = *r.public_score;
  s.private_score = *r.private_score;

  std::lock_guard lock(I.mu);
  try {
    I.db->begin_write();
    I.check_open(now);
    I.check_daily(team, now);
    // The file first, atomically; the record commits only once the file is complete.
    write_file_atomic(I.dir / kFiles / (s.sha256 + ".csv"), csv);
    auto rows = I.db->query(
        "INSERT INTO submissions (team, time_ms, sha256, name, bytes, public_score, private_score) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {Value(s.team), Value(s.time_ms), Value(s.sha256), Value(s.name), Value(s.bytes),
         Value(s.public_score), Value(s.private_score)});
    s.id = rows.at(0).i64(0);
    I.db->commit();
  } catch (const store::DbError& e) {
    I.db->rollback();
    fail(ErrorCode::kStorage, "{}: recording the submission failed: {}", (I.dir / kDb).string(), e.what());
  } catch (...) {
    I.db->rollback();
    throw;
  }
  return s;
}

std::vector<Submission> Host::submissions(const std::string& team) const {
  impl_->require_team(team);
  std::lock_guard lock(impl_->mu);
  return impl_->select("WHERE team = ?", {Value(team)});
}

std::vector<Submission> Host::all_submissions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->select("", {});
}

int Host::submissions_today(const std::string& team, std::int64_t now) const {
  std::lock_guard lock(impl_->mu);
  return impl_->today(team, now);
}

void Host::set_finals(const std::string& team, const std::vector<std::int64_t>& ids, std::int64_t now) {
  Impl& I = *impl_;
  I.require_team(team);
  if (ids.size() > 2)
    fail(ErrorCode::kInvalidArgument, "finals: {} submissions given; at most 2 may be final", ids.size());
  if (ids.size() == 2 && ids[0] == ids[1])
    fail(ErrorCode::kInvalidArgument, "finals: submission {} is given twice", ids[0]);
  std::lock_guard lock(I.mu);
  try {
    I.db->begin_write();
    I.check_open(now);
    for (auto id : ids)
      if (I.db->query("SELECT 1 FROM submissions WHERE id = ? AND team = ?", {Value(id), Value(team)}).empty())
        fail(ErrorCode::kNotFound, "finals: team {} has no submission {}", quote(team), id);
    I.db->exec("UPDATE submissions SET final = 0 WHERE team = ?", {Value(team)});
    for (auto id : ids) I.db->exec("UPDATE submissions SET final = 1 WHERE id = ?", {Value(id)});
    I.db->commit();
  } catch (const store::DbError& e) {
    I.db->rollback();
    fail(ErrorCode::kStorage, "{}: recording the finals failed: {}", (I.dir / kDb).string(), e.what());
  } catch (...) {
    I.db->rollback();
    throw;
  }
}

std::vector<std::int64_t> Host::effective_finals(const std::string& team) const {
  auto subs = submissions(team);
  return impl_->finals_of(subs);
}

std::vector<PublicRow> Host::public_board() const {
  std::lock_guard lock(impl_->mu);
  return impl_->public_board();
}

std::vector<PrivateRow> Host::private_board(std::int64_t now) const {
  Impl& I = *impl_;
  std::lock_guard lock(I.mu);
  if (!I.revealed_at(now))
    throw Refused(Refusal::kNotRevealed, fmt::format("the private leaderboard is shown after the deadline ({})",
                                                     iso8601_utc(I.config.deadline_ms)));
  std::map<std::string, int> public_rank;
  for (const auto& r : I.public_board()) public_rank[r.team] = r.rank;
  std::map<std::string, std::vector<Submission>> by_team;
  for (auto& s : I.select("", {})) by_team[s.team].push_back(std::move(s));
  std::vector<PrivateRow> rows;
  for (const auto& [team, subs] : by_team) {
    PrivateRow row;
    row.team = team;
    row.finals = I.finals_of(subs);
    row.auto_selected = std::none_of(subs.begin(), subs.end(), [](const Submission& s) { return s.final; });
    std::vector<Submission> chosen;
    for (const auto& s : subs)
      if (std::find(row.finals.begin(), row.finals.end(), s.id) != row.finals.end()) chosen.push_back(s);
    const Submission& b = chosen[I.best_of(chosen, [](const Submission& s) { return s.private_score; })];
    row.private_score = b.private_score;
    row.public_score = b.public_score;
    row.best_id = b.id;
    row.public_rank = public_rank.at(team);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [&](const PrivateRow& a, const PrivateRow& b) {
    if (a.private_score != b.private_score) return I.better(a.private_score, b.private_score);
    return a.best_id < b.best_id;
  });
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].rank = static_cast<int>(i + 1);
    rows[i].change = rows[i].public_rank - rows[i].rank;
  }
  return rows;
}

std::int64_t Host::reveal(std::int64_t now) {
  Impl& I = *impl_;
  std::lock_guard lock(I.mu);
  try {
    I.db->begin_write();
    I.db->exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('revealed_ms', ?)", {Value(std::to_string(now))});
    auto at = I.recorded_reveal();
    I.db->commit();
    return *at;
  } catch (const store::DbError& e) {
    I.db->rollback();
    fail(ErrorCode::kStorage, "{}: recording the reveal failed: {}", (I.dir / kDb).string(), e.what());
  }
}

}  // namespace compe::host
