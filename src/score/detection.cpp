// `compe score` for detection solutions: Kaggle's PredictionString layout, or ground-truth rows
// with a Usage column scored against a detections CSV.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
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

}  // namespace

// long-function: the submission checks in the order their messages are reported (metric, id
// columns, images, boxes), then one score per Usage; each step is short and reads in sequence.
Result score_detection_submission(const Table& solution, const Table& submission,
                                         const Options& options) {
  auto m = metric::make(options.metric);
  if (!m->info().accepts(metric::kDetection)) {
    fail(ErrorCode::kInvalidArgument, "metric '{}' does not score detections", options.metric);
  }
  const std::string id = options.id_column.empty() ? solution.column(0).name : options.id_column;
  const std::string sol = src(solution, "solution"), sub = src(submission, "submission");
  if (!solution.has(id)) fail(ErrorCode::kInvalidArgument, "{}: no id column {}", sol, quote(id));
  if (!submission.has(id)) {
    fail(ErrorCode::kInvalidArgument, "{}: missing the id column {}; columns are: {}", sub, quote(id),
         list_shown(submission.column_names()));
  }
  const bool has_usage = solution.has("Usage");
  const Column& sid = solution.column(id);
  const Column& pid = submission.column(id);

  // Images of the solution in first-seen order, with their Usage.
  std::vector<std::string> images;
  std::vector<Usage> usage;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::vector<DetBox>> truth, preds;
  auto image_of = [&](std::size_t r) {
    if (sid.is_missing(r)) fail(ErrorCode::kInvalidArgument, "{}:{}: empty image id", sol, r + 2);
    const std::string key = sid.to_string(r);
    const Usage u = has_usage ? parse_usage(solution, r) : Usage::kPrivate;
    auto [it, added] = index.emplace(key, images.size());
    if (added) {
      images.push_back(key);
      usage.push_back(u);
      truth.emplace_back();
    } else if (usage[it->second] != u) {
      fail(ErrorCode::kInvalidArgument,
           "{}:{}: image {} has rows of different Usage; an image is Public, Private or "
           "Ignored as a whole",
           sol, r + 2, quote(key));
    }
    return it->second;
  };

  if (solution.has("PredictionString")) {
    // Kaggle's layout: one row per image on both sides.
    const Column& sps = solution.column("PredictionString");
    for (std::size_t r = 0; r < solution.num_rows(); ++r) {
      const std::size_t before = images.size();
      const std::size_t i = image_of(r);
      if (images.size() == before) {
        fail(ErrorCode::kInvalidArgument, "{}:{}: duplicate id {}", sol, r + 2, quote(images[i]));
      }
      // Ground truth: "x y w h" per object (the prediction layout less its score).
      const std::vector<double> v = numbers(sps.to_string(r), fmt::format("{}:{}", sol, r + 2));
      if (v.size() % 4 != 0) {
        fail(ErrorCode::kInvalidArgument,
             "{}:{}: ground-truth PredictionString has {} numbers; expected 'x y w h' per box",
             sol, r + 2, v.size());
      }
      for (std::size_t k = 0; k < v.size(); k += 4) {
        DetBox b;
        b.x1 = v[k];
        b.y1 = v[k + 1];
        b.x2 = v[k] + v[k + 2];
        b.y2 = v[k + 1] + v[k + 3];
        truth[i].push_back(b);
      }
    }
    for (const auto& c : submission.column_names()) {
      if (c != id && c != "PredictionString") {
        fail(ErrorCode::kInvalidArgument, "{}: unexpected column {}; expected columns {}, {}",
             sub, quote(c), id, "PredictionString");
      }
    }
    if (!submission.has("PredictionString")) {
      fail(ErrorCode::kInvalidArgument, "{}: no column 'PredictionString'; expected columns {}, {}",
           sub, id, "PredictionString");
    }
    const Column& pps = submission.column("PredictionString");
    preds.assign(images.size(), {});
    std::vector<std::uint8_t> seen(images.size(), 0);
    std::vector<std::string> missing;
    for (std::size_t r = 0; r < submission.num_rows(); ++r) {
      const std::string key = pid.to_string(r);
      auto it = index.find(key);
      if (it == index.end()) {
        fail(ErrorCode::kInvalidArgument, "{}:{}: id {} is not in the solution", sub, r + 2, quote(key));
      }
      if (seen[it->second]) {
        fail(ErrorCode::kInvalidArgument, "{}:{}: duplicate id {}", sub, r + 2, quote(key));
      }
      seen[it->second] = 1;
      std::vector<detect::Box> tmp;
      detect::parse_prediction_string(pps.to_string(r), false, fmt::format("{}:{}", sub, r + 2), tmp);
      for (const detect::Box& b : tmp) preds[it->second].push_back({b.x1, b.y1, b.x2, b.y2, b.score, b.label});
    }
    for (std::size_t i = 0; i < images.size(); ++i)
      if (!seen[i]) missing.push_back(images[i]);
    if (!missing.empty()) {
      fail(ErrorCode::kInvalidArgument, "{}: {} solution id(s) missing, e.g. {}", sub,
           missing.size(), quote(missing.front()));
    }
  } else {
    // Ground-truth rows (image_id, box, label[, iscrowd], Usage) against a detections CSV.
    auto bc = box_columns(solution);
    if (!bc || !solution.has("label")) {
      fail(ErrorCode::kInvalidArgument,
           "{}: a detection solution needs PredictionString, or x1,y1,x2,y2 (or x,y,w,h) and "
           "label columns; columns are: {}",
           sol, list_shown(solution.column_names()));
    }
    const Column& lab = solution.column("label");
    const Column* crowd = solution.has("iscrowd") ? &solution.column("iscrowd") : nullptr;
    for (std::size_t r = 0; r < solution.num_rows(); ++r) {
      const std::size_t i = image_of(r);
      if (box_missing(*bc, r)) continue;
      DetBox b = read_box(solution, *bc, r);
      b.label = int_cell(solution, lab, r);
      b.crowd = crowd && !crowd->is_missing(r) && crowd->as_double(r) == 1;
      truth[i].push_back(b);
    }
    auto pc = box_columns(submission);
    if (!pc || !submission.has("score") || !submission.has("label")) {
      fail(ErrorCode::kInvalidArgument,
           "{}: expected detection columns {},x1,y1,x2,y2,score,label (or x,y,w,h); columns are: "
           "{}",
           sub, id, list_shown(submission.column_names()));
    }
    const Column& ps = submission.column("score");
    const Column& pl = submission.column("label");
    preds.assign(images.size(), {});
    for (std::size_t r = 0; r < submission.num_rows(); ++r) {
      const std::string key = pid.to_string(r);
      auto it = index.find(key);
      if (it == index.end()) {
        fail(ErrorCode::kInvalidArgument, "{}:{}: image id {} is not in the solution", sub,
             r + 2, quote(key));
      }
      DetBox b = read_box(submission, *pc, r);
      b.score = cell(submission, ps, r);
      b.label = int_cell(submission, pl, r);
      preds[it->second].push_back(b);
    }
  }

  Result res;
  res.metric = m->spec();
  res.direction = m->info().direction;
  res.task = metric::kDetection;
  for (Usage u : usage) {
    res.public_rows += u == Usage::kPublic ? 1 : 0;
    res.private_rows += u == Usage::kPrivate ? 1 : 0;
    res.ignored_rows += u == Usage::kIgnored ? 1 : 0;
  }
  auto score_where = [&](auto keep) -> std::optional<double> {
    BoxLists g, p;
    for (std::size_t i = 0; i < images.size(); ++i) {
      if (!keep(usage[i])) continue;
      g.push_row(truth[i]);
      p.push_row(preds[i]);
    }
    if (g.rows() == 0) return std::nullopt;
    // COCO AP is undefined without ground truth to find: no score for such a part.
    const bool coco = m->info().name == "coco_map" || m->info().name == "coco_map50";
    if (coco && std::none_of(g.boxes.begin(), g.boxes.end(), [](const DetBox& b) { return !b.crowd; }))
      return std::nullopt;
    metric::Inputs in;
    in.true_boxes = &g;
    in.pred_boxes = &p;
    return m->score(in);
  };
  if (has_usage) {
    res.public_score = score_where([](Usage u) { return u == Usage::kPublic; });
    res.private_score = score_where([](Usage u) { return u == Usage::kPrivate; });
  }
  res.overall_score = score_where([](Usage u) { return u != Usage::kIgnored; });
  return res;
}

}  // namespace compe::score
