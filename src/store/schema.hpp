#pragma once
// The store's versioned schema: an ordered list of migrations, applied in one transaction when a
// store is opened. A released migration is never edited; a schema change adds a new step (and
// raises kStoreSchemaVersion), and tests/data/store/ keeps a store written by each old version.

#include <span>

#include "store/db.hpp"

namespace compe::store {

struct Migration {
  int version;  ///< the schema version this step produces (1, 2, ...)
  const char* description;
  const char* sql;           ///< statements valid in both dialects
  const char* sqlite_sql;    ///< extra statements for SQLite only, or nullptr
  const char* postgres_sql;  ///< extra statements for PostgreSQL only, or nullptr
};

std::span<const Migration> migrations();

/// Brings the store to kStoreSchemaVersion in one transaction and returns the version it had
/// (0 for a new store). Throws DbError on backend failure and compe::Error(kStorage) when the
/// store is newer than this build or is not a compe store.
int migrate(Db& db, const std::string& shown_url);

/// The version recorded in the store, 0 when it has no schema_version table.
int read_schema_version(Db& db);

}  // namespace compe::store
