// The Store's artifacts: records, and their content as content-addressed (sha256) blobs in
// zlib-compressed chunks, over the Db connection of either backend (sql_store.hpp).

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/sha256.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {
namespace {

namespace fs = std::filesystem;

struct Digest {
  std::string sha;
  std::int64_t size = 0;
};

std::ifstream open_input(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(ErrorCode::kIo, "cannot read '{}': {}", file.string(), std::strerror(errno));
  return in;
}

// Reads `in` in chunks of kArtifactChunkBytes into `buf`; calls fn(bytes) for each.
template <typename F>
std::int64_t for_each_chunk(std::ifstream& in, const fs::path& file, std::string& buf, F&& fn) {
  buf.resize(static_cast<std::size_t>(kArtifactChunkBytes));
  std::int64_t total = 0;
  for (;;) {
    in.read(buf.data(), kArtifactChunkBytes);
    auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    total += static_cast<std::int64_t>(n);
    fn(std::string_view(buf.data(), n));
  }
  if (in.bad()) fail(ErrorCode::kIo, "cannot read '{}': read error", file.string());
  return total;
}

Digest digest_file(const fs::path& file, std::int64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) fail(ErrorCode::kIo, "cannot read '{}': {}", file.string(), ec.message());
  if (static_cast<std::int64_t>(size) > max_bytes) {
    fail(ErrorCode::kInvalidArgument,
         "'{}' is {} bytes, over the limit of {} bytes for one artifact in the store (raise "
         "the limit with `compe push --max-artifact-mb`)",
         file.string(), size, max_bytes);
  }
  std::ifstream in = open_input(file);
  Sha256 h;
  std::string buf;
  Digest d;
  d.size = for_each_chunk(in, file, buf, [&](std::string_view bytes) { h.update(bytes); });
  d.sha = h.hex();
  return d;
}

std::string compress_chunk(std::string_view bytes) {
  uLongf n = compressBound(static_cast<uLong>(bytes.size()));
  std::string out(n, '\0');
  // Level 1: CSV text of numbers shrinks about as much as at higher levels, several times faster.
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                     reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uLong>(bytes.size()),
                     1);
  if (rc != Z_OK) fail(ErrorCode::kInternal, "zlib compress2 failed ({})", rc);
  out.resize(n);
  return out;
}

}  // namespace

void SqlStore::add_artifact(const Artifact& a) {
  write("add_artifact", [&] {
    if (a.name.empty())
      fail(ErrorCode::kInvalidArgument, "add_artifact: run '{}': empty artifact name", a.run_id);
    require_run(a.run_id);
    put_artifact_record(a);
  });
}

void SqlStore::put_artifact_record(const Artifact& a) {
  db_->exec(
      "INSERT INTO artifacts (run_id, name, path, size, sha, kind, created_ms) VALUES (?, ?, "
      "?, ?, ?, ?, ?) "
      "ON CONFLICT (run_id, name) DO UPDATE SET path = excluded.path, size = excluded.size, "
      "sha = excluded.sha, kind = excluded.kind, created_ms = excluded.created_ms",
      {a.run_id, a.name, a.path, a.size, a.sha, a.kind,
       a.created_ms ? a.created_ms : now_unix_ms()});
}

std::vector<Artifact> SqlStore::list_artifacts(const std::string& run_id) {
  return read("list_artifacts", [&] {
    std::vector<Artifact> out;
    for (const Row& r : db_->query(
             "SELECT a.run_id, a.name, a.path, a.size, a.sha, a.kind, a.created_ms, b.sha FROM "
             "artifacts a LEFT JOIN artifact_blobs b ON b.sha = a.sha WHERE a.run_id = ? ORDER "
             "BY a.name",
             {run_id})) {
      out.push_back({r.str(0), r.str(1), r.str(2), r.i64(3), r.str(4), r.str(5), r.i64(6),
                     !r.is_null(7)});
    }
    return out;
  });
}

