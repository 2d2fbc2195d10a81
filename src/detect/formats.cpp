// Ground truth, COCO JSON, Kaggle's PredictionString, image sizes and box checks.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::detect {
namespace {

using metric::BoxLists;
using metric::DetBox;

/// Fails with kNotFound unless every column is in the file's header.
void require_columns(const std::filesystem::path& path, const std::vector<std::string>& names,
                     std::string_view what) {
  std::ifstream in(path);
  if (!in) fail(ErrorCode::kNotFound, "{}: cannot open the file", path.string());
  std::string header;
  std::getline(in, header);
  if (header.empty()) fail(ErrorCode::kParse, "{}: empty file; expected a header", path.string());
  const Table head = read_csv_string(header + "\n", path.string(), {});
  for (const std::string& n : names) {
    if (!head.has(n)) {
      fail(ErrorCode::kNotFound, "{}: no column {}; expected columns {} ({}), got {}",
           path.string(), quote(n), join(names), what, list_shown(head.column_names()));
    }
  }
}

bool parse_number(std::string_view tok, double& v) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

std::string quote_id(const std::string& id) {
  if (id.find_first_of(",\"\r\n") == std::string::npos) return id;
  std::string q = "\"";
  for (char ch : id) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

/// True for ids that COCO files carry as numbers.
bool integral_id(const std::string& id) {
  if (id.empty() || id.size() > 18) return false;
  std::size_t i = id[0] == '-' ? 1 : 0;
  if (i == id.size()) return false;
  for (; i < id.size(); ++i)
    if (id[i] < '0' || id[i] > '9') return false;
  return !(id.size() > 1 && id[0] == '0');
}

/// An image id: COCO files carry numbers, other tools strings; both are read as text.
std::string json_id(const JsonAt& j) {
  if (j.value().is_number_integer()) return j.value().dump();  // exact digits, unsigned ones too
  if (j.value().is_string()) return j.value().get<std::string>();
  j.expected("an integer or a string id");
}

/// [x, y, width, height] in pixels, each finite.
std::array<double, 4> json_bbox(const JsonAt& bb) {
  if (!bb.value().is_array() || bb.value().size() != 4) bb.expected("[x, y, width, height]");
  return {bb.at(std::size_t{0}).number(), bb.at(1).number(), bb.at(2).number(), bb.at(3).number()};
}

}  // namespace

std::size_t GroundTruth::index_of(const std::string& id, std::string_view what) const {
  auto it = index.find(id);
  if (it == index.end()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: image_id {} is not in the ground truth {} ({} images); predictions must be for "
         "known images",
         what, quote(id), source, image_ids.size());
  }
  return it->second;
}

