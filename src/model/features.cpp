#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/profile.hpp"
#include "compe/util.hpp"

namespace compe::model {

namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
constexpr std::size_t kMaxUnseenExamples = 5;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void require_in_train(const Table& train, const std::vector<std::string>& names,
                      std::string_view what) {
  for (const auto& n : names) {
    if (!train.has(n)) {
      auto known = train.column_names();
      auto close = closest_match(n, known);
      fail(ErrorCode::kNotFound, "features.{}: column {} is not in the train table {}{}", what,
           quote(n), quote(train.source, 1000), close.empty() ? "" : " (did you mean '" + close + "'?)");
    }
  }
}

// Encodes one categorical column of train and test into codes of the train levels.
void encode_categorical(const Column& tr, const Column& te, FeatureInfo& info,
                        std::vector<float>& train_out, std::vector<float>& test_out,
                        std::size_t f, std::size_t nf, FeatureReport& report) {
  UnseenLevels unseen;
  unseen.feature = info.name;
  if (tr.type == DType::kString) {
    // Levels actually present in train rows, sorted by bytes.
    std::vector<char> used(tr.dict.size(), 0);
    for (auto c : tr.codes)
      if (c >= 0) used[static_cast<std::size_t>(c)] = 1;
    std::vector<std::string> levels;
    for (std::size_t i = 0; i < tr.dict.size(); ++i)
      if (used[i]) levels.push_back(tr.dict[i]);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    std::unordered_map<std::string_view, float> index;
    for (std::size_t i = 0; i < levels.size(); ++i) index.emplace(levels[i], static_cast<float>(i));
    std::vector<float> train_map(tr.dict.size(), kMissing);
    for (std::size_t i = 0; i < tr.dict.size(); ++i)
      if (used[i]) train_map[i] = index.at(tr.dict[i]);
    for (std::size_t r = 0; r < tr.codes.size(); ++r)
      train_out[r * nf + f] = tr.codes[r] < 0 ? kMissing : train_map[static_cast<std::size_t>(tr.codes[r])];
    std::vector<float> test_map(te.dict.size(), kMissing);
    for (std::size_t i = 0; i < te.dict.size(); ++i) {
      auto it = index.find(te.dict[i]);
      if (it != index.end()) test_map[i] = it->second;
    }
    std::vector<char> reported(te.dict.size(), 0);
    for (std::size_t r = 0; r < te.codes.size(); ++r) {
      auto c = te.codes[r];
      float v = c < 0 ? kMissing : test_map[static_cast<std::size_t>(c)];
      if (c >= 0 && std::isnan(v)) {
        ++unseen.rows;
        auto ci = static_cast<std::size_t>(c);
        if (!reported[ci] && unseen.examples.size() < kMaxUnseenExamples) {
          reported[ci] = 1;
          unseen.examples.push_back(te.dict[ci]);
        }
      }
      test_out[r * nf + f] = v;
    }
    info.levels = std::move(levels);
  } else {
    std::set<double> seen;
    for (std::size_t r = 0; r < tr.size(); ++r)
      if (!tr.is_missing(r)) seen.insert(tr.as_double(r));
    std::vector<double> levels(seen.begin(), seen.end());
    auto code_of = [&](double v) -> float {
      auto it = std::lower_bound(levels.begin(), levels.end(), v);
      if (it == levels.end() || *it != v) return kMissing;
      return static_cast<float>(it - levels.begin());
    };
    for (std::size_t r = 0; r < tr.size(); ++r)
      train_out[r * nf + f] = tr.is_missing(r) ? kMissing : code_of(tr.as_double(r));
    std::set<double> reported;
    for (std::size_t r = 0; r < te.size(); ++r) {
      if (te.is_missing(r)) {
        test_out[r * nf + f] = kMissing;
        continue;
      }
      double v = te.as_double(r);
      float code = code_of(v);
      if (std::isnan(code)) {
        ++unseen.rows;
        if (reported.insert(v).second && unseen.examples.size() < kMaxUnseenExamples)
          unseen.examples.push_back(format_double(v));
      }
      test_out[r * nf + f] = code;
    }
    for (double v : levels) info.levels.push_back(format_double(v));
  }
  info.num_categories = info.levels.size();
  if (unseen.rows > 0) report.unseen.push_back(std::move(unseen));
}

void encode_numeric(const Column& c, std::vector<float>& out, std::size_t f, std::size_t nf) {
  if (c.type == DType::kFloat64) {
    for (std::size_t r = 0; r < c.f64.size(); ++r) out[r * nf + f] = static_cast<float>(c.f64[r]);
  } else {
    for (std::size_t r = 0; r < c.i64.size(); ++r)
      out[r * nf + f] = c.is_missing(r) ? kMissing : static_cast<float>(c.i64[r]);
  }
}

}  // namespace

