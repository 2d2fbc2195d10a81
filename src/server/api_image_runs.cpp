// GET /api/runs/{id}/images and /columns: a detection or segmentation run's OOF next to the truth
// per train image, and a multilabel run's AUC per label column.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/segment.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "server/api_images.hpp"

namespace compe::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

std::int64_t int_param(const Params& p, const std::string& name, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  const std::string s = param(p, name);
  if (s.empty()) return fallback;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected an integer in [{}, {}]",
         name, quote(s), lo, hi);
  return v;
}

double real_param(const Params& p, const std::string& name, double fallback, double lo, double hi) {
  const std::string s = param(p, name);
  if (s.empty()) return fallback;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !(v >= lo && v <= hi))
    fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected a number in [{}, {}]", name,
         quote(s), lo, hi);
  return v;
}

std::string choice_param(const Params& p, const std::string& name, const std::string& fallback,
                         const std::vector<std::string>& allowed) {
  const std::string s = param(p, name);
  if (s.empty()) return fallback;
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
    fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected one of {}", name, quote(s),
         join(allowed, ", "));
  return s;
}

/// A path as messages show it: relative to the workspace when inside it.
std::string shown_path(const fs::path& root, const fs::path& p) {
  const std::string r = root.string() + "/";
  const std::string s = p.lexically_normal().string();
  return s.rfind(r, 0) == 0 ? s.substr(r.size()) : s;
}

/// The train images the page lists, in train order.
struct Images {
  std::vector<std::string> ids;
  std::vector<std::int64_t> width, height;
  std::vector<std::optional<std::int64_t>> fold;
  std::map<std::string, std::size_t> index;
  bool have_folds = false;
};

/// Reads a CSV file with the named columns, where present, as text (ids such as "001" stay text).
Table read_table(const fs::path& root, const fs::path& path, std::initializer_list<const char*> text_columns) {
  const std::string display = shown_path(root, path);
  if (!fs::is_regular_file(path)) fail(ErrorCode::kNotFound, "{}: not found", display);
  const std::string text = read_file(path);
  const std::string header = text.substr(0, text.find('\n'));
  CsvReadOptions o;
  o.display_name = display;
  std::vector<std::string> names;  // the header's cells, unquoted
  for (std::size_t from = 0; from <= header.size();) {
    std::size_t comma = header.find(',', from);
    if (comma == std::string::npos) comma = header.size();
    std::string cell = header.substr(from, comma - from);
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
    names.push_back(std::move(cell));
    from = comma + 1;
  }
  for (const char* c : text_columns)
    if (std::find(names.begin(), names.end(), c) != names.end()) o.dtypes.emplace(c, DType::kString);
  Table t = read_csv_string(text, display, o);
  t.source = display;
  return t;
}

std::int64_t size_cell(const Table& t, const Column& c, std::size_t row, const std::string& id) {
  const double v = c.is_missing(row) || c.type == DType::kString ? NAN : c.as_double(row);
  if (!(v >= 1 && v <= 1e6) || v != std::floor(v))
    fail(ErrorCode::kInvalidArgument, "{}: line {}: image {}: {} is {}, expected a whole number of pixels (1..1000000)",
         t.source, row + 2, quote(id), quote(c.name), quote(c.to_string(row)));
  return static_cast<std::int64_t>(v);
}

Images read_images(const fs::path& root, const ImageConfig& c) {
  if (c.train.empty()) fail(ErrorCode::kInvalidArgument, "compe.toml: no [data] train");
  const std::string id_col = c.id_column.empty() ? "id" : c.id_column;
  const Table train = read_table(root, c.train, {id_col.c_str()});
  const Column& ids = train.column(id_col);
  const Column& w = train.column("width");
  const Column& h = train.column("height");
  Images out;
  for (std::size_t r = 0; r < train.num_rows(); ++r) {
    std::string id = ids.to_string(r);
    out.index.emplace(id, out.ids.size());
    out.width.push_back(size_cell(train, w, r, id));
    out.height.push_back(size_cell(train, h, r, id));
    out.ids.push_back(std::move(id));
  }
  out.fold.assign(out.ids.size(), std::nullopt);
  const fs::path folds = root / "folds.csv";
  if (fs::is_regular_file(folds)) {
    const Table f = read_table(root, folds, {"id", id_col.c_str()});
    const Column& fid = f.column(0);
    const Column& ff = f.column("fold");
    for (std::size_t r = 0; r < f.num_rows(); ++r) {
      auto it = out.index.find(fid.to_string(r));
      if (it != out.index.end() && !ff.is_missing(r)) out.fold[it->second] = static_cast<std::int64_t>(ff.as_double(r));
    }
    out.have_folds = true;
  }
  return out;
}

