// Box fusion benchmark driver for bench/peers/wbf.sh.
//
//   bench_wbf gen PATH [--images N] [--models M] [--boxes B] [--labels L] [--seed S]
//       writes synthetic detections: rows of 8 float64 (image, model, x1, y1, x2, y2, score,
//       label), sorted by image then model, readable with numpy.fromfile(PATH).reshape(-1, 8).
//   bench_wbf run PATH [--method wbf] [--threads T] [--repeat R] [--iou-thr X] [--skip-thr S]
//       fuses every image (best of R timed runs; reading the file is not timed) and prints one
//       line: method, threads, images, boxes in/out, seconds, boxes per second, checksum.
//       --dump OUT writes the fused boxes as rows of 7 float64 (image, x1, y1, x2, y2, score,
//       label) in output order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "compe/detect.hpp"
#include "compe/error.hpp"

namespace det = compe::detect;

namespace {

struct Args {
  std::string mode, path, method = "wbf", dump;
  long images = 1000, models = 5, boxes = 100, labels = 10, seed = 42, threads = 1, repeat = 3;
  double iou_thr = -1, skip_thr = 0.0;
};

Args parse(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: bench_wbf gen|run PATH [options]\n");
    std::exit(2);
  }
  Args a;
  a.mode = argv[1];
  a.path = argv[2];
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--images")
      a.images = std::stol(v);
    else if (k == "--models")
      a.models = std::stol(v);
    else if (k == "--boxes")
      a.boxes = std::stol(v);
    else if (k == "--labels")
      a.labels = std::stol(v);
    else if (k == "--seed")
      a.seed = std::stol(v);
    else if (k == "--threads")
      a.threads = std::stol(v);
    else if (k == "--repeat")
      a.repeat = std::stol(v);
    else if (k == "--method")
      a.method = v;
    else if (k == "--dump")
      a.dump = v;
    else if (k == "--iou-thr")
      a.iou_thr = std::stod(v);
    else if (k == "--skip-thr")
      a.skip_thr = std::stod(v);
    else {
      fmt::print(stderr, "unknown option {}\n", k);
      std::exit(2);
    }
  }
  return a;
}

// Each image has objects; every model sees most of them with jitter, plus false positives.
void generate(const Args& a) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(a.seed));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> rows;
  rows.reserve(static_cast<std::size_t>(a.images * a.models * a.boxes * 8));
  const long objects = a.boxes * 6 / 10;
  for (long img = 0; img < a.images; ++img) {
    std::vector<std::array<double, 5>> truth;
    for (long o = 0; o < objects; ++o) {
      double w = 0.03 + u(rng) * 0.25, h = 0.03 + u(rng) * 0.25;
      double x = u(rng) * (1 - w), y = u(rng) * (1 - h);
      truth.push_back({x, y, x + w, y + h, static_cast<double>(rng() % a.labels)});
    }
    for (long m = 0; m < a.models; ++m) {
      for (long b = 0; b < a.boxes; ++b) {
        double x1, y1, x2, y2, label;
        if (b < objects && u(rng) < 0.9) {
          const auto& t = truth[static_cast<std::size_t>(b)];
          double jw = (t[2] - t[0]) * 0.08, jh = (t[3] - t[1]) * 0.08;
          x1 = t[0] + (u(rng) - 0.5) * jw;
          y1 = t[1] + (u(rng) - 0.5) * jh;
          x2 = t[2] + (u(rng) - 0.5) * jw;
          y2 = t[3] + (u(rng) - 0.5) * jh;
          label = t[4];
        } else {
          double w = 0.02 + u(rng) * 0.2, h = 0.02 + u(rng) * 0.2;
          x1 = u(rng) * (1 - w);
          y1 = u(rng) * (1 - h);
          x2 = x1 + w;
          y2 = y1 + h;
          label = static_cast<double>(rng() % a.labels);
        }
        auto clip = [](double v) { return std::clamp(v, 0.0, 1.0); };
        double score = 0.01 + u(rng) * 0.99;
        rows.insert(rows.end(), {static_cast<double>(img), static_cast<double>(m), clip(x1),
                                 clip(y1), clip(x2), clip(y2), score, label});
      }
    }
  }
  std::ofstream f(a.path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(rows.data()),
          static_cast<std::streamsize>(rows.size() * sizeof(double)));
  if (!f) {
    fmt::print(stderr, "cannot write {}\n", a.path);
    std::exit(1);
  }
}

std::vector<det::ImageDetections> load(const std::string& path, std::size_t& total) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) {
    fmt::print(stderr, "cannot read {}\n", path);
    std::exit(1);
  }
  const auto bytes = static_cast<std::size_t>(f.tellg());
  std::vector<double> rows(bytes / sizeof(double));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(bytes));
  std::vector<det::ImageDetections> images;
  total = rows.size() / 8;
  for (std::size_t r = 0; r < total; ++r) {
    const double* v = &rows[r * 8];
    const auto img = static_cast<std::size_t>(v[0]), m = static_cast<std::size_t>(v[1]);
    if (images.size() <= img) images.resize(img + 1);
    if (images[img].size() <= m) images[img].resize(m + 1);
    det::ModelDetections& md = images[img][m];
    md.boxes.push_back({v[2], v[3], v[4], v[5]});
    md.scores.push_back(v[6]);
    md.labels.push_back(static_cast<std::int64_t>(v[7]));
  }
  return images;
}

int run(const Args& a) {
  std::size_t total = 0;
  const auto images = load(a.path, total);
  det::Params p;
  if (a.iou_thr >= 0) p.iou_thr = a.iou_thr;
  p.skip_box_thr = a.skip_thr;
  auto fuser = det::make(a.method, p);
  double best = 1e300;
  std::vector<std::vector<det::Box>> out;
  det::Report report;
  for (long r = 0; r < std::max(1L, a.repeat); ++r) {
    report = {};
    const auto t0 = std::chrono::steady_clock::now();
    out = det::fuse_batch(*fuser, images, &report, static_cast<std::size_t>(a.threads));
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  double checksum = 0;
  for (const auto& boxes : out) {
    for (const auto& b : boxes) checksum += b.score + b.x1 + b.y2;
  }
  if (!a.dump.empty()) {
    std::vector<double> rows;
    for (std::size_t i = 0; i < out.size(); ++i) {
      for (const auto& b : out[i]) {
        rows.insert(rows.end(), {static_cast<double>(i), b.x1, b.y1, b.x2, b.y2, b.score,
                                 static_cast<double>(b.label)});
      }
    }
    std::ofstream f(a.dump, std::ios::binary);
    f.write(reinterpret_cast<const char*>(rows.data()),
            static_cast<std::streamsize>(rows.size() * sizeof(double)));
  }
  fmt::print(
      "compe method={} threads={} images={} boxes_in={} boxes_out={} seconds={:.6f} "
      "boxes_per_s={:.0f} checksum={:.6f}\n",
      a.method, a.threads, images.size(), total, report.boxes_out, best,
      static_cast<double>(total) / best, checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    if (a.mode == "gen") {
      generate(a);
      return 0;
    }
    if (a.mode == "run") return run(a);
    fmt::print(stderr, "unknown mode {}\n", a.mode);
    return 2;
  } catch (const compe::Error& e) {
    fmt::print(stderr, "error[{}]: {}\n", compe::error_code_name(e.code()), e.what());
    return compe::exit_code_for(e.code());
  }
}
