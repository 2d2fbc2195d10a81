// Image competitions: image sets, ground truth and the one reader of image predictions.
#include "compe/image_data.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe::images {
namespace fs = std::filesystem;

namespace {

// Where a row came from, for messages and the error's context.
struct At {
  std::string file;
  std::size_t line = 0;
  std::string image;

  std::string prefix() const {
    std::string p = fmt::format("{}:{}", file, line);
    if (!image.empty()) p += fmt::format(": image {}", quote(image));
    return p;
  }
  ErrorContext context() const {
    ErrorContext c;
    c.file = file;
    c.line = line;
    if (!image.empty()) c.image_id = image;
    return c;
  }
};

template <typename... Args>
[[noreturn]] void fail_row(const At& at, fmt::format_string<Args...> f, Args&&... args) {
  fail_at(at.context(), ErrorCode::kInvalidArgument, "{}: {}", at.prefix(),
          fmt::format(f, std::forward<Args>(args)...));
}

std::string source_of(const Table& t) { return t.source.empty() ? std::string("predictions") : t.source; }

const Column& need_column(const Table& t, std::string_view name, std::string_view layout) {
  if (!t.has(name))
    fail_at({.file = source_of(t)}, ErrorCode::kNotFound, "{}: no column {}; expected {} (columns are: {})",
            source_of(t), quote(name), layout, list_shown(t.column_names()));
  return t.column(name);
}

// A numeric cell; missing when the cell is empty.
std::optional<double> number(const Column& c, std::size_t r, const At& at) {
  if (c.is_missing(r)) return std::nullopt;
  if (c.type == DType::kString) fail_row(at, "{} is {}, expected a number", c.name, quote(c.str(r)));
  return c.as_double(r);
}

std::string text(const Column& c, std::size_t r) { return c.is_missing(r) ? std::string() : c.to_string(r); }

// A box in pixels of an image of size `s`: finite, inside, not empty.
metric::DetBox read_box(const Column* const cols[4], std::size_t r, const Size& s, const At& at) {
  double v[4];
  for (int j = 0; j < 4; ++j) {
    auto x = number(*cols[j], r, at);
    if (!x) fail_row(at, "{} is empty; expected a number (a row with every box cell empty marks an image without objects)",
                     cols[j]->name);
    if (!std::isfinite(*x)) fail_row(at, "{} is {}, expected a finite number", cols[j]->name, *x);
    v[j] = *x;
  }
  if (v[0] < 0 || v[1] < 0 || v[2] > static_cast<double>(s.width) || v[3] > static_cast<double>(s.height) ||
      !(v[0] < v[2]) || !(v[1] < v[3]))
    fail_row(at, "box ({}, {}, {}, {}) lies outside the {} x {} image or is empty; expected 0 <= x1 < x2 <= {} and 0 <= y1 < y2 <= {}",
             format_double(v[0]), format_double(v[1]), format_double(v[2]), format_double(v[3]), s.width, s.height,
             s.width, s.height);
  metric::DetBox b;
  b.x1 = v[0];
  b.y1 = v[1];
  b.x2 = v[2];
  b.y2 = v[3];
  return b;
}

std::int64_t class_index(const Column& c, std::size_t r, const std::vector<std::string>& classes, const At& at) {
  std::optional<double> v;
  if (!c.is_missing(r) && c.type != DType::kString) v = c.as_double(r);
  if (!v || *v != std::floor(*v) || *v < 0 || *v >= static_cast<double>(classes.size()))
    fail_row(at, "label {} is not a class index; expected an integer from 0 to {} ({})", quote(text(c, r)),
             classes.size() - 1, list_shown(classes, 10));
  return static_cast<std::int64_t>(*v);
}

std::size_t class_of(const std::string& name, const std::vector<std::string>& classes, const At& at) {
  auto it = std::find(classes.begin(), classes.end(), name);
  if (it == classes.end())
    fail_row(at, "label {} is not a class; expected one of {}", quote(name), list_shown(classes, 10));
  return static_cast<std::size_t>(it - classes.begin());
}

segment::Mask read_rle(const std::string& code, const Size& s, const At& at) {
  try {
    return segment::parse_rle(code, s.pixels(), {fmt::format("{}:{}", at.file, at.line), 0, at.image});
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} (the image is {} x {}: pixels 1 to {})", e.what(), s.width, s.height, s.pixels()),
                at.context());
  }
}

// Segmentation rows: (image id, class name, code) from either layout.
struct MaskColumns {
  const Column* image_label = nullptr;  // Image_Label = <id>_<class>
  const Column* image = nullptr;
  const Column* label = nullptr;
  const Column* code = nullptr;
};