double number_cell(const Table& t, const Column& c, std::size_t row) {
  const double v = c.type == DType::kString || c.is_missing(row) ? NAN : c.as_double(row);
  if (!std::isfinite(v))
    fail(ErrorCode::kInvalidArgument, "{}: line {}: column {} holds {}, expected a number", t.source,
         row + 2, quote(c.name), quote(c.to_string(row)));
  return v;
}

// ---- detection ----

struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 1;
  std::int64_t label = 0;
  bool matched = false;
};

/// Boxes per image (`images` order) from a truth or OOF box file; rows with empty box cells
/// (an image without objects) and images outside train are skipped. OOF rows also give folds.
std::vector<std::vector<Box>> read_boxes(const fs::path& root, const fs::path& path, Images& images, bool with_score) {
  const Table t = read_table(root, path, {"image_id"});
  const Column& id = t.column("image_id");
  const Column* cols[4] = {&t.column("x1"), &t.column("y1"), &t.column("x2"), &t.column("y2")};
  const Column& label = t.column("label");
  const Column* score = with_score ? &t.column("score") : nullptr;
  const Column* fold = with_score && t.has("fold") ? &t.column("fold") : nullptr;
  std::vector<std::vector<Box>> out(images.ids.size());
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    auto it = images.index.find(id.to_string(r));
    if (it == images.index.end()) continue;
    if (fold && !images.have_folds && !fold->is_missing(r))
      images.fold[it->second] = static_cast<std::int64_t>(fold->as_double(r));
    if (cols[0]->is_missing(r) && cols[2]->is_missing(r)) continue;
    Box b{number_cell(t, *cols[0], r), number_cell(t, *cols[1], r), number_cell(t, *cols[2], r),
          number_cell(t, *cols[3], r), score ? number_cell(t, *score, r) : 1.0,
          static_cast<std::int64_t>(number_cell(t, label, r)), false};
    if (b.x2 < b.x1 || b.y2 < b.y1)
      fail(ErrorCode::kInvalidArgument, "{}: line {}: image {}: box ({}, {}, {}, {}) has x2 < x1 or y2 < y1",
           t.source, r + 2, quote(id.to_string(r)), b.x1, b.y1, b.x2, b.y2);
    out[it->second].push_back(b);
  }
  return out;
}

double iou(const Box& a, const Box& b) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1), h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/// Marks the truth and predictions (score >= threshold) matched at IoU 0.5, greedy by score.
void match(std::vector<Box>& truth, std::vector<Box>& pred, double threshold) {
  std::vector<std::size_t> order(pred.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return pred[a].score > pred[b].score; });
  for (std::size_t i : order) {
    if (pred[i].score < threshold) continue;
    double best = 0.5;
    Box* hit = nullptr;
    for (Box& t : truth) {
      if (t.matched || t.label != pred[i].label) continue;
      if (const double v = iou(t, pred[i]); v >= best) best = v, hit = &t;
    }
    if (hit) hit->matched = pred[i].matched = true;
  }
}

double image_ap(const std::vector<Box>& truth, const std::vector<Box>& pred) {
  if (truth.empty() || pred.empty()) return truth.empty() && pred.empty() ? 1.0 : 0.0;
  metric::BoxLists t, p;
  auto lists = [](const std::vector<Box>& boxes, metric::BoxLists& out) {
    std::vector<metric::DetBox> row;
    for (const Box& b : boxes) row.push_back({.x1 = b.x1, .y1 = b.y1, .x2 = b.x2, .y2 = b.y2, .score = b.score, .label = b.label});
    out.push_row(row);
  };
  lists(truth, t);
  lists(pred, p);
  metric::Inputs in;
  in.true_boxes = &t;
  in.pred_boxes = &p;
  const double v = metric::score("coco_map50", in);
  return std::isfinite(v) ? std::max(0.0, v) : 0.0;
}

