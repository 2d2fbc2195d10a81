#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>

#include "compe/error.hpp"
#include "compe/shake.hpp"
#include "compe/util.hpp"
#include "common/rng.hpp"

namespace compe::shake {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Binary roc_auc scored by one pass over rows sorted once by prediction: each split only
/// changes the rows' counts, never their order.
struct SortedAuc {
  std::vector<std::uint32_t> order;  ///< rows by ascending prediction
  std::vector<std::uint32_t> group_end;  ///< per sorted position: end of its run of equal values
  std::vector<std::uint8_t> positive;    ///< y of order[i]

  SortedAuc(std::span<const double> pred, std::span<const double> y) {
    order.resize(pred.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return pred[a] < pred[b]; });
    group_end.resize(order.size());
    positive.resize(order.size());
    std::size_t i = 0;
    while (i < order.size()) {
      std::size_t j = i;
      while (j < order.size() && pred[order[j]] == pred[order[i]]) ++j;
      for (std::size_t k = i; k < j; ++k) group_end[k] = static_cast<std::uint32_t>(j);
      i = j;
    }
    for (std::size_t k = 0; k < order.size(); ++k) positive[k] = y[order[k]] != 0.0;
  }

  /// AUC of the public and the private rows in one pass; `count` interleaves each row's public
  /// and private counts (2 per row). NaN for a side where one class has no weight.
  std::pair<double, double> score(const std::vector<std::uint32_t>& count) const {
    double neg_below[2] = {0, 0}, area[2] = {0, 0}, pos_total[2] = {0, 0};
    std::size_t i = 0;
    const std::size_t n = order.size();
    while (i < n) {
      std::size_t end = group_end[i];
      double gp[2] = {0, 0}, gn[2] = {0, 0};
      for (; i < end; ++i) {
        const std::uint32_t* c = &count[2 * static_cast<std::size_t>(order[i])];
        if (positive[i]) {
          gp[0] += c[0];
          gp[1] += c[1];
        } else {
          gn[0] += c[0];
          gn[1] += c[1];
        }
      }
      for (int s = 0; s < 2; ++s) {
        area[s] += gp[s] * (neg_below[s] + 0.5 * gn[s]);
        neg_below[s] += gn[s];
        pos_total[s] += gp[s];
      }
    }
    double out[2];
    for (int s = 0; s < 2; ++s)
      out[s] = pos_total[s] == 0 || neg_below[s] == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                      : area[s] / (pos_total[s] * neg_below[s]);
    return {out[0], out[1]};
  }
};

/// One side of a split: the drawn rows, their counts and their truth, shared by every candidate.
struct Side {
  std::vector<std::uint32_t> rows;  ///< each drawn row once (weighted) or count times (repeated)
  std::vector<double> yt, w, yp;

  void build(const Problem& p, const std::vector<std::uint32_t>& count, int side, bool weighted) {
    rows.clear();
    yt.clear();
    w.clear();
    const std::size_t tc = p.true_cols;
    for (std::size_t r = 0; r < count.size() / 2; ++r) {
      std::uint32_t c = count[2 * r + static_cast<std::size_t>(side)];
      if (c == 0) continue;
      std::uint32_t reps = weighted ? 1 : c;
      for (std::uint32_t k = 0; k < reps; ++k) {
        rows.push_back(static_cast<std::uint32_t>(r));
        yt.insert(yt.end(), p.y_true.begin() + static_cast<std::ptrdiff_t>(r * tc),
                  p.y_true.begin() + static_cast<std::ptrdiff_t>((r + 1) * tc));
      }
      if (weighted) w.push_back(c);
    }
  }

