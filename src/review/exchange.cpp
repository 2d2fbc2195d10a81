// Review queues to and from files: JSON Lines import, corrected labels / boxes / COCO export
// (include/compe/review_queue.hpp).
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/review_queue.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::review {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A box {"x1","y1","x2","y2","label"} checked: finite, x1 < x2, y1 < y2, label an integer >= 0.
json read_box(const JsonAt& b) {
  json out = json::object();
  for (const char* k : {"x1", "y1", "x2", "y2"}) out[k] = b.at(k, "a number").number();
  if (!(out["x1"].get<double>() < out["x2"].get<double>() &&
        out["y1"].get<double>() < out["y2"].get<double>()))
    fail(ErrorCode::kInvalidArgument, "{}: expected x1 < x2 and y1 < y2", b.where());
  double label = b.at("label", "a class index").number();
  if (label < 0 || label != std::floor(label))
    fail(ErrorCode::kInvalidArgument, "{}/label: expected a class index (an integer from 0), got {}",
         b.where(), label);
  out["label"] = static_cast<std::int64_t>(label);
  return out;
}

ReviewItem read_item(const json& j, const std::string& where, std::int64_t rank, bool& boxes) {
  JsonAt at(j, where);
  if (!j.is_object()) fail(ErrorCode::kParse, "{}: expected a JSON object per line", where);
  ReviewItem it;
  it.rank = rank;
  const json& id = j.contains("id") ? j["id"] : json();
  if (id.is_string() && !id.get<std::string>().empty()) {
    it.key = id.get<std::string>();
  } else if (id.is_number_integer()) {
    it.key = std::to_string(id.get<std::int64_t>());
  } else {
    fail(ErrorCode::kInvalidArgument, "{}: /id: expected the row or image id (a string or an integer)", where);
  }
  if (j.contains("label") && j["label"].is_array()) {
    boxes = true;
    it.original = json::array();
    auto arr = at.at("label");
    for (std::size_t i = 0; i < j["label"].size(); ++i) it.original.push_back(read_box(arr.at(i)));
  } else if (j.contains("label") && (j["label"].is_string() || j["label"].is_number())) {
    it.original = j["label"].is_string() ? j["label"] : json(j["label"].dump());
  } else if (j.contains("label") && !j["label"].is_null()) {
    fail(ErrorCode::kInvalidArgument, "{}: /label: expected a class name or an array of boxes", where);
  }
  if (j.contains("reasons")) {
    const json& r = j["reasons"];
    if (r.is_string()) {
      it.reasons = json::array({{{"rule", "import"}, {"text", r}}});
    } else if (r.is_array()) {
      it.reasons = r;
    } else {
      fail(ErrorCode::kInvalidArgument, "{}: /reasons: expected a string or an array", where);
    }
  } else {
    it.reasons = json::array({{{"rule", "import"}, {"text", "imported"}}});
  }
  for (const char* k : {"predictions", "data"}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_object()) fail(ErrorCode::kInvalidArgument, "{}: /{}: expected an object", where, k);
    (std::string(k) == "data" ? it.data : it.predictions) = j[k];
  }
  return it;
}

// The CSV field `s` quoted when it needs to be.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string label_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string number_text(const json& v) {
  return format_double(v.get<double>());
}

