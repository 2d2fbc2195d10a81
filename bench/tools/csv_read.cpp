// Times compe::read_csv on a file, and generates the benchmark files.
//
//   bench_csv_read FILE [--threads N] [--repeat N]   prints "WALL CPU": the best wall time in
//     seconds and the process CPU time (all threads) of that run
//   bench_csv_read --generate numeric|mixed ROWS SEED OUT
//     numeric: 50 float columns; mixed: 20 columns of floats, ints, short strings from a small
//     vocabulary, with some empty cells.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace {

std::string generate(const std::string& kind, std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::string out;
  fmt::memory_buffer buf;
  if (kind == "numeric") {
    const std::size_t cols = 50;
    for (std::size_t j = 0; j < cols; ++j) fmt::format_to(std::back_inserter(buf), "{}f{}", j ? "," : "", j);
    buf.push_back('\n');
    const double scale[] = {1.0, 10.0, 100.0, 1000.0};
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < cols; ++j) {
        if (j) buf.push_back(',');
        fmt::format_to(std::back_inserter(buf), "{:.6f}", normal(rng) * scale[j % 4]);
      }
      buf.push_back('\n');
    }
  } else if (kind == "mixed") {
    std::vector<std::string> vocab;
    for (int i = 0; i < 40; ++i) vocab.push_back(fmt::format("cat_{}", i));
    const char* names[] = {"f0", "i0", "s0", "f1", "i1", "s1", "f2", "i2", "s2", "f3",
                           "i3", "s3", "f4", "i4", "s4", "f5", "i5", "s5", "fe", "se"};
    for (std::size_t j = 0; j < 20; ++j) fmt::format_to(std::back_inserter(buf), "{}{}", j ? "," : "", names[j]);
    buf.push_back('\n');
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < 20; ++j) {
        if (j) buf.push_back(',');
        char t = names[j][0];
        bool empty = (names[j][1] == 'e') ? unit(rng) < 0.1 : unit(rng) < 0.01;
        if (empty) continue;
        if (t == 'f')
          fmt::format_to(std::back_inserter(buf), "{:.4f}", normal(rng) * 100.0);
        else if (t == 'i')
          fmt::format_to(std::back_inserter(buf), "{}", static_cast<long long>(rng() % 100000));
        else
          fmt::format_to(std::back_inserter(buf), "{}", vocab[rng() % vocab.size()]);
      }
      buf.push_back('\n');
    }
  } else {
    compe::fail(compe::ErrorCode::kInvalidArgument, "unknown kind '{}': expected numeric or mixed", kind);
  }
  return fmt::to_string(buf);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 6 && std::strcmp(argv[1], "--generate") == 0) {
      std::string text = generate(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10));
      compe::write_file_atomic(argv[5], text);
      return 0;
    }
    if (argc < 2) {
      std::fprintf(stderr, "usage: bench_csv_read FILE [--threads N] [--repeat N]\n"
                           "       bench_csv_read --generate numeric|mixed ROWS SEED OUT\n");
      return 2;
    }
    compe::CsvReadOptions options;
    int repeat = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
      if (std::strcmp(argv[i], "--threads") == 0) options.threads = std::strtoull(argv[i + 1], nullptr, 10);
      if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
    }
    double best = 1e300, best_cpu = 0;
    for (int k = 0; k < repeat; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      std::clock_t c0 = std::clock();
      compe::Table t = compe::read_csv(argv[1], options);
      double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (s < best) {
        best = s;
        best_cpu = cpu;
      }
      if (k == 0) std::fprintf(stderr, "%zu rows x %zu columns\n", t.num_rows(), t.num_columns());
    }
    std::printf("%.4f %.4f\n", best, best_cpu);
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
