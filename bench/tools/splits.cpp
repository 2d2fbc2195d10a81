// Times one splitter on a CSV with columns `group` and `y` (class), as bench/peers/splits.sh
// writes it, and writes the folds (one per line, in row order) for the peer script to score.
//
//   bench_splits DATA.csv OUT.txt [strategy=stratified_group_kfold] [k=5] [shuffle=1] [seed=0]
//                [repeats=3]
// Prints: "compe <strategy>: read <s> s, split <best s> s (best of <repeats>)".

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/split.hpp"
#include "compe/util.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DATA.csv OUT.txt [strategy] [k] [shuffle] [seed] [repeats]\n", argv[0]);
    return 2;
  }
  try {
    using Clock = std::chrono::steady_clock;
    compe::split::Spec spec;
    spec.strategy = argc > 3 ? argv[3] : "stratified_group_kfold";
    spec.k = argc > 4 ? std::atoi(argv[4]) : 5;
    spec.shuffle = argc > 5 ? std::atoi(argv[5]) != 0 : true;
    spec.seed = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 0;
    const int repeats = argc > 7 ? std::atoi(argv[7]) : 3;

    auto t0 = Clock::now();
    // The file is the peer script's own: header "group,y", then integer pairs.
    const std::string text = compe::read_file(argv[1]);
    std::vector<std::int64_t> groups;
    std::vector<double> target;
    const char* p = text.c_str();
    const char* end = p + text.size();
    while (p < end && *p != '\n') ++p;
    while (p < end) {
      char* next = nullptr;
      long long g = std::strtoll(p, &next, 10);
      if (next == p || *next != ',') break;
      p = next + 1;
      double v = std::strtod(p, &next);
      p = next;
      while (p < end && (*p == '\n' || *p == '\r')) ++p;
      groups.push_back(g);
      target.push_back(v);
    }
    double read_s = std::chrono::duration<double>(Clock::now() - t0).count();

    compe::split::Inputs in;
    in.rows = target.size();
    in.y = target;
    in.groups = groups;
    std::vector<int> folds;
    double best = 1e300;
    for (int i = 0; i < std::max(1, repeats); ++i) {
      auto t1 = Clock::now();
      folds = compe::split::assign_folds(spec, in);
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t1).count());
    }
    std::string out;
    out.reserve(folds.size() * 2);
    for (int f : folds) {
      out += std::to_string(f);
      out += '\n';
    }
    compe::write_file_atomic(argv[2], out);
    std::printf("compe %s: read %.3f s, split %.4f s (best of %d)\n", spec.strategy.c_str(), read_s,
                best, std::max(1, repeats));
    return 0;
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "error[%s]: %s\n", std::string(compe::error_code_name(e.code())).c_str(), e.what());
    return compe::exit_code_for(e.code());
  }
}
