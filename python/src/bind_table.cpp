// Tables (columns as numpy arrays) and workspaces.
#include <cmath>
#include <limits>
#include <optional>

#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace {

// A read-only view of a column's buffer; `owner` (the Python Table) keeps the buffer alive.
template <typename T>
py::array view_of(const std::vector<T>& values, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(values.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                   values.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

py::object column_array(py::object self, const std::string& name) {
  const Table& t = self.cast<const Table&>();
  const Column& c = t.column(name);
  switch (c.type) {
    case DType::kFloat64:
      return view_of(c.f64, self);
    case DType::kInt64: {
      if (c.missing.empty()) return view_of(c.i64, self);
      std::vector<double> v(c.size());
      for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = c.missing[i] ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(c.i64[i]);
      return to_numpy(std::move(v));
    }
    case DType::kString: {
      py::list dict;
      for (const auto& s : c.dict) dict.append(py::str(s));
      auto np = py::module_::import("numpy");
      py::array out = np.attr("empty")(c.size(), "dtype"_a = "object");
      auto* data = static_cast<PyObject**>(out.mutable_data());
      for (std::size_t i = 0; i < c.size(); ++i) {
        PyObject* v = c.codes[i] < 0 ? Py_None : dict[static_cast<std::size_t>(c.codes[i])].ptr();
        Py_INCREF(v);
        Py_XDECREF(data[i]);
        data[i] = v;
      }
      return out;
    }
  }
  return py::none();
}

}  // namespace

void bind_table(py::module_& m) {

  py::class_<Table>(m, "Table")
      .def(py::init<>())
      .def_property_readonly("num_rows", &Table::num_rows)
      .def_property_readonly("num_columns", &Table::num_columns)
      .def_property_readonly("column_names", &Table::column_names)
      .def_readwrite("source", &Table::source)
      .def("has", &Table::has, "name"_a)
      .def("dtype", [](const Table& t, const std::string& name) {
        return std::string(dtype_name(t.column(name).type));
      }, "name"_a)
      .def("column", &column_array, "name"_a,
           "The column as numpy: a read-only view for float64 and complete int64 columns, a float64 "
           "copy with NaN for int64 columns with missing cells, an object array (None = missing) for "
           "strings.")
      .def("missing", [](const Table& t, const std::string& name) {
        const Column& c = t.column(name);
        std::vector<std::uint8_t> v(c.size());
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = c.is_missing(i) ? 1 : 0;
        return to_numpy(std::move(v)).attr("astype")("bool");
      }, "name"_a)
      .def("codes", [](py::object self, const std::string& name) {
        const Column& c = self.cast<const Table&>().column(name);
        if (c.type != DType::kString)
          fail(ErrorCode::kInvalidArgument, "column '{}' is {}, codes are for string columns", name,
               dtype_name(c.type));
        return py::make_tuple(view_of(c.codes, self), py::cast(c.dict));
      }, "name"_a)
      .def("add_f64", [](Table& t, const std::string& name, const F64Array& a) {
        t.add_column(Column::from_f64(name, std::vector<double>(a.data(), a.data() + a.size())));
      }, "name"_a, "values"_a)
      .def("add_i64", [](Table& t, const std::string& name, const I64Array& a,
                         std::optional<py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>> missing) {
        Column c = Column::from_i64(name, std::vector<std::int64_t>(a.data(), a.data() + a.size()));
        if (missing) {
          if (missing->size() != a.size())
            fail(ErrorCode::kInvalidArgument, "column '{}': {} missing flags for {} values", name,
                 missing->size(), a.size());
          c.missing.assign(missing->data(), missing->data() + missing->size());
        }
        t.add_column(std::move(c));
      }, "name"_a, "values"_a, "missing"_a = py::none())
      .def("add_strings", [](Table& t, const std::string& name,
                             const std::vector<std::optional<std::string>>& values) {
        t.add_column(Column::from_strings(name, values));
      }, "name"_a, "values"_a)
      .def("take", [](const Table& t, const I64Array& rows) {
        std::vector<std::size_t> r(static_cast<std::size_t>(rows.size()));
        for (std::size_t i = 0; i < r.size(); ++i) {
          if (rows.data()[i] < 0 || static_cast<std::size_t>(rows.data()[i]) >= t.num_rows())
            fail(ErrorCode::kInvalidArgument, "take: row {} is outside 0..{}", rows.data()[i],
                 t.num_rows());
          r[i] = static_cast<std::size_t>(rows.data()[i]);
        }
        py::gil_scoped_release release;
        return t.take(r);
      }, "rows"_a)
      .def("to_csv_string", &to_csv_string, py::call_guard<py::gil_scoped_release>());

  m.def("read_csv", [](const std::string& path, const std::map<std::string, std::string>& dtypes,
                       std::int64_t threads) {
    CsvReadOptions o;
    for (auto& [k, v] : dtypes) o.dtypes[k] = parse_dtype(v);
    o.threads = check_threads(threads, "threads");
    py::gil_scoped_release release;
    return read_csv(path, o);
  }, "path"_a, "dtypes"_a = std::map<std::string, std::string>{}, "threads"_a = 0);
  m.def("write_csv", [](const Table& t, const std::string& path) { write_csv(t, path); }, "table"_a,
        "path"_a, py::call_guard<py::gil_scoped_release>());

  py::class_<Workspace>(m, "Workspace")
      .def_static("open", [](const std::string& dir) { return Workspace::open(dir); }, "dir"_a)
      .def_static("discover", [](std::optional<std::string> dir) {
        return Workspace::discover(dir ? std::optional<std::filesystem::path>(*dir) : std::nullopt);
      }, "dir"_a = py::none())
      .def_property_readonly("root", [](const Workspace& w) { return w.root().string(); })
      .def_property_readonly("name", [](const Workspace& w) { return w.config().name; })
      .def_property_readonly("task", [](const Workspace& w) {
        return std::string(metric::task_name(w.config().task));
      })
      .def_property_readonly("metric", [](const Workspace& w) { return w.config().metric; })
      .def_property_readonly("id_column", [](const Workspace& w) { return w.config().id_column; })
      .def_property_readonly("target_columns", [](const Workspace& w) { return w.config().target_columns; })
      .def_property_readonly("train_path", [](const Workspace& w) { return w.resolve(w.config().train).string(); })
      .def_property_readonly("test_path", [](const Workspace& w) { return w.resolve(w.config().test).string(); })
      .def_property_readonly("sample_submission_path", [](const Workspace& w) {
        return w.resolve(w.config().sample_submission).string();
      })
      .def_property_readonly("solution_path", [](const Workspace& w) -> std::optional<std::string> {
        if (!w.config().solution) return std::nullopt;
        return w.resolve(*w.config().solution).string();
      })
      .def_property_readonly("folds_path", [](const Workspace& w) { return w.folds_path().string(); })
      .def_property_readonly("runs_dir", [](const Workspace& w) { return w.runs_dir().string(); })
      .def_property_readonly("store_path", [](const Workspace& w) { return w.store_path().string(); })
      .def_property_readonly("folds_spec", [](const Workspace& w) {
        const FoldsConfig& f = w.config().folds;
        py::dict d;
        d["strategy"] = f.spec.strategy;
        d["k"] = f.spec.k;
        d["shuffle"] = f.spec.shuffle;
        d["seed"] = f.spec.seed;
        d["gap"] = f.spec.gap;
        d["bins"] = f.spec.bins;
        d["group"] = f.group_column;
        d["time"] = f.time_column;
        return d;
      })
      .def("read_train", &Workspace::read_train, py::call_guard<py::gil_scoped_release>())
      .def("read_test", &Workspace::read_test, py::call_guard<py::gil_scoped_release>())
      .def("read_sample_submission", &Workspace::read_sample_submission,
           py::call_guard<py::gil_scoped_release>())
      .def("folds", [](const Workspace& w, bool create) {
        FoldAssignment a;
        {
          py::gil_scoped_release release;
          Table train = w.read_train();
          if (std::filesystem::exists(w.folds_path())) {
            a = read_folds(w.folds_path(), train, w.config().id_column);
          } else {
            if (!create)
              fail(ErrorCode::kNotFound, "{}: no folds.csv yet (run `compe folds`)", w.folds_path().string());
            a = make_folds(train, w.config(), w.config().folds);
            write_folds(w.folds_path(), a);
          }
        }
        std::vector<std::int32_t> folds(a.folds.begin(), a.folds.end());
        return py::make_tuple(py::cast(a.ids), to_numpy(std::move(folds)), a.hash);
      }, "create"_a = true,
           "(ids, folds, hash) of folds.csv in train order; made from compe.toml when missing.");
}

}  // namespace compe::python
