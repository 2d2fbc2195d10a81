#pragma once
/// Small shared utilities: atomic file writes, hashing, parallel loops, name suggestions.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace compe {

/// Writes `content` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// A killed process leaves either the old file or the new one, never a torn one.
/// Throws Error(kIo) naming the path on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// Removes the temporary files (".tmp-" in the name) that a writer killed inside
/// write_file_atomic left in `dir`, then `dir` itself when nothing else is left in it. Only for
/// folders no live process writes to (a run marked interrupted). Returns the files removed;
/// a missing folder is 0. Never throws.
std::size_t remove_stale_temp_files(const std::filesystem::path& dir);

/// Reads a whole file. Throws Error(kNotFound) when missing, Error(kIo) when unreadable.
std::string read_file(const std::filesystem::path& path);

/// Incremental 64-bit hash (FNV-1a variant with a final avalanche). Stable across platforms and
/// versions: it identifies folds and data sets in stored runs, so never change it.
class Hasher {
 public:
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  void update_i64(std::int64_t v) { update(&v, sizeof v); }
  void update_f64(double v) { update(&v, sizeof v); }
  std::uint64_t digest() const;
  /// digest() as 16 lowercase hex digits.
  std::string hex() const;

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

/// Runs fn(begin, end) over [0, n) split into contiguous chunks on up to `threads` threads
/// (0 = hardware concurrency). The first exception thrown by any chunk is rethrown in the caller
/// after all chunks finish.
void parallel_for(std::size_t n, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& fn);

/// The most threads a user may ask for anywhere (--threads, [run] threads, a backend's nthread,
/// the Python module's threads=): larger counts are rejected by check_threads.
inline constexpr std::int64_t kMaxThreads = 1024;

/// Number of threads to use when the user asked for `requested` (0 = all cores): never more than
/// the cores, so an oversized request neither oversubscribes the machine nor allocates per thread.
std::size_t resolve_threads(std::size_t requested);

/// `requested` when it lies in 0..kMaxThreads; otherwise Error(kInvalidArgument) naming `what`
/// (an option or key, e.g. "--threads" or "exp.toml:3: 'run.threads'"), the value and the range.
std::size_t check_threads(std::int64_t requested, std::string_view what);

/// The candidate closest to `name` by edit distance, or "" when none is reasonably close.
std::string closest_match(std::string_view name, std::span<const std::string> candidates);

/// "a, b, c" for messages.
std::string join(std::span<const std::string> items, std::string_view sep = ", ");

}  // namespace compe
