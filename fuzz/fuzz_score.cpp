// The submission validator and scorer: a solution and a submission (two files split by
// "\n@@\n"), scored with a metric picked by the first byte; or a submission alone against a
// fixed solution; and the sample-submission check.
#include <array>

#include "compe/score.hpp"
#include "compe/table.hpp"
#include "fuzz_util.hpp"

namespace {
constexpr std::array<const char*, 14> kMetrics = {
    "roc_auc", "log_loss", "rmse", "rmsle", "mae", "accuracy", "f1", "qwk",
    "map@5", "pearson", "spearman", "r2", "multilabel_log_loss", "mcc"};
constexpr std::string_view kSolution =
    "id,y,Usage\n1,0,Public\n2,1,Public\n3,0,Private\n4,1,Private\n5,1,Private\n6,,Ignored\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace compe;
  const char* metric = kMetrics[data[0] % kMetrics.size()];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto files = fuzz::parts(text);
  CsvReadOptions o;
  o.threads = 1;
  fuzz::expect_clean([&] {
    Table sol = read_csv_string(files.size() > 1 ? files[0] : kSolution, "solution.csv", o);
    Table sub = read_csv_string(files.back(), "submission.csv", o);
    for (bool worst : {false, true}) {
      score::Options so{.metric = metric, .id_column = "", .task = std::nullopt, .undefined_as_worst = worst};
      fuzz::expect_clean([&] { (void)score::score_submission(sol, sub, so); });
    }
    fuzz::expect_clean([&] {
      Table sample = sol;
      (void)sample;
      score::validate_against_sample(read_csv_string("id,y\n1,0.5\n2,0.5\n3,0.5\n", "sample.csv", o), sub);
    });
  });
  return 0;
}
