// PostgreSQL backend over libpq: `?` placeholders become $n, statements are prepared once per
// connection, values travel as text. Work shared between machines is claimed with row locks.

#include <libpq-fe.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "store/db.hpp"

namespace compe::store {
namespace {

// Type OIDs from pg_type.h (stable across server versions).
constexpr Oid kInt2 = 21, kInt4 = 23, kInt8 = 20, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700,
              kBool = 16;

std::string to_dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += fmt::format("${}", ++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::string trim_message(const char* msg) {
  std::string s = msg ? msg : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

class PostgresDb final : public Db {
 public:
  PostgresDb(const std::string& url, const std::string& schema) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = trim_message(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(msg);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    exec_script("SET client_min_messages = warning");
    if (!schema.empty()) {
      std::string quoted = quote_ident(schema);
      exec_script(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoted));
      exec_script(fmt::format("SET search_path TO {}", quoted));
    }
  }
  ~PostgresDb() override { PQfinish(conn_); }

  using Db::exec;
  using Db::query;
  Dialect dialect() const override { return Dialect::kPostgres; }

  void exec_script(std::string_view sql) override {
    std::string s(sql);
    Result r(PQexec(conn_, s.c_str()));
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw DbError(error_of(r.get()));
  }

  std::vector<Row> query(std::string_view sql, std::span<const Value> params) override {
    Result r = run(sql, params);
    std::vector<Row> rows;
    int nrows = PQntuples(r.get());
    int ncols = PQnfields(r.get());
    rows.reserve(static_cast<std::size_t>(nrows));
    for (int i = 0; i < nrows; ++i) {
      Row row;
      row.cells.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(r.get(), i, c)) {
          row.cells.emplace_back(std::monostate{});
          continue;
        }
        const char* text = PQgetvalue(r.get(), i, c);
        Oid type = PQftype(r.get(), c);
        if (type == kInt2 || type == kInt4 || type == kInt8) {
          row.cells.emplace_back(std::int64_t{std::strtoll(text, nullptr, 10)});
        } else if (type == kFloat4 || type == kFloat8 || type == kNumeric) {
          row.cells.emplace_back(std::strtod(text, nullptr));
        } else if (type == kBool) {
          row.cells.emplace_back(std::int64_t{text[0] == 't' ? 1 : 0});
        } else {
          row.cells.emplace_back(std::string(text, static_cast<std::size_t>(PQgetlength(r.get(), i, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::int64_t exec(std::string_view sql, std::span<const Value> params) override {
    Result r = run(sql, params);
    const char* n = PQcmdTuples(r.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  }

  void begin_write() override { exec_script("BEGIN"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() noexcept override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  void lock_for_migration() override {
    // A transaction-scoped advisory lock: concurrent openers migrate one after the other.
    exec_script("SELECT pg_advisory_xact_lock(7406188341)");
  }

  bool has_table(const std::string& table) override {
    return !query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                  "AND table_name = ?",
                  {table})
                .empty();
  }

 private:
  std::string quote_ident(const std::string& name) {
    char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
    if (!q) throw DbError(trim_message(PQerrorMessage(conn_)));
    std::string s(q);
    PQfreemem(q);
    return s;
  }

  std::string error_of(PGresult* r) {
    const char* m = PQresultErrorMessage(r);
    if (!m || !*m) m = PQerrorMessage(conn_);
    return trim_message(m);
  }

  Result run(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = fmt::format("compe_{}", prepared_.size());
      std::string text = to_dollar_placeholders(sql);
      Result p(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) throw DbError(error_of(p.get()));
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        texts[i] = fmt::format("{}", *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) continue;  // NULL, as in SQLite
        texts[i] = std::isinf(*d) ? (*d > 0 ? "Infinity" : "-Infinity") : fmt::format("{}", *d);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        texts[i] = *t;
      } else {
        continue;
      }
      values[i] = texts[i].c_str();
    }
    Result r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                            values.data(), nullptr, nullptr, 0));
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw DbError(error_of(r.get()));
    return r;
  }

  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace

std::unique_ptr<Db> open_postgres(const std::string& url, const std::string& schema) {
  return std::make_unique<PostgresDb>(url, schema);
}

}  // namespace compe::store
