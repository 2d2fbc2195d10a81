#pragma once
/// Object-detection box fusion: weighted boxes fusion (WBF), NMS, soft-NMS and non-maximum
/// weighted (NMW), over the predictions of several models for the same image.
///
/// Results follow ensemble_boxes 1.0.9 (the reference): same boxes, same scores within 1e-6, same
/// order, ties included (the reference sorts with NumPy's introsort argsort and reverses it; so do
/// we). Where the reference has known confidence defects the reference's numbers are the default
/// and the corrected behaviour is an explicit option (Params::corrected_conf, decayed_scores).
///
/// Every method is a row of one explicit table (src/detect/builtin_fusion.cpp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace compe::detect {

/// Box corners, normalised to [0, 1]: x1 <= x2, y1 <= y2 for a valid box.
struct Coords {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

/// A detection: corners, score, label and the model it came from. Fused boxes (wbf, nmw) have
/// model = -1; nms and soft_nms keep the index of the model whose box survived.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double score = 0;
  std::int64_t label = 0;
  std::int32_t model = -1;
  Coords coords() const { return {x1, y1, x2, y2}; }
};

/// Intersection over union of two valid boxes: inter / (area(a) + area(b) - inter), the
/// reference's formula and evaluation order. 0 when they do not overlap. Both boxes must have a
/// positive area (otherwise the result is NaN for two empty boxes).
double iou(const Coords& a, const Coords& b);

/// One model's detections for one image, as the reference takes them: three parallel lists.
struct ModelDetections {
  std::vector<Coords> boxes;
  std::vector<double> scores;
  std::vector<std::int64_t> labels;
};

/// One image: one entry per model; a model's index is its position.
using ImageDetections = std::vector<ModelDetections>;

/// WBF confidence of a cluster (the reference's conf_type).
enum class ConfType {
  kAvg,                  ///< "avg": mean weighted score, rescaled by min(models, boxes) / sum(weights)
  kMax,                  ///< "max": highest weighted score / max(weights)
  kBoxAndModelAvg,       ///< "box_and_model_avg": weight-averaged score x weight of models present / sum(weights)
  kAbsentModelAwareAvg,  ///< "absent_model_aware_avg": sum(s*w) / (cluster weights + absent models' weights)
};
/// "avg", "max", "box_and_model_avg", "absent_model_aware_avg".
std::string_view conf_type_name(ConfType t);
/// Parses a conf_type name; throws Error(kInvalidArgument) listing the valid names.
ConfType parse_conf_type(std::string_view name);

enum class SoftNmsKind { kLinear = 1, kGaussian = 2 };
/// "linear", "gaussian".
std::string_view soft_nms_kind_name(SoftNmsKind k);
/// Parses "linear"/"gaussian" (or the reference's method numbers "1"/"2"); throws kInvalidArgument.
SoftNmsKind parse_soft_nms_kind(std::string_view name);

/// What to do with a box whose corners are inverted, outside [0, 1] or that has zero area.
enum class BadBoxPolicy {
  /// The reference's behaviour: swap inverted corners, clip coordinates to [0, 1], drop boxes of
  /// zero area; every such change is counted in the Report.
  kClip,
  /// Throw Error(kInvalidArgument) naming the image, model, box and value.
  kError,
};

/// Parameters of every method; each method reads the ones its Info::uses names, and make()
/// rejects a non-default value of a parameter the method does not use.
struct Params {
  /// One weight per model, finite and >= 0 with a positive sum; empty = the reference's
  /// weights=None (all 1 for wbf/nmw; unweighted scores for nms/soft_nms, which otherwise scale
  /// each score by weight / sum(weights) like the reference).
  std::vector<double> weights;
  /// Boxes match when IoU > iou_thr (strictly). Empty = the method's default (Info::default_iou_thr).
  std::optional<double> iou_thr;
  /// wbf, nmw: boxes with score < skip_box_thr are ignored before anything else.
  double skip_box_thr = 0.0;
  ConfType conf_type = ConfType::kAvg;  ///< wbf
  /// wbf avg: the reference's allows_overflow (score scaled by boxes / sum(weights), may exceed 1).
  bool allows_overflow = false;
  /// wbf avg: corrected confidence. The reference's avg score, mean(s*w) * min(models, boxes) /
  /// sum(weights), exceeds 1 when a heavy model contributes several boxes to one cluster
  /// (ensemble_boxes issues #40, #43). Corrected: (sum(s*w) / sum(w in cluster)) *
  /// min(sum(w in cluster), sum(weights)) / sum(weights), always <= max score, and equal to the
  /// reference's whenever all weights are 1.
  bool corrected_conf = false;
  SoftNmsKind soft_kind = SoftNmsKind::kGaussian;  ///< soft_nms
  double sigma = 0.5;                              ///< soft_nms gaussian: exp(-iou^2 / sigma)
  double thresh = 0.001;  ///< soft_nms: boxes whose decayed score is <= thresh are dropped
  /// soft_nms: report each kept box's decayed score. The reference reports the undecayed input
  /// score (its decayed scores only decide which boxes are kept).
  bool decayed_scores = false;
  BadBoxPolicy bad_boxes = BadBoxPolicy::kClip;
};

