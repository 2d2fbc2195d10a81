// Detections as CSV: `image_id,x1,y1,x2,y2,score,label` or `image_id,x,y,w,h,score,label`.
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::detect {
namespace {

std::vector<std::string> columns_of(BoxFormat f) {
  if (f == BoxFormat::kXywh) return {"image_id", "x", "y", "w", "h", "score", "label"};
  return {"image_id", "x1", "y1", "x2", "y2", "score", "label"};
}

}  // namespace

std::string_view box_format_name(BoxFormat f) {
  return f == BoxFormat::kXywh ? "xywh" : "xyxy";
}

BoxFormat parse_box_format(std::string_view name) {
  if (name == "xyxy") return BoxFormat::kXyxy;
  if (name == "xywh") return BoxFormat::kXywh;
  fail(ErrorCode::kInvalidArgument, "unknown box format {}; expected xyxy or xywh", quote(name));
}

DetectionsFile read_detections_csv(const std::filesystem::path& path, BoxFormat format) {
  const std::vector<std::string> names = columns_of(format);
  CsvReadOptions opt;
  opt.dtypes["image_id"] = DType::kString;
  for (std::size_t c = 1; c < 6; ++c) opt.dtypes[names[c]] = DType::kFloat64;
  opt.dtypes["label"] = DType::kInt64;
  opt.na_values = {""};
  // Check the header first, so that a missing column is reported as such rather than as a
  // dtype given for an absent column.
  if (std::ifstream in(path); in) {
    std::string header;
    std::getline(in, header);
    if (!header.empty()) {
      const Table head = read_csv_string(header + "\n", path.string(), {});
      for (const std::string& n : names) {
        if (!head.has(n)) {
          fail(ErrorCode::kNotFound, "{}: no column {}; expected columns {} ({} boxes), got {}",
               path.string(), quote(n), join(names), box_format_name(format), list_shown(head.column_names()));
        }
      }
    }
  }
  const Table t = read_csv(path, opt);
  const std::string shown = t.source.empty() ? path.string() : t.source;
  std::vector<const Column*> cols;
  for (const std::string& n : names) cols.push_back(&t.column(n));
  require_utf8(*cols[0], shown);
  DetectionsFile out;
  out.source = shown;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (cols[c]->is_missing(r)) {
        fail(ErrorCode::kParse, "{}:{}: column {} is empty or NaN; expected a number", shown,
             r + 2, quote(names[c]));
      }
    }
    const std::string id(cols[0]->str(r));
    auto [it, added] = index.emplace(id, out.image_ids.size());
    if (added) {
      out.image_ids.push_back(id);
      out.images.emplace_back();
    }
    ModelDetections& md = out.images[it->second];
    const double a = cols[1]->f64[r], b = cols[2]->f64[r], c = cols[3]->f64[r], d = cols[4]->f64[r];
    if (format == BoxFormat::kXywh) {
      md.boxes.push_back({a, b, a + c, b + d});
    } else {
      md.boxes.push_back({a, b, c, d});
    }
    md.scores.push_back(cols[5]->f64[r]);
    md.labels.push_back(cols[6]->i64[r]);
  }
  return out;
}

std::vector<ImageDetections> align_models(std::span<const DetectionsFile> files,
                                          std::vector<std::string>& image_ids) {
  image_ids.clear();
  std::unordered_map<std::string, std::size_t> index;
  for (const DetectionsFile& f : files) {
    for (const std::string& id : f.image_ids) {
      if (index.emplace(id, image_ids.size()).second) image_ids.push_back(id);
    }
  }
  std::vector<ImageDetections> images(image_ids.size(), ImageDetections(files.size()));
  for (std::size_t m = 0; m < files.size(); ++m) {
    for (std::size_t i = 0; i < files[m].image_ids.size(); ++i) {
      images[index.at(files[m].image_ids[i])][m] = files[m].images[i];
    }
  }
  return images;
}

std::string detections_csv_string(std::span<const std::string> image_ids,
                                  std::span<const std::vector<Box>> boxes, BoxFormat format) {
  COMPE_ASSERT(image_ids.size() == boxes.size());
  const std::vector<std::string> names = columns_of(format);
  std::string s = join(names, ",") + "\n";
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    std::string id = image_ids[i];
    if (id.find_first_of(",\"\r\n") != std::string::npos) {
      std::string q = "\"";
      for (char ch : id) {
        if (ch == '"') q += '"';
        q += ch;
      }
      id = q + "\"";
    }
    for (const Box& b : boxes[i]) {
      const double c = format == BoxFormat::kXywh ? b.x2 - b.x1 : b.x2;
      const double d = format == BoxFormat::kXywh ? b.y2 - b.y1 : b.y2;
      s += id;
      for (double v : {b.x1, b.y1, c, d, b.score}) {
        s += ',';
        s += format_double(v);
      }
      s += ',';
      s += std::to_string(b.label);
      s += '\n';
    }
  }
  return s;
}

void write_detections_csv(const std::filesystem::path& path, std::span<const std::string> image_ids,
                          std::span<const std::vector<Box>> boxes, BoxFormat format) {
  write_file_atomic(path, detections_csv_string(image_ids, boxes, format));
}

}  // namespace compe::detect