json boxes_json(const std::vector<Box>& boxes, bool with_score) {
  json out = json::array();
  for (const Box& b : boxes) {
    json e = {{"x1", b.x1}, {"y1", b.y1}, {"x2", b.x2}, {"y2", b.y2}, {"label", b.label}, {"matched", b.matched}};
    if (with_score) e["score"] = b.score;
    out.push_back(std::move(e));
  }
  return out;
}

struct Entry {
  std::size_t image;
  double key;  // the sort value (smaller first)
  json doc;
};

std::vector<Entry> detection_entries(const fs::path& root, const ImageConfig& c, const fs::path& oof,
                                     Images& images, double threshold, const std::string& filter) {
  if (c.boxes.empty()) fail(ErrorCode::kInvalidArgument, "compe.toml: a detection run needs [data] boxes (the truth boxes)");
  auto truth = read_boxes(root, c.boxes, images, false);
  auto pred = read_boxes(root, oof, images, true);
  std::vector<Entry> out;
  for (std::size_t i = 0; i < images.ids.size(); ++i) {
    match(truth[i], pred[i], threshold);
    const auto misses = std::count_if(truth[i].begin(), truth[i].end(), [](const Box& b) { return !b.matched; });
    const auto fps = std::count_if(pred[i].begin(), pred[i].end(), [&](const Box& b) { return !b.matched && b.score >= threshold; });
    if ((filter == "misses" && !misses) || (filter == "false_positives" && !fps) || (filter == "errors" && !misses && !fps)) continue;
    const double ap = image_ap(truth[i], pred[i]);
    out.push_back({i, ap, {{"ap", ap}, {"misses", misses}, {"false_positives", fps},
                           {"truth", boxes_json(truth[i], false)}, {"pred", boxes_json(pred[i], true)}}});
    out.back().doc["errors"] = misses + fps;
  }
  return out;
}

// ---- segmentation ----

struct Code {
  std::string rle;
  std::int64_t line = 0;
};

using Masks = std::vector<std::map<std::string, Code>>;  // per image: class -> code

/// "<id>_<class>" split at the longest class name that ends it (class names may hold '_').
std::optional<std::pair<std::string, std::string>> split_image_label(const std::string& s, const std::vector<std::string>& classes) {
  std::optional<std::pair<std::string, std::string>> best;
  for (const auto& c : classes)
    if (s.size() > c.size() + 1 && s.compare(s.size() - c.size(), c.size(), c) == 0 && s[s.size() - c.size() - 1] == '_' &&
        (!best || c.size() > best->second.size()))
      best = std::pair{s.substr(0, s.size() - c.size() - 1), c};
  if (!best && !classes.empty()) return std::nullopt;
  if (!best) {
    const auto cut = s.rfind('_');
    if (cut == std::string::npos) return std::nullopt;
    best = std::pair{s.substr(0, cut), s.substr(cut + 1)};
  }
  return best;
}

Masks read_masks(const fs::path& root, const fs::path& path, Images& images, const std::vector<std::string>& classes, bool oof) {
  const Table t = read_table(root, path, {"image_id", "Image_Label", "label", "EncodedPixels"});
  const bool joined = t.has("Image_Label");
  const Column& rle = t.column("EncodedPixels");
  const Column* fold = oof && t.has("fold") ? &t.column("fold") : nullptr;
  Masks out(images.ids.size());
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    std::string id, label;
    if (joined) {
      auto parts = split_image_label(t.column("Image_Label").to_string(r), classes);
      if (!parts)
        fail(ErrorCode::kInvalidArgument, "{}: line {}: Image_Label {}: expected <image id>_<class> with a class of {}",
             t.source, r + 2, quote(t.column("Image_Label").to_string(r)), join(classes, ", "));
      std::tie(id, label) = *parts;
    } else {
      id = t.column("image_id").to_string(r);
      label = t.column("label").to_string(r);
    }
    auto it = images.index.find(id);
    if (it == images.index.end()) continue;
    if (fold && !images.have_folds && !fold->is_missing(r))
      images.fold[it->second] = static_cast<std::int64_t>(fold->as_double(r));
    Code& code = out[it->second][label];
    if (!code.rle.empty() && !rle.to_string(r).empty())
      fail(ErrorCode::kInvalidArgument, "{}: line {}: image {} class {} has a second mask (first on line {})", t.source, r + 2,
           quote(id), quote(label), code.line);
    if (code.rle.empty()) code = {rle.to_string(r), static_cast<std::int64_t>(r + 2)};
  }
  return out;
}