MaskColumns mask_columns(const Table& t, bool allow_image_label) {
  MaskColumns m;
  const char* layout = allow_image_label ? "Image_Label,EncodedPixels or image_id,label,EncodedPixels"
                                         : "image_id,label,EncodedPixels";
  if (allow_image_label && t.has("Image_Label")) {
    m.image_label = &t.column("Image_Label");
  } else {
    m.image = &need_column(t, "image_id", layout);
    m.label = &need_column(t, "label", layout);
  }
  m.code = &need_column(t, "EncodedPixels", layout);
  return m;
}

// Splits "<id>_<class>" on the class names (the longest class that ends the text).
std::pair<std::string, std::string> split_image_label(const std::string& v, const std::vector<std::string>& classes,
                                                      const At& at) {
  std::size_t best = std::string::npos;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const std::string suffix = "_" + classes[c];
    if (v.size() > suffix.size() && v.compare(v.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        (best == std::string::npos || classes[c].size() > classes[best].size()))
      best = c;
  }
  if (best == std::string::npos)
    fail_row(at, "Image_Label {} does not end in _<class>; expected <image id>_<class> with a class of {}", quote(v),
             list_shown(classes, 10));
  return {v.substr(0, v.size() - classes[best].size() - 1), classes[best]};
}

Table read_text_csv(const fs::path& path, std::string_view display) {
  if (!fs::exists(path))
    fail_at({.file = std::string(display)}, ErrorCode::kNotFound, "{}: no such file", display);
  CsvReadOptions o;
  o.display_name = std::string(display);
  o.na_values = {};
  // Ids, labels of masks and codes stay text ("007" is not "7"); numbers are inferred.
  std::string head;
  {
    std::ifstream in(path);
    std::getline(in, head);
  }
  std::vector<std::string> names;
  for (std::size_t b = 0; b <= head.size();) {
    std::size_t e = head.find(',', b);
    if (e == std::string::npos) e = head.size();
    std::string name = head.substr(b, e - b);
    while (!name.empty() && (name.back() == '\r' || name.back() == '"')) name.pop_back();
    if (!name.empty() && name.front() == '"') name.erase(0, 1);
    names.push_back(name);
    b = e + 1;
  }
  for (const char* c : {"image_id", "Image_Label", "EncodedPixels"})
    if (std::find(names.begin(), names.end(), c) != names.end()) o.dtypes.emplace(c, DType::kString);
  return read_csv(path, o);
}

}  // namespace

std::ptrdiff_t ImageSet::find(std::string_view id) const {
  auto it = index.find(std::string(id));
  return it == index.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
}

ImageSet image_set(const Table& t, const std::string& id_column) {
  const std::string layout = fmt::format("{},width,height", id_column);
  const Column& id = need_column(t, id_column, layout);
  const Column& w = need_column(t, "width", layout);
  const Column& h = need_column(t, "height", layout);
  ImageSet s;
  s.ids.reserve(t.num_rows());
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    At at{source_of(t), r + 2, id.is_missing(r) ? std::string() : id.to_string(r)};
    if (at.image.empty()) fail_row(at, "the id column {} is empty", quote(id_column));
    Size sz;
    for (auto [col, dst] : {std::pair{&w, &sz.width}, std::pair{&h, &sz.height}}) {
      auto v = number(*col, r, at);
      if (!v || *v != std::floor(*v) || *v < 1 || *v > 1e6)
        fail_row(at, "{} is {}, expected a positive integer (pixels)", col->name, quote(text(*col, r)));
      *dst = static_cast<std::int64_t>(*v);
    }
    auto [it, added] = s.index.emplace(at.image, s.ids.size());
    if (!added) fail_row(at, "duplicate image id (first at line {})", it->second + 2);
    s.ids.push_back(at.image);
    s.sizes.push_back(sz);
  }
  return s;
}

namespace {

Truth read_box_truth(const Table& t, const std::vector<std::string>& classes, const ImageSet& train) {
  const char* layout = "image_id,x1,y1,x2,y2,label";
  const Column& id = need_column(t, "image_id", layout);
  const Column* cols[4] = {&need_column(t, "x1", layout), &need_column(t, "y1", layout),
                           &need_column(t, "x2", layout), &need_column(t, "y2", layout)};
  const Column& label = need_column(t, "label", layout);
  std::vector<std::vector<metric::DetBox>> per(train.size());
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    At at{source_of(t), r + 2, text(id, r)};
    const std::ptrdiff_t i = train.find(at.image);
    if (i < 0) fail_row(at, "the image is not in train.csv");
    if (std::all_of(cols, cols + 4, [&](const Column* c) { return c->is_missing(r); }) && label.is_missing(r))
      continue;  // an image without objects
    metric::DetBox b = read_box(cols, r, train.sizes[static_cast<std::size_t>(i)], at);
    b.label = class_index(label, r, classes, at);
    per[static_cast<std::size_t>(i)].push_back(b);
  }
  Truth out;
  for (const auto& row : per) out.boxes.push_row(row);
  return out;
}

