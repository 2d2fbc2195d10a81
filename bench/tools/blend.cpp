// bench_blend: times compe's hill climbing (Caruana selection) on roc_auc and its weight
// optimisation on log_loss, on binary OOF predictions read from .npy files written by
// bench/peers/blend.sh: Y.npy (n, float64) and P.npy (n x m, float64, C order).
//
//   bench_blend Y.npy P.npy [steps]
// Prints one line per measurement:
//   "<name> <wall seconds> <score> <CPU seconds> <weights, comma-separated>"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "compe/blend.hpp"
#include "compe/error.hpp"

namespace {

struct Npy {
  std::vector<double> data;
  std::size_t rows = 0, cols = 1;
};

Npy read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) compe::fail(compe::ErrorCode::kNotFound, "{}: cannot open", path);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    compe::fail(compe::ErrorCode::kParse, "{}: not a .npy file", path);
  std::uint32_t len = 0;
  unsigned char b[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(b), magic[6] == 1 ? 2 : 4);
  len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  std::string header(len, '\0');
  in.read(header.data(), len);
  if (header.find("'descr': '<f8'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    compe::fail(compe::ErrorCode::kParse, "{}: expected a C-order float64 array, header {}", path,
                header);
  Npy out;
  auto open = header.find("'shape': (") + 10;
  out.rows = std::stoull(header.substr(open));
  auto comma = header.find(',', open);
  auto close = header.find(')', open);
  if (comma < close && header.find_first_of("0123456789", comma) < close)
    out.cols = std::stoull(header.substr(header.find_first_of("0123456789", comma)));
  out.data.resize(out.rows * out.cols);
  in.read(reinterpret_cast<char*>(out.data.data()),
          static_cast<std::streamsize>(out.data.size() * sizeof(double)));
  if (!in) compe::fail(compe::ErrorCode::kIo, "{}: short read", path);
  return out;
}

double cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_blend Y.npy P.npy [steps]\n");
    return 2;
  }
  try {
    Npy y = read_npy(argv[1]), p = read_npy(argv[2]);
    const int steps = argc > 3 ? std::stoi(argv[3]) : 100;
    const std::size_t n = y.rows, m = p.cols;
    if (p.rows != n)
      compe::fail(compe::ErrorCode::kInvalidArgument, "Y has {} rows, P {}", n, p.rows);
    // Members as contiguous columns, as an OofSet holds them.
    std::vector<std::vector<double>> cols(m, std::vector<double>(n));
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < m; ++j) cols[j][r] = p.data[r * m + j];
    compe::blend::Reference ref;
    ref.task = compe::metric::kBinary;
    ref.prediction_columns = {"y"};
    ref.y_true = y.data;
    ref.folds.assign(n, 0);
    compe::blend::FitInput in;
    in.ref = &ref;
    for (const auto& c : cols) in.preds.emplace_back(c);
    in.y_true = ref.y_true;
    in.rows = n;
    for (auto [name, method, metric] : {std::tuple{"hill_climb_auc", "hill_climb", "roc_auc"},
                                        std::tuple{"weights_log_loss", "weights", "log_loss"}}) {
      ref.metric = metric;
      compe::blend::Params params;
      params.steps = steps;
      double c0 = cpu_seconds();
      auto t0 = std::chrono::steady_clock::now();
      compe::blend::Fitted f = compe::blend::find(method).fit(in, params);
      double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double cpu = cpu_seconds() - c0;
      std::vector<double> blended = f.apply(in.preds, n);
      double score = compe::blend::score_rows(ref, blended);
      std::string w;
      for (std::size_t j = 0; j < m; ++j) w += fmt::format("{}{:.6f}", j ? "," : "", f.weights[j]);
      std::printf("%s %.6f %.17g %.6f %s\n", name, wall, score, cpu, w.c_str());
      std::fflush(stdout);
    }
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "bench_blend: %s\n", e.what());
    return 1;
  }
  return 0;
}
