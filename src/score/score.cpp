#include "compe/score.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe::score {
namespace {

constexpr std::size_t kShown = 5;

/// "'a', 'b', 'c' and 12 more"
std::string describe(const std::vector<std::string>& items) {
  std::string out;
  std::size_t n = std::min(items.size(), kShown);
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += quote(items[i]);
  }
  if (items.size() > n) out += fmt::format(" and {} more", items.size() - n);
  return out;
}

std::string src(const Table& t, std::string_view fallback) {
  return t.source.empty() ? std::string(fallback) : t.source;
}

std::vector<Usage> read_usage(const Table& solution, std::size_t& pub, std::size_t& priv,
                              std::size_t& ign) {
  std::vector<Usage> out(solution.num_rows(), Usage::kPublic);
  auto idx = solution.find("Usage");
  pub = priv = ign = 0;
  if (!idx) {
    pub = 0;
    priv = 0;
    // No Usage column: every row is scored, reported as the overall score only.
    std::fill(out.begin(), out.end(), Usage::kPrivate);
    priv = out.size();
    return out;
  }
  const Column& c = solution.column(*idx);
  for (std::size_t r = 0; r < out.size(); ++r) {
    std::string v = c.to_string(r);
    std::string low = v;
    std::transform(low.begin(), low.end(), low.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (low == "public") {
      out[r] = Usage::kPublic;
      ++pub;
    } else if (low == "private") {
      out[r] = Usage::kPrivate;
      ++priv;
    } else if (low == "ignored") {
      out[r] = Usage::kIgnored;
      ++ign;
    } else {
      fail(ErrorCode::kInvalidArgument,
           "{}: line {}: Usage is {}, expected Public, Private or Ignored", src(solution, "solution"),
           r + 2, quote(v));
    }
  }
  return out;
}

/// Maps each submission row to its solution row, or throws Kaggle-style id errors.
std::vector<std::size_t> match_ids(const Table& solution, const Table& submission,
                                   const std::string& id) {
  const Column& sid = solution.column(id);
  if (!submission.has(id))
    fail(ErrorCode::kInvalidArgument, "{}: missing the id column {}; columns are: {}",
         src(submission, "submission"), quote(id), list_shown(submission.column_names()));
  const Column& pid = submission.column(id);
  std::unordered_map<std::string, std::size_t> sol_index;
  sol_index.reserve(sid.size() * 2);
  for (std::size_t r = 0; r < sid.size(); ++r) {
    auto [it, ok] = sol_index.emplace(sid.to_string(r), r);
    if (!ok)
      fail(ErrorCode::kInvalidArgument, "{}: duplicate id {} at line {} (first at line {})",
           src(solution, "solution"), quote(it->first), r + 2, it->second + 2);
  }
  std::vector<std::size_t> map(pid.size(), 0);
  std::vector<std::uint8_t> seen(sid.size(), 0);
  std::vector<std::string> dup, extra, empty;
  for (std::size_t r = 0; r < pid.size(); ++r) {
    if (pid.is_missing(r)) {
      empty.push_back(std::to_string(r + 2));
      continue;
    }
    std::string key = pid.to_string(r);
    auto it = sol_index.find(key);
    if (it == sol_index.end()) {
      extra.push_back(key);
      continue;
    }
    if (seen[it->second]) {
      dup.push_back(key);
      continue;
    }
    seen[it->second] = 1;
    map[r] = it->second;
  }
  std::vector<std::string> missing;
  for (std::size_t r = 0; r < sid.size(); ++r)
    if (!seen[r]) missing.push_back(sid.to_string(r));
  std::string sub = src(submission, "submission");
  if (!empty.empty())
    fail(ErrorCode::kInvalidArgument, "{}: {} row(s) have an empty id {} (lines {})", sub,
         empty.size(), quote(id), describe(empty));
  if (!dup.empty() || !extra.empty() || !missing.empty() || pid.size() != sid.size()) {
    std::vector<std::string> parts;
    if (pid.size() != sid.size())
      parts.push_back(fmt::format("submission must have {} rows, found {}", sid.size(), pid.size()));
    if (!dup.empty())
      parts.push_back(fmt::format("{} duplicate id(s): {}", dup.size(), describe(dup)));
    if (!missing.empty())
      parts.push_back(fmt::format("{} missing id(s): {}", missing.size(), describe(missing)));
    if (!extra.empty())
      parts.push_back(fmt::format("{} unexpected id(s) not in the solution: {}", extra.size(),
                                  describe(extra)));
    std::string msg;
    for (std::size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
    fail(ErrorCode::kInvalidArgument, "{}: {}", sub, msg);
  }
  return map;
}

/// Prediction columns as doubles in solution-row order, with Kaggle-style checks.
std::vector<double> numeric_predictions(const Table& submission, const Column& col,
                                        const std::vector<std::size_t>& map, std::size_t sol_rows,
                                        const std::string& id) {
  std::string sub = src(submission, "submission");
  const Column& pid = submission.column(id);
  if (col.type == DType::kString) {
    for (std::size_t r = 0; r < col.size(); ++r) {
      if (col.is_missing(r)) continue;
      if (is_number_text(col.str(r))) continue;  // a number among text cells
      fail(ErrorCode::kInvalidArgument,
             "{}: column {} must be numeric, found {} at line {} (id {}){}", sub, quote(col.name),
           quote(col.str(r)), r + 2, quote(pid.to_string(r)), space_hint(col.str(r)));
    }
  }
  std::vector<double> out(sol_rows, 0.0);
  std::vector<std::string> bad;
  for (std::size_t r = 0; r < col.size(); ++r) {
    // A text column here holds numbers only (checked above): class labels 0/1/2 written as text.
    double v = col.type != DType::kString ? col.as_double(r)
               : col.is_missing(r)        ? std::numeric_limits<double>::quiet_NaN()
                                          : std::strtod(std::string(col.str(r)).c_str(), nullptr);
    if (!std::isfinite(v)) {
      bad.push_back(pid.to_string(r));
      continue;
    }
    out[map[r]] = v;
  }
  if (!bad.empty())
    fail(ErrorCode::kInvalidArgument,
         "{}: column {} has {} empty, NaN or infinite prediction(s), at id(s) {}", sub, quote(col.name),
         bad.size(), describe(bad));
  return out;
}

bool all_binary(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0 || x == 1.0; });
}

