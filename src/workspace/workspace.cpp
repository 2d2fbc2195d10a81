#include "compe/workspace.hpp"
#include "compe/profile.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "common/toml_util.hpp"

#include "compe/image_data.hpp"

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/util.hpp"

namespace compe {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSections = {"competition", "data", "folds", "final", "select"};
const std::vector<std::string> kCompetitionKeys = {"name", "task", "metric", "id", "target", "classes"};
const std::vector<std::string> kDataKeys = {"train",    "test",  "sample_submission", "solution",
                                            "boxes",    "masks", "images", "labels"};
// The segmentation metrics of compe/segment.hpp, accepted by name until the metric registry has
// rows for them (a registry row that accepts segmentation is accepted too).
const std::vector<std::string> kSegmentationMetrics = {"dice", "dice_global", "iou", "iou_global"};
const std::vector<std::string> kFoldsKeys = {"strategy", "k", "seed", "shuffle", "group",
                                             "time", "gap", "bins", "repeats"};

template <typename T>
std::optional<T> get(const toml::table& t, std::string_view key, const std::string& path,
                     std::string_view display, std::string_view expected) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  auto v = n->value<T>();
  if (!v)
    fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be {}", display, n->source().begin.line,
         quote(path), expected);
  return v;
}

const toml::table* section(const toml::table& root, std::string_view name, std::string_view display) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table())
    fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be a table ([{}])", display,
         n->source().begin.line, quote(name), name);
  return n->as_table();
}

void check_task_metric(metric::Task task, const std::string& name) {
  if (task == metric::kSegmentation &&
      std::find(kSegmentationMetrics.begin(), kSegmentationMetrics.end(), name) != kSegmentationMetrics.end())
    return;
  const metric::Info& info = metric::make(name)->info();
  if (!info.accepts(task))
    fail(ErrorCode::kInvalidArgument, "metric {} does not apply to a {} task{}", quote(name), metric::task_name(task),
         task == metric::kSegmentation ? " (segmentation metrics: dice, dice_global, iou, iou_global)" : "");
}

std::vector<std::string> string_list(const toml::table& t, std::string_view key, std::string_view display) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr)
    fail(ErrorCode::kInvalidArgument, "{}:{}: 'competition.{}' must be a list of strings", display,
         n->source().begin.line, key);
  for (const auto& e : *arr) {
    auto v = e.value<std::string>();
    if (!v || v->empty())
      fail(ErrorCode::kInvalidArgument, "{}:{}: 'competition.{}' must be a list of non-empty strings", display,
           n->source().begin.line, key);
    if (std::find(out.begin(), out.end(), *v) != out.end())
      fail(ErrorCode::kInvalidArgument, "{}:{}: 'competition.{}' names {} twice", display, n->source().begin.line,
           key, quote(*v));
    out.push_back(*v);
  }
  return out;
}

// The image keys belong to image tasks, boxes to detection and masks to segmentation.
void check_image_keys(const CompetitionConfig& c, std::string_view display) {
  if (!is_image_task(c.task)) {
    for (auto [key, v] : {std::pair{"data.boxes", &c.boxes}, std::pair{"data.masks", &c.masks},
                          std::pair{"data.images", &c.images}})
      if (!v->empty())
        fail(ErrorCode::kInvalidArgument, "{}: '{}' is for detection and segmentation competitions, not {}",
             display, key, metric::task_name(c.task));
    return;
  }
  // classes and the ground truth are needed by runs (checked there), not by scoring alone.
  const bool det = c.task == metric::kDetection;
  if (!(det ? c.masks : c.boxes).empty())
    fail(ErrorCode::kInvalidArgument, "{}: 'data.{}' is for {} competitions, not {}", display,
         det ? "masks" : "boxes", det ? "segmentation" : "detection", metric::task_name(c.task));
}

std::string toml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

