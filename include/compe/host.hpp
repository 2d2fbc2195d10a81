#pragma once
/// A local competition host: teams upload submissions, see their public score and the public
/// leaderboard; the private leaderboard and the shake-up appear only after the reveal (by the host
/// or when the deadline passes). No HTTP here: src/server/host_server.cpp maps routes onto Host.
///
/// The host folder:
///   host.toml              title, metric, deadline, daily limit, upload bound, teams with the
///                          sha256 of their tokens (tokens themselves are shown once, at init)
///   private/solution.csv   the solution (Kaggle layout: id, target(s), Usage); folder mode 0700
///   host.db                SQLite: submissions (team, time, file sha256, scores, final mark)
///   submissions/<sha256>.csv  every accepted file, written atomically before its record commits
///
/// Secrecy: before the reveal nothing derived from Private or Ignored rows leaves Host (scores,
/// errors): a submission is first validated against the solution with every row scored together,
/// so messages name ids and rows in the solution's order and never tell Public from Private.
///
/// Times are unix milliseconds (UTC). Thread safety: a Host may be shared by threads; its
/// database calls are serialised; scoring runs outside the lock.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/error.hpp"
#include "compe/sha256.hpp"

namespace compe::host {

/// SHA-256 (FIPS 180-4) of `data` as 64 lowercase hex digits (compe/sha256.hpp).
using compe::sha256_hex;

/// Parses an ISO 8601 time: "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed
/// by "Z" or "+HH:MM"/"-HH:MM" (a space may replace 'T'). Returns unix ms. A time without a zone
/// is refused (ambiguous). Throws Error(kInvalidArgument) naming the text and the expected forms.
std::int64_t parse_iso8601(std::string_view text);

/// Start of the UTC day containing `unix_ms`.
std::int64_t utc_day_start(std::int64_t unix_ms);

/// Current time in unix ms.
std::int64_t now_ms();

/// Why a request is refused, beyond plain invalid input.
enum class Refusal {
  kForbidden,   ///< a token of another team, or no valid token
  kClosed,      ///< after the deadline or the reveal
  kDailyLimit,  ///< the team's submissions of this UTC day reached the limit
  kTooLarge,    ///< the upload is larger than the bound
  kNotRevealed, ///< private results asked for before the reveal
};

/// An Error(kInvalidArgument) with the reason the server turns into a status (403, 429, 413).
class Refused : public Error {
 public:
  Refused(Refusal reason, std::string message)
      : Error(ErrorCode::kInvalidArgument, std::move(message)), reason_(reason) {}
  Refusal reason() const noexcept { return reason_; }

