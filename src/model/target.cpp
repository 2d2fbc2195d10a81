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
  t.columns = {column.name};
  if (task == Task::kMultilabel) {
    if (transform != TargetTransform::kNone)
      fail(ErrorCode::kInvalidArgument, "target transform {} applies to regression only, not to the multilabel target {}",
           quote(target_transform_name(transform)), quote(column.name));
    const Column* one[] = {&column};
    return encode_multilabel(one);
  }
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
      fail(ErrorCode::kInvalidArgument, "model backends support binary, multiclass, regression and multilabel targets; {} has another task",
           quote(column.name));
  }
}

Target Target::encode_multilabel(std::span<const Column* const> columns) {
  if (columns.empty())
    fail(ErrorCode::kInvalidArgument, "a multilabel target needs at least one 0/1 column");
  const std::size_t k = columns.size(), n = columns[0]->size();
  Target t;
  t.task = Task::kMultilabel;
  t.num_class = k;
  t.column = columns[0]->name;
  t.y.resize(n * k);
  for (std::size_t j = 0; j < k; ++j) {
    const Column& c = *columns[j];
    if (std::find(t.columns.begin(), t.columns.end(), c.name) != t.columns.end())
      fail(ErrorCode::kInvalidArgument, "multilabel target column {} is listed twice", quote(c.name));
    t.columns.push_back(c.name);
    COMPE_ASSERT(c.size() == n);
    for (std::size_t r = 0; r < n; ++r) {
      if (c.is_missing(r))
        fail(ErrorCode::kInvalidArgument,
             "multilabel target column {} is missing at row {}: every train row needs 0 or 1 in each label column",
             quote(c.name), r + 1);
      if (c.type == DType::kString)
        fail(ErrorCode::kInvalidArgument, "multilabel target column {} row {}: {} is text, expected 0 or 1",
             quote(c.name), r + 1, quote(c.str(r)));
      double v = c.as_double(r);
      if (v != 0.0 && v != 1.0)
        fail(ErrorCode::kInvalidArgument, "multilabel target column {} row {}: value {} is not 0 or 1",
             quote(c.name), r + 1, format_double(v));
      t.y[r * k + j] = v;
    }
  }
  t.classes = t.columns;
  return t;
}

Target Target::label(std::size_t j) const {
  COMPE_ASSERT(task == Task::kMultilabel && j < num_class);
  Target b;
  b.task = Task::kBinary;
  b.num_class = 2;
  b.classes = {"0", "1"};
  b.column = columns.at(j);
  b.columns = {b.column};
  const std::size_t n = rows();
  b.y.resize(n);
  for (std::size_t r = 0; r < n; ++r) b.y[r] = y[r * num_class + j];
  return b;
}

void Target::inverse_transform(std::span<double> predictions) const {
  if (transform == TargetTransform::kLog1p)
    for (double& p : predictions) p = std::expm1(p);
}

}  // namespace compe::model
