// `compe score` for detection solutions: Kaggle's PredictionString layout, or ground-truth rows
// with a Usage column scored against a detections CSV.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/util.hpp"

namespace compe::score {
namespace {

using metric::BoxLists;
using metric::DetBox;

std::string src(const Table& t, std::string_view fallback) {
  return t.source.empty() ? std::string(fallback) : t.source;
}

Usage parse_usage(const Table& t, std::size_t r) {
  std::string v = t.column("Usage").to_string(r);
  std::string low = v;
  std::transform(low.begin(), low.end(), low.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (low == "public") return Usage::kPublic;
  if (low == "private") return Usage::kPrivate;
  if (low == "ignored") return Usage::kIgnored;
  fail(ErrorCode::kInvalidArgument, "{}:{}: Usage is {}, expected Public, Private or Ignored",
       src(t, "solution"), r + 2, quote(v));
}

double cell(const Table& t, const Column& c, std::size_t r) {
  if (c.is_missing(r)) {
    fail(ErrorCode::kInvalidArgument, "{}:{}: column {} is empty; expected a number",
         src(t, "file"), r + 2, quote(c.name));
  }
  if (c.type == DType::kString) {
    fail(ErrorCode::kInvalidArgument, "{}:{}: column {} is {}; expected a number",
         src(t, "file"), r + 2, quote(c.name), quote(c.str(r)));
  }
  return c.as_double(r);
}

std::int64_t int_cell(const Table& t, const Column& c, std::size_t r) {
  const double v = cell(t, c, r);
  if (v != std::floor(v) || std::fabs(v) > 9e15) {
    fail(ErrorCode::kInvalidArgument, "{}:{}: column {} is {}; expected an integer label",
         src(t, "file"), r + 2, quote(c.name), quote(c.to_string(r)));
  }
  return static_cast<std::int64_t>(v);
}

/// Box corner columns of a table: xyxy or xywh, with `extra` columns required too.
struct BoxColumns {
  const Column *a, *b, *c, *d;
  bool xywh = false;
};

std::optional<BoxColumns> box_columns(const Table& t) {
  if (t.has("x1") && t.has("y1") && t.has("x2") && t.has("y2"))
    return BoxColumns{&t.column("x1"), &t.column("y1"), &t.column("x2"), &t.column("y2"), false};
  if (t.has("x") && t.has("y") && t.has("w") && t.has("h"))
    return BoxColumns{&t.column("x"), &t.column("y"), &t.column("w"), &t.column("h"), true};
  return std::nullopt;
}

bool box_missing(const BoxColumns& bc, std::size_t r) {
  return bc.a->is_missing(r) && bc.b->is_missing(r) && bc.c->is_missing(r) && bc.d->is_missing(r);
}

DetBox read_box(const Table& t, const BoxColumns& bc, std::size_t r) {
  DetBox b;
  b.x1 = cell(t, *bc.a, r);
  b.y1 = cell(t, *bc.b, r);
  b.x2 = cell(t, *bc.c, r);
  b.y2 = cell(t, *bc.d, r);
  if (bc.xywh) {
    b.x2 += b.x1;
    b.y2 += b.y1;
  }
  return b;
}

/// The space-separated numbers of a cell; kInvalidArgument names `where` and the token.
std::vector<double> numbers(const std::string& text, const std::string& where) {
  std::vector<double> v;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string tok = text.substr(pos, end - pos);
    double x = 0;
    auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), x);
    if (ec != std::errc() || ptr != tok.data() + tok.size()) {
      fail(ErrorCode::kInvalidArgument, "{}: PredictionString token {} is not a number", where,
           quote(tok));
    }
    v.push_back(x);
    pos = end;
  }
  return v;
}

/// Label of a ground-truth or detection cell: an integer, or a class name mapped to its index in
/// Options::classes (names of no known class get codes no prediction can share by accident).
struct Labels {
  const std::vector<std::string>& classes;
  std::unordered_map<std::string, std::int64_t> other;
  std::int64_t of(const Table& t, const Column& c, std::size_t r) {
    if (c.type != DType::kString) return int_cell(t, c, r);
    if (c.is_missing(r))
      fail(ErrorCode::kInvalidArgument, "{}:{}: column {} is empty; expected a label", src(t, "file"), r + 2,
           quote(c.name));
    const std::string name(c.str(r));
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
    if (ec == std::errc() && ptr == name.data() + name.size()) return v;
    auto it = std::find(classes.begin(), classes.end(), name);
    if (it != classes.end()) return it - classes.begin();
    return other.emplace(name, -1 - static_cast<std::int64_t>(other.size()) - (std::int64_t{1} << 40)).first->second;
  }
};