Artifact SqlStore::put_artifact(const Artifact& record, const std::filesystem::path& file,
                                std::int64_t max_bytes) {
  if (record.name.empty())
    fail(ErrorCode::kInvalidArgument, "put_artifact: run '{}': empty artifact name",
         record.run_id);
  // The digest first, outside the transaction: content the store has is not sent again.
  Digest d = digest_file(file, max_bytes);
  Artifact a = record;
  a.sha = d.sha;
  a.size = d.size;
  a.stored = true;
  if (a.created_ms == 0) a.created_ms = now_unix_ms();
  return write("put_artifact", [&] {
    require_run(a.run_id);
    if (db_->query("SELECT 1 FROM artifact_blobs WHERE sha = ?", {a.sha}).empty()) {
      std::int64_t chunks = (a.size + kArtifactChunkBytes - 1) / kArtifactChunkBytes;
      db_->exec(
          "INSERT INTO artifact_blobs (sha, size, chunks, stored_bytes, created_ms) VALUES (?, "
          "?, ?, 0, ?)",
          {a.sha, a.size, chunks, a.created_ms});
      std::ifstream in = open_input(file);
      Sha256 h;
      std::string buf;
      std::int64_t idx = 0, stored = 0;
      std::int64_t total = for_each_chunk(in, file, buf, [&](std::string_view bytes) {
        h.update(bytes);
        Value data = Blob{compress_chunk(bytes)};
        stored += static_cast<std::int64_t>(std::get<Blob>(data).bytes.size());
        std::array<Value, 4> params{a.sha, idx++, static_cast<std::int64_t>(bytes.size()),
                                    std::move(data)};
        db_->exec("INSERT INTO artifact_chunks (sha, idx, size, data) VALUES (?, ?, ?, ?)",
                  params);
      });
      if (total != a.size || h.hex() != a.sha) {
        fail(ErrorCode::kIo,
             "'{}' changed while it was stored as artifact '{}' of run '{}': nothing was stored, "
             "store it again once it is complete",
             file.string(), a.name, a.run_id);
      }
      db_->exec("UPDATE artifact_blobs SET stored_bytes = ? WHERE sha = ?", {stored, a.sha});
    }
    put_artifact_record(a);
    return a;
  });
}

Artifact SqlStore::read_artifact(const std::string& run_id, const std::string& name,
                                 const std::function<void(std::string_view)>& sink) {
  return read("read_artifact", [&] {
    auto rows = db_->query(
        "SELECT a.run_id, a.name, a.path, a.size, a.sha, a.kind, a.created_ms, b.chunks, b.size "
        "FROM artifacts a LEFT JOIN artifact_blobs b ON b.sha = a.sha WHERE a.run_id = ? AND "
        "a.name = ?",
        {run_id, name});
    if (rows.empty()) {
      require_run(run_id);
      fail(ErrorCode::kNotFound, "run '{}' has no artifact '{}' in store '{}'", run_id, name,
           url_);
    }
    const Row& r = rows[0];
    Artifact a{r.str(0), r.str(1), r.str(2), r.i64(3), r.str(4), r.str(5), r.i64(6), !r.is_null(7)};
    if (!a.stored) {
      fail(ErrorCode::kNotFound,
           "store '{}' has the record of artifact '{}' of run '{}' but not its content: run "
           "`compe push {}` in the workspace that made the run",
           url_, name, run_id, run_id);
    }
    const std::int64_t chunks = r.i64(7);
    auto corrupt = [&](const std::string& why) {
      fail(ErrorCode::kStorage, "store '{}': artifact '{}' of run '{}' (sha256 {}) is corrupt: {}",
           url_, name, run_id, a.sha, why);
    };
    Sha256 h;
    std::string out;
    std::int64_t total = 0;
    for (std::int64_t idx = 0; idx < chunks; ++idx) {
      auto c = db_->query("SELECT size, data FROM artifact_chunks WHERE sha = ? AND idx = ?",
                          {a.sha, idx});
      if (c.empty()) corrupt(fmt::format("chunk {} of {} is missing", idx, chunks));
      const std::int64_t size = c[0].i64(0);
      const auto* blob = std::get_if<Blob>(&c[0].cells.at(1));
      if (!blob || size < 0 || size > kArtifactChunkBytes)
        corrupt(fmt::format("chunk {} of {} is not a compressed chunk", idx, chunks));
      out.resize(static_cast<std::size_t>(size));
      uLongf n = static_cast<uLongf>(size);
      int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &n,
                          reinterpret_cast<const Bytef*>(blob->bytes.data()),
                          static_cast<uLong>(blob->bytes.size()));
      if (rc != Z_OK || static_cast<std::int64_t>(n) != size)
        corrupt(fmt::format("chunk {} of {} does not decompress (zlib {})", idx, chunks, rc));
      total += size;
      h.update(out);
      sink(out);
    }
    std::string got = h.hex();
    if (total != a.size || got != a.sha) {
      corrupt(fmt::format("its content has {} bytes and sha256 {}, expected {} bytes", total, got,
                          a.size));
    }
    return a;
  });
}

ArtifactUsage SqlStore::artifact_usage() {
  return read("artifact_usage", [&] {
    auto r = db_->query(
        "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(stored_bytes), 0) FROM "
        "artifact_blobs",
        {});
    return ArtifactUsage{r.at(0).i64(0), r.at(0).i64(1), r.at(0).i64(2)};
  });
}

}  // namespace compe::store
