#pragma once
/// One lookup for every family of named rows (metrics, splitters, model backends, blend methods,
/// fusion methods, samplers and pruners).
///
/// Rules, the same for every family:
///  - a name matches a row's `name` or one of its `aliases` ignoring ASCII case ("ROC_AUC" finds
///    roc_auc); rows spell their names in lowercase;
///  - an unknown name throws Error(kNotFound): "unknown <what> '<name>' (did you mean '<row>'?);
///    known: <names>", where the suggestion is the row whose name or alias is closest by edit
///    distance (shown as the row's name) and is left out when nothing is reasonably close;
///  - a spec is "name" or "name@arg": split_spec() cuts it at the first '@'.
/// A Row is any struct with `std::string name`, optionally `std::vector<std::string> aliases`.
/// Registries are immutable after construction and safe to read from many threads.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe {

/// A "name@arg" spec cut at the first '@': arg is absent without '@' (and empty after a
/// trailing '@').
struct NameSpec {
  std::string_view name;
  std::optional<std::string_view> arg;
};
NameSpec split_spec(std::string_view spec);

/// ASCII lowercase copy of `s` (the registries' case rule).
std::string ascii_lower(std::string_view s);

/// Whether a and b are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

template <typename Row>
class Registry {
 public:
  /// `what` names the family in messages ("metric", "fusion method").
  Registry(std::string what, std::vector<Row> rows) : what_(std::move(what)), rows_(std::move(rows)) {}

  std::span<const Row> rows() const { return rows_; }

  /// The row named `name` (or one of its aliases), nullptr when none.
  const Row* lookup(std::string_view name) const {
    for (const Row& row : rows_) {
      if (iequals(row.name, name)) return &row;
      if constexpr (requires { row.aliases; }) {
        for (const auto& a : row.aliases)
          if (iequals(a, name)) return &row;
      }
    }
    return nullptr;
  }

  /// The row for `name`; throws Error(kNotFound) as described above.
  const Row& find(std::string_view name) const {
    if (const Row* row = lookup(name)) return *row;
    const std::string close = suggestion(name);
    fail(ErrorCode::kNotFound, "unknown {} '{}'{}; known: {}", what_, clip(name),
         close.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", close),
         join(names()));
  }

  /// Row names in table order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(rows_.size());
    for (const Row& row : rows_) out.push_back(row.name);
    return out;
  }

  /// The name of the row whose name or alias is closest to `name`, or "" when none is close.
  std::string suggestion(std::string_view name) const {
    std::vector<std::string> all;
    for (const Row& row : rows_) {
      all.push_back(row.name);
      if constexpr (requires { row.aliases; }) all.insert(all.end(), row.aliases.begin(), row.aliases.end());
    }
    const std::string close = closest_match(ascii_lower(name), all);
    if (close.empty()) return close;
    return lookup(close)->name;
  }

  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::vector<Row> rows_;
};

}  // namespace compe
