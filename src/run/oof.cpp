// The OOF exchange: a workspace's reference, members validated against it, the meta.json sidecar.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "compe/artifacts.hpp"
#include "compe/oof.hpp"
#include "compe/image_run.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/folds.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kShown = 5;

/// "'a', 'b', 'c' (and 7 more)"
std::string first_ids(const std::vector<std::string>& ids) {
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < ids.size() && i < kShown; ++i) shown.push_back("'" + ids[i] + "'");
  std::string s = join(shown);
  if (ids.size() > kShown) s += fmt::format(" (and {} more)", ids.size() - kShown);
  return s;
}

/// Maps each row of `ids` (a member's file) to the reference row with the same id text. Rows of
/// the reference never matched, ids not in the reference and duplicates are errors.
std::vector<std::size_t> align_ids(const Column& ref_ids, const Column& ids,
                                   const std::string& what, const std::string& source) {
  std::unordered_map<std::string, std::size_t> ref_row;
  ref_row.reserve(ref_ids.size() * 2);
  for (std::size_t r = 0; r < ref_ids.size(); ++r) ref_row.emplace(ref_ids.to_string(r), r);
  std::vector<std::size_t> to_ref(ids.size());
  std::vector<std::uint8_t> seen(ref_ids.size(), 0);
  std::vector<std::string> extra, dup;
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::string id = ids.to_string(r);
    auto it = ref_row.find(id);
    if (it == ref_row.end()) {
      extra.push_back(id);
      continue;
    }
    if (seen[it->second]++) dup.push_back(id);
    to_ref[r] = it->second;
  }
  if (!extra.empty())
    fail(ErrorCode::kInvalidArgument, "{}: {} id(s) not among the {} ids: {}", source, extra.size(),
         what, first_ids(extra));
  if (!dup.empty())
    fail(ErrorCode::kInvalidArgument, "{}: {} duplicate id(s): {}", source, dup.size(),
         first_ids(dup));
  std::vector<std::string> missing;
  for (std::size_t r = 0; r < ref_ids.size(); ++r)
    if (!seen[r]) missing.push_back(ref_ids.to_string(r));
  if (!missing.empty())
    fail(ErrorCode::kInvalidArgument, "{}: {} of the {} ids missing: {}", source, missing.size(),
         what, first_ids(missing));
  return to_ref;
}

/// Column index in `t` of each reference prediction column (any order in the file).
std::vector<std::size_t> match_columns(const Reference& ref, const Table& t,
                                       const std::vector<std::string>& skip,
                                       const std::string& source) {
  std::vector<std::string> have;
  for (const auto& c : t.columns())
    if (std::find(skip.begin(), skip.end(), c.name) == skip.end()) have.push_back(c.name);
  std::vector<std::string> missing, extra;
  for (const auto& c : ref.prediction_columns)
    if (std::find(have.begin(), have.end(), c) == have.end()) missing.push_back(c);
  for (const auto& c : have)
    if (std::find(ref.prediction_columns.begin(), ref.prediction_columns.end(), c) ==
        ref.prediction_columns.end())
      extra.push_back(c);
  if (!missing.empty() || !extra.empty())
    fail(ErrorCode::kInvalidArgument,
         "{}: prediction columns [{}] do not match the competition's [{}] (missing: [{}], "
         "unexpected: [{}])",
         source, join(have), join(ref.prediction_columns), join(missing), join(extra));
  std::vector<std::size_t> idx;
  for (const auto& c : ref.prediction_columns) idx.push_back(*t.find(c));
  return idx;
}

/// Copies prediction columns into an aligned row-major matrix, checking values.
std::vector<double> gather(const Reference& ref, const Table& t,
                           const std::vector<std::size_t>& col_idx, const Column& ids,
                           const std::vector<std::size_t>& to_ref, std::size_t ref_rows,
                           const std::string& source) {
  const std::size_t cols = col_idx.size();
  const bool proba = ref.task == metric::kBinary || ref.task == metric::kMulticlass ||
                     ref.task == metric::kMultilabel;
  std::vector<double> out(ref_rows * cols, 0.0);
  for (std::size_t j = 0; j < cols; ++j) {
    const Column& c = t.column(col_idx[j]);
    require_numeric(c, source, &ids);
    std::vector<std::string> bad, out_of_range;
    for (std::size_t r = 0; r < c.size(); ++r) {
      double v = c.as_double(r);
      if (!std::isfinite(v)) {
        bad.push_back(ids.to_string(r));
        continue;
      }
      if (proba && (v < 0.0 || v > 1.0)) out_of_range.push_back(ids.to_string(r));
      out[to_ref[r] * cols + j] = v;
    }
    if (!bad.empty())
      fail(ErrorCode::kInvalidArgument,
           "{}: column {}: {} missing, NaN or infinite value(s) at ids {}", source, quote(c.name),
           bad.size(), first_ids(bad));
    if (!out_of_range.empty())
      fail(ErrorCode::kInvalidArgument,
           "{}: column {}: {} probabilit(ies) outside [0, 1] at ids {}", source, quote(c.name),
           out_of_range.size(), first_ids(out_of_range));
  }
  return out;
}

}  // namespace

