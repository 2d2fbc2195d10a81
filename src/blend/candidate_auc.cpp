// Exact ROC AUC of hill-climbing candidates. The metric radix-sorts the 64-bit order keys of the
// values (about seven passes); here the values are mapped monotonically onto 32-bit keys of their
// range, so three radix passes order them, and only rows whose keys collide are compared on
// their exact values.
#include "blend/candidate_auc.hpp"

#include <algorithm>

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
  COMPE_ASSERT(sum.size() == n && p.size() == n && labels.valid() && n < (std::size_t{1} << 31));
  // Item: a 32-bit monotone key of the value (high half), the label (bit 31), the row (low 31
  // bits). Sorting by the key alone orders every pair of different keys exactly; rows sharing a
  // key (equal values, or values closer than (hi - lo) / 2^32) are compared on their doubles.
  constexpr double kTop = 4294967295.0;
  const double scale = hi > lo ? kTop / (hi - lo) : 0.0;
  auto key = [&](double v) {
    return static_cast<std::uint64_t>(std::clamp((v - lo) * scale, 0.0, kTop));
  };
  constexpr int kBits[3] = {11, 11, 10};
  constexpr int kShift[3] = {32, 43, 54};
  s.items.resize(n);
  s.scratch.resize(n);
  for (auto& h : s.hist) h.assign(2048, 0);
  const std::uint8_t* y = labels.y.data();
  std::uint64_t* items = s.items.data();
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint64_t k = key((sum[t] + p[t]) / divisor);
    items[t] = k << 32 | static_cast<std::uint64_t>(y[t]) << 31 | t;
    for (int d = 0; d < 3; ++d) ++s.hist[d][(k << 32 >> kShift[d]) & ((1u << kBits[d]) - 1)];
  }
  std::uint64_t* src = items;
  std::uint64_t* dst = s.scratch.data();
  for (int d = 0; d < 3; ++d) {
    auto& h = s.hist[d];
    const std::size_t buckets = std::size_t{1} << kBits[d];
    if (std::any_of(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(buckets),
                    [n](std::uint32_t c) { return c == n; }))
      continue;  // one digit for every item: the pass would move nothing
    std::uint32_t total = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::uint32_t c = h[b];
      h[b] = total;
      total += c;
    }
    const std::uint64_t mask = buckets - 1;
    for (std::size_t t = 0; t < n; ++t) {
      const std::uint64_t it = src[t];
      dst[h[(it >> kShift[d]) & mask]++] = it;
    }
    std::swap(src, dst);
  }
  // Walk the groups of equal keys upwards: a positive scores 2 per negative of a lower key.
  std::uint64_t area2 = 0, neg_below = 0;
  for (std::size_t i = 0; i < n;) {
    const std::uint64_t k = src[i] >> 32;
    std::size_t j = i;
    std::uint64_t pos = 0;
    while (j < n && (src[j] >> 32) == k) pos += (src[j] >> 31) & 1, ++j;
    const std::uint64_t neg = (j - i) - pos;
    area2 += 2 * pos * neg_below;
    if (pos > 0 && neg > 0) {
      // Rows sharing a key: their exact values decide.
      s.pos.clear(), s.neg.clear();
      for (std::size_t q = i; q < j; ++q) {
        const std::size_t r = src[q] & 0x7fffffffu;
        ((src[q] >> 31) & 1 ? s.pos : s.neg).push_back((sum[r] + p[r]) / divisor);
      }
      std::sort(s.pos.begin(), s.pos.end());
      std::sort(s.neg.begin(), s.neg.end());
      auto less = s.neg.begin(), upto = s.neg.begin();
      for (double v : s.pos) {
        while (less != s.neg.end() && *less < v) ++less;
        if (upto < less) upto = less;
        while (upto != s.neg.end() && *upto <= v) ++upto;
        area2 += 2 * static_cast<std::uint64_t>(less - s.neg.begin()) +
                 static_cast<std::uint64_t>(upto - less);
      }
    }
    neg_below += neg;
    i = j;
  }
  return static_cast<double>(area2) / 2 /
         (static_cast<double>(labels.n_pos) * static_cast<double>(labels.n_neg));
}

}  // namespace compe::blend::detail