CompetitionConfig parse_competition_config(std::string_view text, std::string_view display) {
  toml::table root = parse_toml(text, display);
  check_toml_keys(root, "", kSections, display);
  CompetitionConfig c;
  const toml::table* comp = section(root, "competition", display);
  if (!comp) fail(ErrorCode::kInvalidArgument, "{}: missing the [competition] table", display);
  check_toml_keys(*comp, "competition.", kCompetitionKeys, display);
  c.name = get<std::string>(*comp, "name", "competition.name", display, "a string").value_or("");
  auto task = get<std::string>(*comp, "task", "competition.task", display, "a string");
  if (!task) fail(ErrorCode::kInvalidArgument, "{}: missing 'competition.task' (binary, multiclass, regression, multilabel, ranking)", display);
  try {
    c.task = metric::parse_task(*task);
  } catch (const Error& e) {
    fail(ErrorCode::kInvalidArgument, "{}: competition.task: {}", display, e.what());
  }
  auto m = get<std::string>(*comp, "metric", "competition.metric", display, "a string");
  c.metric = m ? *m : metric::default_for(c.task);
  try {
    check_task_metric(c.task, c.metric);
  } catch (const Error& e) {
    fail(ErrorCode::kInvalidArgument, "{}: competition.metric: {}", display, e.what());
  }
  auto id = get<std::string>(*comp, "id", "competition.id", display, "a string");
  if (!id) fail(ErrorCode::kInvalidArgument, "{}: missing 'competition.id' (the id column)", display);
  c.id_column = *id;
  if (const toml::node* t = comp->get("target")) {
    if (auto s = t->value<std::string>()) {
      c.target_columns = {*s};
    } else if (const toml::array* arr = t->as_array()) {
      for (const auto& e : *arr) {
        auto v = e.value<std::string>();
        if (!v)
          fail(ErrorCode::kInvalidArgument, "{}:{}: 'competition.target' must be a string or a list of strings",
               display, t->source().begin.line);
        c.target_columns.push_back(*v);
      }
    } else {
      fail(ErrorCode::kInvalidArgument, "{}:{}: 'competition.target' must be a string or a list of strings",
           display, t->source().begin.line);
    }
  }
  if (c.target_columns.empty() && !is_image_task(c.task))
    fail(ErrorCode::kInvalidArgument, "{}: missing 'competition.target' (the target column(s))", display);
  c.classes = string_list(*comp, "classes", display);

  const toml::table* data = section(root, "data", display);
  if (!data) fail(ErrorCode::kInvalidArgument, "{}: missing the [data] table", display);
  check_toml_keys(*data, "data.", kDataKeys, display);
  for (auto [key, dst] : {std::pair{"train", &c.train}, std::pair{"test", &c.test},
                          std::pair{"sample_submission", &c.sample_submission}}) {
    auto v = get<std::string>(*data, key, std::string("data.") + key, display, "a path string");
    if (!v) fail(ErrorCode::kInvalidArgument, "{}: missing 'data.{}'", display, key);
    *dst = *v;
  }
  if (auto s = get<std::string>(*data, "solution", "data.solution", display, "a path string"))
    c.solution = *s;
  c.boxes = get<std::string>(*data, "boxes", "data.boxes", display, "a path string").value_or("");
  c.masks = get<std::string>(*data, "masks", "data.masks", display, "a path string").value_or("");
  c.images = get<std::string>(*data, "images", "data.images", display, "a path string").value_or("");
  check_image_keys(c, display);
  if (auto s = get<std::string>(*data, "labels", "data.labels", display, "a path string"))
    c.labels = *s;

  if (const toml::table* f = section(root, "folds", display)) {
    check_toml_keys(*f, "folds.", kFoldsKeys, display);
    auto& spec = c.folds.spec;
    if (auto s = get<std::string>(*f, "strategy", "folds.strategy", display, "a string")) {
      try {
        spec.strategy = split::find(*s).name;
      } catch (const Error& e) {
        fail(ErrorCode::kInvalidArgument, "{}: folds.strategy: {}", display, e.what());
      }
    }
    if (auto k = get<std::int64_t>(*f, "k", "folds.k", display, "an integer")) {
      if (*k < 2 || *k > 1000)
        fail(ErrorCode::kInvalidArgument, "{}: folds.k is {}, expected an integer from 2 to 1000", display, *k);
      spec.k = static_cast<int>(*k);
    }
    if (auto s = get<std::int64_t>(*f, "seed", "folds.seed", display, "an integer")) {
      if (*s < 0) fail(ErrorCode::kInvalidArgument, "{}: folds.seed is {}, expected a non-negative integer", display, *s);
      spec.seed = static_cast<std::uint64_t>(*s);
    }
    if (auto s = get<bool>(*f, "shuffle", "folds.shuffle", display, "true or false")) spec.shuffle = *s;
    if (auto g = get<std::int64_t>(*f, "gap", "folds.gap", display, "an integer")) {
      if (*g < 0) fail(ErrorCode::kInvalidArgument, "{}: folds.gap is {}, expected >= 0", display, *g);
      spec.gap = static_cast<int>(*g);
    }
    if (auto b = get<std::int64_t>(*f, "bins", "folds.bins", display, "an integer")) {
      if (*b < 2) fail(ErrorCode::kInvalidArgument, "{}: folds.bins is {}, expected >= 2", display, *b);
      spec.bins = static_cast<int>(*b);
    }
    if (auto r = get<std::int64_t>(*f, "repeats", "folds.repeats", display, "an integer")) {
      if (*r < 1 || *r > 100)
        fail(ErrorCode::kInvalidArgument, "{}: folds.repeats is {}, expected an integer from 1 to 100", display, *r);
      c.folds.repeats = static_cast<int>(*r);
    }
    c.folds.group_column = get<std::string>(*f, "group", "folds.group", display, "a column name").value_or("");
    c.folds.time_column = get<std::string>(*f, "time", "folds.time", display, "a column name").value_or("");
  }
  return c;
}

