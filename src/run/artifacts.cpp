#include "compe/artifacts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace fs = std::filesystem;

std::vector<std::string> prediction_columns(const Table& sample, const std::string& id,
                                            const model::Target& target) {
  std::vector<std::string> sample_cols;
  for (const auto& c : sample.columns())
    if (c.name != id) sample_cols.push_back(c.name);
  std::size_t k = target.prediction_columns();
  if (target.task == metric::kMultilabel) {
    // One probability column per target column, named as the target columns; the sample
    // submission must have the same columns (in any order).
    std::vector<std::string> missing, extra;
    for (const auto& c : target.columns)
      if (std::find(sample_cols.begin(), sample_cols.end(), c) == sample_cols.end()) missing.push_back(c);
    for (const auto& c : sample_cols)
      if (std::find(target.columns.begin(), target.columns.end(), c) == target.columns.end()) extra.push_back(c);
    if (!missing.empty() || !extra.empty())
      fail(ErrorCode::kInvalidArgument,
           "{}: the sample submission's columns [{}] differ from the multilabel target columns [{}]: "
           "missing [{}], unexpected [{}]",
           sample.source, join(sample_cols), join(target.columns), join(missing), join(extra));
    return target.columns;
  }
  if (sample_cols.size() == k) {
    if (k > 1) {
      // Match class labels by name when the sample names its columns after them.
      bool by_name =
          std::all_of(target.classes.begin(), target.classes.end(), [&](const std::string& c) {
            return std::find(sample_cols.begin(), sample_cols.end(), c) != sample_cols.end();
          });
      if (by_name) return target.classes;
    }
    return sample_cols;
  }
  if (k > 1) {
    std::vector<std::string> out;
    for (const auto& c : target.classes) out.push_back(target.column + "_" + c);
    return out;
  }
  fail(ErrorCode::kInvalidArgument,
       "the sample submission has {} prediction column(s) ({}); a {} model gives {}",
       sample_cols.size(), join(sample_cols), metric::task_name(target.task), k);
}

std::string data_hash(const Workspace& ws) {
  Hasher h;
  for (const auto& p : {ws.config().train, ws.config().test}) {
    std::string bytes = read_file(ws.resolve(p));
    h.update_i64(static_cast<std::int64_t>(bytes.size()));
    h.update(bytes);
  }
  if (ws.config().labels) {  // corrected labels are part of the data
    std::string bytes = read_file(ws.resolve(*ws.config().labels));
    h.update_i64(static_cast<std::int64_t>(bytes.size()));
    h.update(bytes);
  }
  return h.hex();
}

void write_oof_csv(const fs::path& path, const Column& ids, std::span<const int> folds,
                   const std::vector<std::string>& pred_cols, std::span<const double> pred) {
  const std::size_t n = ids.size(), cols = pred_cols.size();
  COMPE_ASSERT(folds.size() == n && pred.size() == n * cols);
  Table t;
  t.add_column(ids);
  t.add_column(Column::from_i64("fold", std::vector<std::int64_t>(folds.begin(), folds.end())));
  for (std::size_t j = 0; j < cols; ++j) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pred[i * cols + j];
    t.add_column(Column::from_f64(pred_cols[j], std::move(v)));
  }
  write_csv(t, path);
}

void write_test_csv(const fs::path& path, const Column& ids,
                    const std::vector<std::string>& pred_cols, std::span<const double> pred) {
  const std::size_t n = ids.size(), cols = pred_cols.size();
  COMPE_ASSERT(pred.size() == n * cols);
  Table t;
  t.add_column(ids);
  for (std::size_t j = 0; j < cols; ++j) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pred[i * cols + j];
    t.add_column(Column::from_f64(pred_cols[j], std::move(v)));
  }
  write_csv(t, path);
}

