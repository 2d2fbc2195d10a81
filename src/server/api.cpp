// The dashboard's JSON documents, built from the Store API alone.
#include "server/api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/run_writer.hpp"

namespace compe::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::int64_t kMaxPageSize = 1000;

std::string param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

std::int64_t int_param(const Params& p, const std::string& name, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  std::string s = param(p, name);
  if (s.empty()) return fallback;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected an integer in [{}, {}]",
         name, quote(s), lo, hi);
  return v;
}

std::optional<double> double_param(const Params& p, const std::string& name) {
  std::string s = param(p, name);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected a finite number", name, quote(s));
  return v;
}

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string model_of(const Run& r) {
  const json* m = r.config.is_object() && r.config.contains("model") ? &r.config["model"] : nullptr;
  if (m && m->is_object() && m->contains("backend") && (*m)["backend"].is_string())
    return (*m)["backend"].get<std::string>();
  return "";
}

/// "/model/params/eta" -> "model.params.eta" (JSON pointer escapes undone).
std::string dotted(const std::string& pointer) {
  std::string out;
  for (std::size_t i = pointer.empty() ? 0 : 1; i < pointer.size(); ++i) {
    char c = pointer[i];
    if (c == '/') {
      out += '.';
    } else if (c == '~' && i + 1 < pointer.size()) {
      out += pointer[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

json series_json(const std::vector<MetricPoint>& points, const std::string& key_prefix) {
  json out = json::array();
  const MetricPoint* prev = nullptr;
  for (const auto& p : points) {
    if (!key_prefix.empty() && p.key.rfind(key_prefix, 0) != 0) continue;
    if (!prev || prev->key != p.key || prev->fold != p.fold) {
      out.push_back({{"key", p.key},
                     {"fold", p.fold ? json(*p.fold) : json(nullptr)},
                     {"steps", json::array()},
                     {"values", json::array()}});
    }
    json& s = out.back();
    s["steps"].push_back(p.step);
    s["values"].push_back(p.value);  // NaN is written as null
    prev = &p;
  }
  return out;
}

bool is_plain_file_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find_first_of("/\\") == std::string::npos && name.find('\0') == std::string::npos;
}

/// True when `p` (canonical) lies strictly inside `root` (canonical).
bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return q != p.end();
}

}  // namespace

json run_to_json(Store& store, const Run& r) {
  return run::run_json(r, store.list_artifacts(r.id));
}

json runs_json(Store& store, const Params& params) {
  RunFilter f;
  f.limit = int_param(params, "limit", 50, 1, kMaxPageSize);
  f.offset = int_param(params, "offset", 0, 0, std::numeric_limits<std::int64_t>::max());
  std::string sort = param(params, "sort");
  if (sort.empty()) sort = "created";
  static const std::map<std::string, RunSort> kSorts = {{"created", RunSort::kCreated},
                                                        {"cv", RunSort::kCvScore},
                                                        {"best", RunSort::kBest},
                                                        {"name", RunSort::kName},
                                                        {"status", RunSort::kStatus}};
  auto it = kSorts.find(sort);
  if (it == kSorts.end())
    fail(ErrorCode::kInvalidArgument,
         "query parameter sort={}: expected created, cv, best, name or status", quote(sort));
  f.sort = it->second;
  // Rankings leave out partial runs (some folds or rows) and archived ones, unless all=1.
  f.complete_only = f.sort == RunSort::kBest && param(params, "all") != "1";
  std::string order = param(params, "order");
  if (order.empty())  // text sorts read A to Z, times and scores newest / highest first
    f.descending = f.sort != RunSort::kName && f.sort != RunSort::kStatus;
  else if (order == "desc")
    f.descending = true;
  else if (order == "asc")
    f.descending = false;
  else
    fail(ErrorCode::kInvalidArgument, "query parameter order={}: expected asc or desc", quote(order));
  f.cv_min = double_param(params, "cv_min");
  f.cv_max = double_param(params, "cv_max");
  if (f.cv_min && f.cv_max && *f.cv_min > *f.cv_max)
    fail(ErrorCode::kInvalidArgument, "query parameters cv_min={} and cv_max={}: cv_min is above cv_max",
         param(params, "cv_min"), param(params, "cv_max"));
  if (std::string s = param(params, "status"); !s.empty()) f.status = parse_run_status(s);
  f.tag = param(params, "tag");
  f.name_contains = param(params, "name");
  f.metric = param(params, "metric");
  store.mark_interrupted_stale();
  RunPage page = store.list_runs(f);
  json runs = json::array();
  for (const auto& r : page.runs) {
    json j = run_to_json(store, r);
    for (const char* heavy : {"command", "workdir", "config", "versions"}) j.erase(heavy);
    runs.push_back(std::move(j));
  }
  return {{"runs", std::move(runs)},
          {"total", page.total},
          {"limit", f.limit},
          {"offset", f.offset},
          {"sort", sort},
          {"order", f.sort == RunSort::kBest ? "desc" : f.descending ? "desc" : "asc"},
          {"cv_min", opt(f.cv_min)},
          {"cv_max", opt(f.cv_max)}};
}

json run_json(Store& store, const std::string& id) {
  store.mark_interrupted_stale();
  Run r = store.get_run(store.resolve_run_id(id));
  json j = run_to_json(store, r);
  json artifacts = json::array();
  for (const auto& a : store.list_artifacts(r.id))
    artifacts.push_back({{"name", a.name},
                         {"path", a.path},
                         {"size", a.size},
                         {"sha", a.sha},
                         {"kind", a.kind},
                         {"file", fs::path(a.path).filename().string()}});
  j["artifacts"] = std::move(artifacts);
  json lb = json::array();
  for (const auto& s : store.list_lb_scores(r.id))
    lb.push_back({{"public", s.public_score},
                  {"private", opt(s.private_score)},
                  {"time", iso8601_utc(s.time_ms)},
                  {"note", s.note}});
  j["lb"] = std::move(lb);
  std::set<std::string> keys;
  for (const auto& p : store.read_metrics(r.id)) keys.insert(p.key);
  j["metric_keys"] = keys;
  j["details"] = run::run_details(store, r.id);
  return j;
}

json metrics_json(Store& store, const std::string& id, const std::string& key) {
  std::string full = store.resolve_run_id(id);
  return {{"run_id", full}, {"series", series_json(store.read_metrics(full, key), "")}};
}

json compare_json(Store& store, const std::string& ids) {
  std::vector<Run> runs;
  std::size_t start = 0;
  while (start <= ids.size()) {
    std::size_t comma = ids.find(',', start);
    std::string part =
        ids.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) runs.push_back(store.get_run(store.resolve_run_id(part)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (runs.size() < 2)
    fail(ErrorCode::kInvalidArgument,
         "query parameter ids={}: expected two or more run ids separated by commas", quote(ids));
  if (runs.size() > 20)
    fail(ErrorCode::kInvalidArgument, "query parameter ids: {} runs given; compare at most 20",
         runs.size());

  std::vector<json> flat;
  std::set<std::string> pointers;
  for (const auto& r : runs) {
    flat.push_back(r.config.flatten());
    for (const auto& [k, v] : flat.back().items()) pointers.insert(k);
  }
  json diff = json::array();
  std::size_t same = 0;
  for (const auto& p : pointers) {
    json values = json::array();
    bool differs = false;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      values.push_back(flat[i].contains(p) ? flat[i][p] : json(nullptr));
      if (i > 0 && (values[i] != values[0] || flat[i].contains(p) != flat[0].contains(p)))
        differs = true;
    }
    if (differs)
      diff.push_back({{"key", dotted(p)}, {"values", std::move(values)}});
    else
      ++same;
  }

  json out_runs = json::array();
  for (const auto& r : runs) {
    json j = run_to_json(store, r);
    for (const char* heavy : {"command", "workdir", "config", "versions"}) j.erase(heavy);
    j["curves"] = series_json(store.read_metrics(r.id), "valid-");
    out_runs.push_back(std::move(j));
  }
  return {{"runs", std::move(out_runs)}, {"config_diff", std::move(diff)}, {"config_same", same}};
}

json lb_json(Store& store) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<LbScore>> by_run;
  for (auto& s : store.list_lb_scores("")) {
    auto& v = by_run[s.run_id];
    if (v.empty()) order.push_back(s.run_id);
    v.push_back(std::move(s));
  }
  json rows = json::array();
  for (const auto& id : order) {
    Run r;
    try {
      r = store.get_run(id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
      continue;
    }
    const auto& scores = by_run[id];
    json subs = json::array();
    std::optional<double> priv;
    for (const auto& s : scores) {
      subs.push_back({{"public", s.public_score},
                      {"private", opt(s.private_score)},
                      {"time", iso8601_utc(s.time_ms)},
                      {"note", s.note}});
      if (s.private_score) priv = s.private_score;
    }
    rows.push_back({{"id", r.id},
                    {"name", r.name},
                    {"model", model_of(r)},
                    {"metric", r.metric},
                    {"direction", r.direction},
                    {"cv", opt(r.cv_score)},
                    {"public", scores.back().public_score},
                    {"private", opt(priv)},
                    {"submissions", std::move(subs)}});
  }
  return {{"runs", std::move(rows)}};
}

std::string content_type_for(const std::string& filename) {
  static const std::map<std::string, std::string> kTypes = {
      {".csv", "text/csv; charset=utf-8"},
      {".json", "application/json"},
      {".log", "text/plain; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".toml", "text/plain; charset=utf-8"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".svg", "image/svg+xml"},
      {".gz", "application/gzip"},
      {".zip", "application/zip"},
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"}};
  std::string ext = fs::path(filename).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

ArtifactFile find_artifact(Store& store, const fs::path& workspace_root, const std::string& id,
                           const std::string& name) {
  ArtifactFile out;
  if (!is_plain_file_name(name)) {
    out.status = 403;
    out.message = "artifact names are plain names; paths are refused";
    return out;
  }
  std::string full = store.resolve_run_id(id);
  fs::path rel;
  for (const auto& a : store.list_artifacts(full)) {
    if (a.name == name || fs::path(a.path).filename() == name) {
      rel = a.path;
      break;
    }
  }
  if (rel.empty()) rel = fs::path("runs") / full / name;
  std::error_code ec;
  fs::path root = fs::canonical(workspace_root, ec);
  if (ec) {
    out.message = "workspace folder is not readable";
    return out;
  }
  fs::path target = fs::weakly_canonical(rel.is_absolute() ? rel : root / rel, ec);
  if (ec || !inside(root, target)) {
    out.status = 403;
    out.message = "artifact path is outside the workspace";
    return out;
  }
  if (!fs::is_regular_file(target, ec) && target.parent_path() == root / "runs" / full) {
    // runs/<id>/ is a cache of the store: a teammate's run is fetched (and verified) first.
    std::string file = target.filename().string();
    for (const auto& f : run::artifact_files()) {
      if (file != f.file) continue;
      const std::string_view files[] = {f.file};
      run::ensure_local(store, root / "runs", full, files, run::Need::kIfStored);
    }
  }
  if (!fs::is_regular_file(target, ec)) {
    out.message = fmt::format("run {} has no artifact {}", full, quote(name));
    return out;
  }
  out.status = 200;
  out.path = target;
  out.filename = target.filename().string();
  out.content_type = content_type_for(out.filename);
  return out;
}

}  // namespace compe::server
