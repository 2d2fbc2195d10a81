#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::model {

std::string_view target_transform_name(TargetTransform t) {
  return t == TargetTransform::kLog1p ? "log1p" : "none";
}

TargetTransform parse_target_transform(std::string_view name) {
  if (name.empty() || name == "none") return TargetTransform::kNone;
  if (name == "log1p") return TargetTransform::kLog1p;
  fail(ErrorCode::kInvalidArgument, "unknown target transform {}: expected none or log1p", quote(name));
}

namespace {

void check_no_missing(const Column& c) {
  for (std::size_t r = 0; r < c.size(); ++r)
    if (c.is_missing(r))
      fail(ErrorCode::kInvalidArgument, "target column {} is missing at row {}: every train row needs a target",
           quote(c.name), r + 1);
}

// Distinct labels in ascending order (numbers numerically, text by bytes) and each row's index.
void encode_labels(const Column& c, std::vector<std::string>& classes, std::vector<double>& y) {
  y.resize(c.size());
  if (c.type == DType::kString) {
    std::set<std::string_view> seen;
    for (std::size_t r = 0; r < c.size(); ++r) seen.insert(c.str(r));
    std::map<std::string_view, double> index;
    for (auto s : seen) {
      index.emplace(s, static_cast<double>(classes.size()));
      classes.emplace_back(s);
    }
    for (std::size_t r = 0; r < c.size(); ++r) y[r] = index.at(c.str(r));
  } else {
    std::set<double> seen;
    for (std::size_t r = 0; r < c.size(); ++r) seen.insert(c.as_double(r));
    std::vector<double> levels(seen.begin(), seen.end());
    for (double v : levels) classes.push_back(c.type == DType::kInt64
                                                  ? fmt::format("{}", static_cast<std::int64_t>(v))
                                                  : format_double(v));
    for (std::size_t r = 0; r < c.size(); ++r)
      y[r] = static_cast<double>(std::lower_bound(levels.begin(), levels.end(), c.as_double(r)) -
                                 levels.begin());
  }
}

}  // namespace

Target Target::encode(const Column& column, Task task, TargetTransform transform) {
  Target t;
  t.task = task;
  t.transform = transform;
  t.column = column.name;
  check_no_missing(column);
  if (task != Task::kRegression && transform != TargetTransform::kNone)
    fail(ErrorCode::kInvalidArgument, "target transform {} applies to regression only, not to the {} target {}",
         quote(target_transform_name(transform)), task == Task::kBinary ? "binary" : "multiclass",
         quote(column.name));
  switch (task) {
    case Task::kBinary: {
      bool zero_one = column.type != DType::kString;
      for (std::size_t r = 0; zero_one && r < column.size(); ++r) {
        double v = column.as_double(r);
        zero_one = v == 0.0 || v == 1.0;
      }
      t.num_class = 2;
      if (zero_one) {
        t.y.resize(column.size());
        for (std::size_t r = 0; r < column.size(); ++r) t.y[r] = column.as_double(r);
        t.classes = {"0", "1"};
        return t;
      }
      encode_labels(column, t.classes, t.y);
      if (t.classes.size() != 2)
        fail(ErrorCode::kInvalidArgument,
             "binary target {} has {} distinct labels ({}{}): expected two, or values in {{0, 1}}",
             quote(column.name), t.classes.size(),
             join(std::span(t.classes.data(), std::min<std::size_t>(t.classes.size(), 5))),
             t.classes.size() > 5 ? ", ..." : "");
      return t;
    }
    case Task::kMulticlass: {
      encode_labels(column, t.classes, t.y);
      if (t.classes.size() < 2)
        fail(ErrorCode::kInvalidArgument, "multiclass target {} has {} distinct label(s): expected at least two",
             quote(column.name), t.classes.size());
      t.num_class = t.classes.size();
      return t;
    }
    case Task::kRegression: {
      if (column.type == DType::kString)
        fail(ErrorCode::kInvalidArgument, "regression target {} holds text (e.g. {}): expected numbers",
             quote(column.name), quote(column.str(0)));
      t.num_class = 1;
      t.y.resize(column.size());
      for (std::size_t r = 0; r < column.size(); ++r) {
        double v = column.as_double(r);
        if (!std::isfinite(v))
          fail(ErrorCode::kInvalidArgument, "target column {} row {}: value {} is not finite",
               quote(column.name), r + 1, format_double(v));
        if (transform == TargetTransform::kLog1p) {
          if (v <= -1.0)
            fail(ErrorCode::kInvalidArgument,
                 "target column {} row {}: log1p needs values > -1, got {}", quote(column.name), r + 1,
                 format_double(v));
          v = std::log1p(v);
        }
        t.y[r] = v;
      }
      return t;
    }
    default:
      fail(ErrorCode::kInvalidArgument, "model backends support binary, multiclass and regression targets; {} has another task",
           quote(column.name));
  }
}

void Target::inverse_transform(std::span<double> predictions) const {
  if (transform == TargetTransform::kLog1p)
    for (double& p : predictions) p = std::expm1(p);
}

}  // namespace compe::model