int Reference::num_folds() const {
  int k = 0;
  for (int f : folds) k = std::max(k, f + 1);
  return k;
}

Reference make_reference(const CompetitionConfig& cfg, const Table& train, const Table& test,
                         const Table& sample, const FoldAssignment& fa,
                         const model::Target& target) {
  const Column& target_col = train.column(cfg.target_columns.at(0));
  const std::size_t tc = target.task == metric::kMultilabel ? target.num_class : 1;
  Reference ref;
  ref.true_cols = tc;
  ref.task = cfg.task;
  ref.metric = cfg.metric;
  ref.id_column = cfg.id_column;
  ref.folds_hash = fa.hash;
  ref.classes = target.classes;
  ref.prediction_columns = prediction_columns(sample, cfg.id_column, target);
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < fa.folds.size(); ++r)
    if (fa.folds[r] >= 0) {
      rows.push_back(r);
      ref.folds.push_back(fa.folds[r]);
      if (tc > 1)
        ref.y_true.insert(ref.y_true.end(), target.y.begin() + static_cast<std::ptrdiff_t>(r * tc),
                          target.y.begin() + static_cast<std::ptrdiff_t>((r + 1) * tc));
      else
        ref.y_true.push_back(cfg.task == metric::kRegression ? target_col.as_double(r) : target.y[r]);
    }
  ref.train_ids = train.column(cfg.id_column).take(rows);
  ref.test_ids = test.column(cfg.id_column);
  return ref;
}

std::vector<std::size_t> Reference::rows_of(int fold) const {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < folds.size(); ++r)
    if (folds[r] == fold) rows.push_back(r);
  return rows;
}

Reference reference_from_workspace(const Workspace& ws, bool make_missing_folds) {
  const CompetitionConfig& cfg = ws.config();
  if (make_missing_folds && !fs::exists(ws.folds_path()))
    write_folds(ws.folds_path(), make_folds(ws.read_train(), cfg, cfg.folds));
  if (!fs::exists(ws.folds_path()))
    fail(ErrorCode::kNotFound, "{}: no folds.csv: run `compe folds` or `compe run` first",
         ws.folds_path().string());
  Table train = ws.read_train();
  Table test = ws.read_test();
  Table sample = ws.read_sample_submission();
  FoldAssignment fa = read_folds(ws.folds_path(), train, cfg.id_column);
  if (is_image_task(cfg.task)) return image_reference(ws, train, test, fa);
  model::Target target;
  if (cfg.task == metric::kMultilabel) {
    std::vector<const Column*> label_cols;
    for (const auto& t : cfg.target_columns) label_cols.push_back(&train.column(t));
    target = model::Target::encode_multilabel(label_cols);
  } else {
    if (cfg.target_columns.size() != 1)
      fail(ErrorCode::kInvalidArgument, "blending needs one target column; this competition has {}",
           cfg.target_columns.size());
    target = model::Target::encode(train.column(cfg.target_columns[0]), cfg.task, model::TargetTransform::kNone);
  }
  return make_reference(cfg, train, test, sample, fa, target);
}

double score_rows(const Reference& ref, std::span<const double> pred,
                  std::span<const std::size_t> rows) {
  const std::size_t cols = ref.cols(), tc = ref.true_cols;
  if (rows.empty())
    return metric::score(ref.metric, {.y_true = ref.y_true, .true_cols = tc, .y_pred = pred, .pred_cols = cols});
  std::vector<double> yt(rows.size() * tc), yp(rows.size() * cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(ref.y_true.begin() + static_cast<std::ptrdiff_t>(rows[i] * tc), tc,
                yt.begin() + static_cast<std::ptrdiff_t>(i * tc));
    std::copy_n(pred.begin() + static_cast<std::ptrdiff_t>(rows[i] * cols), cols,
                yp.begin() + static_cast<std::ptrdiff_t>(i * cols));
  }
  return metric::score(ref.metric, {.y_true = yt, .true_cols = tc, .y_pred = yp, .pred_cols = cols});
}

