// Feature importance over a run's fold models, written as importance.csv (docs/FORMATS.md).
#include <algorithm>
#include <cmath>
#include <optional>
#include <fstream>
#include <sstream>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace compe::run {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void Importance::add(const model::FoldResult& result, double score, bool greater_is_better) {
  std::lock_guard lock(mu_);
  double total = 0;
  for (const auto& [name, g] : result.importance) total += std::abs(g);
  if (total > 0) {
    for (const auto& [name, g] : result.importance) gain_[name] += std::abs(g) / total;
    ++models_with_gain_;
  }
  for (const auto& [name, scores] : result.permuted_scores)
    for (double permuted : scores) drops_[name].push_back(greater_is_better ? score - permuted : permuted - score);
}

bool Importance::empty() const {
  std::lock_guard lock(mu_);
  return models_with_gain_ == 0 && drops_.empty();
}

void Importance::write(const std::filesystem::path& file, const std::vector<std::string>& features) const {
  std::lock_guard lock(mu_);
  struct Row {
    std::string feature;
    std::optional<double> gain, mean, sd;
  };
  std::vector<Row> rows;
  for (const auto& f : features) {
    Row r{f, {}, {}, {}};
    if (models_with_gain_ > 0) {
      auto it = gain_.find(f);
      r.gain = it == gain_.end() ? 0.0 : it->second / static_cast<double>(models_with_gain_);
    }
    if (auto it = drops_.find(f); it != drops_.end() && !it->second.empty()) {
      const auto& d = it->second;
      double m = 0;
      for (double v : d) m += v;
      m /= static_cast<double>(d.size());
      double var = 0;
      for (double v : d) var += (v - m) * (v - m);
      r.mean = m;
      r.sd = d.size() > 1 ? std::sqrt(var / static_cast<double>(d.size() - 1)) : 0.0;
    }
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.mean && b.mean && *a.mean != *b.mean) return *a.mean > *b.mean;
    return a.gain.value_or(0) > b.gain.value_or(0);
  });
  auto cell = [](const std::optional<double>& v) { return v ? format_double(*v) : std::string(); };
  std::ostringstream out;
  out << "feature,gain,permutation_mean,permutation_std\n";
  for (const auto& r : rows) out << csv_field(r.feature) << ',' << cell(r.gain) << ',' << cell(r.mean) << ',' << cell(r.sd) << '\n';
  write_file_atomic(file, out.str());
}

namespace {

std::optional<std::string> artifact_text(Store& store, const std::string& run_id, const std::string& name) {
  for (const auto& a : store.list_artifacts(run_id)) {
    if (a.name != name || !a.stored) continue;
    std::string text;
    store.read_artifact(run_id, name, [&](std::string_view chunk) { text.append(chunk); });
    return text;
  }
  return std::nullopt;
}

nlohmann::json importance_rows(const std::string& text) {
  Table t = read_csv_string(text, "importance.csv",
                            CsvReadOptions{.dtypes = {{"feature", DType::kString}, {"gain", DType::kFloat64},
                                                      {"permutation_mean", DType::kFloat64},
                                                      {"permutation_std", DType::kFloat64}}});
  nlohmann::json rows = nlohmann::json::array();
  const Column& feature = t.column("feature");
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    nlohmann::json row = {{"feature", feature.is_missing(r) ? std::string() : std::string(feature.str(r))}};
    for (const char* c : {"gain", "permutation_mean", "permutation_std"}) {
      const Column& col = t.column(c);
      row[c] = col.is_missing(r) ? nlohmann::json(nullptr) : nlohmann::json(col.as_double(r));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

nlohmann::json run_details(Store& store, const std::string& run_id) {
  nlohmann::json out = {{"importance", nullptr}, {"seeds", nullptr}};
  if (auto text = artifact_text(store, run_id, "importance")) out["importance"] = importance_rows(*text);
  if (auto text = artifact_text(store, run_id, "meta")) {
    auto meta = nlohmann::json::parse(*text, nullptr, false);
    if (meta.is_object() && meta.contains("cv") && meta["cv"].is_object() && meta["cv"].contains("seeds"))
      out["seeds"] = meta["cv"]["seeds"];
  }
  return out;
}

}  // namespace compe::run
