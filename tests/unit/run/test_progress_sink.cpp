// run::progress_sink: a run's events as calls on compe::Progress.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../common/recording_progress.hpp"
#include "compe/run.hpp"

namespace compe {
namespace {

using run::Event;

TEST(RunProgressSink, OneTaskPerFoldFinishedWithItsScore) {
  testing::RecordingProgress p;
  run::EventSink sink = run::progress_sink(p);
  sink({.kind = Event::kNote, .message = "no folds.csv: made one"});
  sink({.kind = Event::kStart, .num_folds = 2, .message = "r1"});
  sink({.kind = Event::kFoldStart, .fold = 0, .num_folds = 2});
  sink({.kind = Event::kIteration, .fold = 0, .iteration = 0, .total = 3, .message = "valid-auc:0.8"});
  sink({.kind = Event::kIteration, .fold = 0, .iteration = 2, .total = 3});
  sink({.kind = Event::kFoldEnd, .fold = 0, .num_folds = 2, .score = 0.91234567});
  // A fold without iterations (a backend that reports nothing) is still a task.
  sink({.kind = Event::kFoldStart, .fold = 1, .num_folds = 2});
  sink({.kind = Event::kFoldEnd, .fold = 1, .num_folds = 2, .score = std::numeric_limits<double>::quiet_NaN()});
  sink({.kind = Event::kEnd, .score = 0.9, .message = "r1"});
  std::vector<std::string> expected = {
      "note no folds.csv: made one", "note run r1: 2 fold(s)", "start fold 0/3", "advance 1 valid-auc:0.8",
      "advance 3",                   "finish 0.912346",        "start fold 1/0", "finish nan"};
  EXPECT_EQ(p.calls(), expected);
}

}  // namespace
}  // namespace compe
