// Exact ROC AUC of hill-climbing candidates. A radix sort of every candidate costs about eight
// passes over its keys; here one pass buckets the values by a monotone map (so pairs in different
// buckets are ordered by their buckets), one pass groups them by bucket and class, and only the
// pairs inside one bucket (a handful of values each) are compared.
#include "blend/candidate_auc.hpp"

#include <algorithm>
#include <bit>

#include "compe/error.hpp"

namespace compe::blend::detail {

AucLabels auc_labels(std::span<const double> y_true) {
  AucLabels out;
  out.y.resize(y_true.size());
  for (std::size_t t = 0; t < y_true.size(); ++t) {
    const double v = y_true[t];
    if (v != 0.0 && v != 1.0) return {};
    out.y[t] = v == 1.0;
    (v == 1.0 ? out.n_pos : out.n_neg) += 1;
  }
  return out;
}

double candidate_auc(const AucLabels& labels, std::span<const double> sum,
                     std::span<const double> p, double divisor, double lo, double hi,
                     AucScratch& s) {
  const std::size_t n = labels.y.size();
  COMPE_ASSERT(sum.size() == n && p.size() == n && labels.valid());
  const std::size_t buckets =
      std::clamp<std::size_t>(std::bit_floor(std::max<std::size_t>(n / 16, 1)), 1, 1u << 16);
  const double scale = hi > lo ? static_cast<double>(buckets) / (hi - lo) : 0.0;
  const double top = static_cast<double>(buckets - 1);
  // Monotone non-decreasing in v (each floating-point step is), so v < w never puts w in a lower
  // bucket than v: pairs of different buckets are ordered by bucket, ties share one.
  auto bucket = [&](double v) {
    double x = (v - lo) * scale;
    return static_cast<std::size_t>(std::clamp(x, 0.0, top));
  };
  s.value.resize(n);
  s.pos.resize(labels.n_pos);
  s.neg.resize(labels.n_neg);
  s.pos_count.assign(buckets, 0);
  s.neg_count.assign(buckets, 0);
  const std::uint8_t* y = labels.y.data();
  for (std::size_t t = 0; t < n; ++t) {
    const double c = (sum[t] + p[t]) / divisor;
    s.value[t] = c;
    ++(y[t] ? s.pos_count : s.neg_count)[bucket(c)];
  }
  // Twice the area (an integer): each positive scores 2 per negative below it, 1 per tie.
  std::uint64_t area2 = 0;
  std::uint32_t pos_off = 0, neg_off = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::uint32_t pc = s.pos_count[b], nc = s.neg_count[b];
    area2 += 2 * static_cast<std::uint64_t>(pc) * neg_off;
    s.pos_count[b] = pos_off;
    s.neg_count[b] = neg_off;
    pos_off += pc;
    neg_off += nc;
  }
  for (std::size_t t = 0; t < n; ++t) {
    const double c = s.value[t];
    const std::size_t b = bucket(c);
    if (y[t])
      s.pos[s.pos_count[b]++] = c;
    else
      s.neg[s.neg_count[b]++] = c;
  }
  // After the scatter each offset is its bucket's end.
  std::uint32_t pos_begin = 0, neg_begin = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::uint32_t pos_end = s.pos_count[b], neg_end = s.neg_count[b];
    if (pos_end > pos_begin && neg_end > neg_begin) {
      double* pb = s.pos.data() + pos_begin;
      double* pe = s.pos.data() + pos_end;
      double* nb = s.neg.data() + neg_begin;
      double* ne = s.neg.data() + neg_end;
      std::sort(pb, pe);
      std::sort(nb, ne);
      const double* less = nb;  // first negative >= v
      const double* upto = nb;  // first negative > v
      for (const double* v = pb; v != pe; ++v) {
        while (less != ne && *less < *v) ++less;
        if (upto < less) upto = less;
        while (upto != ne && *upto <= *v) ++upto;
        area2 += 2 * static_cast<std::uint64_t>(less - nb) + static_cast<std::uint64_t>(upto - less);
      }
    }
    pos_begin = pos_end;
    neg_begin = neg_end;
  }
  return static_cast<double>(area2) / 2 /
         (static_cast<double>(labels.n_pos) * static_cast<double>(labels.n_neg));
}

}  // namespace compe::blend::detail
