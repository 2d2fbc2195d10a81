// The CSV reader: type inference, quoting, the parallel chunked path and dtypes.
#include "compe/table.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace compe;
  fuzz::expect_clean([&] {
    CsvReadOptions o;
    o.threads = 1;
    Table a = read_csv_string(text, "fuzz.csv", o);
    // The parallel reader must agree with the serial one.
    o.threads = 3;
    Table b = read_csv_string(text, "fuzz.csv", o);
    if (a.num_rows() != b.num_rows() || a.column_names() != b.column_names()) __builtin_trap();
    for (std::size_t c = 0; c < a.num_columns(); ++c)
      for (std::size_t r = 0; r < a.num_rows() && r < 64; ++r)
        if (a.column(c).to_string(r) != b.column(c).to_string(r)) __builtin_trap();
  });
  fuzz::expect_clean([&] {
    CsvReadOptions o;
    o.threads = 1;
    o.dtypes["id"] = DType::kString;
    o.dtypes["y"] = DType::kFloat64;
    o.na_values = {"", "NA"};
    (void)read_csv_string(text, "typed.csv", o);
  });
  return 0;
}