  double score(const metric::Metric& m, const Problem& p, std::span<const double> pred, bool weighted) {
    const std::size_t pc = p.pred_cols;
    yp.resize(rows.size() * pc);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t j = 0; j < pc; ++j) yp[i * pc + j] = pred[rows[i] * pc + j];
    metric::Inputs in;
    in.y_true = yt;
    in.true_cols = p.true_cols;
    in.y_pred = yp;
    in.pred_cols = pc;
    if (weighted) in.weights = w;
    return m.score(in);
  }
};

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  double f = pos - static_cast<double>(lo);
  return sorted[lo] + f * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::string_view mode_name(Mode m) { return m == Mode::kResample ? "oof" : "solution"; }

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  std::sort(v.begin(), v.end());
  s.p5 = quantile(v, 0.05);
  s.p50 = quantile(v, 0.5);
  s.p95 = quantile(v, 0.95);
  return s;
}

namespace {

// The split sizes of one simulation, checked.
struct Sizes {
  std::size_t rows = 0;     ///< rows of the problem
  std::size_t total = 0;    ///< rows drawn per simulation (resample: test_rows or rows)
  std::size_t n_pub = 0, n_priv = 0;
};

Sizes check_problem(const Problem& p, const Options& o) {
  if (!(o.public_fraction > 0 && o.public_fraction < 1))
    fail(ErrorCode::kInvalidArgument, "public fraction is {}, expected a number strictly between 0 and 1",
         o.public_fraction);
  if (p.candidates.empty()) fail(ErrorCode::kInvalidArgument, "no candidate to simulate");
  if (o.simulations == 0) fail(ErrorCode::kInvalidArgument, "simulations must be at least 1");
  if (o.bins == 0) fail(ErrorCode::kInvalidArgument, "histogram bins must be at least 1");
  Sizes z;
  const std::size_t n = z.rows = p.rows();
  if (n > std::numeric_limits<std::uint32_t>::max())
    fail(ErrorCode::kInvalidArgument, "{} rows: at most 2^32 - 1 rows are simulated", n);
  for (const auto& c : p.candidates)
    if (!p.part_scorer && c.pred.size() != n * p.pred_cols)
      fail(ErrorCode::kInvalidArgument, "candidate '{}' has {} predictions, expected {} rows x {} columns",
           c.name, c.pred.size(), n, p.pred_cols);
  z.total = o.mode == Mode::kResample ? (o.test_rows ? o.test_rows : n) : n;
  z.n_pub = static_cast<std::size_t>(std::llround(o.public_fraction * static_cast<double>(z.total)));
  z.n_priv = z.total - z.n_pub;
  if (z.n_pub < 2 || z.n_priv < 2)
    fail(ErrorCode::kInvalidArgument,
         "a public fraction of {} of {} rows leaves {} public and {} private rows; each side needs at least 2",
         o.public_fraction, z.total, z.n_pub, z.n_priv);
  return z;
}

// Public and private scores, simulations x candidates (row-major), and the metric used.
struct Scores {
  std::unique_ptr<metric::Metric> metric;
  std::vector<double> pub, priv;
};

// Simulation b's public/private count per row (count[2r] public, count[2r+1] private): rows drawn
// with replacement (resample) or one shuffle of the rows (solution re-split).
void draw_split(const Options& o, const Sizes& z, std::size_t b, std::vector<std::uint32_t>& count,
                std::vector<std::uint32_t>& perm) {
  Rng rng(splitmix64(o.seed ^ splitmix64(b + 1)));
  std::fill(count.begin(), count.end(), 0u);
  const std::size_t n = z.rows;
  if (o.mode == Mode::kResample) {
    for (std::size_t t = 0; t < z.total; ++t) {
      auto r = static_cast<std::size_t>(rng.below(n));
      ++count[2 * r + (t < z.n_pub ? 0 : 1)];
    }
    return;
  }
  perm.resize(n);
  std::iota(perm.begin(), perm.end(), 0u);
  rng.shuffle(std::span<std::uint32_t>(perm));
  for (std::size_t t = 0; t < n; ++t) ++count[2 * static_cast<std::size_t>(perm[t]) + (t < z.n_pub ? 0 : 1)];
}

// Simulation b's scores through the problem's part scorer (images as units): each side's counts.
void score_parts(const Problem& p, const Sizes& z, const std::vector<std::uint32_t>& count,
                 std::vector<std::uint32_t>& side_count, std::size_t b, Scores& out) {
  const std::size_t K = p.candidates.size();
  for (int side = 0; side < 2; ++side) {
    for (std::size_t r = 0; r < z.rows; ++r) side_count[r] = count[2 * r + static_cast<std::size_t>(side)];
    for (std::size_t k = 0; k < K; ++k) {
      double v;
      try {
        v = p.part_scorer(k, side_count);
      } catch (const Error& e) {
        fail(ErrorCode::kInvalidArgument, "candidate '{}', simulated {} split of {} images: {}", p.candidates[k].name,
             side == 0 ? "public" : "private", side == 0 ? z.n_pub : z.n_priv, e.what());
      }
      (side == 0 ? out.pub : out.priv)[b * K + k] = v;
    }
  }
}

// Scores every candidate on the simulations, in parallel; the first error is rethrown.
Scores simulate_scores(const Problem& p, const Options& o, const Sizes& z) {
  Scores out;
  out.metric = metric::make(p.metric);
  const metric::Metric& metric = *out.metric;
  const bool weighted = metric.info().supports_weights;
  const bool fast_auc = !p.part_scorer && metric.info().name == "roc_auc" && p.pred_cols == 1 && p.true_cols == 1 &&
                        std::all_of(p.y_true.begin(), p.y_true.end(), [](double y) { return y == 0.0 || y == 1.0; });
  const std::size_t K = p.candidates.size();
  std::vector<SortedAuc> sorted;
  if (fast_auc)
    for (const auto& c : p.candidates) sorted.emplace_back(c.pred, p.y_true);

  const std::size_t B = o.simulations;
  out.pub.assign(B * K, 0);
  out.priv.assign(B * K, 0);
  std::atomic<std::size_t> done{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const int threads = static_cast<int>(resolve_threads(o.threads));
  if (o.progress) o.progress->start("simulating", B);

#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint32_t> count(2 * z.rows);  // public, private count per row
    std::vector<std::uint32_t> perm, side_count(z.rows);
    Side sides[2];
#pragma omp for schedule(dynamic, 4)
    for (std::size_t b = 0; b < B; ++b) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (error) continue;
      }
      try {
        draw_split(o, z, b, count, perm);
        if (p.part_scorer) {
          score_parts(p, z, count, side_count, b, out);
        } else if (fast_auc) {
          for (std::size_t k = 0; k < K; ++k) {
            auto [vp, vv] = sorted[k].score(count);
            if (std::isnan(vp) || std::isnan(vv))
              fail(ErrorCode::kInvalidArgument, "metric '{}': only one class present in y_true", metric.spec());
            out.pub[b * K + k] = vp;
            out.priv[b * K + k] = vv;
          }
        } else {
          for (int side = 0; side < 2; ++side) {
            sides[side].build(p, count, side, weighted);
            for (std::size_t k = 0; k < K; ++k) {
              double v;
              try {
                v = sides[side].score(metric, p, p.candidates[k].pred, weighted);
              } catch (const Error& e) {
                fail(ErrorCode::kInvalidArgument, "candidate '{}', simulated {} split of {} rows: {}",
                     p.candidates[k].name, side == 0 ? "public" : "private", side == 0 ? z.n_pub : z.n_priv,
                     e.what());
              }
              (side == 0 ? out.pub : out.priv)[b * K + k] = v;
            }
          }
        }
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) {
          if (fast_auc)
            error = std::make_exception_ptr(Error(ErrorCode::kInvalidArgument,
                fmt::format("simulation {}: a simulated split of {} public / {} private rows has one class only "
                            "({}); use more test rows or a larger public fraction", b, z.n_pub, z.n_priv, e.what())));
          else
            error = std::current_exception();
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      std::size_t d = ++done;
      if (o.progress && omp_get_thread_num() == 0) o.progress->advance(d);
    }
  }
  if (error) std::rethrow_exception(error);
  if (o.progress) {
    o.progress->advance(B);
    o.progress->finish();
  }
  return out;
}