ExportResult export_boxes(const ReviewQueue& q, const std::vector<ReviewItem>& items,
                          const fs::path& out, const fs::path& coco) {
  ExportResult res;
  std::string csv = "image_id,x1,y1,x2,y2,label\n";
  json images = json::array(), annotations = json::array(), categories = json::array();
  json classes = q.info.value("classes", json::array());
  for (std::size_t c = 0; c < classes.size(); ++c)
    categories.push_back({{"id", c}, {"name", label_text(classes[c])}});
  for (const ReviewItem& it : items) {
    res.last_edit = std::max(res.last_edit, it.last_edit);
    const json boxes = it.label.is_array() ? it.label : json::array();
    if (boxes.empty()) {
      csv += csv_field(it.key) + ",,,,,\n";
      ++res.rows;
    }
    json image = {{"id", images.size()}, {"file_name", it.key + ".png"}};
    if (it.data.contains("width")) image["width"] = it.data["width"];
    if (it.data.contains("height")) image["height"] = it.data["height"];
    for (const json& b : boxes) {
      csv += fmt::format("{},{},{},{},{},{}\n", csv_field(it.key), number_text(b["x1"]), number_text(b["y1"]),
                         number_text(b["x2"]), number_text(b["y2"]), b["label"].get<std::int64_t>());
      ++res.rows;
      double x1 = b["x1"], y1 = b["y1"], w = b["x2"].get<double>() - x1, h = b["y2"].get<double>() - y1;
      annotations.push_back({{"id", annotations.size() + 1},
                             {"image_id", image["id"]},
                             {"bbox", {x1, y1, w, h}},
                             {"area", w * h},
                             {"category_id", b["label"]},
                             {"iscrowd", 0}});
    }
    images.push_back(image);
  }
  write_file_atomic(out, csv);
  if (!coco.empty()) {
    json doc = {{"images", images}, {"annotations", annotations}, {"categories", categories}};
    write_file_atomic(coco, doc.dump(1) + "\n");
    res.images = images.size();
  }
  return res;
}

}  // namespace

nlohmann::json check_boxes(const json& boxes, const std::string& where) {
  JsonAt at(boxes, where);
  at.array();
  json out = json::array();
  for (std::size_t i = 0; i < boxes.size(); ++i) out.push_back(read_box(at.at(i)));
  return out;
}

ReviewQueue import_queue(Store& store, const std::string& name, const fs::path& file) {
  std::string text = read_file(file.string());
  std::istringstream in(text);
  std::string line;
  std::vector<ReviewItem> items;
  bool boxes = false, labels = false;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = fmt::format("{}:{}", file.string(), n);
    json j = parse_json(line, where);
    bool is_boxes = false;
    items.push_back(read_item(j, where, static_cast<std::int64_t>(items.size()), is_boxes));
    if (!is_boxes && !items.back().original.is_null()) labels = true;
    boxes = boxes || is_boxes;
    if (boxes && labels)
      fail_at({.file = file.string(), .line = n}, ErrorCode::kInvalidArgument,
              "{}: mixes class labels and box arrays; a queue holds one kind", where);
  }
  if (items.empty()) fail(ErrorCode::kInvalidArgument, "{}: no items (expected one JSON object per line)", file.string());
  ReviewQueue q;
  q.name = name;
  q.rules = {"import"};
  q.kind = boxes ? "boxes" : "classification";
  q.info = {{"imported_from", file.filename().string()}};
  if (boxes) {
    for (ReviewItem& it : items)
      if (it.original.is_null()) it.original = json::array();
  }
  return store.create_review_queue(q, items);
}

ExportResult export_queue(Store& store, const std::string& name, const fs::path& out, const fs::path& coco) {
  ReviewQueue q = store.get_review_queue(name);
  std::vector<ReviewItem> items = store.list_review_items(name);
  if (q.kind == "boxes") return export_boxes(q, items, out, coco);
  if (!coco.empty())
    fail(ErrorCode::kInvalidArgument, "review export: queue '{}' holds class labels, not boxes: --coco needs a boxes queue", name);
  ExportResult res;
  std::string id = q.info.value("id_column", std::string("id"));
  std::string target = q.info.value("target", std::string("label"));
  std::string csv = csv_field(id) + "," + csv_field(target) + "\n";
  json edits = json::array();
  for (const ReviewItem& it : items) {
    res.last_edit = std::max(res.last_edit, it.last_edit);
    if (it.data.value("set", std::string()) == "test" || it.label.is_null() || it.label == it.original) continue;
    csv += csv_field(it.key) + "," + csv_field(label_text(it.label)) + "\n";
    edits.push_back(it.last_edit);
    ++res.rows;
  }
  write_file_atomic(out, csv);
  json sidecar = {{"queue", name},       {"store", store.url()},   {"runs", q.source_runs},
                  {"rules", q.rules},    {"rows", res.rows},       {"last_edit", res.last_edit},
                  {"edits", edits}};
  fs::path side = out;
  side += ".review.json";
  write_file_atomic(side, sidecar.dump(1) + "\n");
  return res;
}

}  // namespace compe::review
