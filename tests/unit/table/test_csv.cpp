#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>

#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

using compe::Column;
using compe::CsvReadOptions;
using compe::DType;
using compe::ErrorCode;
using compe::Table;

namespace fs = std::filesystem;

namespace {

Table read(std::string_view text, const CsvReadOptions& options = {}) {
  return compe::read_csv_string(text, "data.csv", options);
}

// The message of the compe::Error that reading `text` throws (with the expected code).
std::string read_error(std::string_view text, const CsvReadOptions& options = {},
                       ErrorCode code = ErrorCode::kParse) {
  try {
    (void)read(text, options);
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

fs::path temp_path(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("compe_test_csv_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

void expect_same_column(const Column& a, const Column& b) {
  ASSERT_EQ(a.name, b.name);
  ASSERT_EQ(a.type, b.type) << a.name;
  ASSERT_EQ(a.size(), b.size()) << a.name;
  for (std::size_t r = 0; r < a.size(); ++r) {
    ASSERT_EQ(a.is_missing(r), b.is_missing(r)) << a.name << " row " << r;
    if (a.is_missing(r)) continue;
    switch (a.type) {
      case DType::kFloat64: ASSERT_EQ(a.f64[r], b.f64[r]) << a.name << " row " << r; break;
      case DType::kInt64: ASSERT_EQ(a.i64[r], b.i64[r]) << a.name << " row " << r; break;
      case DType::kString: ASSERT_EQ(a.codes[r], b.codes[r]) << a.name << " row " << r; break;
    }
  }
  if (a.type == DType::kString) {
    EXPECT_EQ(a.dict, b.dict) << a.name;
  }
}

void expect_same_table(const Table& a, const Table& b) {
  ASSERT_EQ(a.column_names(), b.column_names());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (std::size_t j = 0; j < a.num_columns(); ++j) expect_same_column(a.column(j), b.column(j));
}

CsvReadOptions threaded(std::size_t threads, std::size_t chunk_bytes) {
  CsvReadOptions o;
  o.threads = threads;
  o.chunk_bytes = chunk_bytes;
  return o;
}

}  // namespace

TEST(CsvRead, InfersColumnTypes) {
  Table t = read("i,f,s,mixed\n1,1.5,a,1\n-2,2,b,x\n30,-0.25,a,2.5\n");
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.source, "data.csv");
  EXPECT_EQ(t.column("i").type, DType::kInt64);
  EXPECT_EQ(t.column("i").i64, (std::vector<std::int64_t>{1, -2, 30}));
  EXPECT_TRUE(t.column("i").missing.empty());
  EXPECT_EQ(t.column("f").type, DType::kFloat64);
  EXPECT_EQ(t.column("f").f64, (std::vector<double>{1.5, 2.0, -0.25}));
  EXPECT_EQ(t.column("s").type, DType::kString);
  EXPECT_EQ(t.column("s").dict, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.column("s").codes, (std::vector<std::int32_t>{0, 1, 0}));
  // A column that turns to text after numbers keeps the earlier cells' text.
  EXPECT_EQ(t.column("mixed").type, DType::kString);
  EXPECT_EQ(t.column("mixed").dict, (std::vector<std::string>{"1", "x", "2.5"}));
}

TEST(CsvRead, IntegersBecomeFloatWhenAnyCellIsFractional) {
  Table t = read("x\n1\n2\n3.5\n\n4\n");
  const Column& x = t.column("x");
  ASSERT_EQ(x.type, DType::kFloat64);
  ASSERT_EQ(x.size(), 5u);
  EXPECT_EQ(x.f64[0], 1.0);
  EXPECT_EQ(x.f64[2], 3.5);
  EXPECT_TRUE(std::isnan(x.f64[3]));  // a blank line in a one-column file is a missing cell
  EXPECT_EQ(x.f64[4], 4.0);
}

TEST(CsvRead, MissingValues) {
  Table t = read(
      "i,f,s\n"
      "1,1.5,a\n"
      ",,\n"
      "NA,NaN,nan\n"
      "null,\"\",\"\"\n"
      "nan,null,NA\n"
      "2,2.5,b\n");
  const Column& i = t.column("i");
  ASSERT_EQ(i.type, DType::kInt64);
  EXPECT_EQ(i.missing, (std::vector<std::uint8_t>{0, 1, 1, 1, 1, 0}));
  EXPECT_EQ(i.i64[5], 2);
  const Column& f = t.column("f");
  ASSERT_EQ(f.type, DType::kFloat64);
  EXPECT_EQ(f.count_missing(), 4u);
  EXPECT_EQ(f.f64[5], 2.5);
  const Column& s = t.column("s");
  ASSERT_EQ(s.type, DType::kString);
  EXPECT_EQ(s.codes, (std::vector<std::int32_t>{0, -1, -1, -1, -1, 1}));
  EXPECT_EQ(s.dict, (std::vector<std::string>{"a", "b"}));
}

TEST(CsvRead, AllMissingColumnIsInt64WithEveryRowMissing) {
  Table t = read("a,b\n1,\n2,NA\n");
  EXPECT_EQ(t.column("b").type, DType::kInt64);
  EXPECT_EQ(t.column("b").count_missing(), 2u);
}

TEST(CsvRead, CustomNaValues) {
  CsvReadOptions o;
  o.na_values = {"-999", "?"};
  Table t = read("a,b,s\n1,-999,x\n-999,2.5,?\n3,?,\n", o);
  EXPECT_EQ(t.column("a").type, DType::kInt64);
  EXPECT_EQ(t.column("a").missing, (std::vector<std::uint8_t>{0, 1, 0}));
  EXPECT_EQ(t.column("b").type, DType::kFloat64);
  EXPECT_EQ(t.column("b").count_missing(), 2u);
  // "" is not in na_values: an empty cell of a string column is the empty string, but an empty
  // cell cannot be a number, so it is still missing in a numeric column.
  const Column& s = t.column("s");
  EXPECT_EQ(s.dict, (std::vector<std::string>{"x", ""}));
  EXPECT_EQ(s.codes, (std::vector<std::int32_t>{0, -1, 1}));
  Table n = read("a\n1\n\n2\n", o);
  EXPECT_EQ(n.column("a").type, DType::kInt64);
  EXPECT_EQ(n.column("a").count_missing(), 1u);
}

TEST(CsvRead, QuotedFieldsFollowRfc4180) {
  Table t = read(
      "name,note,n\n"
      "\"Smyth, Miss. Julia\",\"she said \"\"hi\"\"\",\"7\"\n"
      "\"two\nlines\",\"crlf\r\ninside\",8\n"
      "plain,\"\"\"\",9\n");
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.column("name").str(0), "Smyth, Miss. Julia");
  EXPECT_EQ(t.column("name").str(1), "two\nlines");
  EXPECT_EQ(t.column("name").str(2), "plain");
  EXPECT_EQ(t.column("note").str(0), "she said \"hi\"");
  EXPECT_EQ(t.column("note").str(1), "crlf\r\ninside");
  EXPECT_EQ(t.column("note").str(2), "\"");
  // Quoted numbers are numbers.
  EXPECT_EQ(t.column("n").type, DType::kInt64);
  EXPECT_EQ(t.column("n").i64, (std::vector<std::int64_t>{7, 8, 9}));
}

TEST(CsvRead, QuotesInsideUnquotedFieldsAreText) {
  Table t = read("h,w\n5'10\",70\n6'1\",80\n");
  EXPECT_EQ(t.column("h").str(0), "5'10\"");
  EXPECT_EQ(t.column("h").str(1), "6'1\"");
  EXPECT_EQ(t.column("w").i64, (std::vector<std::int64_t>{70, 80}));
}

TEST(CsvRead, LineEndingsBomAndFinalNewline) {
  Table lf = read("a,b,s\n1,2.5,x\n3,4,\"y\"\n");
  expect_same_table(lf, read("a,b,s\r\n1,2.5,x\r\n3,4,\"y\"\r\n"));
  expect_same_table(lf, read("a,b,s\n1,2.5,x\n3,4,\"y\""));
  expect_same_table(lf, read("a,b,s\r\n1,2.5,x\r\n3,4,y"));
  expect_same_table(lf, read("\xEF\xBB\xBF" "a,b,s\n1,2.5,x\n3,4,y\n"));
  expect_same_table(lf, read("a,b,s\n\n1,2.5,x\n\r\n3,4,y\n\n"));  // blank lines skipped
  EXPECT_EQ(read("\xEF\xBB\xBF" "a\n1\n").column_names(), (std::vector<std::string>{"a"}));
}

TEST(CsvRead, HeaderOnlyFileHasNoRows) {
  for (std::string_view text : {"a,b,c\n", "a,b,c", "a,b,c\r\n"}) {
    Table t = read(text);
    EXPECT_EQ(t.column_names(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(t.num_rows(), 0u);
  }
  CsvReadOptions o;
  o.dtypes = {{"b", DType::kString}};
  EXPECT_EQ(read("a,b\n", o).column("b").type, DType::kString);
}

TEST(CsvRead, DelimiterOption) {
  CsvReadOptions o;
  o.delimiter = ';';
  Table t = read("a;b\n1,5;\"x;y\"\n", o);
  EXPECT_EQ(t.column("a").str(0), "1,5");
  EXPECT_EQ(t.column("b").str(0), "x;y");
}

TEST(CsvRead, NumbersParseExactly) {
  Table t = read(
      "f,i\n"
      "0.1,9223372036854775807\n"
      "1e-300,-9223372036854775808\n"
      "5e-324,+5\n"
      "1.7976931348623157e308,-0\n"
      "9007199254740993,123456789012345678\n"
      "+1.5,0\n"
      "inf,1\n"
      "-inf,2\n"
      "2.2250738585072011e-308,3\n");
  const Column& f = t.column("f");
  ASSERT_EQ(f.type, DType::kFloat64);
  EXPECT_EQ(f.f64[0], std::strtod("0.1", nullptr));
  EXPECT_EQ(f.f64[1], std::strtod("1e-300", nullptr));
  EXPECT_EQ(f.f64[2], std::strtod("5e-324", nullptr));
  EXPECT_EQ(f.f64[3], std::numeric_limits<double>::max());
  EXPECT_EQ(f.f64[4], std::strtod("9007199254740993", nullptr));
  EXPECT_EQ(f.f64[5], 1.5);
  EXPECT_EQ(f.f64[6], std::numeric_limits<double>::infinity());
  EXPECT_EQ(f.f64[7], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(f.f64[8], std::strtod("2.2250738585072011e-308", nullptr));
  const Column& i = t.column("i");
  ASSERT_EQ(i.type, DType::kInt64);
  EXPECT_EQ(i.i64[0], std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(i.i64[1], std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(i.i64[2], 5);
  EXPECT_EQ(i.i64[3], 0);
  EXPECT_EQ(i.i64[4], 123456789012345678);
  // Past int64: the column is float64.
  Table big = read("x\n1\n9223372036854775808\n");
  EXPECT_EQ(big.column("x").type, DType::kFloat64);
  EXPECT_EQ(big.column("x").f64[1], 9223372036854775808.0);
  // Text that merely starts like a number is text.
  for (std::string_view text : {"x\n1\n1e\n", "x\n1\n0x10\n", "x\n1\n 2\n", "x\n1\n1.5.2\n", "x\n-\n"})
    EXPECT_EQ(read(text).column("x").type, DType::kString) << text;
}

TEST(CsvRead, DecimalsOfEveryLengthParseExactly) {
  std::mt19937_64 rng(99);
  std::vector<std::string> cells;
  std::string text = "x,i\n";
  for (int r = 0; r < 20000; ++r) {
    std::size_t digits = 1 + rng() % 20;
    std::string d;
    for (std::size_t k = 0; k < digits; ++k) d += static_cast<char>('0' + rng() % 10);
    std::size_t point = rng() % (digits + 1);
    std::string cell = fmt::format("{}{}.{}", rng() % 2 ? "-" : "", d.substr(0, point), d.substr(point));
    if (cell == "." || cell == "-.") cell = "0.5";
    cells.push_back(cell);
    text += fmt::format("{},{}\n", cell, d.substr(0, 1 + rng() % 18));
  }
  Table t = read(text);
  const Column& x = t.column("x");
  ASSERT_EQ(x.type, DType::kFloat64);
  for (std::size_t r = 0; r < cells.size(); ++r)
    ASSERT_EQ(x.f64[r], std::strtod(cells[r].c_str(), nullptr)) << cells[r];
  const Column& i = t.column("i");
  ASSERT_EQ(i.type, DType::kInt64);
  std::size_t pos = text.find('\n') + 1;
  for (std::size_t r = 0; r < cells.size(); ++r) {
    std::size_t comma = text.find(',', pos), eol = text.find('\n', pos);
    ASSERT_EQ(i.i64[r], std::stoll(text.substr(comma + 1, eol - comma - 1)));
    pos = eol + 1;
  }
}

TEST(CsvRead, DtypesOverrideInference) {
  CsvReadOptions o;
  o.dtypes = {{"a", DType::kFloat64}, {"b", DType::kString}, {"c", DType::kInt64}};
  Table t = read("a,b,c,d\n1,1,1,1\n2,007,,2\n", o);
  EXPECT_EQ(t.column("a").type, DType::kFloat64);
  EXPECT_EQ(t.column("a").f64, (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(t.column("b").type, DType::kString);
  EXPECT_EQ(t.column("b").dict, (std::vector<std::string>{"1", "007"}));
  EXPECT_EQ(t.column("c").type, DType::kInt64);
  EXPECT_EQ(t.column("c").missing, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_EQ(t.column("d").type, DType::kInt64);
}

TEST(CsvRead, ForcedTypeRejectsCellsThatDoNotParse) {
  CsvReadOptions o;
  o.dtypes = {{"age", DType::kInt64}};
  std::string m = read_error("id,age\n1,22\n2,22.5\n", o);
  EXPECT_HAS(m, "data.csv:3:2:");
  EXPECT_HAS(m, "column 'age' is int64");
  EXPECT_HAS(m, "expected an integer, found '22.5'");
  o.dtypes = {{"age", DType::kFloat64}};
  m = read_error("id,age\n1,22\n2,\"twenty\"\n", o);
  EXPECT_HAS(m, "data.csv:3:2:");
  EXPECT_HAS(m, "column 'age' is float64");
  EXPECT_HAS(m, "expected a number, found 'twenty'");
}

TEST(CsvRead, DtypesNamingUnknownColumnIsNotFound) {
  CsvReadOptions o;
  o.dtypes = {{"Agee", DType::kInt64}};
  std::string m = read_error("Name,Age\nx,1\n", o, ErrorCode::kNotFound);
  EXPECT_HAS(m, "data.csv");
  EXPECT_HAS(m, "'Agee'");
  EXPECT_HAS(m, "did you mean 'Age'?");
}

TEST(CsvRead, RaggedRowsNameLineAndCounts) {
  std::string m = read_error("a,b,c\n1,2,3\n4,5,6,7\n");
  EXPECT_HAS(m, "data.csv:3:4:");
  EXPECT_HAS(m, "expected 3 fields, found 4");
  m = read_error("a,b,c\n1,2,3\n4,5,6,7,\"8,9\",10\n");
  EXPECT_HAS(m, "expected 3 fields, found 6");
  m = read_error("a,b,c\n1,2,3\n\n4,5\n");
  EXPECT_HAS(m, "data.csv:4:3:");
  EXPECT_HAS(m, "expected 3 fields, found 2");
  EXPECT_HAS(m, "column 'c'");
  m = read_error("a,b,c\r\n1,2,3\r\n4\r\n");
  EXPECT_HAS(m, "data.csv:3:2:");
  EXPECT_HAS(m, "expected 3 fields, found 1");
}

TEST(CsvRead, LineNumbersCountNewlinesInsideQuotes) {
  std::string m = read_error("a,b\n\"x\ny\nz\",1\n\"p\r\nq\",2\n3,4,5\n");
  EXPECT_HAS(m, "data.csv:7:3:");
  EXPECT_HAS(m, "expected 2 fields, found 3");
}

TEST(CsvRead, UnterminatedQuoteSaysWhereItOpened) {
  std::string m = read_error("id,name\n1,\"ok\"\n2,\"Smyth, Miss.\n3,x\n4,y\n");
  EXPECT_HAS(m, "data.csv:3:2:");
  EXPECT_HAS(m, "unterminated quote");
  EXPECT_HAS(m, "column 'name'");
  EXPECT_HAS(m, "opened at line 3");
  EXPECT_HAS(m, "expected '\"'");
}

TEST(CsvRead, TextAfterClosingQuoteIsAnError) {
  std::string m = read_error("a,b\n1,\"x\"y\n");
  EXPECT_HAS(m, "data.csv:2:2:");
  EXPECT_HAS(m, "column 'b'");
  EXPECT_HAS(m, "unexpected 'y' after the closing quote");
  EXPECT_HAS(m, "expected ','");
}

TEST(CsvRead, InvalidUtf8InHeader) {
  std::string m = read_error("id,na\xffme\n1,2\n");
  EXPECT_HAS(m, "data.csv:1:2:");
  EXPECT_HAS(m, "invalid UTF-8");
  EXPECT_HAS(m, "0xff");
  m = read_error("\n\nid,\xc3\n1,2\n");  // truncated sequence, header on line 3
  EXPECT_HAS(m, "data.csv:3:2:");
  EXPECT_NO_THROW(read("id,caf\xc3\xa9\n1,2\n"));
}

TEST(CsvRead, DuplicateColumnNames) {
  std::string m = read_error("a,b,a\n1,2,3\n");
  EXPECT_HAS(m, "data.csv:1:3:");
  EXPECT_HAS(m, "duplicate column name 'a'");
  EXPECT_HAS(m, "also column 1");
}

TEST(CsvRead, EmptyFileHasNoHeader) {
  for (std::string_view text : {"", "\xEF\xBB\xBF", "\n\n", "\r\n"}) {
    std::string m = read_error(text);
    EXPECT_HAS(m, "data.csv:1:");
    EXPECT_HAS(m, "empty file");
    EXPECT_HAS(m, "expected a header");
  }
}

TEST(CsvRead, MissingFileIsNotFound) {
  try {
    (void)compe::read_csv("no/such/dir/train.csv");
    FAIL();
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_HAS(e.what(), "no/such/dir/train.csv");
  }
  CsvReadOptions o;
  o.display_name = "train.csv";
  try {
    (void)compe::read_csv("/nonexistent/x.csv", o);
    FAIL();
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_HAS(e.what(), "train.csv");
  }
}

TEST(CsvRead, FileErrorsNameTheFile) {
  fs::path path = temp_path("bad.csv");
  compe::write_file_atomic(path, "a,b\n1,2\n3\n");
  try {
    (void)compe::read_csv(path);
    FAIL();
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kParse);
    EXPECT_HAS(e.what(), path.string() + ":3:2:");
  }
  CsvReadOptions o;
  o.display_name = "train.csv";
  try {
    (void)compe::read_csv(path, o);
    FAIL();
  } catch (const compe::Error& e) {
    EXPECT_HAS(e.what(), "train.csv:3:2:");
  }
  compe::write_file_atomic(path, "");
  try {
    (void)compe::read_csv(path);
    FAIL();
  } catch (const compe::Error& e) {
    EXPECT_HAS(e.what(), "empty file");
  }
  fs::remove_all(path.parent_path());
}

TEST(CsvRead, TitanicFiles) {
  Table train = compe::read_csv(COMPE_TEST_DATA "/data/titanic/train.csv");
  EXPECT_EQ(train.num_rows(), 981u);
  EXPECT_EQ(train.column_names(),
            (std::vector<std::string>{"id", "name", "sex", "age", "passengerClass", "survived"}));
  EXPECT_EQ(train.column("id").type, DType::kInt64);
  EXPECT_EQ(train.column("name").type, DType::kString);
  EXPECT_EQ(train.column("name").str(0), "Smyth, Miss. Julia");
  EXPECT_EQ(train.column("name").dict.size(), 981u);
  EXPECT_EQ(train.column("sex").dict, (std::vector<std::string>{"female", "male"}));
  EXPECT_EQ(train.column("age").type, DType::kFloat64);
  EXPECT_EQ(train.column("age").count_missing(), 199u);
  EXPECT_EQ(train.column("age").f64[2], 38.0);
  EXPECT_EQ(train.column("passengerClass").dict.size(), 3u);
  EXPECT_EQ(train.column("survived").type, DType::kInt64);
  EXPECT_TRUE(train.column("survived").missing.empty());
  EXPECT_EQ(train.column("id").i64.back(), 980);

  Table test = compe::read_csv(COMPE_TEST_DATA "/data/titanic/test.csv");
  EXPECT_EQ(test.num_rows(), 328u);
  EXPECT_EQ(test.num_columns(), 5u);
  EXPECT_EQ(test.column("id").i64.front(), 981);
  EXPECT_EQ(test.column("name").str(1), "Snyder, Mr. John Pillsbury");
  EXPECT_EQ(test.column("age").f64[1], 24.0);

  // Same result with many threads and small chunks.
  expect_same_table(train, compe::read_csv(COMPE_TEST_DATA "/data/titanic/train.csv",
                                           threaded(4, 1000)));
  // And after a round trip through the writer.
  expect_same_table(train, read(compe::to_csv_string(train)));
}

namespace {

// A file with everything the chunked parser must get right: quoted fields with delimiters,
// doubled quotes and line breaks (also across chunk boundaries), missing cells, a column that
// becomes float64 only near the end, a column of numbers that turns to text in a late chunk,
// a long quoted field spanning many chunks, and strings whose first-seen order matters.
std::string big_csv(std::uint64_t seed, std::size_t rows, bool stray_quotes) {
  std::mt19937_64 rng(seed);
  std::string out = "id,x,late_float,late_text,name,note,k\r\n";
  const char* words[] = {"alpha", "beta", "gamma, delta", "say \"hi\"", "two\nlines", "",
                         "NA", "crlf\r\nend"};
  for (std::size_t r = 0; r < rows; ++r) {
    out += std::to_string(r) + ",";
    if (rng() % 10) out += fmt::format("{}", static_cast<double>(rng() % 100000) / 64.0);
    out += ",";
    out += (r == rows - 3) ? "2.5" : std::to_string(rng() % 1000);
    out += ",";
    out += (r == rows - 5) ? "text" : std::to_string(rng() % 50);
    out += ",";
    const char* w = words[rng() % 8];
    std::string s = w;
    if (s.find_first_of(",\"\r\n") != std::string::npos) {
      std::string q = "\"";
      for (char c : s) {
        if (c == '"') q += '"';
        q += c;
      }
      out += q + "\"";
    } else {
      out += s;
    }
    out += ",";
    if (r == rows / 2) {
      out += "\"";
      for (int i = 0; i < 3000; ++i) out += "long line, with \"\"quotes\"\"\n";
      out += "\"";
    } else if (stray_quotes && rng() % 7 == 0) {
      out += "5'10\"";
    } else {
      out += fmt::format("n{}", rng() % 300);
    }
    out += ",";
    out += std::to_string(rng() % 3);
    out += (rng() % 2) ? "\n" : "\r\n";
  }
  return out;
}

}  // namespace

TEST(CsvRead, SameResultWhateverTheThreadCount) {
  for (bool stray : {false, true}) {
    std::string text = big_csv(7, 20000, stray);
    ASSERT_GT(text.size(), 300000u);
    Table one = read(text, threaded(1, 0));
    ASSERT_EQ(one.num_rows(), 20000u);
    EXPECT_EQ(one.column("id").type, DType::kInt64);
    EXPECT_EQ(one.column("x").type, DType::kFloat64);
    EXPECT_GT(one.column("x").count_missing(), 0u);
    EXPECT_EQ(one.column("late_float").type, DType::kFloat64);
    EXPECT_EQ(one.column("late_text").type, DType::kString);
    EXPECT_EQ(one.column("name").type, DType::kString);
    EXPECT_EQ(one.column("note").str(10000).size(), 3000u * 25);
    for (auto [threads, chunk] : {std::pair<std::size_t, std::size_t>{2, 0}, {4, 4096}, {3, 65536},
                                  {1, 1000}, {8, 100}}) {
      SCOPED_TRACE(fmt::format("stray={} threads={} chunk={}", stray, threads, chunk));
      expect_same_table(one, read(text, threaded(threads, chunk)));
    }
  }
}

TEST(CsvRead, ColumnsWhoseTypeChangesAfterTheFirstRows) {
  // Types are guessed from the first rows; later chunks may disagree in either direction.
  std::string text = "a,b,c,d\n";
  for (int r = 0; r < 6000; ++r) {
    bool late = r >= 5000;
    text += fmt::format("{},{},{},{}\n", late ? fmt::format("{}", r) : fmt::format("{}.5", r),
                        late ? fmt::format("{}.25", r) : fmt::format("{}", r),
                        late ? fmt::format("w{}", r % 7) : fmt::format("{}", r % 5),
                        r % 3 == 0 ? "" : fmt::format("{}", r));
  }
  Table one = read(text, threaded(1, 0));
  EXPECT_EQ(one.column("a").type, DType::kFloat64);
  EXPECT_EQ(one.column("a").f64[5500], 5500.0);
  EXPECT_EQ(one.column("b").type, DType::kFloat64);
  EXPECT_EQ(one.column("b").f64[10], 10.0);
  EXPECT_EQ(one.column("b").f64[5001], 5001.25);
  EXPECT_EQ(one.column("c").type, DType::kString);
  EXPECT_EQ(one.column("c").str(5999), "w0");
  EXPECT_EQ(one.column("c").dict.front(), "0");
  EXPECT_EQ(one.column("d").type, DType::kInt64);
  EXPECT_EQ(one.column("d").count_missing(), 2000u);
  for (std::size_t chunk : {300, 4096, 20000}) {
    SCOPED_TRACE(chunk);
    expect_same_table(one, read(text, threaded(3, chunk)));
  }
}

TEST(CsvRead, ErrorLineIsRightWhenMultithreaded) {
  std::string text = big_csv(11, 20000, true);
  // Break row 15000: one field too many. Its physical line counts every newline before it.
  std::string key = "\n15000,";
  std::size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  std::size_t line = 2 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  text.insert(at + key.size(), "extra,");
  // And a later error, which must not be the one reported.
  std::size_t at2 = text.find("\n19000,");
  text.insert(at2 + 7, "\"unterminated");
  std::string expected = fmt::format("data.csv:{}:8: expected 7 fields, found 8", line);
  for (auto [threads, chunk] : {std::pair<std::size_t, std::size_t>{1, 0}, {2, 0}, {4, 4096},
                                {3, 100}}) {
    SCOPED_TRACE(fmt::format("threads={} chunk={}", threads, chunk));
    EXPECT_HAS(read_error(text, threaded(threads, chunk)), expected);
  }
}

TEST(CsvRead, ReadsLargeFileFromDisk) {
  std::string text = big_csv(3, 30000, false);
  fs::path path = temp_path("big.csv");
  compe::write_file_atomic(path, text);
  Table from_file = compe::read_csv(path, threaded(4, 8192));
  EXPECT_EQ(from_file.source, path.string());
  expect_same_table(from_file, read(text, threaded(1, 0)));
  fs::remove_all(path.parent_path());
}

TEST(CsvWrite, QuotesOnlyWhenNeeded) {
  Table t;
  t.add_column(Column::from_strings(
      "s", {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", " lead", "trail ", "in side",
            std::nullopt}));
  EXPECT_EQ(compe::to_csv_string(t),
            "s\nplain\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"two\nlines\"\n\"cr\rhere\"\n\" lead\"\n"
            "\"trail \"\nin side\n\n");
  Table h;
  h.add_column(Column::from_i64("a,b", {1}));
  h.add_column(Column::from_i64("", {2}));
  EXPECT_EQ(compe::to_csv_string(h), "\"a,b\",\"\"\n1,2\n");
}

TEST(CsvWrite, NumbersAndMissingCells) {
  Table t;
  t.add_column(Column::from_f64(
      "f", {0.1, 1.0, -2.0, 1e20, 0.1 + 0.2, std::nan(""), std::numeric_limits<double>::infinity(),
            -std::numeric_limits<double>::infinity(), 5e-324}));
  auto i = Column::from_i64("i", {1, -2, 0, std::numeric_limits<std::int64_t>::min(), 5, 6, 7, 8, 9});
  i.missing = {0, 0, 1, 0, 0, 0, 0, 0, 0};
  t.add_column(i);
  std::string csv = compe::to_csv_string(t);
  EXPECT_EQ(csv,
            "f,i\n0.1,1\n1.0,-2\n-2.0,\n1e+20,-9223372036854775808\n" +
                compe::format_double(0.1 + 0.2) + ",5\n,6\ninf,7\n-inf,8\n5e-324,9\n");
  expect_same_table(t, read(csv));
}

TEST(CsvWrite, WriteCsvReplacesFileAtomically) {
  fs::path path = temp_path("out/table.csv");
  Table t;
  t.add_column(Column::from_i64("a", {1, 2}));
  compe::write_csv(t, path);
  t.add_column(Column::from_strings("s", {"x", std::nullopt}));
  compe::write_csv(t, path);
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "a,s\n1,x\n2,\n");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path.parent_path())) ++files;
  EXPECT_EQ(files, 1u);  // no temporary left behind
  expect_same_table(t, compe::read_csv(path));
  fs::remove_all(path.parent_path().parent_path());
}

namespace {

Table random_table(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> ncols_d(1, 7), nrows_d(1, 300);
  std::size_t ncols = ncols_d(rng), nrows = nrows_d(rng);
  Table t;
  const std::string alphabet = "qab,\"\n\r xyz\xc3\xa9;";
  for (std::size_t j = 0; j < ncols; ++j) {
    std::string name = fmt::format("c{}", j);
    if (rng() % 4 == 0) name += ", \"quoted\"";
    int kind = static_cast<int>(rng() % 3);
    double missing_rate = (rng() % 2) ? 0.0 : 0.2;
    std::bernoulli_distribution missing(missing_rate);
    if (kind == 0) {
      std::vector<double> v(nrows);
      for (auto& x : v) {
        switch (rng() % 5) {
          case 0: x = std::uniform_real_distribution<double>(-1, 1)(rng); break;
          case 1: x = static_cast<double>(static_cast<std::int64_t>(rng() % 2001) - 1000); break;
          case 2: x = std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng),
                                 static_cast<int>(rng() % 2000) - 1000);
            break;
          case 3: {
            std::uint64_t bits = rng();
            std::memcpy(&x, &bits, sizeof x);
            if (!std::isfinite(x)) x = 0.5;
            break;
          }
          default: x = static_cast<double>(rng() % 100) / 10.0;
        }
        if (missing(rng)) x = std::nan("");
      }
      v[0] = 0.25;  // at least one non-missing cell: an all-missing column reads back as int64
      t.add_column(Column::from_f64(name, std::move(v)));
    } else if (kind == 1) {
      std::vector<std::int64_t> v(nrows);
      std::vector<std::uint8_t> m(nrows, 0);
      for (std::size_t r = 0; r < nrows; ++r) {
        v[r] = (rng() % 4 == 0) ? static_cast<std::int64_t>(rng()) : static_cast<std::int64_t>(rng() % 200) - 100;
        if (r > 0 && missing(rng)) {
          m[r] = 1;
          v[r] = 0;
        }
      }
      auto c = Column::from_i64(name, std::move(v));
      if (missing_rate > 0) c.missing = std::move(m);
      if (c.count_missing() == 0) c.missing.clear();
      t.add_column(std::move(c));
    } else {
      // Every value holds a 'q', so none reads as a number or an NA marker.
      std::vector<std::string> vocab;
      for (int k = 0; k < 12; ++k) {
        std::string s;
        std::size_t len = 1 + rng() % 6;
        for (std::size_t i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
        std::size_t pos = rng() % (s.size() + 1);
        s = s.substr(0, pos) + 'q' + s.substr(pos);
        vocab.push_back(s);
      }
      std::vector<std::optional<std::string>> v(nrows);
      for (std::size_t r = 0; r < nrows; ++r) {
        if (r > 0 && missing(rng)) continue;
        v[r] = vocab[rng() % vocab.size()];
      }
      t.add_column(Column::from_strings(name, v));
    }
  }
  return t;
}

}  // namespace

TEST(CsvRoundTrip, RandomTables) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 200; ++i) {
    SCOPED_TRACE(i);
    Table t = random_table(rng);
    std::string csv = compe::to_csv_string(t);
    expect_same_table(t, read(csv));
    expect_same_table(t, read(csv, threaded(3, 256)));
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << csv;
      break;
    }
  }
}