void check_box(const DetBox& b, const std::string& where) {
  const double v[] = {b.x1, b.y1, b.x2, b.y2, b.score};
  for (double x : v)
    if (!std::isfinite(x))
      fail(ErrorCode::kInvalidArgument, "{}: box {} {} {} {} (score {}) has a value that is not finite", where,
           b.x1, b.y1, b.x2, b.y2, b.score);
  if (b.x2 < b.x1 || b.y2 < b.y1)
    fail(ErrorCode::kInvalidArgument,
         "{}: box x1={} y1={} x2={} y2={} has a negative width or height; expected x1 <= x2 and y1 <= y2", where,
         b.x1, b.y1, b.x2, b.y2);
}

/// The solution's images in first-seen order with their Usage (an image is one Usage as a whole).
struct Images {
  std::vector<std::string> ids;
  std::vector<Usage> usage;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::vector<DetBox>> truth, preds;

  std::size_t add(const Table& solution, const Column& sid, std::size_t r, bool has_usage) {
    const std::string sol = src(solution, "solution");
    if (sid.is_missing(r)) fail(ErrorCode::kInvalidArgument, "{}:{}: empty image id", sol, r + 2);
    const std::string key = sid.to_string(r);
    const Usage u = has_usage ? parse_usage(solution, r) : Usage::kPrivate;
    auto [it, added] = index.emplace(key, ids.size());
    if (added) {
      ids.push_back(key);
      usage.push_back(u);
      truth.emplace_back();
    } else if (usage[it->second] != u) {
      fail(ErrorCode::kInvalidArgument,
           "{}:{}: image {} has rows of different Usage; an image is Public, Private or Ignored as a whole", sol,
           r + 2, quote(key));
    }
    return it->second;
  }
};

/// Kaggle's phrasing for a submission whose image rows differ from the solution's images.
void refuse_rows(const std::string& sub, std::size_t expected, std::size_t found, const std::vector<std::string>& dup,
                 const std::vector<std::string>& missing, const std::vector<std::string>& extra) {
  if (dup.empty() && missing.empty() && extra.empty()) return;
  auto shown = [](const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size() && i < 5; ++i) out += (i ? ", " : "") + quote(v[i]);
    if (v.size() > 5) out += fmt::format(" and {} more", v.size() - 5);
    return out;
  };
  std::vector<std::string> parts;
  if (expected != found) parts.push_back(fmt::format("submission must have {} rows, found {}", expected, found));
  if (!dup.empty()) parts.push_back(fmt::format("{} duplicate id(s): {}", dup.size(), shown(dup)));
  if (!missing.empty()) parts.push_back(fmt::format("{} missing id(s): {}", missing.size(), shown(missing)));
  if (!extra.empty())
    parts.push_back(fmt::format("{} unexpected id(s) not in the solution: {}", extra.size(), shown(extra)));
  std::string msg;
  for (std::size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
  fail(ErrorCode::kInvalidArgument, "{}: {}", sub, msg);
}

/// A PredictionString submission: one row per solution image. Groups are "score x y w h", or
/// "label score x y w h" when the ground truth has labels.
void read_prediction_strings(const Table& submission, const std::string& id, bool with_label, Images& im) {
  const std::string sub = src(submission, "submission");
  for (const auto& c : submission.column_names())
    if (c != id && c != "PredictionString")
      fail(ErrorCode::kInvalidArgument, "{}: unexpected column {}; expected columns {}, {}", sub, quote(c), id,
           "PredictionString");
  if (!submission.has("PredictionString"))
    fail(ErrorCode::kInvalidArgument, "{}: no column 'PredictionString'; expected columns {}, {}", sub, id,
         "PredictionString");
  const Column& pid = submission.column(id);
  const Column& pps = submission.column("PredictionString");
  im.preds.assign(im.ids.size(), {});
  std::vector<std::uint8_t> seen(im.ids.size(), 0);
  std::vector<std::string> dup, missing, extra;
  std::vector<std::size_t> rows(submission.num_rows(), im.ids.size());
  for (std::size_t r = 0; r < submission.num_rows(); ++r) {
    const std::string key = pid.is_missing(r) ? std::string() : pid.to_string(r);
    auto it = im.index.find(key);
    if (it == im.index.end()) {
      extra.push_back(key);
    } else if (seen[it->second]) {
      dup.push_back(key);
    } else {
      seen[it->second] = 1;
      rows[r] = it->second;
    }
  }
  for (std::size_t i = 0; i < im.ids.size(); ++i)
    if (!seen[i]) missing.push_back(im.ids[i]);
  refuse_rows(sub, im.ids.size(), submission.num_rows(), dup, missing, extra);
  for (std::size_t r = 0; r < submission.num_rows(); ++r) {
    const std::string where = fmt::format("{}:{}: image {}", sub, r + 2, quote(im.ids[rows[r]]));
    std::vector<detect::Box> tmp;
    detect::parse_prediction_string(pps.is_missing(r) ? std::string() : pps.to_string(r), with_label, where, tmp);
    for (const detect::Box& b : tmp) {
      const DetBox d{b.x1, b.y1, b.x2, b.y2, b.score, b.label};
      check_box(d, where);
      im.preds[rows[r]].push_back(d);
    }
  }
}

