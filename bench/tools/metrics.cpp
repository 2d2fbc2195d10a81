// bench_metrics: times compe's roc_auc and log_loss, and one std::sort of the scores, on binary
// data read from two .npy files (float64, 1-D) written by bench/peers/metrics.sh.
//
//   bench_metrics Y.npy P.npy [repeats]
// Prints one line per measurement: "<name> <best wall seconds> <value> <CPU seconds of that run>"
// (CPU time summed over threads: on a busy shared machine it shows the work apart from waiting).

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/metric.hpp"

namespace {

std::vector<double> read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) compe::fail(compe::ErrorCode::kNotFound, "{}: cannot open", path);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    compe::fail(compe::ErrorCode::kParse, "{}: not a .npy file", path);
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (header.find("'descr': '<f8'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    compe::fail(compe::ErrorCode::kParse, "{}: expected a C-order float64 array, header {}", path,
                header);
  auto open = header.find("'shape': (");
  std::size_t n = std::stoull(header.substr(open + 10));
  std::vector<double> v(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(double)));
  if (!in) compe::fail(compe::ErrorCode::kIo, "{}: short read", path);
  return v;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
  double wall = 1e300, cpu = 0;
};

template <typename Fn>
Timing best_of(int repeats, Fn fn) {
  Timing best;
  for (int r = 0; r < repeats; ++r) {
    double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    double wall = std::chrono::duration<double>(t1 - t0).count();
    if (wall < best.wall) best = {wall, cpu_seconds() - c0};
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s Y.npy P.npy [repeats]\n", argv[0]);
    return 2;
  }
  try {
    std::vector<double> y = read_npy(argv[1]), p = read_npy(argv[2]);
    int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
    compe::metric::Inputs in;
    in.y_true = y;
    in.y_pred = p;
    for (const char* spec : {"roc_auc", "log_loss"}) {
      auto m = compe::metric::make(spec);
      double value = 0;
      Timing t = best_of(repeats, [&] { value = m->score(in); });
      std::printf("%s %.6f %.17g %.6f\n", spec, t.wall, value, t.cpu);
    }
    std::vector<double> copy;
    Timing t = best_of(repeats, [&] {
      copy = p;
      std::sort(copy.begin(), copy.end());
    });
    // The copy is part of the timed step; time it alone so it can be subtracted.
    Timing tc = best_of(repeats, [&] { copy = p; });
    std::printf("std_sort %.6f %.17g %.6f\n", t.wall - tc.wall, copy[copy.size() / 2],
                t.cpu - tc.cpu);
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
