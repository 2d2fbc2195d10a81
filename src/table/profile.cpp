#include "compe/profile.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/core.h>

#include "compe/util.hpp"

namespace compe {

namespace {

bool skipped(std::span<const std::string> skip, const std::string& name) {
  return std::find(skip.begin(), skip.end(), name) != skip.end();
}

// Strictly increasing or strictly decreasing over every row (no missing).
bool monotone(const Column& c) {
  const std::size_t n = c.size();
  if (n < 2) return false;
  bool up = true, down = true;
  for (std::size_t r = 0; r < n && (up || down); ++r) {
    if (c.is_missing(r)) return false;
    if (r == 0) continue;
    double a = c.as_double(r - 1), b = c.as_double(r);
    up = up && b > a;
    down = down && b < a;
  }
  return up || down;
}

bool same_values(const Column& a, const Column& b, std::size_t rows) {
  const bool text = a.type == DType::kString || b.type == DType::kString;
  for (std::size_t r = 0; r < rows; ++r) {
    bool ma = a.is_missing(r), mb = b.is_missing(r);
    if (ma != mb) return false;
    if (ma) continue;
    if (text) {
      if (a.type != b.type) return false;
      if (a.str(r) != b.str(r)) return false;
    } else if (a.as_double(r) != b.as_double(r)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const ColumnProfile* Profile::find(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

ColumnProfile profile_column(const Column& c, const ProfileOptions& o) {
  ColumnProfile p;
  p.name = c.name;
  p.type = c.type;
  p.rows = c.size();
  for (std::size_t r = 0; r < p.rows; ++r) p.missing += c.is_missing(r) ? 1 : 0;
  const std::size_t present = p.rows - p.missing;
  double mean_length = 0, mean_spaces = 0;
  if (c.type == DType::kString) {
    std::vector<std::size_t> count(c.dict.size(), 0);
    for (auto code : c.codes)
      if (code >= 0) ++count[static_cast<std::size_t>(code)];
    for (std::size_t i = 0; i < count.size(); ++i) {
      if (count[i] == 0) continue;
      ++p.distinct;
      mean_length += static_cast<double>(count[i] * c.dict[i].size());
      mean_spaces += static_cast<double>(count[i] * static_cast<std::size_t>(
                                                        std::count(c.dict[i].begin(), c.dict[i].end(), ' ')));
    }
    if (present > 0) {
      mean_length /= static_cast<double>(present);
      mean_spaces /= static_cast<double>(present);
    }
  } else {
    std::vector<double> v;
    v.reserve(present);
    for (std::size_t r = 0; r < p.rows; ++r)
      if (!c.is_missing(r)) v.push_back(c.as_double(r));
    std::sort(v.begin(), v.end());
    p.distinct = static_cast<std::size_t>(std::unique(v.begin(), v.end()) - v.begin());
  }

  p.constant = p.distinct <= 1;
  if (p.constant) {
    p.reason = p.distinct == 0 ? "every value missing" : fmt::format("one value: {}", c.to_string([&] {
      for (std::size_t r = 0; r < p.rows; ++r)
        if (!c.is_missing(r)) return r;
      return std::size_t{0};
    }()));
    return p;
  }
  if (p.rows < o.min_rows) return p;
  const bool unique = p.missing == 0 && p.distinct == p.rows;
  if (c.type == DType::kString) {
    double ratio = static_cast<double>(p.distinct) / static_cast<double>(present);
    if (ratio >= o.free_text_distinct && (mean_length >= o.free_text_length || mean_spaces >= 2)) {
      p.free_text = true;
      p.reason = fmt::format("{:.0f}% distinct, {:.0f} characters on average", 100 * ratio, mean_length);
      return p;
    }
  }
  if (unique && c.type != DType::kFloat64) {
    p.id_like = true;
    p.reason = "a different value on every row";
    return p;
  }
  if (c.type != DType::kString && monotone(c)) {
    p.id_like = true;
    p.reason = "strictly monotone with row order";
    return p;
  }
  if (c.type == DType::kString && p.distinct >= o.high_cardinality) {
    p.high_cardinality = true;
    p.reason = fmt::format("{} levels", p.distinct);
  }
  return p;
}

std::vector<std::string> profile_notes(const Profile& profile) {
  std::vector<std::string> out;
  for (const auto& c : profile.columns) {
    if (c.id_like)
      out.push_back(fmt::format("column '{}': id-like ({}): the default baseline leaves it out", c.name, c.reason));
    else if (c.free_text)
      out.push_back(fmt::format("column '{}': free text ({}): the default baseline leaves it out", c.name, c.reason));
    else if (c.high_cardinality)
      out.push_back(fmt::format("column '{}': high cardinality ({}): the default baseline count-encodes it within each training fold",
                                c.name, c.reason));
    else if (c.constant)
      out.push_back(fmt::format("column '{}': constant ({})", c.name, c.reason));
  }
  for (const auto& r : profile.relations) {
    if (r.exact)
      out.push_back(fmt::format("column '{}' duplicates '{}'", r.column, r.other));
    else
      out.push_back(fmt::format("column '{}' nearly duplicates '{}' (r = {:.4f}: proportional or shifted)", r.column,
                                r.other, r.r));
  }
  return out;
}

Profile profile_columns(const Table& train, std::span<const std::string> skip, bool relations,
                        const ProfileOptions& o) {
  Profile out;
  std::vector<const Column*> cols;
  for (const auto& c : train.columns()) {
    if (skipped(skip, c.name)) continue;
    cols.push_back(&c);
    out.columns.emplace_back();
  }
  parallel_for(cols.size(), 0, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out.columns[i] = profile_column(*cols[i], o);
  });
  if (!relations) return out;

  const std::size_t rows = std::min(train.num_rows(), o.pair_rows);
  const std::size_t ncols = std::min(cols.size(), o.pair_columns);
  std::vector<char> repeated(ncols, 0);
  // Exact copies: same distinct count first, then every row.
  for (std::size_t j = 0; j < ncols; ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (repeated[i] || out.columns[i].distinct != out.columns[j].distinct) continue;
      if (same_values(*cols[i], *cols[j], train.num_rows())) {
        out.relations.push_back({cols[j]->name, cols[i]->name, true, 1.0});
        repeated[j] = 1;
        break;
      }
    }
  }
  // Near copies among numeric columns: |r| over the rows where both are present.
  std::vector<std::size_t> numeric;
  for (std::size_t j = 0; j < ncols; ++j)
    if (cols[j]->type != DType::kString && !out.columns[j].constant && !repeated[j]) numeric.push_back(j);
  std::vector<std::vector<double>> x(numeric.size(), std::vector<double>(rows));
  for (std::size_t a = 0; a < numeric.size(); ++a)
    for (std::size_t r = 0; r < rows; ++r) x[a][r] = cols[numeric[a]]->as_double(r);
  std::vector<char> near(numeric.size(), 0);
  for (std::size_t b = 0; b < numeric.size(); ++b) {
    for (std::size_t a = 0; a < b && !near[b]; ++a) {
      if (near[a]) continue;
      double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, m = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        double u = x[a][r], v = x[b][r];
        if (std::isnan(u) || std::isnan(v)) continue;
        m += 1;
        sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v;
      }
      if (m < 3) continue;
      double cov = sab - sa * sb / m, va = saa - sa * sa / m, vb = sbb - sb * sb / m;
      if (!(va > 0) || !(vb > 0)) continue;
      double r = cov / std::sqrt(va * vb);
      if (std::fabs(r) >= o.near_duplicate_r) {
        out.relations.push_back({cols[numeric[b]]->name, cols[numeric[a]]->name, false, r});
        near[b] = 1;
      }
    }
  }
  return out;
}

}  // namespace compe