/// What fusion changed or dropped in the input, summed over images. Nothing is changed silently.
struct Report {
  std::size_t images = 0;
  std::size_t boxes_in = 0;           ///< boxes given, all models
  std::size_t boxes_out = 0;          ///< boxes returned
  std::size_t below_skip_thr = 0;     ///< wbf, nmw: score < skip_box_thr, ignored
  std::size_t swapped_boxes = 0;      ///< boxes with x2 < x1 or y2 < y1, corners swapped
  std::size_t clipped_coords = 0;     ///< coordinates outside [0, 1] set to 0 or 1
  std::size_t zero_area_dropped = 0;  ///< boxes of zero area (after clipping), dropped
  /// wbf, nmw: clusters whose total confidence is 0 (all scores or weights 0). The reference
  /// returns NaN corners for them; compe returns the unweighted mean of the members' corners.
  std::size_t zero_conf_clusters = 0;
  Report& operator+=(const Report& o);
};

/// Parameters a method reads (bit set, Info::uses).
enum Uses : unsigned {
  kUsesWeights = 1u << 0,
  kUsesIouThr = 1u << 1,
  kUsesSkipThr = 1u << 2,
  kUsesConfType = 1u << 3,
  kUsesSoftNms = 1u << 4,  ///< soft_kind, sigma, thresh, decayed_scores
};

/// Reusable scratch buffers for one thread. Passing the same Workspace to successive fuse() calls
/// avoids allocation once it has grown to the largest image. Not shareable between threads.
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct Info;

/// A configured fusion method. Immutable and thread-safe: fuse() may run concurrently with
/// different Workspaces.
class Fuser {
 public:
  virtual ~Fuser() = default;

  /// Fuses one image. `out` is cleared and receives the boxes in the reference's order; `report`
  /// is added to. Throws Error(kInvalidArgument) when the lists of a model differ in length, the
  /// number of weights differs from the number of models, a score or coordinate is NaN or
  /// infinite, or (BadBoxPolicy::kError) a box is inverted, outside [0, 1] or of zero area.
  virtual void fuse(std::span<const ModelDetections> models, std::vector<Box>& out, Report& report,
                    Workspace& ws) const = 0;

  /// Convenience for one image (allocates its own Workspace).
  std::vector<Box> fuse(std::span<const ModelDetections> models, Report* report = nullptr) const;

  const Info& info() const { return *info_; }
  const Params& params() const { return params_; }
  /// The IoU threshold in force (params().iou_thr or the method's default).
  double iou_thr() const;

 protected:
  Fuser(const Info& info, Params params) : info_(&info), params_(std::move(params)) {}

 private:
  const Info* info_;
  Params params_;
};

struct Info {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  unsigned uses = 0;            ///< bit set of Uses
  double default_iou_thr = 0.55;
  /// True when given weights rescale scores by weight / sum(weights) (nms, soft_nms), so unit
  /// weights are not the same as no weights.
  bool weights_scale_by_sum = false;
  /// True when boxes are averaged into new ones (wbf, nmw) rather than selected (nms, soft_nms).
  bool fuses_coordinates = false;
  std::function<std::unique_ptr<Fuser>(const Info&, Params)> factory;
};

/// Every built-in method, in a stable order: wbf, nms, soft_nms, nmw.
std::span<const Info> builtin();
/// The row for a name or alias; throws Error(kNotFound) listing known names and the closest match.
const Info& find(std::string_view name);
/// Builds a method after checking its parameters: weights finite, >= 0, positive sum; iou_thr in
/// [0, 1]; skip_box_thr, sigma > 0, thresh finite; and no non-default value for a parameter the
/// method does not use. Throws kNotFound / kInvalidArgument.
std::unique_ptr<Fuser> make(std::string_view name, Params params = {});

/// Fuses many images in parallel (compe::parallel_for over images, one Workspace per thread).
/// Result i belongs to images[i]. `threads` 0 = all cores. Errors name the image index.
std::vector<std::vector<Box>> fuse_batch(const Fuser& fuser, std::span<const ImageDetections> images,
                                         Report* report = nullptr, std::size_t threads = 0);

/// NumPy 1.24's argsort order (introsort: median-of-3 quicksort, insertion sort below 17
/// elements, heapsort past the depth limit) of `values`, written to `order` (resized to n).
/// Ties come out as NumPy orders them, which is what the reference's `argsort()[::-1]` relies on.
void numpy_argsort(std::span<const double> values, std::vector<std::uint32_t>& order);

}  // namespace compe::detect