Truth read_mask_truth(const Table& t, const std::vector<std::string>& classes, const ImageSet& train) {
  const MaskColumns m = mask_columns(t, true);
  Truth out;
  out.masks.assign(train.size() * classes.size(), {});
  std::vector<std::size_t> line_of(out.masks.size(), 0);
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    At at{source_of(t), r + 2, {}};
    std::string image, cls;
    if (m.image_label) {
      std::tie(image, cls) = split_image_label(text(*m.image_label, r), classes, at);
    } else {
      image = text(*m.image, r);
      cls = text(*m.label, r);
    }
    at.image = image;
    const std::ptrdiff_t i = train.find(image);
    if (i < 0) fail_row(at, "the image is not in train.csv");
    const std::size_t slot = static_cast<std::size_t>(i) * classes.size() + class_of(cls, classes, at);
    if (line_of[slot]) fail_row(at, "class {} has a mask already (line {})", quote(cls), line_of[slot]);
    line_of[slot] = at.line;
    out.masks[slot] = read_rle(text(*m.code, r), train.sizes[static_cast<std::size_t>(i)], at);
  }
  return out;
}

}  // namespace

Truth read_truth(metric::Task task, const std::vector<std::string>& classes, const fs::path& path,
                 const ImageSet& train, std::string_view display) {
  COMPE_ASSERT(is_image_task(task));
  const Table t = read_text_csv(path, display);
  Truth out = task == metric::kDetection ? read_box_truth(t, classes, train) : read_mask_truth(t, classes, train);
  out.task = task;
  out.classes = classes;
  return out;
}

Truth read_workspace_truth(const Workspace& ws, const ImageSet& train) {
  const CompetitionConfig& c = ws.config();
  const fs::path p = ws.ground_truth_path();
  return read_truth(c.task, c.classes, p, train, p.lexically_normal().string());
}

Predictions read_predictions(const Table& t, const PredictionRules& rules) {
  COMPE_ASSERT(rules.classes && rules.set);
  const std::vector<std::string>& classes = *rules.classes;
  const ImageSet& set = *rules.set;
  std::vector<std::ptrdiff_t> slot_of(set.size(), -1);  // position among expected
  for (std::size_t j = 0; j < rules.expected.size(); ++j) slot_of[rules.expected[j]] = static_cast<std::ptrdiff_t>(j);
  auto expected_slot = [&](const At& at) {
    const std::ptrdiff_t i = set.find(at.image);
    if (i < 0) fail_row(at, "unknown image id: not one of the {} images of {}", set.size(), rules.set_file);
    if (slot_of[static_cast<std::size_t>(i)] < 0) fail_row(at, "the image is not one of {}", rules.expected_what);
    return static_cast<std::size_t>(slot_of[static_cast<std::size_t>(i)]);
  };
  Predictions out;
  out.images.assign(rules.expected.begin(), rules.expected.end());
  if (rules.task == metric::kDetection) {
    const char* layout = "image_id,x1,y1,x2,y2,score,label";
    const Column& id = need_column(t, "image_id", layout);
    const Column* cols[4] = {&need_column(t, "x1", layout), &need_column(t, "y1", layout),
                             &need_column(t, "x2", layout), &need_column(t, "y2", layout)};
    const Column& score = need_column(t, "score", layout);
    const Column& label = need_column(t, "label", layout);
    std::vector<std::vector<metric::DetBox>> per(rules.expected.size());
    for (std::size_t r = 0; r < t.num_rows(); ++r) {
      At at{source_of(t), r + 2, text(id, r)};
      const std::size_t j = expected_slot(at);
      metric::DetBox b = read_box(cols, r, set.sizes[rules.expected[j]], at);
      auto s = number(score, r, at);
      if (!s || !(*s >= 0 && *s <= 1))
        fail_row(at, "score is {}, expected a number in [0, 1]", quote(text(score, r)));
      b.score = *s;
      b.label = class_index(label, r, classes, at);
      per[j].push_back(b);
    }
    for (const auto& row : per) out.boxes.push_row(row);
    return out;
  }
  const MaskColumns m = mask_columns(t, false);
  out.masks.assign(rules.expected.size() * classes.size(), {});
  std::vector<std::size_t> line_of(out.masks.size(), 0);
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    At at{source_of(t), r + 2, text(*m.image, r)};
    const std::size_t j = expected_slot(at);
    const std::string cls = text(*m.label, r);
    const std::size_t slot = j * classes.size() + class_of(cls, classes, at);
    if (line_of[slot]) fail_row(at, "class {} has a mask already (line {})", quote(cls), line_of[slot]);
    line_of[slot] = at.line;
    out.masks[slot] = read_rle(text(*m.code, r), set.sizes[rules.expected[j]], at);
  }
  return out;
}

Predictions read_predictions_file(const fs::path& path, const PredictionRules& rules) {
  return read_predictions(read_text_csv(path, path.string()), rules);
}

}  // namespace compe::images
