// What a rerun needs before it trains: the run's own folds (include/compe/run.hpp).
#include <filesystem>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/run.hpp"

namespace compe::run {

std::optional<std::string> restore_run_folds(const Workspace& w, const Run& r) {
  if (!std::filesystem::exists(w.folds_path()) || r.folds_hash.empty()) return std::nullopt;
  Table train = w.read_train();
  auto fa = read_folds(w.folds_path(), train, w.config().id_column);
  if (fa.hash == r.folds_hash) return std::nullopt;
  const nlohmann::json::json_pointer where("/competition/folds/strategy");
  if (!r.config.contains(where))
    fail(ErrorCode::kInvalidArgument,
         "folds.csv changed since run {} (hash {} now, {} then) and its record does not say how its folds "
         "were made: restore that folds.csv first",
         r.id, fa.hash, r.folds_hash);
  FoldsRecord fr = FoldsRecord::from_json(r.config["competition"]["folds"], "the run's competition.folds");
  FoldAssignment again = make_folds(train, w.config(), fr.folds);
  if (again.hash != r.folds_hash)
    fail(ErrorCode::kInvalidArgument,
         "folds.csv changed since run {} (hash {} now, {} then), and remaking its folds ({} k={} seed={}) "
         "gives {}: restore that folds.csv first",
         r.id, fa.hash, r.folds_hash, fr.folds.spec.strategy, fr.folds.spec.k, fr.folds.spec.seed, again.hash);
  write_folds(w.folds_path(), again);
  write_folds_record(w.folds_path(), {fr.folds, again.hash});
  return fmt::format("folds.csv was remade as the run's folds ({} k={} seed={}, hash {})", fr.folds.spec.strategy,
                     fr.folds.spec.k, fr.folds.spec.seed, again.hash);
}

}  // namespace compe::run
