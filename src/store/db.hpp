#pragma once
// The store's SQL connection is public for the host: include/compe/store_sql.hpp.
#include "compe/store_sql.hpp"