std::string render_competition_config(const CompetitionConfig& c) {
  std::ostringstream o;
  o << "# compe workspace: see docs/FORMATS.md for every key.\n\n";
  o << "[competition]\n";
  o << "name = " << toml_quote(c.name) << "\n";
  o << "task = " << toml_quote(std::string(metric::task_name(c.task)))
    << "    # binary, multiclass, regression, multilabel, ranking, detection, segmentation\n";
  o << "metric = " << toml_quote(c.metric) << "    # `compe list metrics` shows them all\n";
  o << "id = " << toml_quote(c.id_column) << "\n";
  auto list = [&](const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_quote(v[i]);
    return out + "]";
  };
  if (!c.classes.empty())
    o << "classes = " << list(c.classes) << "    # a box's label is an index into this list\n";
  if (c.target_columns.empty()) {
  } else if (c.target_columns.size() == 1) {
    o << "target = " << toml_quote(c.target_columns[0]) << "\n";
  } else {
    o << "target = " << list(c.target_columns) << "\n";
  }
  o << "\n[data]    # relative to this folder\n";
  o << "train = " << toml_quote(c.train.string()) << "\n";
  o << "test = " << toml_quote(c.test.string()) << "\n";
  o << "sample_submission = " << toml_quote(c.sample_submission.string()) << "\n";
  if (c.solution)
    o << "solution = " << toml_quote(c.solution->string())
      << "    # local scoring only: no model ever reads it\n";
  if (!c.boxes.empty())
    o << "boxes = " << toml_quote(c.boxes) << "    # image_id,x1,y1,x2,y2,label (pixels, x2/y2 exclusive)\n";
  if (!c.masks.empty()) o << "masks = " << toml_quote(c.masks) << "    # RLE per image and class\n";
  if (!c.images.empty()) o << "images = " << toml_quote(c.images) << "    # <id>.png\n";
  if (c.labels) o << "labels = " << toml_quote(c.labels->string()) << "    # corrected train labels\n";
  const auto& s = c.folds.spec;
  o << "\n[folds]\n";
  o << "strategy = " << toml_quote(s.strategy) << "    # `compe list splitters`\n";
  o << "k = " << s.k << "\n";
  o << "seed = " << s.seed << "\n";
  o << "shuffle = " << (s.shuffle ? "true" : "false") << "\n";
  if (!c.folds.group_column.empty()) o << "group = " << toml_quote(c.folds.group_column) << "\n";
  if (!c.folds.time_column.empty()) o << "time = " << toml_quote(c.folds.time_column) << "\n";
  if (s.gap) o << "gap = " << s.gap << "\n";
  return o.str();
}

fs::path Workspace::resolve(const fs::path& p) const { return p.is_absolute() ? p : root_ / p; }

fs::path Workspace::ground_truth_path() const {
  if (config_.task == metric::kDetection) return resolve(config_.boxes);
  if (config_.task == metric::kSegmentation) return resolve(config_.masks);
  return {};
}

fs::path Workspace::images_dir() const {
  return config_.images.empty() ? resolve(config_.train).parent_path() / "images" : resolve(config_.images);
}

