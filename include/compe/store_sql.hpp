#pragma once
/// A minimal SQL connection that the store's logic runs on; one implementation per backend.
/// SQL is written once with `?` placeholders; backends translate what differs.
///
/// Public (owned by src/store) for the competition host, which keeps its submissions in its own
/// SQLite file (host.db) through the same connection; everything else uses compe::Store.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace compe::store {

enum class Dialect { kSqlite, kPostgres };

/// Binary content (BLOB in SQLite, BYTEA in PostgreSQL); text columns take std::string.
struct Blob {
  std::string bytes;
};

using Value = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;

/// A backend failure; the store turns it into Error(kStorage) naming the operation.
class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Row {
  std::vector<Value> cells;

  bool is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(cells.at(i)); }
  std::int64_t i64(std::size_t i) const;
  double f64(std::size_t i) const;       ///< NULL reads as NaN
  std::string str(std::size_t i) const;  ///< NULL reads as ""; a blob reads as its bytes
  std::optional<std::int64_t> opt_i64(std::size_t i) const;
  std::optional<double> opt_f64(std::size_t i) const;
};

class Db {
 public:
  virtual ~Db() = default;
  virtual Dialect dialect() const = 0;
  /// Runs statements without parameters (schema steps); several separated by ';'.
  virtual void exec_script(std::string_view sql) = 0;
  /// Runs one statement and calls fn on each row (one Row object reused: copy what you keep).
  virtual void for_each_row(std::string_view sql, std::span<const Value> params,
                            const std::function<void(const Row&)>& fn) = 0;
  /// Runs one statement; returns its rows (none for writes without RETURNING).
  std::vector<Row> query(std::string_view sql, std::span<const Value> params) {
    std::vector<Row> rows;
    for_each_row(sql, params, [&](const Row& r) { rows.push_back(r); });
    return rows;
  }
  /// Runs one write; returns the number of rows it changed.
  virtual std::int64_t exec(std::string_view sql, std::span<const Value> params) = 0;
  /// Inserts many rows into `table` (values row-major, columns.size() per row) inside the
  /// current transaction, by the backend's fastest means (multi-row INSERT, COPY).
  virtual void insert_rows(std::string_view table, std::span<const char* const> columns,
                           std::span<const Value> values) = 0;
  /// Starts a write transaction that holds the write lock from the start (SQLite: BEGIN
  /// IMMEDIATE), so read-then-write sequences never fail half-way on a lock upgrade.
  virtual void begin_write() = 0;
  /// Starts a read-only transaction: the reads inside see one consistent snapshot.
  virtual void begin_read() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  /// Inside a transaction: serialises schema migration between concurrent openers.
  virtual void lock_for_migration() = 0;
  /// Whether `table` exists in the store's schema.
  virtual bool has_table(const std::string& table) = 0;

  std::vector<Row> query(std::string_view sql, std::initializer_list<Value> params) {
    return query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  std::int64_t exec(std::string_view sql, std::initializer_list<Value> params) {
    return exec(sql, std::span<const Value>(params.begin(), params.size()));
  }
};

/// SQLite at `path` (":memory:" for a private in-memory database).
std::unique_ptr<Db> open_sqlite(const std::string& path);
/// PostgreSQL at a libpq URL; `schema` "" = the server's default search path.
std::unique_ptr<Db> open_postgres(const std::string& url, const std::string& schema);

/// `url` with any password replaced by "***".
std::string redact_url(const std::string& url);

}  // namespace compe::store
