// Conversions shared by the binding files: numpy arrays, JSON documents and compe errors.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace compe::python {

namespace py = pybind11;

/// C-contiguous float64 arrays; the pure-Python layer converts and checks before calling.
using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using I32Array = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

inline std::span<const double> span_of(const F64Array& a) {
  return {a.data(), static_cast<std::size_t>(a.size())};
}
inline std::span<const std::int64_t> span_of(const I64Array& a) {
  return {a.data(), static_cast<std::size_t>(a.size())};
}

/// Columns of a 1-D (one column) or 2-D array.
inline std::size_t cols_of(const py::array& a) {
  return a.ndim() == 2 ? static_cast<std::size_t>(a.shape(1)) : 1;
}

/// A numpy array that owns `values` (moved into a capsule: no copy).
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values, std::vector<py::ssize_t> shape = {}) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (shape.empty()) shape = {static_cast<py::ssize_t>(owned->size())};
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

inline py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

inline nlohmann::json to_json(const py::handle& obj) {
  if (obj.is_none()) return nullptr;
  std::string text = py::str(py::module_::import("json").attr("dumps")(obj));
  return nlohmann::json::parse(text);
}

void register_errors(py::module_& m);
void bind_table(py::module_& m);
void bind_metric_split(py::module_& m);
void bind_track(py::module_& m);
void bind_tune(py::module_& m);
void bind_blend_detect(py::module_& m);
void bind_detect_shake(py::module_& m);
void bind_pseudo(py::module_& m);

}  // namespace compe::python