/// Kaggle's layout: image_id,PredictionString on both sides (ground truth "x y w h" per box).
void read_prediction_string_solution(const Table& solution, const Column& sid, bool has_usage, Images& im) {
  const std::string sol = src(solution, "solution");
  const Column& sps = solution.column("PredictionString");
  for (std::size_t r = 0; r < solution.num_rows(); ++r) {
    const std::size_t before = im.ids.size();
    const std::size_t i = im.add(solution, sid, r, has_usage);
    if (im.ids.size() == before) fail(ErrorCode::kInvalidArgument, "{}:{}: duplicate id {}", sol, r + 2, quote(im.ids[i]));
    const std::vector<double> v = numbers(sps.is_missing(r) ? std::string() : sps.to_string(r), fmt::format("{}:{}", sol, r + 2));
    if (v.size() % 4 != 0)
      fail(ErrorCode::kInvalidArgument, "{}:{}: ground-truth PredictionString has {} numbers; expected 'x y w h' per box",
           sol, r + 2, v.size());
    for (std::size_t k = 0; k < v.size(); k += 4) {
      DetBox b;
      b.x1 = v[k];
      b.y1 = v[k + 1];
      b.x2 = v[k] + v[k + 2];
      b.y2 = v[k + 1] + v[k + 3];
      im.truth[i].push_back(b);
    }
  }
}

/// Ground-truth rows (image_id, box, label[, iscrowd], Usage); an image without objects has one
/// row with empty box cells.
void read_ground_truth_rows(const Table& solution, const Column& sid, bool has_usage, Labels& labels, Images& im) {
  const std::string sol = src(solution, "solution");
  auto bc = box_columns(solution);
  if (!bc || !solution.has("label"))
    fail(ErrorCode::kInvalidArgument,
         "{}: a detection solution needs PredictionString, or x1,y1,x2,y2 (or x,y,w,h) and label columns; columns "
         "are: {}",
         sol, list_shown(solution.column_names()));
  const Column& lab = solution.column("label");
  const Column* crowd = solution.has("iscrowd") ? &solution.column("iscrowd") : nullptr;
  for (std::size_t r = 0; r < solution.num_rows(); ++r) {
    const std::size_t i = im.add(solution, sid, r, has_usage);
    if (box_missing(*bc, r)) continue;
    DetBox b = read_box(solution, *bc, r);
    b.label = labels.of(solution, lab, r);
    b.crowd = crowd && !crowd->is_missing(r) && crowd->as_double(r) == 1;
    check_box(b, fmt::format("{}:{}", sol, r + 2));
    im.truth[i].push_back(b);
  }
}

/// A detections CSV (image_id,x1,y1,x2,y2,score,label): any number of rows per image, none for an
/// image without detections.
void read_detection_rows(const Table& submission, const std::string& id, Labels& labels, Images& im) {
  const std::string sub = src(submission, "submission");
  auto pc = box_columns(submission);
  if (!pc || !submission.has("score") || !submission.has("label"))
    fail(ErrorCode::kInvalidArgument,
         "{}: expected detection columns {},x1,y1,x2,y2,score,label (or x,y,w,h), or {},PredictionString; columns "
         "are: {}",
         sub, id, id, list_shown(submission.column_names()));
  const Column& pid = submission.column(id);
  const Column& ps = submission.column("score");
  const Column& pl = submission.column("label");
  im.preds.assign(im.ids.size(), {});
  std::vector<std::string> extra;
  for (std::size_t r = 0; r < submission.num_rows(); ++r) {
    const std::string key = pid.is_missing(r) ? std::string() : pid.to_string(r);
    auto it = im.index.find(key);
    if (it == im.index.end()) {
      extra.push_back(key);
      continue;
    }
    DetBox b = read_box(submission, *pc, r);
    b.score = cell(submission, ps, r);
    b.label = labels.of(submission, pl, r);
    check_box(b, fmt::format("{}:{}: image {}", sub, r + 2, quote(key)));
    im.preds[it->second].push_back(b);
  }
  if (!extra.empty()) {
    std::sort(extra.begin(), extra.end());
    extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
    refuse_rows(sub, 0, 0, {}, {}, extra);
  }
}

}  // namespace

