// The `_compe` extension: thin bindings over the C++ core. Conversion, GIL release and error
// translation live here; convenience lives in the pure-Python package `compe`.
#include <Python.h>

#include "compe/error.hpp"
#include "convert.hpp"

namespace compe::python {
namespace {

struct ErrorClass {
  ErrorCode code;
  const char* name;
  PyObject* builtin;
  PyObject* type = nullptr;
};

// One Python class per error code, each deriving from compe.Error and the builtin a Python
// caller would catch for that kind of failure.
ErrorClass g_classes[] = {
    {ErrorCode::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError},
    {ErrorCode::kNotFound, "NotFoundError", PyExc_LookupError},
    {ErrorCode::kParse, "ParseError", PyExc_ValueError},
    {ErrorCode::kIo, "IoError", PyExc_OSError},
    {ErrorCode::kBackend, "BackendError", PyExc_RuntimeError},
    {ErrorCode::kStorage, "StorageError", PyExc_OSError},
    {ErrorCode::kInternal, "InternalError", PyExc_RuntimeError},
};
PyObject* g_error = nullptr;

}  // namespace

void register_errors(py::module_& m) {
  g_error = PyErr_NewExceptionWithDoc("compe.Error", "Base class of every error compe raises.",
                                      PyExc_Exception, nullptr);
  if (!g_error) throw py::error_already_set();
  m.add_object("Error", py::handle(g_error));
  for (auto& c : g_classes) {
    py::tuple bases = py::make_tuple(py::handle(g_error), py::handle(c.builtin));
    std::string qualified = std::string("compe.") + c.name;
    c.type = PyErr_NewException(qualified.c_str(), bases.ptr(), nullptr);
    if (!c.type) throw py::error_already_set();
    py::handle(c.type).attr("code") = py::str(std::string(error_code_name(c.code)));
    m.add_object(c.name, py::handle(c.type));
  }
  py::handle(g_error).attr("code") = py::str("error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      for (auto& c : g_classes)
        if (c.code == e.code()) {
          PyErr_SetString(c.type, escape_controls(e.what()).c_str());
          return;
        }
      PyErr_SetString(g_error, escape_controls(e.what()).c_str());
    }
  });
}

}  // namespace compe::python

PYBIND11_MODULE(_compe, m) {
  m.doc() = "compe's C++ core (use the `compe` package rather than this module)";
  m.attr("__version__") = COMPE_VERSION;
  compe::python::register_errors(m);
  compe::python::bind_table(m);
  compe::python::bind_metric_split(m);
  compe::python::bind_track(m);
  compe::python::bind_tune(m);
  compe::python::bind_blend_detect(m);
  compe::python::bind_pseudo(m);
  compe::python::bind_detect_shake(m);
}