// Ranks per simulation (1 + candidates strictly better), public and private.
struct Ranks {
  std::vector<int> pub, priv;
};

Ranks rank_candidates(const Scores& s, std::size_t B, std::size_t K, bool greater, Result& res) {
  auto better = [greater](double a, double b) { return greater ? a > b : a < b; };
  Ranks r{std::vector<int>(B * K), std::vector<int>(B * K)};
  std::size_t single_top = 0, top_kept = 0;
  for (std::size_t b = 0; b < B; ++b) {
    const double* sp = &s.pub[b * K];
    const double* sv = &s.priv[b * K];
    for (std::size_t k = 0; k < K; ++k) {
      int a = 1, c = 1;
      for (std::size_t j = 0; j < K; ++j) {
        a += better(sp[j], sp[k]);
        c += better(sv[j], sv[k]);
      }
      r.pub[b * K + k] = a;
      r.priv[b * K + k] = c;
    }
    std::size_t tops = 0, top = 0;
    for (std::size_t k = 0; k < K; ++k)
      if (r.pub[b * K + k] == 1) {
        ++tops;
        top = k;
      }
    if (tops == 1) {
      ++single_top;
      top_kept += r.priv[b * K + top] == 1;
    }
  }
  res.p_public_top_is_private_top = single_top ? static_cast<double>(top_kept) / static_cast<double>(single_top) : 0;
  return r;
}