PreparedBoxes prepare_detection(const Table& solution, const Table& submission, const Options& options) {
  auto m = metric::make(options.metric);
  if (!m->info().accepts(metric::kDetection))
    fail(ErrorCode::kInvalidArgument, "metric '{}' does not score detections", options.metric);
  const std::string id = options.id_column.empty() ? solution.column(0).name : options.id_column;
  const std::string sol = src(solution, "solution"), sub = src(submission, "submission");
  if (!solution.has(id)) fail(ErrorCode::kInvalidArgument, "{}: no id column {}", sol, quote(id));
  if (!submission.has(id))
    fail(ErrorCode::kInvalidArgument, "{}: missing the id column {}; columns are: {}", sub, quote(id),
         list_shown(submission.column_names()));
  const bool has_usage = solution.has("Usage");
  const Column& sid = solution.column(id);
  Images im;
  Labels labels{options.classes, {}};
  if (solution.has("PredictionString")) {
    read_prediction_string_solution(solution, sid, has_usage, im);
    read_prediction_strings(submission, id, false, im);
  } else {
    read_ground_truth_rows(solution, sid, has_usage, labels, im);
    if (submission.has("PredictionString"))
      read_prediction_strings(submission, id, true, im);
    else
      read_detection_rows(submission, id, labels, im);
  }
  PreparedBoxes out;
  Result& res = out.result;
  res.metric = m->spec();
  res.direction = m->info().direction;
  res.task = metric::kDetection;
  for (Usage u : im.usage) {
    res.public_rows += u == Usage::kPublic ? 1 : 0;
    res.private_rows += u == Usage::kPrivate ? 1 : 0;
    res.ignored_rows += u == Usage::kIgnored ? 1 : 0;
  }
  for (std::size_t i = 0; i < im.ids.size(); ++i) {
    out.truth.push_row(im.truth[i]);
    out.pred.push_row(im.preds[i]);
  }
  out.images = std::move(im.ids);
  out.usage = std::move(im.usage);
  out.has_usage = has_usage;
  return out;
}

Result score_detection_submission(const Table& solution, const Table& submission, const Options& options) {
  const PreparedBoxes p = prepare_detection(solution, submission, options);
  auto m = metric::make(options.metric);
  Result res = p.result;
  const bool coco = m->info().name == "coco_map" || m->info().name == "coco_map50";
  const double worst = res.direction == metric::Direction::kMaximize ? -std::numeric_limits<double>::infinity()
                                                                     : std::numeric_limits<double>::infinity();
  auto score_where = [&](auto keep, bool& undefined) -> std::optional<double> {
    BoxLists g, pr;
    for (std::size_t i = 0; i < p.images.size(); ++i) {
      if (!keep(p.usage[i])) continue;
      g.push_row(p.truth.row(i));
      pr.push_row(p.pred.row(i));
    }
    if (g.rows() == 0) return std::nullopt;
    // COCO AP is undefined without ground truth to find: no score for such a part (the worst
    // score where the host asks, so that no answer depends on which part an image is in).
    if (coco && std::none_of(g.boxes.begin(), g.boxes.end(), [](const DetBox& b) { return !b.crowd; })) {
      if (!options.undefined_as_worst) return std::nullopt;
      undefined = true;
      return worst;
    }
    metric::Inputs in;
    in.true_boxes = &g;
    in.pred_boxes = &pr;
    if (!options.undefined_as_worst) return m->score(in);
    try {
      const double v = m->score(in);
      if (!std::isnan(v)) return v;
    } catch (const Error&) {
    }
    undefined = true;
    return worst;
  };
  if (p.has_usage) {
    res.public_score = score_where([](Usage u) { return u == Usage::kPublic; }, res.public_undefined);
    res.private_score = score_where([](Usage u) { return u == Usage::kPrivate; }, res.private_undefined);
  }
  res.overall_score = score_where([](Usage u) { return u != Usage::kIgnored; }, res.overall_undefined);
  return res;
}

}  // namespace compe::score
