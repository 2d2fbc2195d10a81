// Fusion reuses its Workspace: once warmed on an image, fusing it again allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "compe/detect.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
// The nothrow form too (std::stable_sort's temporary buffer uses it), so that every allocation
// the replaced operator delete frees came from malloc (AddressSanitizer checks the pairing).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace det = compe::detect;

TEST(DetectAlloc, WarmWorkspaceFusesWithoutAllocating) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  det::ImageDetections img(5);
  for (auto& m : img) {
    for (int b = 0; b < 100; ++b) {
      double x = u(rng) * 0.8, y = u(rng) * 0.8;
      m.boxes.push_back({x, y, x + 0.05 + u(rng) * 0.15, y + 0.05 + u(rng) * 0.15});
      m.scores.push_back(u(rng));
      m.labels.push_back(b % 10);
    }
  }
  for (const det::Info& row : det::builtin()) {
    SCOPED_TRACE(row.name);
    det::Params p;
    p.weights = {1, 2, 1, 3, 1};
    auto f = det::make(row.name, p);
    det::Workspace ws;
    det::Report r;
    std::vector<det::Box> out;
    f->fuse(img, out, r, ws);
    const auto first = out;
    g_allocations = 0;
    g_counting = true;
    f->fuse(img, out, r, ws);
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0);
    ASSERT_EQ(out.size(), first.size());
    EXPECT_EQ(out.back().score, first.back().score);
  }
}