// Each candidate's score and gap statistics, gap histogram (on edges common to all candidates,
// set in res.gap_edges) and rank changes.
void candidate_results(const Problem& p, const Options& o, const Scores& s, const Ranks& r, Result& res) {
  const std::size_t B = o.simulations, K = p.candidates.size();
  std::vector<std::vector<double>> gaps(K, std::vector<double>(B));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t b = 0; b < B; ++b) {
      double g = s.pub[b * K + k] - s.priv[b * K + k];
      gaps[k][b] = g;
      lo = std::min(lo, g);
      hi = std::max(hi, g);
    }
  if (hi <= lo) {
    hi = lo + 1e-9;
    lo -= 1e-9;
  }
  for (std::size_t i = 0; i <= o.bins; ++i)
    res.gap_edges.push_back(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(o.bins));

  double abs_total = 0;
  for (std::size_t k = 0; k < K; ++k) {
    CandidateResult c;
    c.name = p.candidates[k].name;
    c.label = p.candidates[k].label;
    c.actual_public = p.candidates[k].actual_public;
    c.actual_private = p.candidates[k].actual_private;
    std::vector<double> sp(B), sv(B);
    for (std::size_t b = 0; b < B; ++b) {
      sp[b] = s.pub[b * K + k];
      sv[b] = s.priv[b * K + k];
    }
    c.public_score = stats_of(sp);
    c.private_score = stats_of(sv);
    c.gap = stats_of(gaps[k]);
    c.gap_histogram.assign(o.bins, 0);
    for (double g : gaps[k]) {
      auto bin = static_cast<std::size_t>((g - lo) / (hi - lo) * static_cast<double>(o.bins));
      ++c.gap_histogram[std::min(bin, o.bins - 1)];
    }
    c.rank_change_histogram.assign(2 * K - 1, 0);
    double sum_pub = 0, sum_priv = 0, sum_change = 0, sum_abs = 0;
    std::size_t best = 0;
    for (std::size_t b = 0; b < B; ++b) {
      int a = r.pub[b * K + k], v = r.priv[b * K + k];
      sum_pub += a;
      sum_priv += v;
      sum_change += v - a;
      sum_abs += std::abs(v - a);
      ++c.rank_change_histogram[static_cast<std::size_t>(v - a + static_cast<int>(K) - 1)];
      best += v == 1;
    }
    auto bd = static_cast<double>(B);
    c.mean_public_rank = sum_pub / bd;
    c.mean_private_rank = sum_priv / bd;
    c.mean_rank_change = sum_change / bd;
    c.mean_abs_rank_change = sum_abs / bd;
    c.p_private_best = static_cast<double>(best) / bd;
    abs_total += sum_abs;
    res.candidates.push_back(std::move(c));
  }
  res.mean_abs_rank_change = abs_total / static_cast<double>(B * K);
}

