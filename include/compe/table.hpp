#pragma once
/// Columnar tables and the CSV reader/writer.
///
/// A Table is a list of equally long, named Columns. A column holds one type:
///  - kFloat64: values in `f64`; missing is NaN.
///  - kInt64: values in `i64`; missing rows are flagged in `missing` (empty when none is missing).
///  - kString: categorical codes in `codes` (index into `dict`, -1 = missing); `dict` holds the
///    distinct values in first-seen order.
/// Tables are values: copying one copies its data. Not thread-safe for concurrent mutation.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace compe {

enum class DType : std::uint8_t { kFloat64, kInt64, kString };

/// "float64", "int64", "string".
std::string_view dtype_name(DType t);
/// Parses "float64"/"float"/"f64", "int64"/"int"/"i64", "string"/"str"/"category". Throws kInvalidArgument.
DType parse_dtype(std::string_view name);

struct Column {
  std::string name;
  DType type = DType::kFloat64;
  std::vector<double> f64;
  std::vector<std::int64_t> i64;
  std::vector<std::uint8_t> missing;  ///< kInt64 only: 1 = missing; empty = none missing
  std::vector<std::int32_t> codes;    ///< kString only
  std::vector<std::string> dict;      ///< kString only

  static Column from_f64(std::string name, std::vector<double> values);
  static Column from_i64(std::string name, std::vector<std::int64_t> values);
  /// Builds a string column; values equal to std::nullopt are missing.
  static Column from_strings(std::string name, const std::vector<std::optional<std::string>>& values);

  std::size_t size() const;
  bool is_missing(std::size_t row) const;
  /// Numeric value of a row (kFloat64, kInt64); NaN when missing. kString: throws kInvalidArgument.
  double as_double(std::size_t row) const;
  /// The cell as text, as the CSV writer would write it ("" when missing).
  std::string to_string(std::size_t row) const;
  /// The string value of a kString row (empty view when missing).
  std::string_view str(std::size_t row) const;
  std::size_t count_missing() const;
  /// A column of the given rows, in that order (indices must be < size()).
  Column take(const std::vector<std::size_t>& rows) const;
};

class Table {
 public:
  Table() = default;

  std::size_t num_rows() const { return columns_.empty() ? 0 : columns_.front().size(); }
  std::size_t num_columns() const { return columns_.size(); }
  const std::vector<Column>& columns() const { return columns_; }
  const Column& column(std::size_t i) const { return columns_.at(i); }
  Column& column(std::size_t i) { return columns_.at(i); }
  /// Throws Error(kNotFound) naming the table's source, the column, the closest known name.
  const Column& column(std::string_view name) const;
  std::optional<std::size_t> find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name).has_value(); }
  std::vector<std::string> column_names() const;

  /// Appends a column. Throws kInvalidArgument on a duplicate name or a length mismatch.
  void add_column(Column c);
  /// Removes a column by name (no-op when absent).
  void drop_column(std::string_view name);
  /// A table of the given rows, in that order.
  Table take(const std::vector<std::size_t>& rows) const;

  /// Where the table came from (a path as the user typed it), used in error messages.
  std::string source;

 private:
  std::vector<Column> columns_;
};

struct CsvReadOptions {
  char delimiter = ',';
  /// Per-column type overrides; other columns are inferred (int64 if every non-missing cell is an
  /// integer, else float64 if every one is a number, else string). A column with no non-missing
  /// cell (or a header-only file) is int64. Numbers are "[+-]digits", or decimal/scientific text,
  /// "inf" and "nan" as std::from_chars reads them; surrounding spaces make a cell text.
  /// A forced int64/float64 column rejects a cell that does not parse (Error kParse).
  std::map<std::string, DType, std::less<>> dtypes;
  /// Cells equal to one of these (after no trimming, quoted or not) are missing. An empty cell
  /// (also a quoted "") is always missing in a numeric column; in a string column it is missing
  /// when "" is listed here (the default), else the empty string.
  std::vector<std::string> na_values = {"", "NA", "NaN", "nan", "null"};
  /// Threads for parsing; 0 = all cores. Small files parse on one thread.
  std::size_t threads = 0;
  /// Target size in bytes of the pieces a file is split into for parsing; 0 = automatic (a few
  /// pieces per thread, none for small files). The result does not depend on it.
  std::size_t chunk_bytes = 0;
  /// Name shown in error messages; defaults to the path as given.
  std::string display_name;
};

