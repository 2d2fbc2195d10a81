// SQLite backend: WAL journal, 10 s busy timeout, foreign keys, cached prepared statements,
// BEGIN IMMEDIATE for writes so that many processes can share one file.

#include <sqlite3.h>

#include <cmath>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "store/db.hpp"

namespace compe::store {
namespace {

constexpr int kBusyTimeoutMs = 10000;

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

class SqliteDb final : public Db {
 public:
  explicit SqliteDb(const std::string& path) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError(msg);
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db_, 1);
    exec_script("PRAGMA foreign_keys = ON");
    if (path != ":memory:") {
      // WAL lets readers run while one process writes; NORMAL sync is safe against process
      // crashes (only power loss may drop the last transactions, never corrupt the file).
      // Switching to (or confirming) WAL can answer SQLITE_BUSY without calling the busy handler
      // while another process opens or recovers the same file: retry within the busy timeout.
      for (int waited_ms = 0;; waited_ms += 20) {
        int prc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
        if (prc == SQLITE_OK) break;
        if ((prc & 0xff) != SQLITE_BUSY && (prc & 0xff) != SQLITE_LOCKED)
          throw DbError(sqlite3_errmsg(db_));
        if (waited_ms >= kBusyTimeoutMs) throw DbError(sqlite3_errmsg(db_));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      exec_script("PRAGMA synchronous = NORMAL");
      // Metric batches touch many pages: a larger cache keeps them from spilling mid-transaction.
      exec_script("PRAGMA cache_size = -65536");
    }
  }
  ~SqliteDb() override {
    cache_.clear();
    sqlite3_close(db_);
  }

  using Db::exec;
  using Db::query;
  Dialect dialect() const override { return Dialect::kSqlite; }

  void exec_script(std::string_view sql) override {
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw DbError(msg);
    }
  }

  void for_each_row(std::string_view sql, std::span<const Value> params,
                    const std::function<void(const Row&)>& fn) override {
    sqlite3_stmt* s = prepare(sql, params);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() { sqlite3_reset(s); }
    } reset{s};
    Row row;
    auto ncol = static_cast<std::size_t>(sqlite3_column_count(s));
    row.cells.resize(ncol);
    for (;;) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw DbError(sqlite3_errmsg(db_));
      for (std::size_t c = 0; c < ncol; ++c) {
        int ci = static_cast<int>(c);
        Value& cell = row.cells[c];
        switch (sqlite3_column_type(s, ci)) {
          case SQLITE_NULL:
            cell = std::monostate{};
            break;
          case SQLITE_INTEGER:
            cell = std::int64_t{sqlite3_column_int64(s, ci)};
            break;
          case SQLITE_FLOAT:
            cell = sqlite3_column_double(s, ci);
            break;
          case SQLITE_BLOB: {
            const auto* data = static_cast<const char*>(sqlite3_column_blob(s, ci));
            auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, ci));
            cell = Blob{std::string(data ? data : "", n)};
            break;
          }
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, ci));
            auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, ci));
            if (auto* str = std::get_if<std::string>(&cell)) {
              str->assign(text, n);
            } else {
              cell = std::string(text, n);
            }
          }
        }
      }
      fn(row);
    }
  }

  std::int64_t exec(std::string_view sql, std::span<const Value> params) override {
    sqlite3_stmt* s = prepare(sql, params);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) step_failed(s);
    sqlite3_reset(s);
    return sqlite3_changes64(db_);
  }

  void insert_rows(std::string_view table, std::span<const char* const> columns,
                   std::span<const Value> values) override {
    constexpr std::size_t kRowsPerStatement = 256;
    const std::size_t width = columns.size();
    std::size_t rows = values.size() / width;
    std::size_t done = 0;
    while (done < rows) {
      std::size_t n = rows - done >= kRowsPerStatement ? kRowsPerStatement : 1;
      exec(insert_sql(table, columns, n), values.subspan(done * width, n * width));
      done += n;
    }
  }

  void begin_write() override { exec_script("BEGIN IMMEDIATE"); }
  void begin_read() override { exec_script("BEGIN DEFERRED"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() noexcept override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void lock_for_migration() override {}  // BEGIN IMMEDIATE already holds the write lock

  bool has_table(const std::string& table) override {
    return !query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {table}).empty();
  }

 private:
  [[noreturn]] void step_failed(sqlite3_stmt* s) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(s);
    throw DbError(msg);
  }

  sqlite3_stmt* prepare(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                             SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
        throw DbError(sqlite3_errmsg(db_));
      }
      it = cache_.emplace(std::move(key), std::make_unique<Stmt>(s)).first;
    }
    sqlite3_stmt* s = it->second->get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(s)) {
      throw DbError(fmt::format("statement expects {} parameters, got {}",
                                sqlite3_bind_parameter_count(s), params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(s, idx, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = std::isnan(*d) ? sqlite3_bind_null(s, idx) : sqlite3_bind_double(s, idx, *d);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(s, idx, t->data(), static_cast<int>(t->size()), SQLITE_STATIC);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        rc = sqlite3_bind_blob64(s, idx, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(s, idx);
      }
      if (rc != SQLITE_OK) throw DbError(sqlite3_errmsg(db_));
    }
    return s;
  }

  const std::string& insert_sql(std::string_view table, std::span<const char* const> columns,
                                std::size_t rows) {
    std::string key = fmt::format("{}/{}/{}", table, fmt::join(columns, ","), rows);
    auto it = insert_sql_.find(key);
    if (it != insert_sql_.end()) return it->second;
    std::string one = "(?";
    for (std::size_t c = 1; c < columns.size(); ++c) one += ", ?";
    one += ")";
    std::string sql =
        fmt::format("INSERT INTO {} ({}) VALUES {}", table, fmt::join(columns, ", "), one);
    for (std::size_t r = 1; r < rows; ++r) sql += ", " + one;
    return insert_sql_.emplace(std::move(key), std::move(sql)).first->second;
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::string> insert_sql_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

}  // namespace

std::unique_ptr<Db> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteDb>(path);
}

}  // namespace compe::store
