// PostgreSQL backend over libpq: `?` placeholders become $n, statements are prepared once per
// connection, values travel as text. Work shared between machines is claimed with row locks.

#include <libpq-fe.h>

#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "store/db.hpp"

namespace compe::store {
namespace {

// Type OIDs from pg_type.h (stable across server versions).
constexpr Oid kBytea = 17, kInt2 = 21, kInt4 = 23, kInt8 = 20, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700,
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
  PostgresDb(const std::string& url, const std::string& schema) : schema_(schema) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = trim_message(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(msg);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    setup_session();
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

  void for_each_row(std::string_view sql, std::span<const Value> params,
                    const std::function<void(const Row&)>& fn) override {
    Result r = run(sql, params);
    int nrows = PQntuples(r.get());
    int ncols = PQnfields(r.get());
    Row row;
    row.cells.resize(static_cast<std::size_t>(ncols));
    for (int i = 0; i < nrows; ++i) {
      for (int c = 0; c < ncols; ++c) {
        Value& cell = row.cells[static_cast<std::size_t>(c)];
        if (PQgetisnull(r.get(), i, c)) {
          cell = std::monostate{};
          continue;
        }
        const char* text = PQgetvalue(r.get(), i, c);
        Oid type = PQftype(r.get(), c);
        if (type == kInt2 || type == kInt4 || type == kInt8) {
          cell = std::int64_t{std::strtoll(text, nullptr, 10)};
        } else if (type == kFloat4 || type == kFloat8 || type == kNumeric) {
          cell = std::strtod(text, nullptr);
        } else if (type == kBool) {
          cell = std::int64_t{text[0] == 't' ? 1 : 0};
        } else if (type == kBytea) {
          cell = Blob{unescape_bytea(text, static_cast<std::size_t>(PQgetlength(r.get(), i, c)))};
        } else {
          cell = std::string(text, static_cast<std::size_t>(PQgetlength(r.get(), i, c)));
        }
      }
      fn(row);
    }
  }

  std::int64_t exec(std::string_view sql, std::span<const Value> params) override {
    Result r = run(sql, params);
    const char* n = PQcmdTuples(r.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  }

  // COPY ... FROM STDIN in text format: one round trip per megabyte instead of per statement.
  void insert_rows(std::string_view table, std::span<const char* const> columns,
                   std::span<const Value> values) override {
    std::string sql = fmt::format("COPY {} ({}) FROM STDIN", table, fmt::join(columns, ", "));
    Result start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) throw DbError(error_of(start.get()));
    std::string buf;
    buf.reserve(1 << 20);
    auto flush = [&] {
      if (!buf.empty() && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) {
        throw DbError(trim_message(PQerrorMessage(conn_)));
      }
      buf.clear();
    };
    const std::size_t width = columns.size();
    try {
      for (std::size_t i = 0; i < values.size(); ++i) {
        append_copy_field(buf, values[i]);
        buf += (i + 1) % width == 0 ? '\n' : '\t';
        if (buf.size() >= (1 << 20)) flush();
      }
      flush();
    } catch (const DbError&) {
      PQputCopyEnd(conn_, "compe: copy abandoned");
      drain();
      throw;
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) throw DbError(trim_message(PQerrorMessage(conn_)));
    std::string err = drain();
    if (!err.empty()) throw DbError(err);
  }

  void begin_write() override { begin("BEGIN"); }
  void begin_read() override { begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() noexcept override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  void lock_for_migration() override {
    // A transaction-scoped advisory lock: concurrent openers migrate one after the other.
    exec_script("SELECT pg_advisory_xact_lock(7406188341)");
  }

  bool has_table(const std::string& table) override {
    return !query(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name = ?",
                {table})
                .empty();
  }

 private:
  void setup_session() {
    exec_script("SET client_min_messages = warning");
    exec_script("SET bytea_output = hex");
    if (schema_.empty()) return;
    std::string quoted = quote_ident(schema_);
    try {
      exec_script(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoted));
    } catch (const DbError&) {
      // Two first openers may race to create it; only a schema still missing is an error.
      if (query("SELECT 1 FROM pg_namespace WHERE nspname = ?", {schema_}).empty()) throw;
    }
    exec_script(fmt::format("SET search_path TO {}", quoted));
  }

  // Every store operation starts here, so a connection the server dropped (restart, idle
  // timeout, terminated backend) is re-established once before anything of the operation ran.
  void begin(const char* sql) {
    try {
      exec_script(sql);
    } catch (const DbError&) {
      if (PQstatus(conn_) != CONNECTION_BAD) throw;
      PQreset(conn_);
      if (PQstatus(conn_) != CONNECTION_OK) throw DbError(trim_message(PQerrorMessage(conn_)));
      prepared_.clear();
      setup_session();
      exec_script(sql);
    }
  }

  std::string quote_ident(const std::string& name) {
    char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
    if (!q) throw DbError(trim_message(PQerrorMessage(conn_)));
    std::string s(q);
    PQfreemem(q);
    return s;
  }

  // A bytea value in the server's hex output format: "\\x" then two hex digits per byte.
  static std::string unescape_bytea(const char* text, std::size_t n) {
    if (n < 2 || text[0] != '\\' || text[1] != 'x')
      throw DbError("bytea value not in hex format (set bytea_output = hex)");
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      throw DbError("bytea value holds a character that is not a hex digit");
    };
    std::string out((n - 2) / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<char>(nibble(text[2 + 2 * i]) << 4 | nibble(text[3 + 2 * i]));
    return out;
  }

  static void append_copy_field(std::string& buf, const Value& v) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      fmt::format_to(std::back_inserter(buf), "{}", *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      if (std::isnan(*d)) {
        buf += "\\N";
      } else if (std::isinf(*d)) {
        buf += *d > 0 ? "Infinity" : "-Infinity";
      } else {
        fmt::format_to(std::back_inserter(buf), "{}", *d);
      }
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      buf += "\\\\x";  // bytea hex input; the COPY text format doubles the backslash
      for (unsigned char c : b->bytes) fmt::format_to(std::back_inserter(buf), "{:02x}", c);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      for (char c : *t) {
        switch (c) {
          case '\\':
            buf += "\\\\";
            break;
          case '\n':
            buf += "\\n";
            break;
          case '\r':
            buf += "\\r";
            break;
          case '\t':
            buf += "\\t";
            break;
          default:
            buf += c;
        }
      }
    } else {
      buf += "\\N";
    }
  }

  // Collects the results that end a COPY; returns the first error message, "" when none.
  std::string drain() {
    std::string err;
    while (PGresult* r = PQgetResult(conn_)) {
      auto st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK && err.empty()) err = error_of(r);
      PQclear(r);
    }
    return err;
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
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);  // text, but blobs travel as binary
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const auto* b = std::get_if<Blob>(&v)) {
        values[i] = b->bytes.data();
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
        continue;
      }
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
                            values.data(), lengths.data(), formats.data(), 0));
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw DbError(error_of(r.get()));
    return r;
  }

  std::string schema_;
  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace

std::unique_ptr<Db> open_postgres(const std::string& url, const std::string& schema) {
  return std::make_unique<PostgresDb>(url, schema);
}

}  // namespace compe::store