bool all_integer(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::floor(x) == x; });
}

metric::LabelLists parse_lists(const Column& col, const std::vector<std::size_t>* map,
                               std::size_t rows, std::map<std::string, std::int64_t>& vocab) {
  std::vector<std::vector<std::int64_t>> per(rows);
  for (std::size_t r = 0; r < col.size(); ++r) {
    std::istringstream in(col.to_string(r));
    std::string tok;
    auto& dst = per[map ? (*map)[r] : r];
    while (in >> tok) {
      auto [it, ok] = vocab.emplace(tok, static_cast<std::int64_t>(vocab.size()));
      dst.push_back(it->second);
    }
  }
  metric::LabelLists out;
  for (auto& p : per) out.push_row(p);
  return out;
}

}  // namespace

// long-function: Kaggle's submission checks in the order their messages are reported (columns,
// ids, duplicates, values); each is a few lines and reads in sequence.
Prepared prepare_submission(const Table& solution, const Table& submission, const Options& options) {
  auto m = metric::make(options.metric);
  const metric::Info& info = m->info();
  if (info.accepts(metric::kDetection) || info.accepts(metric::kSegmentation))
    fail(ErrorCode::kInvalidArgument,
         "metric '{}' scores {}: use prepare_{} (rows are images, not table rows)", m->spec(),
         info.accepts(metric::kDetection) ? "detections" : "masks",
         info.accepts(metric::kDetection) ? "detection" : "segmentation");
  std::string id = options.id_column.empty() ? solution.column(0).name : options.id_column;
  std::string sub = src(submission, "submission");

  // Columns: exactly the solution's, less Usage.
  std::vector<std::string> targets;
  for (const auto& c : solution.columns())
    if (c.name != id && c.name != "Usage") targets.push_back(c.name);
  if (targets.empty())
    fail(ErrorCode::kInvalidArgument, "{}: no target column besides {} and Usage",
         src(solution, "solution"), quote(id));
  std::vector<std::string> missing_cols, extra_cols;
  for (const auto& t : targets)
    if (!submission.has(t)) missing_cols.push_back(t);
  for (const auto& c : submission.columns())
    if (c.name != id && std::find(targets.begin(), targets.end(), c.name) == targets.end())
      extra_cols.push_back(c.name);
  if (!submission.has(id) || !missing_cols.empty() || !extra_cols.empty()) {
    std::vector<std::string> expected{id};
    expected.insert(expected.end(), targets.begin(), targets.end());
    fail(ErrorCode::kInvalidArgument, "{}: wrong columns {}; expected columns: {}{}{}", sub,
         list_shown(submission.column_names()), list_shown(expected),
         missing_cols.empty() ? "" : fmt::format("; missing: {}", list_shown(missing_cols)),
         extra_cols.empty() ? "" : fmt::format("; unexpected: {}", list_shown(extra_cols)));
  }

  Prepared out;
  Result& res = out.result;
  res.metric = m->spec();
  res.direction = info.direction;
  out.usage = read_usage(solution, res.public_rows, res.private_rows, res.ignored_rows);
  out.has_usage = solution.has("Usage");
  const std::vector<Usage>& usage = out.usage;
  std::vector<std::size_t> map = match_ids(solution, submission, id);
  const std::size_t n = solution.num_rows();

  // Build y_true / y_pred in solution row order.
  std::vector<double>& y_true = out.y_true;
  std::vector<double>& y_pred = out.y_pred;
  std::size_t& true_cols = out.true_cols;
  std::size_t& pred_cols = out.pred_cols;
  metric::LabelLists& true_lists = out.true_lists;
  metric::LabelLists& pred_lists = out.pred_lists;
  bool ranking = info.tasks == metric::kRanking;
  metric::Task task;
  if (ranking) {
    task = metric::kRanking;
    if (targets.size() != 1)
      fail(ErrorCode::kInvalidArgument, "metric '{}' expects one label-list column, the solution has {}",
           res.metric, targets.size());
    std::map<std::string, std::int64_t> vocab;
    true_lists = parse_lists(solution.column(targets[0]), nullptr, n, vocab);
    pred_lists = parse_lists(submission.column(targets[0]), &map, n, vocab);
  } else if (targets.size() > 1) {
    pred_cols = targets.size();
    y_pred.assign(n * pred_cols, 0.0);
    std::vector<double> truth(n * pred_cols, 0.0);
    for (std::size_t j = 0; j < targets.size(); ++j) {
      auto p = numeric_predictions(submission, submission.column(targets[j]), map, n, id);
      const Column& tc = solution.column(targets[j]);
      require_numeric(tc, src(solution, "solution"), &solution.column(id));
      for (std::size_t r = 0; r < n; ++r) {
        y_pred[r * pred_cols + j] = p[r];
        truth[r * pred_cols + j] = tc.as_double(r);
      }
    }
    bool multiclass = options.task ? *options.task == metric::kMulticlass
                                   : (info.accepts(metric::kMulticlass) && !info.accepts(metric::kMultilabel));
    if (multiclass) {
      task = metric::kMulticlass;
      y_true.resize(n);
      for (std::size_t r = 0; r < n; ++r) {
        auto b = truth.begin() + static_cast<std::ptrdiff_t>(r * pred_cols);
        auto e = b + static_cast<std::ptrdiff_t>(pred_cols);
        if (std::count(b, e, 1.0) != 1 || std::count(b, e, 0.0) != static_cast<long>(pred_cols) - 1)
          fail(ErrorCode::kInvalidArgument,
               "{}: line {}: a multiclass solution needs exactly one 1 among its {} class columns",
               src(solution, "solution"), r + 2, pred_cols);
        y_true[r] = static_cast<double>(std::max_element(b, e) - b);
      }
    } else {
      task = options.task ? *options.task : metric::kMultilabel;
      y_true = std::move(truth);
      true_cols = pred_cols;
    }
  } else {
    const Column& tc = solution.column(targets[0]);
    const Column& pc = submission.column(targets[0]);
    if (tc.type == DType::kString) {
      // Numbers among which one carries spaces read as text: " 1" is a typo, not a third class.
      const bool numeric = std::all_of(tc.dict.begin(), tc.dict.end(), [](const std::string& v) {
        return is_number_text(v) || !space_hint(v).empty();
      });
      for (std::size_t r = 0; numeric && r < n; ++r)
        if (!tc.is_missing(r) && !space_hint(tc.str(r)).empty())
          fail(ErrorCode::kInvalidArgument, "{}: line {}: target '{}' is '{}' (id '{}'){}",
               src(solution, "solution"), r + 2, tc.name, tc.str(r), solution.column(id).to_string(r),
               space_hint(tc.str(r)));
      // Class labels: both sides map through the solution's sorted labels; an unknown predicted
      // label maps past the last class, so it is simply wrong.
      std::vector<std::string> labels(tc.dict);
      std::sort(labels.begin(), labels.end());
      std::unordered_map<std::string, double> code;
      for (std::size_t i = 0; i < labels.size(); ++i) code.emplace(labels[i], static_cast<double>(i));
      y_true.resize(n);
      y_pred.assign(n, static_cast<double>(labels.size()));
      for (std::size_t r = 0; r < n; ++r) {
        if (tc.is_missing(r))
          fail(ErrorCode::kInvalidArgument, "{}: line {}: empty target", src(solution, "solution"), r + 2);
        y_true[r] = code.at(std::string(tc.str(r)));
      }
      std::vector<std::string> empty;
      for (std::size_t r = 0; r < pc.size(); ++r) {
        if (pc.is_missing(r)) {
          empty.push_back(submission.column(id).to_string(r));
          continue;
        }
        auto it = code.find(pc.to_string(r));
        if (it != code.end()) y_pred[map[r]] = it->second;
      }
      if (!empty.empty())
        fail(ErrorCode::kInvalidArgument, "{}: column {} has {} empty prediction(s), at id(s) {}",
             sub, quote(pc.name), empty.size(), describe(empty));
      task = options.task ? *options.task : (labels.size() == 2 ? metric::kBinary : metric::kMulticlass);
      if (info.needs_proba)
        fail(ErrorCode::kInvalidArgument,
             "metric '{}' scores probabilities, but the solution's {} holds class labels",
             res.metric, quote(tc.name));
    } else {
      y_true.resize(n);
      for (std::size_t r = 0; r < n; ++r) {
        y_true[r] = tc.as_double(r);
        if (!std::isfinite(y_true[r]) && usage[r] != Usage::kIgnored)
          fail(ErrorCode::kInvalidArgument, "{}: line {}: target {} is empty or not finite",
               src(solution, "solution"), r + 2, quote(tc.name));
      }
      y_pred = numeric_predictions(submission, pc, map, n, id);
      if (options.task) {
        task = *options.task;
      } else if (info.accepts(metric::kRegression) && !info.accepts(metric::kBinary)) {
        task = metric::kRegression;
      } else if (all_binary(y_true) && info.accepts(metric::kBinary)) {
        task = metric::kBinary;
      } else if (all_integer(y_true) && info.accepts(metric::kMulticlass)) {
        task = metric::kMulticlass;
      } else {
        task = metric::kRegression;
      }
    }
  }
  res.task = task;
  return out;
}

