// GET /api/diversity: the core of `compe blend analyze` for the dashboard's heatmap.
#include "server/api_blend.hpp"

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/workspace.hpp"

namespace compe::server {

nlohmann::json diversity_json(Store& store, const std::filesystem::path& workspace_root,
                              const std::string& ids, const std::string& method) {
  std::vector<std::string> runs;
  for (std::size_t start = 0; start <= ids.size();) {
    std::size_t comma = ids.find(',', start);
    std::string id = ids.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!id.empty()) {
      // Run ids only: a path here would let a request read any folder of the machine.
      for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
          fail(ErrorCode::kInvalidArgument,
               "query parameter ids: {} is not a run id (letters, digits, - and _)", quote(id));
      runs.push_back(store.resolve_run_id(id));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (runs.size() < 2)
    fail(ErrorCode::kInvalidArgument,
         "query parameter ids={}: expected two or more run ids separated by commas", quote(ids));
  if (runs.size() > 20)
    fail(ErrorCode::kInvalidArgument, "query parameter ids: {} runs given; analyse at most 20",
         runs.size());
  const std::string m = method.empty() ? "weights" : method;
  (void)blend::find(m);
  Workspace ws = Workspace::open(workspace_root);
  blend::RunOptions ro;
  ro.store = store.url();
  blend::OofSet set = blend::load_set(ws, runs, ro);
  blend::Analysis a = blend::analyze(set, m);
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t i = 0; i < set.members.size(); ++i)
    members.push_back({{"id", set.members[i].name},
                       {"name", set.members[i].label},
                       {"cv", a.scores[i]},
                       {"marginal_gain", a.marginal_gain[i]}});
  return {{"members", members},
          {"metric", set.ref.metric},
          {"greater_is_better", metric::make(set.ref.metric)->info().greater_is_better()},
          {"order", a.order},
          {"pearson", a.pearson},
          {"spearman", a.spearman},
          {"error_pearson", a.error_pearson},
          {"error_spearman", a.error_spearman},
          {"method", a.method},
          {"blend_score", a.all_score}};
}

}  // namespace compe::server