std::string_view feature_kind_name(FeatureKind k) {
  return k == FeatureKind::kCategorical ? "categorical" : "numeric";
}

std::string FeatureReport::to_string() const {
  std::string out;
  for (const auto& l : left_out)
    out += fmt::format("left out column '{}' ({}): name it in [features] keep to use it\n", l.column, l.reason);
  for (const auto& l : count_encoded)
    out += fmt::format("column '{}' ({}): count-encoded within each training fold\n", l.column, l.reason);
  for (const auto& l : target_encoded)
    out += fmt::format("column '{}' ({}): target-encoded within each training fold\n", l.column, l.reason);
  for (const auto& u : unseen) {
    out += fmt::format(
        "feature {}: {} test row{} {} levels not seen in train (treated as missing): {}\n",
        quote(u.feature), u.rows, u.rows == 1 ? "" : "s", u.rows == 1 ? "has" : "have",
        join(u.examples));
  }
  return out;
}

std::vector<std::string> FeatureMatrix::feature_names() const {
  std::vector<std::string> names;
  names.reserve(features_.size());
  for (const auto& f : features_) names.push_back(f.name);
  return names;
}

bool FeatureMatrix::has_categorical() const {
  return std::any_of(features_.begin(), features_.end(), [](const FeatureInfo& f) {
    return f.kind == FeatureKind::kCategorical && !f.fold_encoded();
  });
}

bool FeatureMatrix::has_fold_encoding() const {
  return std::any_of(features_.begin(), features_.end(), [](const FeatureInfo& f) { return f.fold_encoded(); });
}

std::vector<double> target_encoding(std::span<const float> codes, std::span<const double> y, std::size_t levels) {
  COMPE_ASSERT(codes.size() == y.size());
  double mean = 0;
  for (double v : y) mean += v;
  mean /= std::max<double>(1.0, static_cast<double>(y.size()));
  double var = 0;
  for (double v : y) var += (v - mean) * (v - mean);
  var /= std::max<double>(1.0, static_cast<double>(y.size()));
  std::vector<double> sum(levels, 0.0), count(levels, 0.0), ss(levels, 0.0);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (std::isnan(codes[i])) continue;
    const auto c = static_cast<std::size_t>(codes[i]);
    sum[c] += y[i];
    count[c] += 1;
  }
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (std::isnan(codes[i])) continue;
    const auto c = static_cast<std::size_t>(codes[i]);
    const double d = y[i] - sum[c] / count[c];
    ss[c] += d * d;
  }
  std::vector<double> out(levels, mean);
  for (std::size_t c = 0; c < levels; ++c) {
    if (count[c] == 0) continue;
    const double denom = var * count[c] + ss[c] / count[c];
    if (!(denom > 0)) continue;
    const double lambda = var * count[c] / denom;
    out[c] = lambda * sum[c] / count[c] + (1 - lambda) * mean;
  }
  return out;
}

