// Multilabel targets trained as one binary model per label column (fit_per_label, backends.hpp).
#include <algorithm>
#include <mutex>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"

namespace compe::model {

namespace {

// Early stopping of each label on the binary counterpart of the competition's metric.
std::string label_metric(std::string_view spec) {
  std::string_view name = spec.substr(0, spec.find('@'));
  if (name == "multilabel_auc" || name == "mean_columnwise_auc") return "roc_auc";
  return "log_loss";
}

}  // namespace

FoldResult fit_per_label(const FoldData& data, const ProgressCallback& progress, const LabelFit& fit_label) {
  const Target& target = *data.target;
  COMPE_ASSERT(target.task == Task::kMultilabel);
  const std::size_t k = target.num_class;
  const std::size_t threads = resolve_threads(data.threads);
  const std::size_t at_once = std::clamp<std::size_t>(threads, 1, k);
  const std::size_t per_label = std::max<std::size_t>(1, threads / at_once);

  std::vector<FoldResult> results(k);
  std::mutex progress_mutex;
  parallel_for(k, at_once, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      const Target binary = target.label(j);
      FoldData d = data;
      d.target = &binary;
      d.metric = label_metric(data.metric);
      d.evaluator = nullptr;
      d.threads = per_label;
      d.metrics_file.clear();
      ProgressCallback label_progress;
      if (progress)
        label_progress = [&, j](const Progress& p) {
          std::lock_guard lock(progress_mutex);
          Progress q = p;
          q.message = fmt::format("{}: {}", target.columns[j], p.message);
          progress(q);
        };
      results[j] = fit_label(d, label_progress, j);
      COMPE_ASSERT(results[j].cols == 1);
    }
  });

  FoldResult out;
  out.cols = k;
  const std::size_t n_valid = data.valid_rows.size();
  const std::size_t n_test = results[0].test_pred.size();
  out.valid_pred.assign(n_valid * k, 0.0);
  out.test_pred.assign(n_test * k, 0.0);
  out.early_stopping = results[0].early_stopping;
  out.inner_rows = results[0].inner_rows;
  for (std::size_t j = 0; j < k; ++j) {
    FoldResult& r = results[j];
    COMPE_ASSERT(r.valid_pred.size() == n_valid && r.test_pred.size() == n_test);
    for (std::size_t i = 0; i < n_valid; ++i) out.valid_pred[i * k + j] = r.valid_pred[i];
    for (std::size_t i = 0; i < n_test; ++i) out.test_pred[i * k + j] = r.test_pred[i];
    out.best_iteration = std::max(out.best_iteration, r.best_iteration);
    out.num_iterations = std::max(out.num_iterations, r.num_iterations);
    for (const auto& [name, gain] : r.importance) out.importance[name] += gain;
    for (auto& c : r.curves) {
      c.metric = target.columns[j] + ":" + c.metric;
      out.curves.push_back(std::move(c));
    }
    for (const auto& note : r.notes) out.notes.push_back(fmt::format("label {}: {}", quote(target.columns[j]), note));
    out.optimistic = out.optimistic || r.optimistic;
  }
  return out;
}

}  // namespace compe::model