Workspace Workspace::open(const fs::path& dir) {
  Workspace w;
  w.root_ = dir;
  fs::path cfg = dir / "compe.toml";
  if (!fs::exists(cfg))
    fail(ErrorCode::kNotFound, "{}: not a compe workspace (no compe.toml); create one with `compe init`",
         dir.string());
  w.config_ = parse_competition_config(read_file(cfg), cfg.string());
  return w;
}

Workspace Workspace::discover(const std::optional<fs::path>& dir) {
  if (dir) return open(*dir);
  fs::path cur = fs::current_path();
  for (fs::path p = cur;; p = p.parent_path()) {
    if (fs::exists(p / "compe.toml")) return open(p == cur ? fs::path(".") : p);
    if (p == p.parent_path()) break;
  }
  fail(ErrorCode::kNotFound,
       "not inside a compe workspace (no compe.toml here or above); use --workspace DIR or `compe init`");
}

static Table read_data(const Workspace& w, const fs::path& p) {
  CsvReadOptions o;
  fs::path full = w.resolve(p);
  o.display_name = full.lexically_normal().string();
  return read_csv(full, o);
}

Table Workspace::read_train() const { return read_data(*this, config_.train); }
Table Workspace::read_test() const { return read_data(*this, config_.test); }
Table Workspace::read_sample_submission() const { return read_data(*this, config_.sample_submission); }

metric::Task infer_task(const Table& train, const std::vector<std::string>& sample_cols,
                        const std::vector<std::string>& targets) {
  if (targets.size() > 1) {
    // Several target columns in train, each a 0/1 indicator: multilabel; else multiclass one-hot.
    bool all01 = true;
    for (const auto& t : targets) {
      const Column& c = train.column(t);
      for (std::size_t r = 0; r < c.size() && all01; ++r) {
        if (c.type == DType::kString) {
          all01 = false;
          break;
        }
        double v = c.as_double(r);
        all01 = std::isnan(v) || v == 0.0 || v == 1.0;
      }
    }
    return all01 ? metric::kMultilabel : metric::kRegression;
  }
  const Column& c = train.column(targets[0]);
  if (sample_cols.size() > 1) return metric::kMulticlass;  // one probability column per class
  if (c.type == DType::kString) return c.dict.size() <= 2 ? metric::kBinary : metric::kMulticlass;
  std::set<double> distinct;
  bool integral = true;
  for (std::size_t r = 0; r < c.size(); ++r) {
    double v = c.as_double(r);
    if (std::isnan(v)) continue;
    integral = integral && std::floor(v) == v;
    if (distinct.size() <= 64) distinct.insert(v);
  }
  if (distinct.size() <= 2) return metric::kBinary;
  if (integral && distinct.size() <= 30 && *distinct.begin() >= 0) return metric::kMulticlass;
  return metric::kRegression;
}

namespace {

std::vector<std::string> meta_classes(const nlohmann::json& meta, const fs::path& file) {
  std::vector<std::string> out;
  if (!meta.contains("classes")) return out;
  const nlohmann::json& c = meta["classes"];
  if (!c.is_array())
    fail(ErrorCode::kInvalidArgument, "{}: /classes: expected a list of class names", file.string());
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c[i].is_string() || c[i].get<std::string>().empty())
      fail(ErrorCode::kInvalidArgument, "{}: /classes/{}: expected a non-empty string", file.string(), i);
    out.push_back(c[i].get<std::string>());
  }
  return out;
}