std::vector<Entry> segmentation_entries(const fs::path& root, const ImageConfig& c, const fs::path& oof,
                                        Images& images, std::vector<std::string>& classes) {
  if (c.masks.empty()) fail(ErrorCode::kInvalidArgument, "compe.toml: a segmentation run needs [data] masks (the truth masks)");
  const Masks truth = read_masks(root, c.masks, images, classes, false);
  const Masks pred = read_masks(root, oof, images, classes, true);
  if (classes.empty())
    for (const Masks* m : {&truth, &pred})
      for (const auto& per_image : *m)
        for (const auto& [label, code] : per_image)
          if (std::find(classes.begin(), classes.end(), label) == classes.end()) classes.push_back(label);
  const std::string truth_file = shown_path(root, c.masks), pred_file = shown_path(root, oof);
  std::vector<Entry> out;
  for (std::size_t i = 0; i < images.ids.size(); ++i) {
    const std::int64_t pixels = images.width[i] * images.height[i];
    json t = json::array(), p = json::array(), per_class = json::object();
    double sum = 0;
    for (const std::string& cls : classes) {
      auto code = [&](const Masks& m) { auto it = m[i].find(cls); return it == m[i].end() ? Code{} : it->second; };
      const Code a = code(truth), b = code(pred);
      const double d = segment::dice(segment::parse_rle(a.rle, pixels, {truth_file, a.line, images.ids[i]}),
                                     segment::parse_rle(b.rle, pixels, {pred_file, b.line, images.ids[i]}));
      per_class[cls] = d;
      sum += d;
      if (!a.rle.empty()) t.push_back({{"label", cls}, {"rle", a.rle}});
      if (!b.rle.empty()) p.push_back({{"label", cls}, {"rle", b.rle}});
    }
    const double dice = classes.empty() ? 1.0 : sum / static_cast<double>(classes.size());
    out.push_back({i, dice, {{"dice", dice}, {"dice_per_class", per_class}, {"truth", t}, {"pred", p}}});
  }
  return out;
}

fs::path run_file(const fs::path& root, const std::string& run_id, const char* name) {
  return root / "runs" / run_id / name;
}

}  // namespace

json run_images_json(Store& store, const fs::path& workspace_root, const std::string& id, const Params& params) {
  const std::string run_id = store.resolve_run_id(id);
  const fs::path root = fs::weakly_canonical(workspace_root);
  const fs::path boxes = run_file(root, run_id, "oof_boxes.csv"), masks = run_file(root, run_id, "oof_masks.csv");
  const bool detection = fs::is_regular_file(boxes);
  if (!detection && !fs::is_regular_file(masks))
    fail(ErrorCode::kNotFound, "run {} has no oof_boxes.csv or oof_masks.csv in runs/{}/ (not a detection or segmentation run)",
         run_id, run_id);
  const std::int64_t offset = int_param(params, "offset", 0, 0, std::numeric_limits<std::int32_t>::max());
  const std::int64_t limit = int_param(params, "limit", 24, 1, 200);
  const std::string sort = choice_param(params, "sort", detection ? "ap" : "dice",
                                        detection ? std::vector<std::string>{"ap", "errors", "id"} : std::vector<std::string>{"dice", "id"});
  const std::string filter = choice_param(params, "filter", "all", detection ? std::vector<std::string>{"all", "misses", "false_positives", "errors"}
                                                                             : std::vector<std::string>{"all"});
  const double threshold = real_param(params, "threshold", 0.5, 0, 1);
  const std::int64_t fold = int_param(params, "fold", -1, -1, 1000);
  const ImageConfig config = read_image_config(root);
  std::vector<std::string> classes = config.classes;
  Images images = read_images(root, config);
  std::vector<Entry> entries = detection ? detection_entries(root, config, boxes, images, threshold, filter)
                                         : segmentation_entries(root, config, masks, images, classes);
  std::erase_if(entries, [&](const Entry& e) {
    const auto& f = images.fold[e.image];
    return (images.have_folds && (!f || *f < 0)) || (fold >= 0 && f != fold);
  });
  if (sort == "errors")
    for (Entry& e : entries) e.key = -e.doc["errors"].get<double>();
  if (sort != "id")
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  json page = json::array();
  for (std::size_t k = static_cast<std::size_t>(offset); k < entries.size() && page.size() < static_cast<std::size_t>(limit); ++k) {
    Entry& e = entries[k];
    const std::size_t i = e.image;
    e.doc["id"] = images.ids[i];
    e.doc["width"] = images.width[i];
    e.doc["height"] = images.height[i];
    e.doc["fold"] = images.fold[i] ? json(*images.fold[i]) : json(nullptr);
    e.doc["url"] = is_image_id(images.ids[i]) ? json("/api/images/" + images.ids[i]) : json(nullptr);
    page.push_back(std::move(e.doc));
  }
  return {{"kind", detection ? "detection" : "segmentation"}, {"run_id", run_id}, {"classes", classes},
          {"total", entries.size()}, {"offset", offset}, {"limit", limit}, {"sort", sort},
          {"filter", filter}, {"threshold", threshold}, {"images", std::move(page)}};
}

