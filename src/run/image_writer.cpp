// The run writer's image files: a detection run's boxes or a segmentation run's masks per fold,
// pooled and scored with the competition metric, the folds' test predictions combined, and the
// submission in the sample submission's layout (docs/FORMATS.md, "Image runs").
#include <algorithm>
#include <cmath>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/run_writer.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void append_box(std::string& out, const std::string& id, const metric::DetBox& b) {
  out += fmt::format("{},{},{},{},{},{},{}", csv_cell(id), format_double(b.x1), format_double(b.y1),
                     format_double(b.x2), format_double(b.y2), format_double(b.score), b.label);
}

// Rows of `p` (boxes or masks of p.images in `set`), each ended by `suffix` (",<fold>" or "").
void append_predictions(std::string& out, const ImageReference& ref, const images::ImageSet& set,
                        const images::Predictions& p, const std::string& suffix) {
  const std::size_t k = ref.classes().size();
  for (std::size_t j = 0; j < p.images.size(); ++j) {
    const std::string& id = set.ids[p.images[j]];
    if (ref.truth.task == metric::kDetection) {
      for (const metric::DetBox& b : p.boxes.row(j)) {
        append_box(out, id, b);
        out += suffix + "\n";
      }
    } else {
      for (std::size_t c = 0; c < k; ++c)
        out += fmt::format("{},{},{}{}\n", csv_cell(id), csv_cell(ref.classes()[c]),
                           segment::format_rle(p.masks[j * k + c]), suffix);
    }
  }
}

std::string header(metric::Task task, bool with_fold) {
  std::string h = task == metric::kDetection ? "image_id,x1,y1,x2,y2,score,label" : "image_id,label,EncodedPixels";
  return h + (with_fold ? ",fold\n" : "\n");
}

// The pooled OOF: every fold's validation images, in train order.
images::Predictions pool(const ImageReference& ref, const std::map<int, images::Predictions>& folds,
                         std::vector<int>* fold_of) {
  const std::size_t n = ref.train.size(), k = ref.classes().size();
  std::vector<const images::Predictions*> from(n, nullptr);
  std::vector<std::size_t> at(n, 0);
  std::vector<int> fold(n, -1);
  for (const auto& [f, p] : folds)
    for (std::size_t j = 0; j < p.images.size(); ++j) {
      from[p.images[j]] = &p;
      at[p.images[j]] = j;
      fold[p.images[j]] = f;
    }
  images::Predictions out;
  for (std::size_t i = 0; i < n; ++i) {
    if (!from[i]) continue;
    out.images.push_back(i);
    fold_of->push_back(fold[i]);
    if (ref.truth.task == metric::kDetection) {
      out.boxes.push_row(from[i]->boxes.row(at[i]));
    } else {
      for (std::size_t c = 0; c < k; ++c) out.masks.push_back(from[i]->masks[at[i] * k + c]);
    }
  }
  return out;
}

// submission.csv in the sample's layout: `<id>,PredictionString` (detection: "score x y w h" per
// box in pixels, "label score x y w h" when there are several classes) or
// `Image_Label,EncodedPixels` / `<id>,label,EncodedPixels` (segmentation).
std::string submission_text(const Table& sample, const ImageReference& ref, const images::Predictions& test) {
  const std::string where = sample.source.empty() ? "sample_submission.csv" : sample.source;
  const std::size_t k = ref.classes().size();
  const Column& first = sample.column(0);
  std::string out;
  for (std::size_t c = 0; c < sample.num_columns(); ++c) {
    if (c) out += ',';
    out += csv_cell(sample.column(c).name);
  }
  out += "\n";
  auto image_of = [&](const std::string& id, std::size_t r) {
    const std::ptrdiff_t i = ref.test.find(id);
    if (i < 0)
      fail(ErrorCode::kInvalidArgument, "{}:{}: image {} is not in test.csv", where, r + 2, quote(id));
    return static_cast<std::size_t>(i);
  };
  if (ref.truth.task == metric::kDetection) {
    if (sample.num_columns() != 2 || sample.column(1).name != "PredictionString")
      fail(ErrorCode::kInvalidArgument, "{}: expected the columns <image id>,PredictionString for a detection competition",
           where);
    for (std::size_t r = 0; r < sample.num_rows(); ++r) {
      const std::string id = first.to_string(r);
      std::vector<detect::Box> boxes;
      for (const metric::DetBox& b : test.boxes.row(image_of(id, r)))
        boxes.push_back({b.x1, b.y1, b.x2, b.y2, b.score, b.label, -1});
      out += csv_cell(id) + "," + csv_cell(detect::prediction_string(boxes, k > 1)) + "\n";
    }
    return out;
  }
  const bool image_label = first.name == "Image_Label";
  if (!(image_label && sample.num_columns() == 2) && !(sample.num_columns() == 3 && sample.column(1).name == "label"))
    fail(ErrorCode::kInvalidArgument,
         "{}: expected the columns Image_Label,EncodedPixels or <image id>,label,EncodedPixels for a segmentation "
         "competition",
         where);
  for (std::size_t r = 0; r < sample.num_rows(); ++r) {
    std::string id, cls;
    if (image_label) {
      const std::string v = first.to_string(r);
      for (const auto& name : ref.classes())
        if (v.size() > name.size() + 1 && v.ends_with(name) && v[v.size() - name.size() - 1] == '_' &&
            name.size() > cls.size())
          cls = name;
      if (cls.empty())
        fail(ErrorCode::kInvalidArgument, "{}:{}: Image_Label {} does not end in _<class>", where, r + 2, quote(v));
      id = v.substr(0, v.size() - cls.size() - 1);
    } else {
      id = first.to_string(r);
      cls = sample.column(1).to_string(r);
    }
    auto c = std::find(ref.classes().begin(), ref.classes().end(), cls);
    if (c == ref.classes().end())
      fail(ErrorCode::kInvalidArgument, "{}:{}: class {} is not one of {}", where, r + 2, quote(cls),
           list_shown(ref.classes(), 10));
    const std::string code =
        segment::format_rle(test.masks[image_of(id, r) * k + static_cast<std::size_t>(c - ref.classes().begin())]);
    out += image_label ? fmt::format("{},{}\n", csv_cell(first.to_string(r)), code)
                       : fmt::format("{},{},{}\n", csv_cell(id), csv_cell(cls), code);
  }
  return out;
}

}  // namespace