Member make_member(const Reference& ref, std::string name, const Table& oof, const Table& test,
                   const nlohmann::json& meta, const LoadOptions& options) {
  Member m;
  m.name = std::move(name);
  m.source = oof.source;
  if (meta.is_object()) m.meta = meta;
  // Folds: the sidecar's hash first (one clear message), then row by row.
  if (!options.allow_different_folds && m.meta.contains("folds_hash") &&
      m.meta["folds_hash"].is_string() && m.meta["folds_hash"].get<std::string>() != ref.folds_hash)
    fail(
        ErrorCode::kInvalidArgument,
        "{}: made on other folds: folds hash {} in its meta.json, the workspace's folds.csv has {}",
        m.name, m.meta["folds_hash"].get<std::string>(), ref.folds_hash);
  const Column& ids = oof.column(ref.id_column);
  const Column& fold = oof.column("fold");
  std::vector<std::size_t> to_ref = align_ids(ref.train_ids, ids, "validated train", oof.source);
  require_numeric(fold, oof.source, &ids);
  if (!options.allow_different_folds) {
    std::vector<std::string> bad;
    std::string first;
    for (std::size_t r = 0; r < fold.size(); ++r) {
      double f = fold.is_missing(r) ? NAN : fold.as_double(r);
      int want = ref.folds[to_ref[r]];
      if (!(f == static_cast<double>(want))) {
        if (bad.empty())
          first = fmt::format("id {} has fold {}, folds.csv says {}", quote(ids.to_string(r)),
                              fold.to_string(r), want);
        bad.push_back(ids.to_string(r));
      }
    }
    if (!bad.empty())
      fail(ErrorCode::kInvalidArgument, "{}: {} row(s) on other folds than folds.csv ({}): ids {}",
           oof.source, bad.size(), first, first_ids(bad));
  }
  std::vector<std::size_t> oof_cols = match_columns(ref, oof, {ref.id_column, "fold"}, oof.source);
  m.oof = gather(ref, oof, oof_cols, ids, to_ref, ref.rows(), oof.source);
  m.folds = ref.folds;
  for (std::size_t r = 0; r < fold.size(); ++r) {
    double f = fold.is_missing(r) ? NAN : fold.as_double(r);
    if (!(f >= 0 && f == std::floor(f) && f < 1e6))
      fail(ErrorCode::kInvalidArgument, "{}: id {}: fold {} is not a fold number (0, 1, ...)",
           oof.source, quote(ids.to_string(r)), quote(fold.to_string(r)));
    m.folds[to_ref[r]] = static_cast<int>(f);
  }

  const Column& tids = test.column(ref.id_column);
  std::vector<std::size_t> to_test = align_ids(ref.test_ids, tids, "test", test.source);
  std::vector<std::size_t> test_cols = match_columns(ref, test, {ref.id_column}, test.source);
  m.test = gather(ref, test, test_cols, tids, to_test, ref.test_ids.size(), test.source);
  return m;
}

Member load_member(const Reference& ref, std::string name, const fs::path& dir,
                   const LoadOptions& options) {
  fs::path oof_path = dir / "oof.csv", test_path = dir / "test.csv", meta_path = dir / "meta.json";
  if (!fs::exists(oof_path))
    fail(ErrorCode::kNotFound, "{}: no oof.csv: out-of-fold predictions are needed to blend",
         oof_path.string());
  if (!fs::exists(test_path))
    fail(ErrorCode::kNotFound,
         "{}: no test.csv: a member without test predictions cannot be blended",
         test_path.string());
  nlohmann::json meta = nullptr;
  if (fs::exists(meta_path)) meta = Meta::read(meta_path).to_json();
  CsvReadOptions id_text;
  id_text.dtypes[ref.id_column] = ref.train_ids.type;
  Table oof = read_csv(oof_path, id_text);
  Table test = read_csv(test_path, id_text);
  return make_member(ref, std::move(name), oof, test, meta, options);
}

// ---- meta.json ----

namespace {

const char* json_type(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::binary: return "binary data";
    case nlohmann::json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

/// Typed reads of an optional field: absent or null leaves `out` alone; another type is an
/// error naming the file and the JSON path.
struct MetaReader {
  const nlohmann::json& j;
  std::string_view display;

  [[noreturn]] void wrong(const std::string& path, const nlohmann::json& v, const char* want) const {
    fail(ErrorCode::kParse, "{}: {}: expected {}, got {}{}", display, path, want, json_type(v),
         v.is_string() ? fmt::format(" {}", quote(v.get<std::string>())) : std::string());
  }
  const nlohmann::json* at(const char* key) const {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  void str(const char* key, std::string& out) const {
    if (const auto* v = at(key)) {
      if (!v->is_string()) wrong(fmt::format("/{}", key), *v, "a string");
      out = v->get<std::string>();
    }
  }
  void strs(const char* key, std::vector<std::string>& out) const {
    const auto* v = at(key);
    if (!v) return;
    if (v->is_string()) {  // one target column may be written as a plain string
      out = {v->get<std::string>()};
      return;
    }
    if (!v->is_array()) wrong(fmt::format("/{}", key), *v, "an array of strings");
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) wrong(fmt::format("/{}/{}", key, i), (*v)[i], "a string");
      out.push_back((*v)[i].get<std::string>());
    }
  }
  static std::optional<double> number(const nlohmann::json* v, const std::string& path,
                                      const MetaReader& self) {
    if (!v) return std::nullopt;
    if (!v->is_number()) self.wrong(path, *v, "a number");
    return v->get<double>();
  }
};

}  // namespace

