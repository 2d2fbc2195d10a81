// The run folder as a cache of the store: runs/<id>/ files pushed to and fetched from the
// store's content-addressed artifacts (include/compe/artifacts.hpp).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"

namespace compe::run {
namespace fs = std::filesystem;
namespace {

constexpr ArtifactFile kArtifactFiles[] = {
    {"config.json", "config"}, {"oof.csv", "oof"},
    {"test.csv", "test"},      {"test_folds.csv", "test_folds"},
    {"submission.csv", "submission"}, {"meta.json", "meta"},
    {"curves.csv", "curves"},  {"importance.csv", "importance"}, {"oof_repeats.csv", "oof_repeats"}, {"run.log", "log"},
    {"git.diff", "diff"},
    // Detection and segmentation runs (docs/FORMATS.md, "Image runs").
    {"oof_boxes.csv", "oof_boxes"}, {"test_boxes_folds.csv", "test_boxes_folds"},
    {"test_boxes.csv", "test_boxes"}, {"oof_masks.csv", "oof_masks"},
    {"test_masks_folds.csv", "test_masks_folds"}, {"test_masks.csv", "test_masks"},
};

const ArtifactFile& artifact_file(std::string_view file) {
  for (const auto& f : kArtifactFiles)
    if (f.file == file) return f;
  std::vector<std::string> names;
  for (const auto& f : kArtifactFiles) names.emplace_back(f.file);
  fail(ErrorCode::kInvalidArgument, "'{}' is not a run artifact, expected one of: {}", file,
       fmt::join(names, ", "));
}

// Writes what `fill` passes to its sink into `path` through a temporary file in the same folder,
// renamed over `path` only once `fill` returned: a reader never sees a partial file.
void write_streamed_atomic(const fs::path& path,
                           const std::function<void(const std::function<void(std::string_view)>&)>& fill) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) fail(ErrorCode::kIo, "cannot create folder '{}': {}", path.parent_path().string(), ec.message());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  fs::path tmp = path;
  tmp += fmt::format(".tmp-{:x}", rng());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(errno));
  try {
    fill([&](std::string_view bytes) {
      std::size_t done = 0;
      while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(errno));
        done += static_cast<std::size_t>(n);
      }
    });
    if (::fsync(fd) != 0)
      fail(ErrorCode::kIo, "cannot write '{}': {}", path.string(), std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(ErrorCode::kIo, "cannot replace '{}': {}", path.string(), std::strerror(err));
  }
}

}  // namespace

std::span<const ArtifactFile> artifact_files() {
  return kArtifactFiles;
}

std::vector<Artifact> push_run(Store& store, const Workspace& ws, const std::string& run_id,
                               std::int64_t max_bytes) {
  const fs::path dir = ws.runs_dir() / run_id;
  std::vector<Artifact> out;
  for (const auto& f : kArtifactFiles) {
    fs::path p = dir / f.file;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    out.push_back(store.put_artifact({.run_id = run_id,
                                      .name = f.name,
                                      .path = fs::relative(p, ws.root()).string(),
                                      .kind = f.name},
                                     p, max_bytes));
  }
  return out;
}

void record_artifacts(Store& store, const Workspace& ws, const std::string& run_id,
                      const fs::path& dir, std::int64_t max_bytes) {
  COMPE_ASSERT(dir == ws.runs_dir() / run_id);
  push_run(store, ws, run_id, max_bytes);
}

LocalRun ensure_local(Store& store, const Workspace& ws, const std::string& run_id,
                      std::span<const std::string_view> files, Need need) {
  return ensure_local(store, ws.runs_dir(), run_id, files, need);
}

LocalRun ensure_local(Store& store, const fs::path& runs_dir, const std::string& run_id,
                      std::span<const std::string_view> files, Need need) {
  LocalRun out;
  out.dir = runs_dir / run_id;
  std::vector<Artifact> listed;
  bool have_list = false;
  for (std::string_view file : files) {
    const ArtifactFile& f = artifact_file(file);
    fs::path p = out.dir / f.file;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) continue;
    if (!have_list) {
      listed = store.list_artifacts(run_id);
      have_list = true;
    }
    auto it = std::find_if(listed.begin(), listed.end(),
                           [&](const Artifact& a) { return a.name == f.name; });
    if (it == listed.end() || !it->stored) {
      if (need == Need::kIfStored) continue;
      fail(ErrorCode::kNotFound,
           "run {}: {} is not in {} and store '{}' {}: push it with `compe push {}` from the "
           "workspace that made the run",
           run_id, f.file, out.dir.string(), store.url(),
           it == listed.end() ? "has no artifact '" + std::string(f.name) + "' for it"
                              : "has its record but not its content",
           run_id);
    }
    write_streamed_atomic(p, [&](const std::function<void(std::string_view)>& sink) {
      store.read_artifact(run_id, f.name, sink);
    });
    out.fetched.emplace_back(f.file);
  }
  return out;
}

LocalRun pull_run(Store& store, const Workspace& ws, const std::string& run_id) {
  std::vector<std::string_view> files;
  for (const Artifact& a : store.list_artifacts(run_id)) {
    if (!a.stored) continue;
    for (const auto& f : kArtifactFiles)
      if (a.name == f.name) files.push_back(f.file);
  }
  return ensure_local(store, ws, run_id, files, Need::kAll);
}

}  // namespace compe::run
