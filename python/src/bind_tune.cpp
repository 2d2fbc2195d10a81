// The tuner's ask/tell interface: a Study over a store, and its trials.
#include <memory>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace {

/// A study with the store it lives in (the C++ Study keeps a reference to it).
struct StudyHandle {
  std::unique_ptr<Store> store;
  std::unique_ptr<tune::Study> study;
};

tune::Settings settings_of(const py::handle& obj) {
  tune::Settings s;
  nlohmann::json j = to_json(obj);
  if (j.is_null()) return s;
  if (!j.is_object()) fail(ErrorCode::kInvalidArgument, "sampler/pruner options must be a dict, got {}", j.dump());
  for (auto& [k, v] : j.items()) s[k] = v;
  return s;
}

py::dict frozen_dict(const tune::FrozenTrial& t) {
  py::dict d;
  d["number"] = t.number;
  d["state"] = std::string(trial_state_name(t.state));
  d["value"] = t.value;
  d["params_internal"] = t.params;
  d["intermediate"] = t.intermediate;
  d["error"] = t.error;
  return d;
}

}  // namespace

void bind_tune(py::module_& m) {
  m.def("samplers", [] {
    py::list out;
    for (const auto& s : tune::builtin_samplers())
      out.append(py::dict("name"_a = s.name, "aliases"_a = s.aliases, "summary"_a = s.summary,
                          "settings"_a = s.settings));
    return out;
  });
  m.def("pruners", [] {
    py::list out;
    for (const auto& s : tune::builtin_pruners())
      out.append(py::dict("name"_a = s.name, "aliases"_a = s.aliases, "summary"_a = s.summary,
                          "settings"_a = s.settings));
    return out;
  });

  py::class_<tune::Trial>(m, "Trial")
      .def_property_readonly("number", &tune::Trial::number)
      .def_property_readonly("params", [](const tune::Trial& t) { return to_python(t.params()); })
      .def("suggest_float", &tune::Trial::suggest_float, "name"_a, "low"_a, "high"_a, "log"_a = false,
           "step"_a = py::none())
      .def("suggest_int", &tune::Trial::suggest_int, "name"_a, "low"_a, "high"_a, "log"_a = false,
           "step"_a = 1)
      .def("suggest_categorical", [](tune::Trial& t, const std::string& name, const py::list& choices) {
        std::vector<nlohmann::json> c;
        for (auto item : choices) c.push_back(to_json(item));
        return to_python(t.suggest_categorical(name, c));
      }, "name"_a, "choices"_a)
      .def("report", &tune::Trial::report, "value"_a, "step"_a)
      .def("should_prune", &tune::Trial::should_prune, py::call_guard<py::gil_scoped_release>());

  py::class_<StudyHandle>(m, "Study")
      .def(py::init([](const std::string& store, const std::string& name, const std::string& direction,
                       const py::object& space, const std::string& sampler, const py::object& sampler_options,
                       const std::string& pruner, const py::object& pruner_options, std::uint64_t seed,
                       bool load_if_exists) {
        tune::StudyOptions o;
        o.name = name;
        o.direction = tune::parse_direction(direction);
        o.space = tune::SearchSpace::from_json(to_json(space));
        o.sampler = sampler;
        o.sampler_settings = settings_of(sampler_options);
        o.pruner = pruner;
        o.pruner_settings = settings_of(pruner_options);
        o.seed = seed;
        o.load_if_exists = load_if_exists;
        auto h = std::make_unique<StudyHandle>();
        py::gil_scoped_release release;
        h->store = open_store(store);
        h->study = std::make_unique<tune::Study>(*h->store, std::move(o));
        return h;
      }), "store"_a, "name"_a, "direction"_a, "space"_a, "sampler"_a = "tpe", "sampler_options"_a = py::none(),
           "pruner"_a = "none", "pruner_options"_a = py::none(), "seed"_a = 0, "load_if_exists"_a = true)
      .def_property_readonly("name", [](const StudyHandle& h) { return h.study->name(); })
      .def_property_readonly("direction", [](const StudyHandle& h) {
        return std::string(tune::direction_name(h.study->direction()));
      })
      .def_property_readonly("space", [](const StudyHandle& h) { return to_python(h.study->space().to_json()); })
      .def("ask", [](StudyHandle& h) {
        py::gil_scoped_release release;
        return h.study->ask();
      }, py::keep_alive<0, 1>())
      .def("tell", [](StudyHandle& h, const tune::Trial& t, double value) {
        py::gil_scoped_release release;
        h.study->tell(t, value);
      }, "trial"_a, "value"_a)
      .def("tell_pruned", [](StudyHandle& h, const tune::Trial& t) {
        py::gil_scoped_release release;
        h.study->tell_pruned(t);
      }, "trial"_a)
      .def("tell_failed", [](StudyHandle& h, const tune::Trial& t, const std::string& error) {
        py::gil_scoped_release release;
        h.study->tell_failed(t, error);
      }, "trial"_a, "error"_a)
      .def("exhausted", [](StudyHandle& h) { return h.study->exhausted(); })
      .def("trials", [](StudyHandle& h) {
        std::vector<tune::FrozenTrial> ts;
        {
          py::gil_scoped_release release;
          ts = h.study->trials();
        }
        py::list out;
        for (const auto& t : ts) out.append(frozen_dict(t));
        return out;
      })
      .def("stored_trials", [](StudyHandle& h) {
        std::vector<compe::Trial> ts;
        {
          py::gil_scoped_release release;
          ts = h.store->list_trials(h.study->name());
        }
        py::list out;
        for (const auto& t : ts)
          out.append(py::dict("number"_a = t.number, "state"_a = std::string(trial_state_name(t.state)),
                              "params"_a = to_python(t.params), "values"_a = t.values,
                              "intermediate"_a = t.intermediate, "error"_a = t.error));
        return out;
      })
      .def("best_trial", [](StudyHandle& h) -> py::object {
        auto b = h.study->best_trial();
        if (!b) return py::none();
        return frozen_dict(*b);
      })
      .def("importance", [](StudyHandle& h) {
        auto ts = h.study->trials();
        return tune::parameter_importance(h.study->space(), ts);
      });
}

}  // namespace compe::python