// A detection or segmentation competition: one row per image in train.csv and test.csv, the
// ground truth in train_boxes.csv or train_masks.csv, checked before compe.toml is written.
void init_image_workspace(const InitOptions& opt, const Table& train, const Table& test, const nlohmann::json& meta,
                          InitReport& rep) {
  CompetitionConfig& c = rep.config;
  const fs::path from = opt.from;
  const fs::path meta_file = from / "meta.json";
  c.task = metric::parse_task(opt.task ? *opt.task : meta.at("task").get<std::string>());
  rep.notes.push_back(fmt::format("task {} ({})", metric::task_name(c.task), opt.task ? "given" : "meta.json"));
  const bool det = c.task == metric::kDetection;
  if (opt.id) c.id_column = *opt.id;
  else if (meta.contains("id") && meta["id"].is_string()) c.id_column = meta["id"].get<std::string>();
  else c.id_column = train.column(0).name;
  rep.notes.push_back(fmt::format("id column {} ({})", quote(c.id_column),
                                  opt.id ? "given" : meta.contains("id") ? "meta.json" : "first column of train.csv"));
  if (opt.target)
    fail(ErrorCode::kInvalidArgument, "--target does not apply to a {} competition: its targets are the {} file",
         metric::task_name(c.task), det ? "boxes" : "masks");
  c.classes = meta_classes(meta, meta_file);
  if (c.classes.empty())
    fail(ErrorCode::kInvalidArgument, "{}: a {} competition needs meta.json's 'classes' (the class names)",
         meta_file.string(), metric::task_name(c.task));
  rep.notes.push_back(fmt::format("classes {} (meta.json)", list_shown(c.classes, 10)));
  c.metric = opt.metric ? *opt.metric
             : meta.contains("metric") && meta["metric"].is_string() ? meta["metric"].get<std::string>()
                                                                       : metric::default_for(c.task);
  check_task_metric(c.task, c.metric);
  rep.notes.push_back(fmt::format("metric {}", c.metric));
  const char* gt_file = det ? "train_boxes.csv" : "train_masks.csv";
  if (!fs::exists(from / gt_file))
    fail(ErrorCode::kNotFound, "{}: no {} (the train images' {})", from.string(), gt_file, det ? "boxes" : "masks");
  auto rel = [&](const fs::path& p) {
    std::error_code ec;
    fs::path r = fs::relative(fs::absolute(p), fs::absolute(opt.dir), ec);
    return ec || r.empty() ? fs::absolute(p).lexically_normal() : r;
  };
  c.train = rel(from / "train.csv");
  c.test = rel(from / "test.csv");
  c.sample_submission = rel(from / "sample_submission.csv");
  if (fs::exists(from / "solution.csv")) c.solution = rel(from / "solution.csv");
  (det ? c.boxes : c.masks) = rel(from / gt_file).string();
  if (fs::is_directory(from / "images")) c.images = rel(from / "images").string();
  // The ground truth is read now, so a bad file fails here rather than in the first run.
  const images::ImageSet train_images = images::image_set(train, c.id_column);
  (void)images::image_set(test, c.id_column);
  const images::Truth truth =
      images::read_truth(c.task, c.classes, from / gt_file, train_images, (from / gt_file).string());
  rep.notes.push_back(det ? fmt::format("{} boxes on {} train images ({})", truth.boxes.boxes.size(),
                                        train_images.size(), gt_file)
                          : fmt::format("{} masks of {} train images ({})", truth.masks.size(),
                                        train_images.size(), gt_file));
  c.folds.spec.strategy = "kfold";
  c.folds.spec.k = 5;
  c.folds.spec.seed = 42;
  c.folds.spec.shuffle = true;
  rep.notes.push_back("folds kfold over the image ids (k = 5)");
  write_file_atomic(opt.dir / "compe.toml", render_competition_config(c));
}

}  // namespace