/// Reads a CSV file (RFC 4180: quoted fields with embedded delimiters, quotes and newlines; CRLF or
/// LF; optional UTF-8 BOM; the final newline may be missing). The first row is the header. Blank
/// lines are skipped, except in a one-column file where a blank line is a missing cell. A quote
/// inside an unquoted field is text; text after a closing quote is an error. String columns get
/// their dictionary in first-seen order; the result does not depend on `threads`.
/// Throws Error(kNotFound) for a missing file or a `dtypes` column absent from the header, and
/// Error(kParse) with "file:line:field: what was expected" (line 1-based, physical lines counting
/// newlines inside quoted fields; field 1-based, with the column name) for an empty file (no
/// header), ragged rows ("expected N fields, found M"), an unterminated quote (with the line where
/// it opened), text after a closing quote, invalid UTF-8 or duplicate names in the header, and
/// cells that do not parse as a type forced through `dtypes`. A header-only file gives 0 rows.
Table read_csv(const std::filesystem::path& path, const CsvReadOptions& options = {});
/// Same, from memory; `name` is used in messages.
Table read_csv_string(std::string_view data, std::string_view name, const CsvReadOptions& options = {});

/// CSV text of a table: header, then rows, '\n' line endings; missing cells empty; doubles as
/// format_double writes them, with ".0" added to whole numbers ("1.0") so that a float64 column
/// reads back as float64; fields quoted only when they contain the delimiter, a quote, CR or LF
/// or start/end with a space (and an empty column name, as ""). read_csv_string(to_csv_string(t))
/// gives back t (types, values, missing) except where CSV cannot tell: a column with no
/// non-missing value, string values that read as numbers, NA markers or the empty string.
std::string to_csv_string(const Table& table);
/// Writes to_csv_string(table) to `path` atomically (compe::write_file_atomic; Error(kIo)).
void write_csv(const Table& table, const std::filesystem::path& path);

/// The shortest decimal text that parses back to exactly `v` ("nan", "inf", "-inf" for non-finite).
std::string format_double(double v);

/// The offset of the first byte of `text` that is not valid UTF-8, or nullopt when all of it is.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);
/// Throws Error(kParse) "<where>:<line>: column '<name>' holds invalid UTF-8 (byte 0x.. at offset N
/// of the cell)" for the first cell of a text column that is not UTF-8 (line = data row + 2), for
/// columns such as ids that must survive a JSON document.
void require_utf8(const Column& column, std::string_view where);

/// True when `text` is a number as read_csv infers one ("[+-]digits", decimal, scientific, inf,
/// nan; no surrounding spaces).
bool is_number_text(std::string_view text);
/// " (a number with surrounding spaces reads as text: remove the spaces)" when `cell` is a number
/// once trimmed of spaces and tabs, else "": the usual reason a numeric cell reads as text.
std::string space_hint(std::string_view cell);
/// For a column used where numbers are expected: returns when it is numeric; for a text column
/// throws Error(kInvalidArgument) "<where>: line <N>: column '<name>' (id '<id>') holds '<cell>':
/// expected a number" for its first cell that is not a number (line = data row + 2, as read from
/// a CSV file with a header; the id from `ids` when given), with space_hint's advice.
void require_numeric(const Column& column, std::string_view where, const Column* ids = nullptr);

}  // namespace compe
