#pragma once
// Stable parallel LSD radix sort on 64-bit keys: roc_auc and average_precision sort 1e7 scores in
// a few linear passes instead of a comparison sort.

#include <omp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace compe::metric::detail {

/// Maps a double to an unsigned key with the same order (-0.0 and +0.0 map alike).
inline std::uint64_t order_key(double d) {
  if (d == 0.0) d = 0.0;
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return (u & 0x8000000000000000ULL) ? ~u : (u | 0x8000000000000000ULL);
}

/// Sorts data[0, n) ascending by key(item) (a std::uint64_t), stably, using scratch[0, n) as
/// the other buffer; returns whichever of the two holds the sorted items.
/// 8-bit digits, least significant first. One read counts every digit of every pass, so a pass
/// whose digit is the same for all items (common: exponent bytes of probabilities, zero low
/// mantissa bytes of float32 scores) is skipped. With threads > 1 large inputs scatter in
/// parallel: each thread owns a contiguous chunk and its own bucket offsets, which keeps the sort
/// stable, at the price of recounting each chunk before every pass (worth it from about 4 cores;
/// on fewer, callers run independent single-threaded sorts side by side instead).
template <typename T, typename KeyFn>
T* radix_sort(T* data, T* scratch, std::size_t n, KeyFn key, int threads = 1) {
  constexpr int kBits = 8;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  constexpr int kPasses = 64 / kBits;
  using Hist = std::array<std::size_t, kBuckets>;
  if (n < 2) return data;
  if (n < (std::size_t{1} << 17) || omp_in_parallel()) threads = 1;  // nested teams have one thread
  const auto nt = static_cast<std::size_t>(threads);
  // hist[t * kPasses + pass]: counts of thread t's chunk (valid for the first pass run) and, summed
  // over threads, the totals that decide which passes to skip.
  std::vector<Hist> hist(nt * kPasses);
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
    Hist* h = &hist[t * kPasses];
    for (int p = 0; p < kPasses; ++p) h[p].fill(0);
    for (std::size_t i = begin; i < end; ++i) {
      const std::uint64_t k = key(data[i]);
      for (int p = 0; p < kPasses; ++p) ++h[p][(k >> (p * kBits)) & (kBuckets - 1)];
    }
  }
  bool first = true;
  T* src = data;
  T* dst = scratch;
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = pass * kBits;
    bool skip = false;
    for (std::size_t b = 0; b < kBuckets && !skip; ++b) {
      std::size_t total = 0;
      for (std::size_t t = 0; t < nt; ++t) total += hist[t * kPasses + pass][b];
      skip = total == n;
    }
    if (skip) continue;
#pragma omp parallel num_threads(threads)
    {
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
      Hist& h = hist[t * kPasses + pass];
      if (!first && nt > 1) {  // items moved between chunks since the first read: recount
        h.fill(0);
        for (std::size_t i = begin; i < end; ++i) ++h[(key(src[i]) >> shift) & (kBuckets - 1)];
      }
#pragma omp barrier
#pragma omp single
      {
        // Exclusive prefix over (bucket, thread): thread t's items of bucket b follow those of
        // threads < t, so the scatter is stable.
        std::size_t sum = 0;
        for (std::size_t b = 0; b < kBuckets; ++b)
          for (std::size_t u = 0; u < nt; ++u) {
            std::size_t c = hist[u * kPasses + pass][b];
            hist[u * kPasses + pass][b] = sum;
            sum += c;
          }
      }
      for (std::size_t i = begin; i < end; ++i) {
        const T item = src[i];
        dst[h[(key(item) >> shift) & (kBuckets - 1)]++] = item;
      }
    }
    first = false;
    std::swap(src, dst);
  }
  return src;
}

/// The same on a vector; tmp is resized and used as scratch.
template <typename T, typename KeyFn>
void radix_sort(std::vector<T>& v, std::vector<T>& tmp, KeyFn key, int threads = 1) {
  tmp.resize(v.size());
  if (radix_sort(v.data(), tmp.data(), v.size(), key, threads) != v.data()) v.swap(tmp);
}

}  // namespace compe::metric::detail
