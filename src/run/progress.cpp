// run::Event → compe::Progress: how a run's fold loop reports on the one progress interface.
#include <memory>

#include <fmt/core.h>

#include "compe/progress.hpp"
#include "compe/run.hpp"

namespace compe::run {

EventSink progress_sink(Progress& progress) {
  struct State {
    int fold = -1;  // the fold whose task is started, -1 none
  };
  auto state = std::make_shared<State>();
  return [&progress, state](const Event& e) {
    auto start_fold = [&](int fold, std::size_t total) {
      if (state->fold == fold) return;
      state->fold = fold;
      progress.start(fmt::format("fold {}", fold), total);
    };
    switch (e.kind) {
      case Event::kNote: progress.note(e.message); break;
      case Event::kStart: progress.note(fmt::format("run {}: {} fold(s)", e.message, e.num_folds)); break;
      case Event::kFoldStart: break;  // started at its first iteration, which knows the total
      case Event::kIteration:
        start_fold(e.fold, e.total);
        progress.advance(e.iteration + 1, e.message);
        break;
      case Event::kFoldEnd:
        start_fold(e.fold, 0);
        progress.finish(fmt::format("{:.6g}", e.score));
        state->fold = -1;
        break;
      case Event::kEnd: break;
    }
  };
}

}  // namespace compe::run