namespace {

// Target-encodes feature f of `out` (the train matrix, or the test matrix when `test`): see
// FeatureMatrix::fold_values.
void encode_target_column(std::span<const float> train, std::size_t nf, std::size_t f, std::size_t levels,
                          std::span<const std::size_t> fit_rows, const Target& target, bool test,
                          std::vector<float>& out) {
  auto code_at = [&](std::size_t r) { return train[r * nf + f]; };
  auto encode = [&](std::span<const std::size_t> rows) {
    std::vector<float> codes(rows.size());
    std::vector<double> y(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      codes[i] = code_at(rows[i]);
      y[i] = target.y[rows[i]];
    }
    return target_encoding(codes, y, levels);
  };
  const std::vector<double> all = encode(fit_rows);
  const std::size_t rows = out.size() / nf;
  for (std::size_t r = 0; r < rows; ++r) {
    float& v = out[r * nf + f];
    if (!std::isnan(v)) v = static_cast<float>(all[static_cast<std::size_t>(v)]);
  }
  if (test) return;
  for (std::size_t k = 0; k < kTargetEncodingFolds; ++k) {
    std::vector<std::size_t> rest, own;
    for (std::size_t i = 0; i < fit_rows.size(); ++i) (i % kTargetEncodingFolds == k ? own : rest).push_back(fit_rows[i]);
    if (own.empty()) continue;
    const std::vector<double> enc = encode(rest);
    for (auto r : own) {
      const float c = code_at(r);
      if (!std::isnan(c)) out[r * nf + f] = static_cast<float>(enc[static_cast<std::size_t>(c)]);
    }
  }
}

}  // namespace

std::vector<float> FeatureMatrix::fold_values(std::span<const std::size_t> fit_rows, bool test,
                                              const Target& target) const {
  std::vector<float> out(test ? test_ : train_);
  const std::size_t nf = features_.size();
  const std::size_t rows = test ? num_test_ : num_train_;
  for (std::size_t f = 0; f < nf; ++f) {
    if (features_[f].target_encoded) {
      encode_target_column(train_, nf, f, features_[f].num_categories, fit_rows, target, test, out);
      continue;
    }
    if (!features_[f].count_encoded) continue;
    std::vector<float> count(features_[f].num_categories, 0.0F);
    for (auto r : fit_rows) {
      float code = train_[r * nf + f];
      if (!std::isnan(code)) count[static_cast<std::size_t>(code)] += 1.0F;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      float& v = out[r * nf + f];
      if (!std::isnan(v)) v = count[static_cast<std::size_t>(v)];
    }
  }
  return out;
}

