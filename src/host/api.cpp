// The host API's JSON documents. Private scores are added only once the results are revealed.
#include <algorithm>
#include <cmath>

#include "compe/host.hpp"
#include "compe/store.hpp"

namespace compe::host {
using nlohmann::json;

namespace {

constexpr const char* kUndefinedNote =
    "the metric is undefined on these rows for this submission (for example constant "
    "predictions): scored as the worst score";

json time_or_null(const std::optional<std::int64_t>& t) { return t ? json(iso8601_utc(*t)) : json(nullptr); }

}  // namespace

json submission_json(const Submission& s, bool revealed) {
  json j = {{"id", s.id},       {"time", iso8601_utc(s.time_ms)}, {"name", s.name},
            {"sha256", s.sha256}, {"bytes", s.bytes},             {"public", s.public_score},
            {"final", s.final}};
  if (!std::isfinite(s.public_score)) j["public_note"] = kUndefinedNote;
  if (revealed) {
    j["private"] = s.private_score;
    if (!std::isfinite(s.private_score)) j["private_note"] = kUndefinedNote;
  }
  return j;
}

json info_json(const Host& host, const std::string& team, std::int64_t now) {
  const Config& c = host.config();
  auto revealed = host.revealed_at(now);
  int today = host.submissions_today(team, now);
  json teams = json::array();
  for (const auto& t : c.teams) teams.push_back(t.name);
  return {{"title", c.title},
          {"metric", c.metric},
          {"direction", host.greater_is_better() ? "maximize" : "minimize"},
          {"deadline", iso8601_utc(c.deadline_ms)},
          {"now", iso8601_utc(now)},
          {"daily_limit", c.daily_limit},
          {"max_upload_bytes", c.max_upload_bytes},
          {"team", team},
          {"teams", teams},
          {"columns", host.submission_columns()},
          {"rows", host.submission_rows()},
          {"closed", revealed.has_value()},
          {"revealed", revealed.has_value()},
          {"revealed_at", time_or_null(revealed)},
          {"submissions_today", today},
          {"remaining_today", std::max(0, c.daily_limit - today)},
          {"next_day", iso8601_utc(utc_day_start(now) + 86400000)}};
}

json leaderboard_json(const Host& host, const std::string& team, std::int64_t now) {
  auto revealed = host.revealed_at(now);
  json pub = json::array();
  for (const auto& r : host.public_board())
    pub.push_back({{"rank", r.rank},
                   {"team", r.team},
                   {"score", r.score},
                   {"entries", r.entries},
                   {"last", iso8601_utc(r.last_ms)},
                   {"you", r.team == team}});
  json doc = {{"metric", host.config().metric},
              {"direction", host.greater_is_better() ? "maximize" : "minimize"},
              {"revealed", revealed.has_value()},
              {"public", pub},
              {"private", nullptr}};
  if (revealed) {
    json priv = json::array();
    for (const auto& r : host.private_board(now))
      priv.push_back({{"rank", r.rank},
                      {"team", r.team},
                      {"score", r.private_score},
                      {"public_score", r.public_score},
                      {"submission", r.best_id},
                      {"public_rank", r.public_rank},
                      {"change", r.change},
                      {"finals", r.finals},
                      {"auto_selected", r.auto_selected},
                      {"you", r.team == team}});
    doc["private"] = priv;
    doc["revealed_at"] = iso8601_utc(*revealed);
  }
  return doc;
}

json submissions_json(const Host& host, const std::string& team, std::int64_t now) {
  bool revealed = host.revealed_at(now).has_value();
  json subs = json::array();
  json marked = json::array();
  for (const auto& s : host.submissions(team)) {
    subs.push_back(submission_json(s, revealed));
    if (s.final) marked.push_back(s.id);
  }
  json doc = {{"team", team}, {"submissions", subs}, {"finals", marked}, {"closed", revealed}};
  // Which submissions count is derived from public scores alone, so it may be shown at any time.
  doc["counted"] = host.effective_finals(team);
  return doc;
}

}  // namespace compe::host
