#pragma once
/// The one progress interface of long core work (runs, shake-up simulations, ...). The core never
/// prints: it reports here, and a face renders (the CLI draws a bar on a terminal and nothing
/// otherwise, cli/progress.hpp; Python may forward to a callback).
///
/// A task is start → advance* → finish; tasks follow each other (a run: one per fold), and notes
/// may come between them. Calls come from one thread at a time, not always the same one. Every
/// method does nothing by default, so an implementation overrides what it shows.

#include <cstddef>
#include <string_view>

namespace compe {

class Progress {
 public:
  virtual ~Progress() = default;
  /// A new task named `label` ("fold 2", "simulating") of `total` steps (0 = not known).
  virtual void start(std::string_view label, std::size_t total) {
    (void)label;
    (void)total;
  }
  /// `done` steps of the current task are finished (a count, not an increment; it never goes
  /// back); `detail` is a short status such as "valid-auc:0.91".
  virtual void advance(std::size_t done, std::string_view detail = {}) {
    (void)done;
    (void)detail;
  }
  /// The current task ended; `summary` (e.g. the fold's score) is "" when there is nothing to say.
  virtual void finish(std::string_view summary = {}) { (void)summary; }
  /// A line for the user between tasks (a run's id and folds, a warning).
  virtual void note(std::string_view line) { (void)line; }
};

}  // namespace compe
