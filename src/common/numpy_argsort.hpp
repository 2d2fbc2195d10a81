#pragma once
// A bit-exact replica of numpy 1.24's default argsort (kind="quicksort": introsort with a
// heapsort fallback and insertion sort below 16 items, no SIMD dispatch for argsort). Its order
// among equal keys is not stable, and it decides where the references compe is pinned to
// (scikit-learn's folds, Optuna's TPE, ensemble_boxes) put ties.
#include <bit>
#include <cstddef>
#include <utility>

namespace compe {

namespace numpy_detail {

template <typename Key, typename Index>
void heap_argsort(const Key* v, Index* idx, std::ptrdiff_t n) {
  Index* a = idx - 1;  // 1-based heap indexing
  auto sift = [&](Index tmp, std::ptrdiff_t i, std::ptrdiff_t j, std::ptrdiff_t end) {
    while (j <= end) {
      if (j < end && v[a[j]] < v[a[j + 1]]) ++j;
      if (!(v[tmp] < v[a[j]])) break;
      a[i] = a[j];
      i = j;
      j += j;
    }
    a[i] = tmp;
  };
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift(a[l], l, l << 1, n);
  while (n > 1) {
    Index tmp = a[n];
    a[n] = a[1];
    --n;
    sift(tmp, 1, 2, n);
  }
}

}  // namespace numpy_detail

/// Sorts idx[0..n) (any permutation of row numbers) by v[idx[i]] exactly as np.argsort does
/// when idx starts as 0..n-1.
template <typename Key, typename Index>
void numpy_argsort(const Key* v, Index* idx, std::size_t n) {
  if (n < 2) return;
  constexpr std::ptrdiff_t kSmallSort = 16;  // partitions of at most this many: insertion sort
  constexpr int kStack = 128;                // numpy's PYA_QS_STACK
  Index* pl = idx;
  Index* pr = idx + n - 1;
  Index* stack[kStack];
  Index** sp = stack;
  int depth_stack[kStack];
  int* dp = depth_stack;
  int depth = (std::bit_width(n) - 1) * 2;
  for (;;) {
    if (depth < 0) {
      numpy_detail::heap_argsort(v, pl, pr - pl + 1);
    } else {
      while ((pr - pl) > kSmallSort - 1) {
        Index* pm = pl + ((pr - pl) >> 1);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        if (v[*pr] < v[*pm]) std::swap(*pr, *pm);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        const Key pivot = v[*pm];
        Index* pi = pl;
        Index* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (v[*pi] < pivot);
          do --pj;
          while (pivot < v[*pj]);
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        std::swap(*pi, *(pr - 1));
        if (pi - pl < pr - pi) {
          *sp++ = pi + 1;
          *sp++ = pr;
          pr = pi - 1;
        } else {
          *sp++ = pl;
          *sp++ = pi - 1;
          pl = pi + 1;
        }
        *dp++ = --depth;
      }
      for (Index* pi = pl + 1; pi <= pr; ++pi) {
        const Index vi = *pi;
        const Key vp = v[vi];
        Index* pj = pi;
        Index* pk = pi - 1;
        while (pj > pl && vp < v[*pk]) *pj-- = *pk--;
        *pj = vi;
      }
    }
    if (sp == stack) break;
    pr = *(--sp);
    pl = *(--sp);
    depth = *(--dp);
  }
}

}  // namespace compe