 private:
  Refusal reason_;
};

struct Team {
  std::string name;          ///< [A-Za-z0-9._-], 1 to 64 characters
  std::string token_sha256;  ///< sha256_hex of the team's token
};

struct Config {
  int format = 1;
  std::string title;
  std::string metric;     ///< metric spec, e.g. "roc_auc"
  std::string id_column;  ///< the solution's id column
  std::int64_t deadline_ms = 0;
  int daily_limit = 5;  ///< accepted submissions per team per UTC day
  std::size_t max_upload_bytes = 0;
  std::int64_t created_ms = 0;
  std::vector<Team> teams;
  /// Detection and segmentation: class names (detection labels written as names; segmentation
  /// keys `<image>_<class>`) and one image size for solutions without width,height columns.
  std::vector<std::string> classes;
  std::optional<std::pair<std::int64_t, std::int64_t>> image_size;
};

struct InitOptions {
  std::filesystem::path dir;       ///< created; must not exist or be empty
  std::filesystem::path solution;  ///< Kaggle layout with a Usage column (Public and Private rows)
  std::string metric;              ///< required
  std::string deadline;            ///< ISO 8601, in the future
  int daily_limit = 5;             ///< >= 1
  std::vector<std::string> teams;  ///< >= 1 distinct names
  std::string title;               ///< default: the folder's name
  std::size_t max_upload_bytes = 0;  ///< 0 = 4 x the solution file's size + 64 KiB
  std::int64_t now_ms = 0;           ///< 0 = the current time
  /// Detection and segmentation competitions (solution in the ground-truth layout with Usage:
  /// image_id,x1,y1,x2,y2,label,Usage or Image_Label,EncodedPixels,Usage): the classes, and the
  /// image size (width, height) where the solution has no width,height columns.
  std::vector<std::string> classes;
  std::optional<std::pair<std::int64_t, std::int64_t>> image_size;
};

struct TeamToken {
  std::string team;
  std::string token;  ///< 32 hex digits; exists in clear only in this result
};

/// Creates the host folder (mode 0700) with host.toml, the private copy of the solution and an
/// empty database. The solution is checked to be scorable with the metric (scoring its own
/// targets) before anything is written. Throws Error(kInvalidArgument) for a bad metric, deadline,
/// limit, team list, a solution without Public and Private rows, or an existing non-empty folder;
/// Error(kNotFound)/(kParse) for the solution file.
std::vector<TeamToken> init(const InitOptions& options);

/// One accepted submission.
struct Submission {
  std::int64_t id = 0;  ///< 1, 2, ... in the order accepted
  std::string team;
  std::int64_t time_ms = 0;
  std::string sha256;  ///< of the uploaded bytes
  std::string name;    ///< file name as uploaded (sanitised)
  std::int64_t bytes = 0;
  double public_score = 0;
  double private_score = 0;  ///< never shown before the reveal
  bool final = false;        ///< marked final by the team
};

struct PublicRow {
  int rank = 0;
  std::string team;
  double score = 0;  ///< the team's best public score
  std::int64_t best_id = 0;
  int entries = 0;
  std::int64_t last_ms = 0;  ///< time of the team's latest submission
};

struct PrivateRow {
  int rank = 0;
  std::string team;
  double private_score = 0;  ///< best private score among the team's finals
  std::int64_t best_id = 0;  ///< the final that gave it
  double public_score = 0;   ///< that submission's public score
  int public_rank = 0;       ///< the team's rank on the public board
  int change = 0;            ///< public_rank - rank: positive = moved up
  std::vector<std::int64_t> finals;
  bool auto_selected = false;  ///< the team marked no final: its two best public were used
};

class Host {
 public:
  /// Opens a host folder made by init(). Throws Error(kNotFound) when host.toml is missing,
  /// Error(kParse)/(kInvalidArgument) for a bad one, Error(kStorage) for the database.
  explicit Host(const std::filesystem::path& dir);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const Config& config() const;
  const std::filesystem::path& dir() const;
  bool greater_is_better() const;
  /// The id column and target columns a submission must have, and its row count (detection:
  /// image_id,PredictionString, one row per image; segmentation: the solution's key columns and
  /// EncodedPixels, one row per (image, class)).
  std::vector<std::string> submission_columns() const;
  std::size_t submission_rows() const;

  /// The team whose token this is (compared by hash, in time independent of which team), or none.
  std::optional<std::string> team_for_token(std::string_view token) const;

  /// When the results were revealed: the recorded reveal, else the deadline once passed.
  std::optional<std::int64_t> revealed_at(std::int64_t now) const;
  bool closed(std::int64_t now) const { return revealed_at(now).has_value(); }

  /// Validates and scores `csv` for `team`, stores the file atomically and commits its record in
  /// one transaction. Throws Refused (closed, daily limit, too large), Error(kInvalidArgument) or
  /// Error(kParse) with Kaggle's phrasing for a bad file, Error(kNotFound) for an unknown team.
  Submission submit(const std::string& team, std::string_view csv, std::string_view name,
                    std::int64_t now);

  /// The team's submissions, oldest first.
  std::vector<Submission> submissions(const std::string& team) const;
  /// Every submission, oldest first.
  std::vector<Submission> all_submissions() const;
  /// Accepted submissions of the team in the UTC day of `now`.
  int submissions_today(const std::string& team, std::int64_t now) const;

  /// Replaces the team's final marks with `ids` (0 to 2 of its own submissions; none = the two
  /// best public are used). Throws Refused(kClosed) after the deadline, Error(kInvalidArgument)
  /// for more than two or duplicate ids, Error(kNotFound) for an id not of this team.
  void set_finals(const std::string& team, const std::vector<std::int64_t>& ids, std::int64_t now);

  /// The submissions that count for the private board: the marked finals, else the two best public.
  std::vector<std::int64_t> effective_finals(const std::string& team) const;

  /// Best public score per team; ties go to the earlier submission.
  std::vector<PublicRow> public_board() const;
  /// Best private among each team's finals, with the public rank and the change. Throws
  /// Refused(kNotRevealed) before the reveal.
  std::vector<PrivateRow> private_board(std::int64_t now) const;

  /// Records the reveal (idempotent: the first time is kept); returns the reveal time.
  std::int64_t reveal(std::int64_t now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// JSON documents of the host API (GET /api/info, /api/leaderboard, /api/teams/{t}/submissions).
/// Private scores appear only once revealed.
nlohmann::json info_json(const Host& host, const std::string& team, std::int64_t now);
nlohmann::json leaderboard_json(const Host& host, const std::string& team, std::int64_t now);
nlohmann::json submissions_json(const Host& host, const std::string& team, std::int64_t now);
nlohmann::json submission_json(const Submission& s, bool revealed);

}  // namespace compe::host