InitReport init_workspace(const InitOptions& opt) {
  InitReport rep;
  auto& c = rep.config;
  fs::path from = opt.from;
  for (const char* f : {"train.csv", "test.csv", "sample_submission.csv"})
    if (!fs::exists(from / f))
      fail(ErrorCode::kNotFound, "{}: no {} (expected Kaggle's layout: train.csv, test.csv, sample_submission.csv)",
           from.string(), f);
  if (fs::exists(opt.dir / "compe.toml") && !opt.force)
    fail(ErrorCode::kInvalidArgument, "{}: already a compe workspace (compe.toml exists); use --force to overwrite",
         opt.dir.string());
  fs::create_directories(opt.dir);

  Table train = read_csv(from / "train.csv", {.display_name = (from / "train.csv").string()});
  Table test = read_csv(from / "test.csv", {.display_name = (from / "test.csv").string()});
  Table sample = read_csv(from / "sample_submission.csv",
                          {.display_name = (from / "sample_submission.csv").string()});
  // meta.json (optional): name, task and metric, each a string where present.
  nlohmann::json meta = nlohmann::json::object();
  std::optional<std::string> meta_name, meta_task, meta_metric;
  if (fs::exists(from / "meta.json")) {
    meta = read_json_file(from / "meta.json");
    const JsonAt m(meta, (from / "meta.json").string());
    m.object();
    meta_name = m.opt_string("name");
    meta_task = m.opt_string("task");
    meta_metric = m.opt_string("metric");
  }
  c.name = meta_name.value_or(fs::absolute(from).lexically_normal().filename().string());
  if (c.name.empty()) c.name = fs::absolute(from).parent_path().filename().string();
  const std::optional<std::string> image_task = opt.task ? opt.task : meta_task;
  if (image_task && is_image_task(metric::parse_task(*image_task))) {
    init_image_workspace(opt, train, test, meta, rep);
    return rep;
  }
  c.id_column = opt.id.value_or(sample.column(0).name);
  rep.notes.push_back(fmt::format("id column {}{}", quote(c.id_column), opt.id ? " (given)" : " (first column of sample_submission.csv)"));
  (void)train.column(c.id_column);
  (void)test.column(c.id_column);
  std::vector<std::string> pred_cols;
  for (const auto& col : sample.columns())
    if (col.name != c.id_column) pred_cols.push_back(col.name);
  if (opt.target) {
    c.target_columns = {*opt.target};
  } else {
    // Targets: train columns absent from test; prefer those named in the sample submission.
    for (const auto& p : pred_cols)
      if (train.has(p) && !test.has(p)) c.target_columns.push_back(p);
    if (c.target_columns.empty())
      for (const auto& col : train.columns())
        if (col.name != c.id_column && !test.has(col.name)) c.target_columns.push_back(col.name);
    if (c.target_columns.empty())
      fail(ErrorCode::kInvalidArgument, "cannot infer the target: every train column is also in test; use --target");
  }
  for (const auto& t : c.target_columns) (void)train.column(t);
  rep.notes.push_back(fmt::format("target {}{}", join(c.target_columns), opt.target ? " (given)" : " (in train, not in test)"));

  if (opt.task) {
    c.task = metric::parse_task(*opt.task);
  } else if (meta_task) {
    c.task = metric::parse_task(*meta_task);
    rep.notes.push_back(fmt::format("task {} (meta.json)", metric::task_name(c.task)));
  } else {
    c.task = infer_task(train, pred_cols, c.target_columns);
    rep.notes.push_back(fmt::format("task {} (inferred from the target's values)", metric::task_name(c.task)));
  }
  if (opt.metric) {
    c.metric = *opt.metric;
  } else if (meta_metric) {
    c.metric = *meta_metric;
    rep.notes.push_back(fmt::format("metric {} (meta.json)", c.metric));
  } else if (c.task == metric::kMulticlass && pred_cols.size() == 1) {
    // One label column to submit: a label metric. log_loss needs one probability column per class.
    c.metric = "accuracy";
    rep.notes.push_back(fmt::format(
        "metric accuracy (sample_submission.csv has one label column '{}'; change it to the competition's)",
        pred_cols[0]));
  } else {
    c.metric = metric::default_for(c.task);
    rep.notes.push_back(fmt::format("metric {} (default for {}; change it to the competition's)", c.metric,
                                    metric::task_name(c.task)));
  }
  const metric::Info& info = metric::make(c.metric)->info();
  if (!info.accepts(c.task))
    fail(ErrorCode::kInvalidArgument, "metric {} does not apply to a {} task", quote(c.metric),
         metric::task_name(c.task));

  auto rel = [&](const fs::path& p) {
    std::error_code ec;
    fs::path r = fs::relative(fs::absolute(p), fs::absolute(opt.dir), ec);
    return ec || r.empty() ? fs::absolute(p).lexically_normal() : r;
  };
  c.train = rel(from / "train.csv");
  c.test = rel(from / "test.csv");
  c.sample_submission = rel(from / "sample_submission.csv");
  if (fs::exists(from / "solution.csv")) {
    c.solution = rel(from / "solution.csv");
    rep.notes.push_back("solution.csv recorded for local scoring only");
  }
  {
    std::vector<std::string> skip = c.target_columns;
    skip.push_back(c.id_column);
    for (auto& line : profile_notes(profile_columns(train, skip, true))) rep.notes.push_back(std::move(line));
  }
  bool classification = c.task == metric::kBinary || c.task == metric::kMulticlass;
  c.folds.spec.strategy = c.task == metric::kMultilabel ? "multilabel_stratified_kfold"
                          : classification             ? "stratified_kfold"
                                                       : "kfold";
  c.folds.spec.k = 5;
  c.folds.spec.seed = 42;
  c.folds.spec.shuffle = true;
  write_file_atomic(opt.dir / "compe.toml", render_competition_config(c));
  return rep;
}

}  // namespace compe
