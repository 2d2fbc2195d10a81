// Loading and validating members of an OofSet against a workspace's reference.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "compe/artifacts.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/folds.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::blend {
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
  const bool proba = ref.task == metric::kBinary || ref.task == metric::kMulticlass;
  std::vector<double> out(ref_rows * cols, 0.0);
  for (std::size_t j = 0; j < cols; ++j) {
    const Column& c = t.column(col_idx[j]);
    if (c.type == DType::kString)
      fail(ErrorCode::kInvalidArgument,
           "{}: column {} holds text, expected numbers (first row: id {})", source, quote(c.name),
           quote(ids.size() ? ids.to_string(0) : ""));
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

Reference reference_from_workspace(const Workspace& ws) {
  const CompetitionConfig& cfg = ws.config();
  if (!fs::exists(ws.folds_path()))
    fail(ErrorCode::kNotFound, "{}: no folds.csv: run `compe folds` or `compe run` first",
         ws.folds_path().string());
  Table train = ws.read_train();
  Table test = ws.read_test();
  Table sample = ws.read_sample_submission();
  if (cfg.target_columns.size() != 1)
    fail(ErrorCode::kInvalidArgument, "blending needs one target column; this competition has {}",
         cfg.target_columns.size());
  FoldAssignment fa = read_folds(ws.folds_path(), train, cfg.id_column);
  const Column& target_col = train.column(cfg.target_columns[0]);
  model::Target target = model::Target::encode(target_col, cfg.task, model::TargetTransform::kNone);
  Reference ref;
  ref.task = cfg.task;
  ref.metric = cfg.metric;
  ref.id_column = cfg.id_column;
  ref.folds_hash = fa.hash;
  ref.classes = target.classes;
  ref.prediction_columns = run::prediction_columns(sample, cfg.id_column, target);
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < fa.folds.size(); ++r)
    if (fa.folds[r] >= 0) {
      rows.push_back(r);
      ref.folds.push_back(fa.folds[r]);
      ref.y_true.push_back(cfg.task == metric::kRegression ? target_col.as_double(r) : target.y[r]);
    }
  ref.train_ids = train.column(cfg.id_column).take(rows);
  ref.test_ids = test.column(cfg.id_column);
  return ref;
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

nlohmann::json read_oof_meta(const fs::path& path) {
  nlohmann::json doc = read_json_file(path);
  const JsonAt meta(doc, path.string());
  meta.object();
  // Every documented key that is present has its documented type (docs/FORMATS.md); other keys
  // are kept as they are.
  if (auto v = meta.find("format_version")) v->integer();
  for (const char* key : {"competition", "task", "metric", "id", "folds_hash", "data_hash",
                          "target_transform", "producer", "run_id"})
    if (auto v = meta.find(key)) v->string();
  for (const char* key : {"target", "prediction_columns"})
    if (auto v = meta.find(key)) v->strings();
  if (auto cv = meta.find("cv")) {
    cv->object();
    for (const char* key : {"score", "mean", "std"})
      if (auto v = cv->find(key)) v->number_or_null();
    if (auto folds = cv->find("folds")) {
      folds->object();
      for (auto it = folds->value().begin(); it != folds->value().end(); ++it)
        folds->at(it.key()).number_or_null();
    }
  }
  return doc;
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
  if (fs::exists(meta_path)) meta = read_oof_meta(meta_path);
  CsvReadOptions id_text;
  id_text.dtypes[ref.id_column] = ref.train_ids.type;
  Table oof = read_csv(oof_path, id_text);
  Table test = read_csv(test_path, id_text);
  return make_member(ref, std::move(name), oof, test, meta, options);
}

}  // namespace compe::blend