GroundTruth read_ground_truth_csv(const std::filesystem::path& path, BoxFormat format) {
  std::vector<std::string> names = format == BoxFormat::kXywh
                                       ? std::vector<std::string>{"image_id", "x", "y", "w", "h"}
                                       : std::vector<std::string>{"image_id", "x1", "y1", "x2", "y2"};
  names.push_back("label");
  require_columns(path, names, fmt::format("ground truth, {} boxes", box_format_name(format)));
  CsvReadOptions opt;
  opt.dtypes["image_id"] = DType::kString;
  for (std::size_t c = 1; c < 5; ++c) opt.dtypes[names[c]] = DType::kFloat64;
  opt.dtypes["label"] = DType::kFloat64;
  opt.na_values = {""};
  Table t = read_csv(path, opt);
  GroundTruth gt;
  gt.source = path.string();
  const Column* crowd = t.find("iscrowd") ? &t.column("iscrowd") : nullptr;
  if (crowd && crowd->type == DType::kString) {
    fail(ErrorCode::kParse, "{}: column 'iscrowd' must hold 0 or 1", gt.source);
  }
  std::vector<const Column*> cols;
  for (const std::string& n : names) cols.push_back(&t.column(n));
  require_utf8(*cols[0], gt.source);
  std::vector<std::vector<DetBox>> per;
  std::set<std::int64_t> labels;
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    if (cols[0]->is_missing(r)) fail(ErrorCode::kParse, "{}:{}: empty image_id", gt.source, r + 2);
    const std::string id(cols[0]->str(r));
    auto [it, added] = gt.index.emplace(id, per.size());
    if (added) {
      gt.image_ids.push_back(id);
      per.emplace_back();
    }
    std::size_t empty = 0;
    for (std::size_t c = 1; c < cols.size(); ++c) empty += cols[c]->is_missing(r) ? 1 : 0;
    if (empty == cols.size() - 1) continue;  // an image without objects
    if (empty != 0) {
      for (std::size_t c = 1; c < cols.size(); ++c) {
        if (cols[c]->is_missing(r)) {
          fail(ErrorCode::kParse,
               "{}:{}: column {} is empty; expected a number (leave every box cell empty for "
               "an image without objects)",
               gt.source, r + 2, quote(names[c]));
        }
      }
    }
    DetBox b;
    const double a = cols[1]->f64[r], bb = cols[2]->f64[r], c = cols[3]->f64[r],
                 d = cols[4]->f64[r];
    b.x1 = a;
    b.y1 = bb;
    b.x2 = format == BoxFormat::kXywh ? a + c : c;
    b.y2 = format == BoxFormat::kXywh ? bb + d : d;
    const double label = cols[5]->f64[r];
    if (label != std::floor(label) || std::fabs(label) > 9e15) {
      fail(ErrorCode::kParse, "{}:{}: label '{}' is not an integer", gt.source, r + 2,
           format_double(label));
    }
    b.label = static_cast<std::int64_t>(label);
    if (crowd && !crowd->is_missing(r)) {
      const double v = crowd->as_double(r);
      if (v != 0 && v != 1) {
        fail(ErrorCode::kParse, "{}:{}: iscrowd is {}; expected 0 or 1", gt.source, r + 2,
             quote(crowd->to_string(r)));
      }
      b.crowd = v == 1;
    }
    labels.insert(b.label);
    per[it->second].push_back(b);
  }
  for (const auto& p : per) gt.boxes.push_row(p);
  gt.categories.assign(labels.begin(), labels.end());
  return gt;
}

ImageSizes read_image_sizes_csv(const std::filesystem::path& path) {
  require_columns(path, {"image_id", "width", "height"}, "image sizes in pixels");
  CsvReadOptions opt;
  opt.dtypes["image_id"] = DType::kString;
  opt.dtypes["width"] = DType::kFloat64;
  opt.dtypes["height"] = DType::kFloat64;
  opt.na_values = {""};
  const Table t = read_csv(path, opt);
  const Column& id = t.column("image_id");
  require_utf8(id, path.string());
  const Column& w = t.column("width");
  const Column& h = t.column("height");
  ImageSizes out;
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    const double wv = w.f64[r], hv = h.f64[r];
    if (!(std::isfinite(wv) && wv > 0 && std::isfinite(hv) && hv > 0)) {
      fail(ErrorCode::kParse, "{}:{}: width {} and height {} must be numbers > 0", path.string(),
           r + 2, w.to_string(r), h.to_string(r));
    }
    if (!out.emplace(std::string(id.str(r)), ImageSize{wv, hv}).second) {
      fail(ErrorCode::kParse, "{}:{}: image_id {} appears twice", path.string(), r + 2,
           quote(id.str(r)));
    }
  }
  return out;
}

namespace {

template <typename Op>
void scale_boxes(std::span<const std::string> image_ids, BoxLists& boxes, const ImageSizes& sizes,
                 Op op) {
  COMPE_ASSERT(image_ids.size() == boxes.rows());
  for (std::size_t i = 0; i < image_ids.size(); ++i) {
    auto it = sizes.find(image_ids[i]);
    if (it == sizes.end()) {
      fail(ErrorCode::kInvalidArgument,
           "image_id {} has no size; the sizes file must list every image", quote(image_ids[i]));
    }
    const ImageSize s = it->second;
    for (std::size_t k = boxes.offsets[i]; k < boxes.offsets[i + 1]; ++k) {
      DetBox& b = boxes.boxes[k];
      b.x1 = op(b.x1, s.width);
      b.x2 = op(b.x2, s.width);
      b.y1 = op(b.y1, s.height);
      b.y2 = op(b.y2, s.height);
      if (!std::isnan(b.area)) b.area = op(op(b.area, s.width), s.height);
    }
  }
}

}  // namespace

void to_normalised(std::span<const std::string> image_ids, BoxLists& boxes,
                   const ImageSizes& sizes) {
  scale_boxes(image_ids, boxes, sizes, [](double v, double size) { return v / size; });
}