FeatureMatrix FeatureMatrix::build(const Table& train, const Table& test, const FeatureSpec& spec) {
  require_in_train(train, spec.keep, "keep");
  require_in_train(train, spec.drop, "drop");
  require_in_train(train, spec.categorical, "categorical");

  std::vector<std::string> names;
  if (!spec.keep.empty()) {
    for (const auto& n : spec.keep) {
      if (contains(names, n)) fail(ErrorCode::kInvalidArgument, "features.keep: column {} is listed twice", quote(n));
      names.push_back(n);
    }
  } else {
    for (const auto& c : train.columns()) {
      if (c.name == spec.id_column || contains(spec.target_columns, c.name)) continue;
      names.push_back(c.name);
    }
  }
  std::erase_if(names, [&](const std::string& n) { return contains(spec.drop, n); });
  if (spec.encoding != "count" && spec.encoding != "target")
    fail(ErrorCode::kInvalidArgument, "features.encoding is {}, expected \"count\" or \"target\"", quote(spec.encoding));
  require_in_train(train, spec.target_encoded, "target_encoding");
  FeatureReport selection;
  std::vector<std::string> count_names, target_names;
  if (spec.keep.empty() && spec.auto_select) {
    std::vector<std::string> skip;
    for (const auto& c : train.columns())
      if (!contains(names, c.name)) skip.push_back(c.name);
    Profile prof = profile_columns(train, skip, false);
    std::vector<std::string> kept;
    for (const auto& n : names) {
      const ColumnProfile* p = prof.find(n);
      if (p && (p->id_like || p->free_text) && !contains(spec.categorical, n) && !contains(spec.target_encoded, n)) {
        selection.left_out.push_back({n, fmt::format("{}: {}", p->id_like ? "id-like" : "free text",
                                                     p->reason)});
      } else {
        kept.push_back(n);
        if (p && p->high_cardinality && !contains(spec.target_encoded, n)) {
          if (spec.encoding == "target") {
            target_names.push_back(n);
            selection.target_encoded.push_back({n, p->reason});
          } else {
            count_names.push_back(n);
            selection.count_encoded.push_back({n, p->reason});
          }
        }
      }
    }
    if (kept.empty()) {  // nothing else to learn from: use them after all
      selection = FeatureReport{};
      count_names.clear();
      target_names.clear();
    } else {
      names = std::move(kept);
    }
  }
  if (names.empty())
    fail(ErrorCode::kInvalidArgument,
         "no feature columns remain in {} after removing the id, target and dropped columns",
         quote(train.source, 1000));
  for (const auto& n : spec.categorical) {
    if (!contains(names, n))
      fail(ErrorCode::kInvalidArgument,
           "features.categorical: column {} is not a feature (it is the id, a target or dropped)", quote(n));
  }
  for (const auto& n : spec.target_encoded) {
    if (!contains(names, n))
      fail(ErrorCode::kInvalidArgument,
           "features.target_encoding: column {} is not a feature (it is the id, a target, dropped or left out)",
           quote(n));
    if (!contains(target_names, n)) {
      target_names.push_back(n);
      selection.target_encoded.push_back({n, "named in features.target_encoding"});
    }
  }

  static std::atomic<std::uint64_t> next_id{1};
  FeatureMatrix m;
  m.id_ = next_id.fetch_add(1);
  m.num_train_ = train.num_rows();
  m.num_test_ = test.num_rows();
  const std::size_t nf = names.size();
  m.train_.assign(m.num_train_ * nf, kMissing);
  m.test_.assign(m.num_test_ * nf, kMissing);

  // Checks first, so an error names the first bad column rather than whichever thread failed.
  std::vector<const Column*> tr_cols(nf), te_cols(nf);
  for (std::size_t f = 0; f < nf; ++f) {
    tr_cols[f] = &train.column(names[f]);
    auto te_index = test.find(names[f]);
    if (!te_index)
      fail(ErrorCode::kInvalidArgument, "test table {} lacks the feature column {} found in train {}",
           quote(test.source, 1000), quote(names[f]), quote(train.source, 1000));
    te_cols[f] = &test.column(*te_index);
    if ((tr_cols[f]->type == DType::kString) != (te_cols[f]->type == DType::kString))
      fail(ErrorCode::kInvalidArgument,
           "feature column {} is {} in train {} but {} in test {}: expected the same kind",
           quote(names[f]), dtype_name(tr_cols[f]->type), quote(train.source, 1000), dtype_name(te_cols[f]->type),
           quote(test.source, 1000));
  }
  m.features_.resize(nf);
  std::vector<FeatureReport> reports(nf);
  // Columns are independent: each thread fills its own columns of the row-major matrices.
  parallel_for(nf, 0, [&](std::size_t begin, std::size_t end) {
    for (std::size_t f = begin; f < end; ++f) {
      FeatureInfo& info = m.features_[f];
      info.name = names[f];
      bool categorical = tr_cols[f]->type == DType::kString || contains(spec.categorical, names[f]) ||
                         contains(target_names, names[f]);
      if (categorical) {
        info.kind = FeatureKind::kCategorical;
        encode_categorical(*tr_cols[f], *te_cols[f], info, m.train_, m.test_, f, nf, reports[f]);
      } else {
        encode_numeric(*tr_cols[f], m.train_, f, nf);
        encode_numeric(*te_cols[f], m.test_, f, nf);
      }
    }
  });
  for (auto& info : m.features_) {
    info.count_encoded = info.kind == FeatureKind::kCategorical && contains(count_names, info.name);
    info.target_encoded = info.kind == FeatureKind::kCategorical && contains(target_names, info.name);
  }
  m.report_.left_out = std::move(selection.left_out);
  m.report_.count_encoded = std::move(selection.count_encoded);
  m.report_.target_encoded = std::move(selection.target_encoded);
  for (auto& r : reports)
    for (auto& u : r.unseen)
      if (!contains(count_names, u.feature) && !contains(target_names, u.feature)) m.report_.unseen.push_back(std::move(u));
  return m;
}

}  // namespace compe::model