// For each ordered pair: how often a beats b on the public side, the private side, and both.
void pair_results(const Scores& s, std::size_t B, std::size_t K, bool greater, Result& res) {
  auto better = [greater](double a, double b) { return greater ? a > b : a < b; };
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = 0; b < K; ++b) {
      if (a == b) continue;
      std::size_t win_pub = 0, win_priv = 0, both = 0;
      for (std::size_t i = 0; i < B; ++i) {
        bool wp = better(s.pub[i * K + a], s.pub[i * K + b]);
        bool wv = better(s.priv[i * K + a], s.priv[i * K + b]);
        win_pub += wp;
        win_priv += wv;
        both += wp && wv;
      }
      PairResult pr;
      pr.a = a;
      pr.b = b;
      pr.p_a_public = static_cast<double>(win_pub) / static_cast<double>(B);
      pr.p_a_private = static_cast<double>(win_priv) / static_cast<double>(B);
      if (win_pub) pr.p_private_given_public = static_cast<double>(both) / static_cast<double>(win_pub);
      res.pairs.push_back(pr);
    }
}

}  // namespace

Result simulate(const Problem& p, const Options& o) {
  auto t0 = std::chrono::steady_clock::now();
  const Sizes z = check_problem(p, o);
  const Scores scores = simulate_scores(p, o, z);
  const metric::Info& info = scores.metric->info();
  const bool greater = info.greater_is_better();
  const std::size_t B = o.simulations, K = p.candidates.size();

  Result res;
  res.metric = scores.metric->spec();
  res.direction = info.direction;
  res.mode = o.mode;
  res.rows = z.rows;
  res.public_rows = z.n_pub;
  res.private_rows = z.n_priv;
  res.simulations = B;
  res.public_fraction = o.public_fraction;
  res.seed = o.seed;
  const Ranks ranks = rank_candidates(scores, B, K, greater, res);
  candidate_results(p, o, scores, ranks, res);
  pair_results(scores, B, K, greater, res);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

nlohmann::json to_json(const Result& r) {
  auto stats = [](const Stats& s) {
    return nlohmann::json{{"mean", s.mean}, {"sd", s.sd}, {"p5", s.p5}, {"p50", s.p50}, {"p95", s.p95}};
  };
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : r.candidates)
    cands.push_back({{"name", c.name},
                     {"label", c.label},
                     {"public", stats(c.public_score)},
                     {"private", stats(c.private_score)},
                     {"gap", stats(c.gap)},
                     {"gap_histogram", c.gap_histogram},
                     {"mean_public_rank", c.mean_public_rank},
                     {"mean_private_rank", c.mean_private_rank},
                     {"mean_rank_change", c.mean_rank_change},
                     {"mean_abs_rank_change", c.mean_abs_rank_change},
                     {"rank_change_histogram", c.rank_change_histogram},
                     {"p_private_best", c.p_private_best},
                     {"actual", {{"public", opt(c.actual_public)}, {"private", opt(c.actual_private)}}}});
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : r.pairs)
    pairs.push_back({{"a", r.candidates[p.a].name},
                     {"b", r.candidates[p.b].name},
                     {"p_a_public", p.p_a_public},
                     {"p_a_private", p.p_a_private},
                     {"p_private_given_public", opt(p.p_private_given_public)}});
  return {{"metric", r.metric},
          {"direction", r.direction == metric::Direction::kMaximize ? "maximize" : "minimize"},
          {"mode", mode_name(r.mode)},
          {"rows", r.rows},
          {"public_rows", r.public_rows},
          {"private_rows", r.private_rows},
          {"public_fraction", r.public_fraction},
          {"simulations", r.simulations},
          {"seed", r.seed},
          {"gap_edges", r.gap_edges},
          {"candidates", cands},
          {"pairs", pairs},
          {"p_public_top_is_private_top", r.p_public_top_is_private_top},
          {"mean_abs_rank_change", r.mean_abs_rank_change},
          {"seconds", r.seconds}};
}

}  // namespace compe::shake