nlohmann::json Meta::to_json() const {
  nlohmann::json folds = nlohmann::json::object();
  for (const auto& [f, s] : fold_scores) folds[std::to_string(f)] = s;
  auto num = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  nlohmann::json cvj = {{"score", num(cv)}, {"folds", folds}, {"mean", num(fold_mean)},
                        {"std", num(fold_std)}};
  for (const auto& [k, v] : cv_details.items()) cvj[k] = v;
  nlohmann::json j = {{"format_version", format_version},
                      {"competition", competition},
                      {"task", task},
                      {"metric", metric},
                      {"id", id},
                      {"target", target},
                      {"prediction_columns", prediction_columns},
                      {"folds_hash", folds_hash},
                      {"data_hash", data_hash},
                      {"target_transform", target_transform},
                      {"producer", producer},
                      {"run_id", run_id},
                      {"kind", kind},
                      {"partial", partial},
                      {"test_folds", test_folds.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(test_folds)},
                      {"cv", cvj}};
  for (const auto& [k, v] : extra.items())
    if (!j.contains(k)) j[k] = v;
  return j;
}

Meta Meta::from_json(const nlohmann::json& j, std::string_view display) {
  if (!j.is_object())
    fail(ErrorCode::kParse,
         "{}: holds {}, expected a JSON object (the OOF sidecar: {{\"format_version\": 1, "
         "\"folds_hash\": ..., ...}}; docs/FORMATS.md)",
         display, json_type(j));
  MetaReader rd{j, display};
  Meta m;
  if (const auto* v = rd.at("format_version")) {
    if (!v->is_number_integer()) rd.wrong("/format_version", *v, "an integer");
    m.format_version = v->get<int>();
    if (m.format_version != 1)
      fail(ErrorCode::kParse, "{}: /format_version: {} is not supported, expected 1", display,
           m.format_version);
  }
  rd.str("competition", m.competition);
  rd.str("task", m.task);
  rd.str("metric", m.metric);
  rd.str("id", m.id);
  rd.strs("target", m.target);
  rd.strs("prediction_columns", m.prediction_columns);
  rd.str("folds_hash", m.folds_hash);
  rd.str("data_hash", m.data_hash);
  rd.str("target_transform", m.target_transform);
  rd.str("producer", m.producer);
  rd.str("run_id", m.run_id);
  rd.str("kind", m.kind);
  rd.str("test_folds", m.test_folds);
  if (const auto* v = rd.at("partial")) {
    if (!v->is_boolean()) rd.wrong("/partial", *v, "true or false");
    m.partial = v->get<bool>();
  }
  if (const auto* v = rd.at("cv")) {
    if (v->is_number()) {  // a bare score
      m.cv = v->get<double>();
    } else {
      if (!v->is_object()) rd.wrong("/cv", *v, "an object or a number");
      for (const auto& [k, x] : v->items()) {
        const std::string path = "/cv/" + k;
        if (k == "score" || k == "mean" || k == "std") {
          auto val = MetaReader::number(x.is_null() ? nullptr : &x, path, rd);
          (k == "score" ? m.cv : k == "mean" ? m.fold_mean : m.fold_std) = val;
        } else if (k == "folds") {
          if (x.is_null()) continue;
          if (!x.is_object()) rd.wrong(path, x, "an object of fold scores");
          for (const auto& [f, s] : x.items()) {
            char* end = nullptr;
            long fold = std::strtol(f.c_str(), &end, 10);
            if (f.empty() || *end != '\0' || fold < 0 || fold > 1000000)
              fail(ErrorCode::kParse, "{}: {}: key '{}' is not a fold number", display, path, f);
            if (s.is_null()) continue;
            if (!s.is_number()) rd.wrong(path + "/" + f, s, "a number or null");
            m.fold_scores[static_cast<int>(fold)] = s.get<double>();
          }
        } else {
          m.cv_details[k] = x;
        }
      }
    }
  }
  static const char* kKnown[] = {"format_version", "competition", "task", "metric", "id",
                                 "target", "prediction_columns", "folds_hash", "data_hash",
                                 "target_transform", "producer", "run_id", "kind", "partial",
                                 "test_folds", "cv"};
  for (const auto& [k, v] : j.items())
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) m.extra[k] = v;
  return m;
}

Meta Meta::read(const fs::path& path) {
  return from_json(read_json_file(path), path.string());
}

}  // namespace compe::run
