#pragma once
// Review queues: which rows a human should look at, from a run's out-of-fold probabilities.
//
// Rules (each returns items ranked most doubtful first):
//   confident_learning  label issues by confident learning (Northcutt, Jiang and Chuang, "Confident
//                       Learning: Estimating Uncertainty in Dataset Labels", JAIR 2021): the
//                       per-class threshold t_j is the mean out-of-sample probability of class j
//                       over the rows labelled j; a row labelled i is counted in the confident joint
//                       at C[i][j] where j is the class of highest probability among those with
//                       p_j >= t_j (rows with no such class are not counted); the rows off the
//                       diagonal (j != i) are the issues, ranked by self-confidence p_i ascending
//                       (cleanlab's `filter_by="confident_learning"`, `rank_by_kind="self_confidence"`)
//   highest_loss        the rows with the largest log loss -log p_given (clipped at 1e-15)
//   low_confidence      unlabelled (test) rows whose top probability is lowest
//   disagreement        rows where two runs' probability vectors differ most (L1 / 2)
//
// Probabilities are n x k row-major (binary runs give k = 2: 1 - p, p); labels are class indices.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace compe::review {

struct Probabilities {
  const double* values = nullptr;  ///< n x k, row-major
  std::size_t rows = 0;
  std::size_t classes = 0;
  double at(std::size_t r, std::size_t c) const { return values[r * classes + c]; }
};

/// One queued row: its index, the label it has and the one the rule suggests (-1 when none),
/// the rule's score (what the ranking sorts on) and the reason in words.
struct Item {
  std::size_t row = 0;
  int given = -1;
  int suggested = -1;
  double score = 0.0;
  std::string rule;
  std::string reason;
};

struct ConfidentLearning {
  std::vector<double> thresholds;                        ///< t_j per class (NaN: no row labelled j)
  std::vector<std::vector<std::int64_t>> confident_joint;  ///< C[given][suggested]
  std::vector<Item> issues;                              ///< off-diagonal rows, by self-confidence
};

/// Fails (ErrorCode::kInvalidArgument) on a label outside [0, k), a probability that is NaN or
/// outside [0, 1], or sizes that disagree, naming the row.
ConfidentLearning confident_learning(const Probabilities& p, const std::vector<int>& labels,
                                     const std::vector<std::string>& class_names);

std::vector<Item> highest_loss(const Probabilities& p, const std::vector<int>& labels,
                               const std::vector<std::string>& class_names, std::size_t top);

std::vector<Item> low_confidence(const Probabilities& p, const std::vector<std::string>& class_names,
                                 std::size_t top);

std::vector<Item> disagreement(const Probabilities& a, const Probabilities& b,
                               const std::vector<std::string>& class_names, std::size_t top);

/// Precision at k and recall of a ranked queue against the rows known to be wrong (planted noise).
struct QueueQuality {
  double precision = 0.0;
  double recall = 0.0;
  std::size_t found = 0;
};
QueueQuality quality_at(const std::vector<Item>& ranked, const std::vector<std::size_t>& wrong_rows,
                        std::size_t k);

}  // namespace compe::review
