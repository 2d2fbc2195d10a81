// compe.pseudo(): the core's make_set / run_rounds, converted; nothing else.
#include "compe/pseudo_run.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "convert.hpp"

namespace compe::python {

using namespace pybind11::literals;

void bind_pseudo(py::module_& m) {
  m.def("pseudo",
        [](const std::string& workspace, const std::string& source_run, const std::string& output,
           std::optional<double> threshold, const std::map<std::string, double>& class_threshold,
           std::optional<std::size_t> top_k, std::optional<double> top_share, double max_share, bool soft,
           std::optional<double> max_spread, const std::string& strategy, double weight, std::size_t rounds,
           std::size_t pretrain_rounds, bool leaky_fold_average, const std::string& experiment,
           const std::string& store) {
          pseudo::MakeOptions o;
          o.rule.threshold = threshold;
          for (const auto& [k, v] : class_threshold) o.class_thresholds.emplace_back(k, v);
          o.rule.top_k = top_k;
          o.rule.top_share = top_share;
          o.rule.max_share = max_share;
          o.rule.soft = soft;
          o.rule.max_spread = max_spread;
          o.rule.source = leaky_fold_average ? pseudo::Source::kFoldAverage : pseudo::Source::kPerFold;
          o.strategy = pseudo::parse_strategy(strategy);
          o.weight = weight;
          o.rounds = rounds;
          o.pretrain_rounds = pretrain_rounds;
          o.store = store;
          if (!experiment.empty()) {
            o.base_experiment = read_file(experiment);
            o.base_display = experiment;
          }
          nlohmann::json out;
          {
            py::gil_scoped_release release;
            Workspace ws = Workspace::open(workspace);
            if (rounds <= 1) {
              pseudo::Made made = pseudo::make_set(ws, o, source_run);
              write_file_atomic(output, made.experiment_toml);
              out = {{"source_run", made.source_run}, {"set", made.config.set}, {"sha256", made.sha256},
                     {"experiment", output}, {"rows_per_fold", made.rows_per_fold},
                     {"pseudo", made.config.to_json()}};
            } else {
              out = {{"experiment", output}, {"rounds", nlohmann::json::array()}};
              pseudo::run_rounds(ws, o, source_run, output, [&](const pseudo::RoundResult& r) {
                out["rounds"].push_back({{"round", r.made.config.round}, {"source_run", r.made.source_run},
                                         {"run_id", r.run_id}, {"cv", r.cv ? nlohmann::json(*r.cv) : nlohmann::json()},
                                         {"rows_per_fold", r.made.rows_per_fold}});
              });
            }
          }
          return to_python(out);
        },
        "workspace"_a, "source_run"_a, "output"_a, "threshold"_a = py::none(),
        "class_threshold"_a = std::map<std::string, double>{}, "top_k"_a = py::none(), "top_share"_a = py::none(),
        "max_share"_a = 1.0, "soft"_a = false, "max_spread"_a = py::none(), "strategy"_a = "concat",
        "weight"_a = 1.0, "rounds"_a = 1, "pretrain_rounds"_a = 100, "leaky_fold_average"_a = false,
        "experiment"_a = "", "store"_a = "");
}

}  // namespace compe::python