Result score_submission(const Table& solution, const Table& submission, const Options& options) {
  auto m = metric::make(options.metric);
  if (m->info().accepts(metric::kDetection))
    return score_detection_submission(solution, submission, options);
  if (m->info().accepts(metric::kSegmentation))
    return score_segmentation_submission(solution, submission, options);
  Prepared p = prepare_submission(solution, submission, options);
  Result res = p.result;
  const std::size_t n = p.usage.size();
  const bool ranking = m->info().tasks == metric::kRanking;
  const std::vector<Usage>& usage = p.usage;
  const std::vector<double>& y_true = p.y_true;
  const std::vector<double>& y_pred = p.y_pred;
  const std::size_t true_cols = p.true_cols, pred_cols = p.pred_cols;
  const metric::LabelLists& true_lists = p.true_lists;
  const metric::LabelLists& pred_lists = p.pred_lists;
  auto score_rows = [&](auto keep) -> std::optional<double> {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < n; ++r)
      if (keep(usage[r])) rows.push_back(r);
    if (rows.empty()) return std::nullopt;
    metric::Inputs in;
    std::vector<double> yt, yp;
    metric::LabelLists tl, pl;
    if (ranking) {
      for (auto r : rows) {
        tl.push_row(true_lists.row(r));
        pl.push_row(pred_lists.row(r));
      }
      in.true_lists = &tl;
      in.pred_lists = &pl;
    } else {
      yt.reserve(rows.size() * true_cols);
      yp.reserve(rows.size() * pred_cols);
      for (auto r : rows) {
        yt.insert(yt.end(), y_true.begin() + static_cast<std::ptrdiff_t>(r * true_cols),
                  y_true.begin() + static_cast<std::ptrdiff_t>((r + 1) * true_cols));
        yp.insert(yp.end(), y_pred.begin() + static_cast<std::ptrdiff_t>(r * pred_cols),
                  y_pred.begin() + static_cast<std::ptrdiff_t>((r + 1) * pred_cols));
      }
      in.y_true = yt;
      in.true_cols = true_cols;
      in.y_pred = yp;
      in.pred_cols = pred_cols;
    }
    return m->score(in);
  };
  const double worst = res.direction == metric::Direction::kMaximize
                           ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
  auto score_part = [&](auto keep, bool& undefined) -> std::optional<double> {
    if (!options.undefined_as_worst) return score_rows(keep);
    try {
      auto v = score_rows(keep);
      if (!v || !std::isnan(*v)) return v;
    } catch (const Error&) {
    }
    undefined = true;
    return worst;
  };
  if (p.has_usage) {
    res.public_score = score_part([](Usage u) { return u == Usage::kPublic; }, res.public_undefined);
    res.private_score = score_part([](Usage u) { return u == Usage::kPrivate; }, res.private_undefined);
  }
  res.overall_score = score_part([](Usage u) { return u != Usage::kIgnored; }, res.overall_undefined);
  return res;
}

void validate_against_sample(const Table& sample, const Table& submission) {
  std::string id = sample.column(0).name;
  std::string sub = src(submission, "submission");
  if (sample.column_names() != submission.column_names())
    fail(ErrorCode::kInvalidArgument, "{}: columns {} differ from the sample submission's {}", sub,
         list_shown(submission.column_names()), list_shown(sample.column_names()));
  auto map = match_ids(sample, submission, id);
  for (std::size_t j = 1; j < sample.num_columns(); ++j) {
    const Column& sc = sample.column(j);
    if (sc.type != DType::kString)
      numeric_predictions(submission, submission.column(sc.name), map, sample.num_rows(), id);
  }
}

}  // namespace compe::score