void to_pixels(std::span<const std::string> image_ids, BoxLists& boxes, const ImageSizes& sizes) {
  scale_boxes(image_ids, boxes, sizes, [](double v, double size) { return v * size; });
}

// ---------------------------------------------------------------- COCO

CocoDataset read_coco_annotations(const std::filesystem::path& path) {
  const std::string src = path.string();
  const nlohmann::json doc = read_json_file(path);
  const JsonAt root(doc, src);
  if (!doc.is_object()) root.expected("a COCO annotations object with 'images', 'annotations' and 'categories' lists");
  const JsonAt images = root.at("images", "a list of images").array();
  const JsonAt categories = root.at("categories", "a list of categories").array();
  const JsonAt annotations = root.at("annotations", "a list of annotations").array();
  CocoDataset out;
  GroundTruth& gt = out.gt;
  gt.source = src;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const JsonAt im = images.at(i).object();
    const std::string id = json_id(im.at("id", "the image's id"));
    if (!gt.index.emplace(id, gt.image_ids.size()).second) {
      fail(ErrorCode::kParse, "{}: image id {} appears twice", im.where(), quote(id));
    }
    gt.image_ids.push_back(id);
    auto w = im.find("width"), h = im.find("height");
    if (w && h) out.sizes[id] = {w->number(), h->number()};
  }
  std::set<std::int64_t> cats;
  for (std::size_t i = 0; i < categories.size(); ++i) {
    const JsonAt c = categories.at(i).object();
    const auto id = c.at("id", "an integer category id").integer();
    cats.insert(id);
    if (auto name = c.find("name"); name && name->value().is_string()) gt.category_names[id] = name->string();
  }
  gt.categories.assign(cats.begin(), cats.end());
  std::vector<std::vector<DetBox>> per(gt.image_ids.size());
  for (std::size_t i = 0; i < annotations.size(); ++i) {
    const JsonAt a = annotations.at(i).object();
    const std::string img = json_id(a.at("image_id", "the id of one of the file's images"));
    auto it = gt.index.find(img);
    if (it == gt.index.end()) {
      fail(ErrorCode::kInvalidArgument, "{}: image_id {} is not among the file's images", a.where(),
           quote(img));
    }
    DetBox b;
    b.label = a.at("category_id", "an integer category id").integer();
    if (!cats.count(b.label)) {
      fail(ErrorCode::kInvalidArgument, "{}: category_id {} is not among the file's categories",
           a.where(), b.label);
    }
    const auto bb = json_bbox(a.at("bbox", "[x, y, width, height]"));
    b.x1 = bb[0];
    b.y1 = bb[1];
    b.x2 = b.x1 + bb[2];
    b.y2 = b.y1 + bb[3];
    if (auto c = a.find("iscrowd")) {
      if (c->value().is_boolean()) b.crowd = c->boolean();
      else if (c->value().is_number_integer() && (c->integer() == 0 || c->integer() == 1)) b.crowd = c->integer() == 1;
      else c->expected("0 or 1");
    }
    if (auto area = a.find("area")) b.area = area->number();
    per[it->second].push_back(b);
  }
  for (const auto& p : per) gt.boxes.push_row(p);
  return out;
}

DetectionsFile read_coco_results(const std::filesystem::path& path) {
  const std::string src = path.string();
  const nlohmann::json doc = read_json_file(path);
  const JsonAt root(doc, src);
  if (!doc.is_array()) root.expected("a COCO results list of {image_id, category_id, bbox, score}");
  DetectionsFile out;
  out.source = src;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < root.size(); ++i) {
    const JsonAt r = root.at(i).object();
    const std::string img = json_id(r.at("image_id", "an integer or a string id"));
    const std::int64_t label = r.at("category_id", "an integer category id").integer();
    const auto bb = json_bbox(r.at("bbox", "[x, y, width, height]"));
    const double score = r.at("score", "a number").number();
    auto [it, added] = index.emplace(img, out.image_ids.size());
    if (added) {
      out.image_ids.push_back(img);
      out.images.emplace_back();
    }
    ModelDetections& md = out.images[it->second];
    md.boxes.push_back({bb[0], bb[1], bb[0] + bb[2], bb[1] + bb[3]});
    md.scores.push_back(score);
    md.labels.push_back(label);
  }
  return out;
}

