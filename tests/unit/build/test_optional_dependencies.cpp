// The optional dependencies (COMPE_WITH_POSTGRES, COMPE_WITH_XGBOOST): what a build with and
// without each one does. CMake tells this file which build it is in.
#include <string>

#include <gtest/gtest.h>

#include "../error_of.hpp"
#include "compe/model.hpp"
#include "compe/store.hpp"

#ifndef COMPE_TEST_HAVE_POSTGRES
#error "tests/CMakeLists.txt sets COMPE_TEST_HAVE_POSTGRES on this file"
#endif
#ifndef COMPE_TEST_HAVE_XGBOOST
#error "tests/CMakeLists.txt sets COMPE_TEST_HAVE_XGBOOST on this file"
#endif

namespace compe {
namespace {

using testing::error_of;

TEST(OptionalDependencies, PostgresUrl) {
  // Port 1 on loopback: nothing listens, so a build with libpq fails to connect, and one without
  // fails before trying.
  const std::string url = "postgresql://user:secret@127.0.0.1:1/none?connect_timeout=2";
  std::string msg = error_of([&] { open_store(url); }, ErrorCode::kStorage);
  EXPECT_EQ(msg.find("secret"), std::string::npos) << msg;
  if (COMPE_TEST_HAVE_POSTGRES)
    EXPECT_EQ(msg.find("built without PostgreSQL"), std::string::npos) << msg;
  else
    EXPECT_NE(msg.find("compe was built without PostgreSQL support"), std::string::npos) << msg;
}

TEST(OptionalDependencies, SqliteAlwaysWorks) {
  auto store = open_store(":memory:");
  EXPECT_EQ(store->list_runs({}).total, 0);
}

TEST(OptionalDependencies, XgboostRow) {
  const model::Info& row = model::find("xgb");
  EXPECT_EQ(row.name, "xgboost");
  if (COMPE_TEST_HAVE_XGBOOST) {
    EXPECT_EQ(row.summary.find("unavailable"), std::string::npos) << row.summary;
    EXPECT_TRUE(row.library_version);
    EXPECT_NO_THROW(model::resolve_params(row, nlohmann::json::object()));
  } else {
    EXPECT_NE(row.summary.find("unavailable: compe was built without XGBoost"), std::string::npos)
        << row.summary;
    std::string msg = error_of([&] { model::resolve_params(row, {{"eta", 0.1}}); }, ErrorCode::kBackend);
    EXPECT_NE(msg.find("compe was built without XGBoost"), std::string::npos) << msg;
    msg = error_of([] { model::make("xgboost"); }, ErrorCode::kBackend);
    EXPECT_NE(msg.find("compe was built without XGBoost"), std::string::npos) << msg;
    // The backends of compe's own are there as ever.
    EXPECT_NO_THROW(model::make("linear"));
  }
}

}  // namespace
}  // namespace compe
