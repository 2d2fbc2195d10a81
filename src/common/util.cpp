#include "compe/util.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "compe/error.hpp"

namespace compe {

namespace fs = std::filesystem;

// A path the system refuses for its length is bad input (exit 2), not a failing disk.
[[noreturn]] void fail_too_long(const fs::path& path) {
  fail(ErrorCode::kInvalidArgument,
       "'{}': the path is too long ({} bytes; the system takes at most {} bytes in a name and {} "
       "in a path)",
       path.string(), path.string().size(), NAME_MAX, PATH_MAX);
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  fs::path dir = path.parent_path();
  std::error_code exists_ec;
  if (!dir.empty() && !fs::exists(dir, exists_ec)) {
    if (exists_ec == std::errc::filename_too_long) fail_too_long(path);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec == std::errc::filename_too_long) fail_too_long(path);
    if (ec) fail(ErrorCode::kIo, "cannot create folder '{}': {}", dir.string(), ec.message());
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  fs::path tmp = path;
  tmp += fmt::format(".tmp-{:x}", rng());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENAMETOOLONG) fail_too_long(path);
  if (fd < 0) fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(ErrorCode::kIo, "cannot replace '{}': {}", path.string(), std::strerror(err));
  }
}

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec == std::errc::filename_too_long) fail_too_long(path);
    fail(ErrorCode::kNotFound, "{}: no such file", path.string());
  }
  if (fs::is_directory(path, ec)) fail(ErrorCode::kIo, "{}: is a folder, expected a file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::kIo, "{}: cannot open for reading", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(ErrorCode::kIo, "{}: read failed", path.string());
  return std::move(ss).str();
}

void Hasher::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = state_;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  state_ = h;
}

std::uint64_t Hasher::digest() const {
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Hasher::hex() const { return fmt::format("{:016x}", digest()); }

std::size_t remove_stale_temp_files(const fs::path& dir) {
  std::error_code ec;
  std::size_t removed = 0;
  bool other = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().find(".tmp-") != std::string::npos &&
        it->is_regular_file(ec) && fs::remove(it->path(), ec)) {
      ++removed;
    } else {
      other = true;
    }
  }
  if (removed > 0 && !other) fs::remove(dir, ec);
  return removed;
}

std::size_t resolve_threads(std::size_t requested) {
  const unsigned hc = std::thread::hardware_concurrency();
  const std::size_t cores = hc == 0 ? 1 : hc;
  return requested > 0 ? std::min(requested, cores) : cores;
}

std::size_t check_threads(std::int64_t requested, std::string_view what) {
  if (requested < 0 || requested > kMaxThreads)
    fail(ErrorCode::kInvalidArgument,
         "{} is {}: expected 0 (all cores) to {} (more than the cores run as the cores)", what,
         requested, kMaxThreads);
  return static_cast<std::size_t>(requested);
}

void parallel_for(std::size_t n, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  std::size_t t = std::min(resolve_threads(threads), n);
  if (t <= 1) {
    fn(0, n);
    return;
  }
  std::exception_ptr first;
  std::mutex mu;
  std::vector<std::thread> pool;
  pool.reserve(t);
  std::size_t chunk = (n + t - 1) / t;
  for (std::size_t i = 0; i < t; ++i) {
    std::size_t b = i * chunk, e = std::min(n, b + chunk);
    if (b >= e) break;
    pool.emplace_back([&, b, e] {
      try {
        fn(b, e);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!first) first = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

static std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(std::string_view name, std::span<const std::string> candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  return best_d <= limit ? best : std::string();
}

std::string join(std::span<const std::string> items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace compe