std::string coco_results_string(std::span<const std::string> image_ids,
                                std::span<const std::vector<Box>> boxes) {
  COMPE_ASSERT(image_ids.size() == boxes.size());
  std::string s = "[";
  bool first = true;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const std::string id =
        integral_id(image_ids[i]) ? image_ids[i] : nlohmann::json(image_ids[i]).dump();
    for (const Box& b : boxes[i]) {
      s += first ? "\n" : ",\n";
      first = false;
      s += fmt::format(R"(  {{"image_id": {}, "category_id": {}, "bbox": [{}, {}, {}, {}], "score": {}}})",
                       id, b.label, format_double(b.x1), format_double(b.y1),
                       format_double(b.x2 - b.x1), format_double(b.y2 - b.y1),
                       format_double(b.score));
    }
  }
  s += first ? "]\n" : "\n]\n";
  return s;
}

// ---------------------------------------------------------------- PredictionString

void parse_prediction_string(std::string_view text, bool with_label, const std::string& where,
                             std::vector<Box>& out) {
  std::vector<double> v;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos >= text.size()) break;
    std::size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    const std::string_view tok = text.substr(pos, end - pos);
    double x = 0;
    if (!parse_number(tok, x)) {
      fail(ErrorCode::kParse, "{}: PredictionString token {} {} is not a number", where,
           v.size() + 1, quote(tok));
    }
    v.push_back(x);
    pos = end;
  }
  const std::size_t group = with_label ? 6 : 5;
  if (v.size() % group != 0) {
    fail(ErrorCode::kParse,
         "{}: PredictionString has {} numbers, not a multiple of {} ('{}score x y w h' per box)",
         where, v.size(), group, with_label ? "label " : "");
  }
  for (std::size_t k = 0; k < v.size(); k += group) {
    const double* g = v.data() + k;
    Box b;
    if (with_label) {
      if (g[0] != std::floor(g[0]) || std::fabs(g[0]) > 9e15) {
        fail(ErrorCode::kParse, "{}: PredictionString box {}: label '{}' is not an integer", where,
             k / group + 1, format_double(g[0]));
      }
      b.label = static_cast<std::int64_t>(g[0]);
      ++g;
    }
    b.score = g[0];
    b.x1 = g[1];
    b.y1 = g[2];
    b.x2 = g[1] + g[3];
    b.y2 = g[2] + g[4];
    out.push_back(b);
  }
}

std::string prediction_string(std::span<const Box> boxes, bool with_label) {
  std::string s;
  for (const Box& b : boxes) {
    if (!s.empty()) s += ' ';
    if (with_label) s += std::to_string(b.label) + ' ';
    s += fmt::format("{} {} {} {} {}", format_double(b.score), format_double(b.x1),
                     format_double(b.y1), format_double(b.x2 - b.x1), format_double(b.y2 - b.y1));
  }
  return s;
}

DetectionsFile read_prediction_string_csv(const std::filesystem::path& path, bool with_label) {
  require_columns(path, {"image_id", "PredictionString"}, "Kaggle submission");
  CsvReadOptions opt;
  opt.dtypes["image_id"] = DType::kString;
  opt.dtypes["PredictionString"] = DType::kString;
  opt.na_values = {""};
  const Table t = read_csv(path, opt);
  DetectionsFile out;
  out.source = path.string();
  const Column& id = t.column("image_id");
  require_utf8(id, out.source);
  const Column& ps = t.column("PredictionString");
  std::vector<Box> boxes;
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    const std::string img(id.str(r));
    boxes.clear();
    parse_prediction_string(ps.str(r), with_label, fmt::format("{}:{}", out.source, r + 2),
                            boxes);
    out.image_ids.push_back(img);
    ModelDetections md;
    for (const Box& b : boxes) {
      md.boxes.push_back(b.coords());
      md.scores.push_back(b.score);
      md.labels.push_back(b.label);
    }
    out.images.push_back(std::move(md));
  }
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < out.image_ids.size(); ++i) {
    auto [it, added] = seen.emplace(out.image_ids[i], i);
    if (!added) {
      fail(ErrorCode::kParse, "{}:{}: image_id {} appears twice (first at line {})", out.source,
           i + 2, quote(out.image_ids[i]), it->second + 2);
    }
  }
  return out;
}

