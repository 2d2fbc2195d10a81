// NumPy's default argsort (kind="quicksort", NumPy 1.24, no SIMD dispatch for argsort) decides the
// order of equal scores in the reference; reproducing it keeps ties where the reference puts them.
#include <bit>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "compe/detect.hpp"

namespace compe::detect {
namespace {

constexpr std::ptrdiff_t kSmallSort = 16;  // partitions of at most this many use insertion sort
constexpr int kStack = 128;

void heap_argsort(const double* v, std::uint32_t* idx, std::ptrdiff_t n) {
  std::uint32_t* a = idx - 1;  // 1-based heap indexing
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) {
    std::uint32_t tmp = a[l];
    std::ptrdiff_t i = l;
    for (std::ptrdiff_t j = l << 1; j <= n;) {
      if (j < n && v[a[j]] < v[a[j + 1]]) ++j;
      if (v[tmp] < v[a[j]]) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
  for (; n > 1;) {
    std::uint32_t tmp = a[n];
    a[n] = a[1];
    --n;
    std::ptrdiff_t i = 1;
    for (std::ptrdiff_t j = 2; j <= n;) {
      if (j < n && v[a[j]] < v[a[j + 1]]) ++j;
      if (v[tmp] < v[a[j]]) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
}

}  // namespace

void numpy_argsort(std::span<const double> values, std::vector<std::uint32_t>& order) {
  const std::size_t num = values.size();
  order.resize(num);
  for (std::size_t i = 0; i < num; ++i) order[i] = static_cast<std::uint32_t>(i);
  if (num < 2) return;
  const double* v = values.data();
  std::uint32_t* pl = order.data();
  std::uint32_t* pr = pl + num - 1;
  std::uint32_t* stack[kStack];
  std::uint32_t** sp = stack;
  int depth_stack[kStack];
  int* dp = depth_stack;
  int depth = (std::bit_width(num) - 1) * 2;

  for (;;) {
    if (depth < 0) {
      heap_argsort(v, pl, pr - pl + 1);
    } else {
      while ((pr - pl) > kSmallSort - 1) {
        std::uint32_t* pm = pl + ((pr - pl) >> 1);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        if (v[*pr] < v[*pm]) std::swap(*pr, *pm);
        if (v[*pm] < v[*pl]) std::swap(*pm, *pl);
        const double pivot = v[*pm];
        std::uint32_t* pi = pl;
        std::uint32_t* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi; while (v[*pi] < pivot);
          do --pj; while (pivot < v[*pj]);
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
      for (std::uint32_t* pi = pl + 1; pi <= pr; ++pi) {
        const std::uint32_t vi = *pi;
        const double vp = v[vi];
        std::uint32_t* pj = pi;
        std::uint32_t* pk = pi - 1;
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

}  // namespace compe::detect
