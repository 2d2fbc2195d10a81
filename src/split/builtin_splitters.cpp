// The table of built-in splitters. Each row: name, aliases, summary, traits, splitter function.
// One test (tests/unit/split/test_split.cpp, SplitRegistry.*) loops over every row.

#include <array>

#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/util.hpp"
#include "split/splitters.hpp"

namespace compe::split {

namespace {

struct Row {
  Info info;
  detail::SplitFn fn;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> table = [] {
    std::vector<Row> t;
    auto add = [&](Info info, detail::SplitFn fn) { t.push_back({std::move(info), fn}); };
    Info i;

    i = {};
    i.name = "kfold";
    i.aliases = {"kf"};
    i.summary = "contiguous blocks of rows, shuffled first when shuffle=true (sklearn KFold)";
    i.uses_shuffle = true;
    add(i, detail::kfold);

    i = {};
    i.name = "stratified_kfold";
    i.aliases = {"skf", "stratified"};
    i.summary = "class proportions kept in every fold; a continuous target is cut into `bins` "
                "quantile bins (sklearn StratifiedKFold)";
    i.needs_target = true;
    i.uses_shuffle = true;
    add(i, detail::stratified_kfold);

    i = {};
    i.name = "group_kfold";
    i.aliases = {"gkf", "group"};
    i.summary = "no group in two folds; largest group to the lightest fold (sklearn GroupKFold)";
    i.needs_groups = true;
    i.uses_groups = true;
    i.uses_shuffle = true;
    add(i, detail::group_kfold);

    i = {};
    i.name = "stratified_group_kfold";
    i.aliases = {"sgkf"};
    i.summary = "no group in two folds, class proportions balanced greedily "
                "(sklearn StratifiedGroupKFold)";
    i.needs_target = true;
    i.needs_groups = true;
    i.uses_groups = true;
    i.uses_shuffle = true;
    add(i, detail::stratified_group_kfold);

    i = {};
    i.name = "timeseries";
    i.aliases = {"time_series", "tss"};
    i.summary = "expanding window over time order with an optional gap; groups given are purged "
                "from training when they reach into validation (sklearn TimeSeriesSplit)";
    i.uses_groups = true;
    i.validates_all = false;
    add(i, detail::timeseries);

    i = {};
    i.name = "multilabel_stratified_kfold";
    i.aliases = {"mskf", "multilabel_stratified"};
    i.summary = "iterative stratification of a 0/1 label matrix (Sechidis et al. 2011)";
    i.needs_target = true;
    i.multilabel = true;
    i.uses_shuffle = true;
    add(i, detail::multilabel_stratified_kfold);

    i = {};
    i.name = "multilabel_stratified_group_kfold";
    i.aliases = {"msgkf"};
    i.summary = "iterative stratification of a 0/1 label matrix over groups; no group in two folds";
    i.needs_target = true;
    i.needs_groups = true;
    i.multilabel = true;
    i.uses_groups = true;
    i.uses_shuffle = true;
    add(i, detail::multilabel_stratified_group_kfold);
    return t;
  }();
  return table;
}

const Registry<Info>& registry() {
  static const Registry<Info> r("splitter", [] {
    std::vector<Info> out;
    for (const Row& row : rows()) out.push_back(row.info);
    return out;
  }());
  return r;
}

}  // namespace

std::span<const Info> builtin() { return registry().rows(); }

const Info& find(std::string_view name) { return registry().find(name); }

namespace detail {

SplitFn splitter_of(const Info& info) {
  for (const Row& r : rows()) {
    if (r.info.name == info.name) return r.fn;
  }
  COMPE_ASSERT(false);
  return nullptr;
}

}  // namespace detail

}  // namespace compe::split