json run_columns_json(Store& store, const fs::path& workspace_root, const std::string& id) {
  const std::string run_id = store.resolve_run_id(id);
  const ImageConfig config = read_image_config(workspace_root);
  if (config.task != "multilabel") return {{"task", config.task}, {"columns", json::array()}};
  const Workspace ws = Workspace::open(workspace_root);
  const fs::path oof_path = ws.runs_dir() / run_id / "oof.csv";
  if (!fs::is_regular_file(oof_path)) fail(ErrorCode::kNotFound, "run {} has no runs/{}/oof.csv", run_id, run_id);
  const Table train = ws.read_train();
  const std::string& id_col = ws.config().id_column;
  CsvReadOptions o;
  o.display_name = "runs/" + run_id + "/oof.csv";
  const Table oof = read_csv(oof_path, o);
  std::map<std::string, std::size_t> row_of;
  for (std::size_t r = 0; r < train.num_rows(); ++r) row_of.emplace(train.column(id_col).to_string(r), r);
  const Column& oof_ids = oof.column(0);
  const Column& oof_fold = oof.column("fold");
  std::vector<std::size_t> rows(oof.num_rows());
  for (std::size_t r = 0; r < oof.num_rows(); ++r) {
    auto it = row_of.find(oof_ids.to_string(r));
    if (it == row_of.end())
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id {} is not a train id", o.display_name, r + 2, quote(oof_ids.to_string(r)));
    rows[r] = it->second;
  }
  const auto& targets = ws.config().target_columns;
  std::vector<std::string> pred_cols;
  for (const auto& name : oof.column_names())
    if (name != oof_ids.name && name != "fold") pred_cols.push_back(name);
  if (pred_cols.size() != targets.size())
    fail(ErrorCode::kInvalidArgument, "{}: {} prediction columns for {} target columns", o.display_name, pred_cols.size(), targets.size());
  auto auc = [](const std::vector<double>& y, const std::vector<double>& p) -> json {
    const double pos = std::accumulate(y.begin(), y.end(), 0.0);
    if (pos == 0 || pos == static_cast<double>(y.size())) return nullptr;
    return metric::score("roc_auc", metric::Inputs{.y_true = y, .y_pred = p});
  };
  json columns = json::array();
  for (std::size_t j = 0; j < targets.size(); ++j) {
    const std::string& pred_name = oof.has(targets[j]) ? targets[j] : pred_cols[j];
    const Column& truth = train.column(targets[j]);
    const Column& pred = oof.column(pred_name);
    std::map<std::int64_t, std::pair<std::vector<double>, std::vector<double>>> by_fold;
    std::vector<double> y, p;
    for (std::size_t r = 0; r < oof.num_rows(); ++r) {
      const double yt = truth.as_double(rows[r]), yp = pred.as_double(r);
      if (!std::isfinite(yt) || !std::isfinite(yp)) continue;
      y.push_back(yt);
      p.push_back(yp);
      auto& f = by_fold[static_cast<std::int64_t>(oof_fold.as_double(r))];
      f.first.push_back(yt);
      f.second.push_back(yp);
    }
    json folds = json::object();
    for (const auto& [f, yp] : by_fold) folds[std::to_string(f)] = auc(yp.first, yp.second);
    columns.push_back({{"name", targets[j]}, {"auc", auc(y, p)},
                       {"positives", std::accumulate(y.begin(), y.end(), 0.0)}, {"rows", y.size()}, {"folds", folds}});
  }
  return {{"task", config.task}, {"metric", "roc_auc"}, {"columns", std::move(columns)}};
}

}  // namespace compe::server