void write_submission(const fs::path& path, const Table& sample, const std::string& id_column,
                      const Column& test_ids, const std::vector<std::string>& pred_cols,
                      std::span<const double> test_pred, const std::vector<std::string>& classes) {
  const std::size_t n_test = test_ids.size(), cols = pred_cols.size();
  COMPE_ASSERT(test_pred.size() == n_test * cols);
  std::unordered_map<std::string, std::size_t> test_row;
  for (std::size_t r = 0; r < n_test; ++r) test_row.emplace(test_ids.to_string(r), r);
  const Column& sid = sample.column(id_column);
  std::vector<std::size_t> order(sample.num_rows());
  for (std::size_t r = 0; r < sample.num_rows(); ++r) {
    auto it = test_row.find(sid.to_string(r));
    if (it == test_row.end())
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' is not in the test data",
           sample.source, r + 2, sid.to_string(r));
    order[r] = it->second;
  }
  Table t;
  t.source = path.string();
  t.add_column(sid);
  std::vector<std::string> sample_pred;
  for (const auto& c : sample.columns())
    if (c.name != id_column) sample_pred.push_back(c.name);
  for (const auto& name : sample_pred) {
    const Column& sc = sample.column(name);
    auto j = static_cast<std::size_t>(std::find(pred_cols.begin(), pred_cols.end(), name) -
                                      pred_cols.begin());
    bool labels = sc.type == DType::kString || (sample_pred.size() == 1 && cols > 1);
    if (labels) {
      // A label submission: the most probable class (binary: P >= 0.5).
      std::vector<std::optional<std::string>> v(order.size());
      for (std::size_t i = 0; i < order.size(); ++i) {
        const double* p = &test_pred[order[i] * cols];
        std::size_t cls = cols == 1 ? (p[0] >= 0.5 ? 1 : 0)
                                    : static_cast<std::size_t>(std::max_element(p, p + cols) - p);
        v[i] = classes.empty() ? std::to_string(cls) : classes[cls];
      }
      t.add_column(Column::from_strings(name, v));
    } else {
      std::vector<double> v(order.size());
      for (std::size_t i = 0; i < order.size(); ++i) v[i] = test_pred[order[i] * cols + j];
      t.add_column(Column::from_f64(name, std::move(v)));
    }
  }
  score::validate_against_sample(sample, t);
  write_csv(t, path);
}

void write_label_submission(const fs::path& path, const Table& sample, const std::string& id_column,
                            const Column& test_ids, const std::vector<std::string>& classes,
                            std::span<const int> labels) {
  std::unordered_map<std::string, std::size_t> test_row;
  for (std::size_t r = 0; r < test_ids.size(); ++r) test_row.emplace(test_ids.to_string(r), r);
  const Column& sid = sample.column(id_column);
  std::vector<std::optional<std::string>> v(sample.num_rows());
  for (std::size_t r = 0; r < sample.num_rows(); ++r) {
    auto it = test_row.find(sid.to_string(r));
    if (it == test_row.end())
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' is not in the test data",
           sample.source, r + 2, sid.to_string(r));
    auto cls = static_cast<std::size_t>(labels[it->second]);
    v[r] = classes.empty() ? std::to_string(cls) : classes.at(cls);
  }
  Table t;
  t.source = path.string();
  t.add_column(sid);
  const Column* pred = nullptr;
  for (const auto& c : sample.columns())
    if (c.name != id_column) pred = &c;
  if (pred->type == DType::kString) {
    t.add_column(Column::from_strings(pred->name, v));
  } else {
    // A numeric sample column: the labels as numbers (whole numbers as integers).
    std::vector<double> num(v.size());
    bool whole = true;
    for (std::size_t r = 0; r < v.size(); ++r) {
      char* end = nullptr;
      num[r] = std::strtod(v[r]->c_str(), &end);
      if (v[r]->empty() || *end != '\0')
        fail(ErrorCode::kInvalidArgument,
             "{}: column '{}' is numeric but class label '{}' is not a number", sample.source,
             pred->name, *v[r]);
      whole = whole && num[r] == std::floor(num[r]) && std::abs(num[r]) < 9e15;
    }
    if (whole) {
      std::vector<std::int64_t> ints(num.begin(), num.end());
      t.add_column(Column::from_i64(pred->name, std::move(ints)));
    } else {
      t.add_column(Column::from_f64(pred->name, std::move(num)));
    }
  }
  score::validate_against_sample(sample, t);
  write_csv(t, path);
}

}  // namespace compe::run
