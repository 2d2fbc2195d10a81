// bench_metrics: times compe's roc_auc and log_loss, and one std::sort of the scores, on binary
// data read from two .npy files (float64, 1-D) written by bench/peers/metrics.sh.
//
//   bench_metrics Y.npy P.npy [repeats]
// Prints one line per measurement: "<name> <best seconds> <value>".

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

template <typename Fn>
double best_of(int repeats, Fn fn) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
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
      double t = best_of(repeats, [&] { value = m->score(in); });
      std::printf("%s %.6f %.17g\n", spec, t, value);
    }
    std::vector<double> copy;
    double t = best_of(repeats, [&] {
      copy = p;
      std::sort(copy.begin(), copy.end());
    });
    // The copy is part of the timed step; time it alone so it can be subtracted.
    double tc = best_of(repeats, [&] { copy = p; });
    std::printf("std_sort %.6f %.17g\n", t - tc, copy[copy.size() / 2]);
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
