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
  constexpr double kKeyMax = 4294967295.0;
  const double scale = hi > lo ? kKeyMax / (hi - lo) : 0.0;
  auto key = [&](double v) {
    return static_cast<std::uint64_t>(std::clamp((v - lo) * scale, 0.0, kKeyMax));
  };
  // One scatter by the key's top 8 bits (256 buckets of a few thousand rows), then each bucket,
  // small enough for the cache, is sorted by the remaining 24 bits (three 8-bit passes) and
  // walked at once: two passes over memory instead of a full sort's four.
  constexpr int kTopShift = 56;
  constexpr std::size_t kTop = 256;
  s.items.resize(n);
  s.scratch.resize(n);
  s.hist[0].assign(kTop + 1, 0);
  const std::uint8_t* y = labels.y.data();
  std::uint64_t* items = s.items.data();
  std::uint32_t* top = s.hist[0].data();
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint64_t it = key((sum[t] + p[t]) / divisor) << 32 |
                             static_cast<std::uint64_t>(y[t]) << 31 | t;
    items[t] = it;
    ++top[(it >> kTopShift) + 1];
  }
  for (std::size_t b = 0; b < kTop; ++b) top[b + 1] += top[b];
  std::vector<std::uint32_t> next(top, top + kTop);
  std::uint64_t* bucketed = s.scratch.data();
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint64_t it = items[t];
    bucketed[next[it >> kTopShift]++] = it;
  }
  std::uint64_t area2 = 0, neg_below = 0;
  std::uint32_t hist[256];
  for (std::size_t b = 0; b < kTop; ++b) {
    const std::size_t begin = top[b], len = top[b + 1] - begin;
    if (len == 0) continue;
    std::uint64_t* src = bucketed + begin;
    std::uint64_t* dst = items + begin;  // free again: every item now lives in `bucketed`
    if (len > 1)
      for (int shift = 32; shift < kTopShift; shift += 8) {
        std::fill(std::begin(hist), std::end(hist), 0u);
        for (std::size_t i = 0; i < len; ++i) ++hist[(src[i] >> shift) & 255];
        if (std::find(std::begin(hist), std::end(hist), static_cast<std::uint32_t>(len)) !=
            std::end(hist))
          continue;
        std::uint32_t total = 0;
        for (auto& h : hist) {
          const std::uint32_t c = h;
          h = total;
          total += c;
        }
        for (std::size_t i = 0; i < len; ++i) dst[hist[(src[i] >> shift) & 255]++] = src[i];
        std::swap(src, dst);
      }
    // Walk the groups of equal keys upwards: a positive scores 2 per negative of a lower key.
    for (std::size_t i = 0; i < len;) {
      const std::uint64_t k = src[i] >> 32;
      std::size_t j = i;
      std::uint64_t pos = 0;
      while (j < len && (src[j] >> 32) == k) pos += (src[j] >> 31) & 1, ++j;
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
  }
  return static_cast<double>(area2) / 2 /
         (static_cast<double>(labels.n_pos) * static_cast<double>(labels.n_neg));
}

}  // namespace compe::blend::detail
