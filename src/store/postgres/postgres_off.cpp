// The PostgreSQL backend's stand-in in a build without libpq (COMPE_WITH_POSTGRES=OFF, or AUTO
// without libpq-dev): a postgres[ql]:// store URL fails with this message; SQLite works as ever.
#include <memory>
#include <string>

#include "compe/store_sql.hpp"

namespace compe::store {

std::unique_ptr<Db> open_postgres(const std::string&, const std::string&) {
  throw DbError(
      "compe was built without PostgreSQL support (configure with -DCOMPE_WITH_POSTGRES=ON and "
      "libpq-dev installed); use a SQLite store path instead");
}

}  // namespace compe::store