double RunWriter::add_image_fold(int fold, images::Predictions oof, images::Predictions test,
                                 std::optional<double> score, std::span<const MetricPoint> curves) {
  COMPE_ASSERT(ref_.images);
  const ImageReference& img = *ref_.images;
  if (fold < 0 || fold >= ref_.num_folds())
    fail_at({.fold = static_cast<std::size_t>(std::max(fold, 0))}, ErrorCode::kInvalidArgument,
            "fold {} is outside 0..{} (folds.csv has {} folds)", fold, ref_.num_folds() - 1, ref_.num_folds());
  for (std::size_t i : oof.images) {
    COMPE_ASSERT(i < ref_.rows());
    if (ref_.folds[i] != fold)
      fail_at({.image_id = img.train.ids[i], .fold = static_cast<std::size_t>(fold)}, ErrorCode::kInvalidArgument,
              "fold {}: image {} is in fold {}, not one of this fold's validation images", fold,
              quote(img.train.ids[i]), ref_.folds[i]);
  }
  if (!score) score = score_images(ref_.metric, img, oof);
  std::lock_guard lock(mu_);
  if (!test.images.empty()) image_test_[fold] = std::move(test);
  image_oof_[fold] = std::move(oof);
  fold_scores_[fold] = *score;
  store_.add_fold_score(rec_.id, fold, *score);
  if (!curves.empty()) store_.log_metrics(rec_.id, curves);
  store_.heartbeat(rec_.id);
  return *score;
}

void RunWriter::finish_images(const FinishOptions& opt, Summary& sum) {
  const ImageReference& img = *ref_.images;
  const bool det = ref_.task == metric::kDetection;
  const std::string stem = det ? "boxes" : "masks";
  std::vector<int> fold_of;
  const images::Predictions pooled = pool(img, image_oof_, &fold_of);
  sum.cv = opt.cv ? *opt.cv : score_images(ref_.metric, img, pooled);

  std::string text = header(ref_.task, true);
  // The pooled rows carry their fold: append image by image with that fold.
  {
    const std::size_t k = img.classes().size();
    for (std::size_t j = 0; j < pooled.images.size(); ++j) {
      images::Predictions one;
      one.images = {pooled.images[j]};
      if (det) one.boxes.push_row(pooled.boxes.row(j));
      else one.masks.assign(pooled.masks.begin() + static_cast<std::ptrdiff_t>(j * k),
                            pooled.masks.begin() + static_cast<std::ptrdiff_t>((j + 1) * k));
      append_predictions(text, img, img.train, one, fmt::format(",{}", fold_of[j]));
    }
  }
  sum.oof = dir_ / fmt::format("oof_{}.csv", stem);
  write_file_atomic(sum.oof, text);
  if (opt.image_test) {
    text = header(ref_.task, false);
    append_predictions(text, img, img.test, *opt.image_test, "");
    sum.test = dir_ / fmt::format("test_{}.csv", stem);
    write_file_atomic(sum.test, text);
    sum.submission = dir_ / "submission.csv";
    write_file_atomic(sum.submission, submission_text(ws_.read_sample_submission(), img, *opt.image_test));
    return;
  }
  if (image_test_.empty()) return;

  text = header(ref_.task, true);
  std::vector<images::Predictions> folds;
  for (const auto& [f, p] : image_test_) {
    append_predictions(text, img, img.test, p, fmt::format(",{}", f));
    folds.push_back(p);
  }
  sum.test_folds = dir_ / fmt::format("test_{}_folds.csv", stem);
  write_file_atomic(sum.test_folds, text);

  const images::Predictions test = combine_test_folds(img, folds);
  text = header(ref_.task, false);
  append_predictions(text, img, img.test, test, "");
  sum.test = dir_ / fmt::format("test_{}.csv", stem);
  write_file_atomic(sum.test, text);
  sum.submission = dir_ / "submission.csv";
  write_file_atomic(sum.submission, submission_text(ws_.read_sample_submission(), img, test));
}

}  // namespace compe::run