std::string prediction_string_csv(std::span<const std::string> image_ids,
                                  std::span<const std::vector<Box>> boxes, bool with_label) {
  COMPE_ASSERT(image_ids.size() == boxes.size());
  std::string s = "image_id,PredictionString\n";
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    s += quote_id(image_ids[i]) + "," + prediction_string(boxes[i], with_label) + "\n";
  }
  return s;
}

// ---------------------------------------------------------------- checks

BoxLists predictions_for(const GroundTruth& gt, const DetectionsFile& preds) {
  std::vector<const ModelDetections*> rows(gt.image_ids.size(), nullptr);
  for (std::size_t i = 0; i < preds.image_ids.size(); ++i) {
    rows[gt.index_of(preds.image_ids[i], preds.source)] = &preds.images[i];
  }
  BoxLists out;
  std::vector<DetBox> row;
  for (const ModelDetections* md : rows) {
    row.clear();
    if (md != nullptr) {
      for (std::size_t k = 0; k < md->boxes.size(); ++k) {
        DetBox b;
        b.x1 = md->boxes[k].x1;
        b.y1 = md->boxes[k].y1;
        b.x2 = md->boxes[k].x2;
        b.y2 = md->boxes[k].y2;
        b.score = md->scores[k];
        b.label = md->labels[k];
        row.push_back(b);
      }
    }
    out.push_row(row);
  }
  return out;
}

BoxCheck check_boxes(BoxLists& boxes, std::span<const std::string> image_ids,
                     std::span<const ImageSize> bounds, bool fix, std::string_view what) {
  COMPE_ASSERT(image_ids.size() == boxes.rows());
  COMPE_ASSERT(bounds.empty() || bounds.size() == boxes.rows());
  BoxCheck c;
  BoxLists out;
  std::vector<DetBox> row;
  for (std::size_t i = 0; i < boxes.rows(); ++i) {
    row.clear();
    const auto r = boxes.row(i);
    for (std::size_t k = 0; k < r.size(); ++k) {
      DetBox b = r[k];
      ++c.boxes;
      auto where = [&] {
        return fmt::format("{}: image_id {}, box {} ({}, {}, {}, {})", what, quote(image_ids[i]), k + 1,
                           format_double(b.x1), format_double(b.y1), format_double(b.x2),
                           format_double(b.y2));
      };
      if (!std::isfinite(b.score)) {
        fail(ErrorCode::kInvalidArgument, "{}: score is {}; expected a finite number", where(),
             format_double(b.score));
      }
      if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) &&
            std::isfinite(b.y2))) {
        fail(ErrorCode::kInvalidArgument, "{}: a coordinate is not finite", where());
      }
      if (b.x2 < b.x1 || b.y2 < b.y1) {
        if (!fix) {
          fail(ErrorCode::kInvalidArgument,
               "{}: inverted corners (x2 < x1 or y2 < y1); expected x1 <= x2 and y1 <= y2 (or "
               "fix boxes to swap and count them)",
               where());
        }
        if (b.x2 < b.x1) std::swap(b.x1, b.x2);
        if (b.y2 < b.y1) std::swap(b.y1, b.y2);
        ++c.swapped;
      }
      if (!bounds.empty()) {
        const double w = bounds[i].width, h = bounds[i].height;
        for (double* v : {&b.x1, &b.x2, &b.y1, &b.y2}) {
          const double hi = (v == &b.x1 || v == &b.x2) ? w : h;
          if (*v < 0 || *v > hi) {
            if (!fix) {
              fail(ErrorCode::kInvalidArgument,
                   "{}: coordinate {} is outside the image [0, {}] x [0, {}] (or fix boxes to "
                   "clip and count them)",
                   where(), format_double(*v), format_double(w), format_double(h));
            }
            *v = std::clamp(*v, 0.0, hi);
            ++c.clipped;
          }
        }
      }
      if (!(b.x2 > b.x1 && b.y2 > b.y1)) {
        if (!fix) {
          fail(ErrorCode::kInvalidArgument,
               "{}: zero width or height; expected a box of positive area (or fix boxes to drop "
               "and count them)",
               where());
        }
        ++c.degenerate;
        continue;
      }
      row.push_back(b);
    }
    out.push_row(row);
  }
  boxes = std::move(out);
  return c;
}

}  // namespace compe::detect
