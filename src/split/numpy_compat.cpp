#include "split/numpy_compat.hpp"

#include <utility>

namespace compe::split::detail {

namespace {

constexpr std::ptrdiff_t kSmallQuicksort = 15;

int floor_log2(std::size_t n) {
  int d = 0;
  while (n >>= 1) ++d;
  return d;
}

// Heapsort of idx[0..n) by v, as numpy's fallback when the quicksort recursion gets too deep.
void heap_argsort(const std::int64_t* v, std::size_t* idx, std::ptrdiff_t n) {
  std::size_t* a = idx - 1;  // 1-based heap
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) {
    std::size_t tmp = a[l];
    std::ptrdiff_t i = l, j = l << 1;
    while (j <= n) {
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
  while (n > 1) {
    std::size_t tmp = a[n];
    a[n] = a[1];
    --n;
    std::ptrdiff_t i = 1, j = 2;
    while (j <= n) {
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

std::vector<std::size_t> numpy_argsort(std::span<const std::int64_t> keys) {
  const std::size_t num = keys.size();
  std::vector<std::size_t> order(num);
  for (std::size_t i = 0; i < num; ++i) order[i] = i;
  if (num < 2) return order;
  const std::int64_t* v = keys.data();
  std::size_t* t = order.data();
  struct Frame {
    std::ptrdiff_t pl, pr;
    int depth;
  };
  std::vector<Frame> stack;
  std::ptrdiff_t pl = 0, pr = static_cast<std::ptrdiff_t>(num) - 1;
  int cdepth = floor_log2(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      heap_argsort(v, t + pl, pr - pl + 1);
    } else {
      while (pr - pl > kSmallQuicksort) {
        std::ptrdiff_t pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]] < v[t[pl]]) std::swap(t[pm], t[pl]);
        if (v[t[pr]] < v[t[pm]]) std::swap(t[pr], t[pm]);
        if (v[t[pm]] < v[t[pl]]) std::swap(t[pm], t[pl]);
        const std::int64_t vp = v[t[pm]];
        std::ptrdiff_t pi = pl, pj = pr - 1;
        std::swap(t[pm], t[pj]);
        for (;;) {
          do ++pi; while (v[t[pi]] < vp);
          do --pj; while (vp < v[t[pj]]);
          if (pi >= pj) break;
          std::swap(t[pi], t[pj]);
        }
        std::swap(t[pi], t[pr - 1]);
        --cdepth;
        if (pi - pl < pr - pi) {
          stack.push_back({pi + 1, pr, cdepth});
          pr = pi - 1;
        } else {
          stack.push_back({pl, pi - 1, cdepth});
          pl = pi + 1;
        }
      }
      for (std::ptrdiff_t pi = pl + 1; pi <= pr; ++pi) {
        std::size_t vi = t[pi];
        std::int64_t key = v[vi];
        std::ptrdiff_t pj = pi;
        while (pj > pl && key < v[t[pj - 1]]) {
          t[pj] = t[pj - 1];
          --pj;
        }
        t[pj] = vi;
      }
    }
    if (stack.empty()) break;
    pl = stack.back().pl;
    pr = stack.back().pr;
    cdepth = stack.back().depth;
    stack.pop_back();
  }
  return order;
}

double numpy_sum(const double* a, std::size_t n, std::size_t stride) {
  if (n < 8) {
    double res = 0.0;
    for (std::size_t i = 0; i < n; ++i) res += a[i * stride];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j * stride];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[(i + j) * stride];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i * stride];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2, stride) + numpy_sum(a + n2 * stride, n - n2, stride);
}

}  // namespace compe::split::detail
