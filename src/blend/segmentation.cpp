// Segmentation runs blended by a per-pixel weighted vote of their masks (include/compe/mask_blend.hpp).
#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>

#include <fmt/core.h>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/image_data.hpp"
#include "compe/image_run.hpp"
#include "compe/mask_blend.hpp"
#include "compe/oof.hpp"
#include "compe/run_writer.hpp"
#include "compe/util.hpp"

namespace compe::blend {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kFilesArray[] = {"oof_masks.csv", "test_masks.csv"};

std::string who(const Run& r) { return fmt::format("{} ({})", r.id, r.name); }

/// Where the members agree: per image and class, the pixel runs over which the set of members
/// having the pixel (a bit per member) is constant and not empty.
struct Segment {
  std::int64_t start = 0, length = 0;
  std::uint32_t members = 0;
};
using Segments = std::vector<std::vector<Segment>>;  ///< per (image, class)

std::vector<Segment> segments_of(std::span<const images::Predictions> members, std::size_t at) {
  std::map<std::int64_t, std::int64_t> delta_mask;  // position -> xor of member bits changing there
  for (std::size_t m = 0; m < members.size(); ++m)
    for (const auto& [start, len] : members[m].masks[at].runs) {
      delta_mask[start] ^= static_cast<std::int64_t>(1u << m);
      delta_mask[start + len] ^= static_cast<std::int64_t>(1u << m);
    }
  std::vector<Segment> out;
  std::uint32_t cur = 0;
  std::int64_t from = 0;
  for (const auto& [pos, flip] : delta_mask) {
    if (cur != 0 && pos > from) out.push_back({from, pos - from, cur});
    cur ^= static_cast<std::uint32_t>(flip);
    from = pos;
  }
  return out;
}

segment::Mask vote_one(const std::vector<Segment>& segs, const std::vector<double>& share, double threshold) {
  segment::Mask m;
  for (const Segment& s : segs) {
    if (share[s.members] + 1e-12 < threshold) continue;
    if (!m.runs.empty() && m.runs.back().first + m.runs.back().second == s.start)
      m.runs.back().second += s.length;
    else
      m.runs.emplace_back(s.start, s.length);
  }
  return m;
}

/// The weighted share of each set of members.
std::vector<double> shares(const std::vector<double>& w) {
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<double> share(std::size_t{1} << w.size(), 0.0);
  for (std::size_t set = 0; set < share.size(); ++set) {
    double s = 0;
    for (std::size_t m = 0; m < w.size(); ++m)
      if (set & (std::size_t{1} << m)) s += w[m];
    share[set] = s / total;
  }
  return share;
}

/// The vote's masks of the images `idx` (positions in the set), aligned on them.
images::Predictions vote(const Segments& segs, std::size_t classes, std::span<const std::size_t> idx, const MaskVote& v) {
  const std::vector<double> share = shares(v.weights);
  images::Predictions out;
  for (std::size_t i : idx) {
    out.images.push_back(i);
    for (std::size_t c = 0; c < classes; ++c) out.masks.push_back(vote_one(segs[i * classes + c], share, v.threshold));
  }
  return out;
}

std::vector<MaskVote> candidates(std::size_t members) {
  std::vector<std::vector<double>> weights = {std::vector<double>(members, 1.0)};
  if (members <= 4) {
    const double grid[3] = {1.0, 0.5, 0.25};
    std::size_t n = 1;
    for (std::size_t m = 0; m < members; ++m) n *= 3;
    for (std::size_t code = 1; code < n; ++code) {
      std::vector<double> w;
      for (std::size_t m = 0, c = code; m < members; ++m, c /= 3) w.push_back(grid[c % 3]);
      weights.push_back(w);
    }
  }
  std::vector<MaskVote> out;
  for (const auto& w : weights)
    for (int t = 1; t <= 10; ++t) out.push_back({w, t / 10.0});
  return out;
}

struct Chosen {
  MaskVote vote;
  double score = 0;
};

Chosen choose(const run::Reference& ref, const Segments& segs, std::span<const std::size_t> idx,
              const std::vector<MaskVote>& cands, bool maximize) {
  const run::ImageReference& img = *ref.images;
  std::optional<Chosen> best;
  for (const MaskVote& v : cands) {
    const double s = run::score_images(ref.metric, img, vote(segs, img.classes().size(), idx, v));
    if (!best || (maximize ? s > best->score : s < best->score)) best = Chosen{v, s};
  }
  return *best;
}

struct Loaded {
  std::vector<Run> runs;
  std::vector<images::Predictions> oof, test;
  bool have_test = true;
};

void check_member_folder(const compe::Workspace& ws, Store& store, const Run& r) {
  run::ensure_local(store, ws, r.id, std::span<const std::string_view>(kFilesArray), run::Need::kIfStored);
  const fs::path dir = ws.runs_dir() / r.id;
  if (fs::exists(dir / "oof_masks.csv")) return;
  for (const char* f : {"oof.csv", "oof_boxes.csv"})
    if (fs::exists(dir / f))
      fail(ErrorCode::kInvalidArgument, "run {} is not a segmentation run: its folder has {}, no oof_masks.csv", who(r), f);
  fail(ErrorCode::kNotFound, "run {} has no oof_masks.csv (runs/{}/oof_masks.csv): a mask vote needs each member's OOF masks",
       who(r), r.id);
}

void check_same(const std::vector<Run>& runs, const run::Reference& ref, const std::string& data_now) {
  const Run& a = runs.front();
  for (const Run& b : runs) {
    if (b.folds_hash != a.folds_hash)
      fail(ErrorCode::kInvalidArgument, "runs {} and {} were made on different folds (folds hash {} and {}): blend runs of the same folds.csv",
           who(a), who(b), a.folds_hash, b.folds_hash);
    if (b.data_hash != a.data_hash)
      fail(ErrorCode::kInvalidArgument, "runs {} and {} were made on different train/test data (data hash {} and {})", who(a),
           who(b), a.data_hash, b.data_hash);
  }
  if (a.folds_hash != ref.folds_hash)
    fail(ErrorCode::kInvalidArgument, "run {} was made on other folds (folds hash {}) than this workspace's (folds hash {})",
         who(a), a.folds_hash, ref.folds_hash);
  if (!a.data_hash.empty() && a.data_hash != data_now)
    fail(ErrorCode::kInvalidArgument, "run {} was made on other train/test data (data hash {}) than this workspace's (data hash {})",
         who(a), a.data_hash, data_now);
}

std::vector<std::size_t> every(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

Loaded load(const compe::Workspace& ws, Store& store, const run::Reference& ref, const std::vector<std::string>& args) {
  if (args.size() < 2) fail(ErrorCode::kInvalidArgument, "compe blend: give at least 2 segmentation runs (got {})", args.size());
  if (args.size() > 16) fail(ErrorCode::kInvalidArgument, "compe blend: at most 16 segmentation runs (got {})", args.size());
  Loaded l;
  for (const auto& arg : args) {
    Run r = store.get_run(store.resolve_run_id(arg));
    if (r.status != RunStatus::kFinished)
      fail(ErrorCode::kInvalidArgument, "run {} is {}: only finished runs can be blended", who(r), run_status_name(r.status));
    for (const Run& o : l.runs)
      if (o.id == r.id) fail(ErrorCode::kInvalidArgument, "run {} is given twice: each member once", who(r));
    check_member_folder(ws, store, r);
    l.runs.push_back(std::move(r));
  }
  check_same(l.runs, ref, run::data_hash(ws));
  const run::ImageReference& img = *ref.images;
  const auto train = every(img.train.size()), test = every(img.test.size());
  for (const Run& r : l.runs) {
    const fs::path dir = ws.runs_dir() / r.id;
    l.oof.push_back(images::read_predictions_file(
        dir / "oof_masks.csv", {.task = metric::kSegmentation, .classes = &img.classes(), .set = &img.train,
                                .expected = train, .expected_what = "the train images", .set_file = "train.csv"}));
    if (!fs::exists(dir / "test_masks.csv")) {
      l.have_test = false;
      continue;
    }
    l.test.push_back(images::read_predictions_file(
        dir / "test_masks.csv", {.task = metric::kSegmentation, .classes = &img.classes(), .set = &img.test,
                                 .expected = test, .expected_what = "the test images", .set_file = "test.csv"}));
  }
  return l;
}

Segments all_segments(std::span<const images::Predictions> members, std::size_t n) {
  Segments s(n);
  for (std::size_t at = 0; at < n; ++at) s[at] = segments_of(members, at);
  return s;
}

nlohmann::json vote_json(const MaskVote& v) { return {{"weights", v.weights}, {"threshold", v.threshold}}; }

nlohmann::json config_of(const compe::Workspace& ws, const Loaded& l, const MaskBlendRecorded& rec) {
  nlohmann::json inputs = nlohmann::json::array();
  for (std::size_t i = 0; i < l.runs.size(); ++i)
    inputs.push_back({{"run_id", l.runs[i].id},
                      {"name", l.runs[i].name},
                      {"oof_score", rec.member_scores[i]},
                      {"weight", rec.vote.weights[i]}});
  nlohmann::json folds = nlohmann::json::array();
  for (std::size_t k = 0; k < rec.folds.size(); ++k)
    folds.push_back({{"fold", rec.folds[k]}, {"vote", vote_json(rec.fold_votes[k])}});
  const CompetitionConfig& cfg = ws.config();
  return {{"mask_vote", {{"method", "vote"}, {"vote", vote_json(rec.vote)}, {"fold_votes", folds}, {"inputs", inputs}}},
          {"competition", {{"name", cfg.name}, {"task", metric::task_name(cfg.task)}, {"metric", cfg.metric}}}};
}

}  // namespace

MaskBlendRecorded record_mask_blend(const compe::Workspace& ws, Store& store, const MaskBlendRequest& req) {
  const run::Reference ref = run::reference_from_workspace(ws);
  if (ref.task != metric::kSegmentation || !ref.images)
    fail(ErrorCode::kInvalidArgument, "the workspace's competition is a {} task, not segmentation", metric::task_name(ref.task));
  const Loaded l = load(ws, store, ref, req.runs);
  const run::ImageReference& img = *ref.images;
  const std::size_t k = img.classes().size();
  const bool maximize = run::describe_metric(metric::kSegmentation, ref.metric).greater_is_better;
  MaskBlendRecorded rec;
  for (std::size_t i = 0; i < l.runs.size(); ++i) {
    rec.members.push_back(l.runs[i].id);
    rec.member_scores.push_back(run::score_images(ref.metric, img, l.oof[i]));
  }
  const Segments segs = all_segments(l.oof, img.train.size() * k);
  const std::vector<MaskVote> cands = candidates(l.runs.size());
  // The nested check: each outer fold voted with what the other folds chose.
  std::map<int, images::Predictions> fold_pred;
  std::map<int, double> fold_scores;
  for (int f = 0; f < ref.num_folds(); ++f) {
    const std::vector<std::size_t> outer = ref.rows_of(f);
    if (outer.empty()) continue;
    std::vector<std::size_t> inner;
    for (std::size_t i = 0; i < ref.rows(); ++i)
      if (ref.folds[i] != f) inner.push_back(i);
    const Chosen c = choose(ref, segs, inner, cands, maximize);
    rec.folds.push_back(f);
    rec.fold_votes.push_back(c.vote);
    fold_pred[f] = vote(segs, k, outer, c.vote);
    fold_scores[f] = run::score_images(ref.metric, img, fold_pred[f]);
  }
  images::Predictions pooled;
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    const images::Predictions& p = fold_pred.at(ref.folds[i]);
    const auto j = static_cast<std::size_t>(std::find(p.images.begin(), p.images.end(), i) - p.images.begin());
    pooled.images.push_back(i);
    pooled.masks.insert(pooled.masks.end(), p.masks.begin() + static_cast<std::ptrdiff_t>(j * k),
                        p.masks.begin() + static_cast<std::ptrdiff_t>((j + 1) * k));
  }
  rec.cv = run::score_images(ref.metric, img, pooled);
  const Chosen final_vote = choose(ref, segs, every(img.train.size()), cands, maximize);
  rec.vote = final_vote.vote;
  rec.in_sample = final_vote.score;
  std::optional<images::Predictions> test;
  if (l.have_test) test = vote(all_segments(l.test, img.test.size() * k), k, every(img.test.size()), rec.vote);
  std::size_t best = 0;
  for (std::size_t i = 1; i < rec.member_scores.size(); ++i)
    if (maximize ? rec.member_scores[i] > rec.member_scores[best] : rec.member_scores[i] < rec.member_scores[best]) best = i;
  const nlohmann::json config = config_of(ws, l, rec);
  run::RunWriter w(ws, store,  ref,
                   {.kind = "blend",
                    .name = req.name.empty() ? "blend-vote" : req.name,
                    .config = config,
                    .parent_id = l.runs[best].id,
                    .command_line = req.command_line,
                    .producer = fmt::format("compe {} (blend vote)", COMPE_VERSION)});
  try {
    std::string log = fmt::format("mask vote, metric {}\n", ref.metric);
    for (std::size_t i = 0; i < l.runs.size(); ++i) log += fmt::format("member {}: oof {:.6f}\n", who(l.runs[i]), rec.member_scores[i]);
    w.log(log + fmt::format("in-sample oof {:.6f}, nested cv {:.6f}", rec.in_sample, rec.cv));
    for (auto& [f, p] : fold_pred) w.add_image_fold(f, std::move(p), {}, fold_scores.at(f));
    run::FinishOptions fin;
    fin.cv = rec.cv;
    fin.cv_details = {{"nested", rec.cv}, {"in_sample", rec.in_sample}};
    fin.meta_extra = {{"inputs", config["mask_vote"]["inputs"]}};
    fin.image_test = test ? &*test : nullptr;
    rec.run_id = w.finish(fin).run_id;
  } catch (const std::exception& e) {
    w.stop(RunStatus::kFailed, e.what());
    throw;
  }
  return rec;
}

bool is_mask_blend(const Run& r) { return r.config.contains("mask_vote") && r.config["mask_vote"].is_object(); }

MaskBlendRecorded rerun_mask_blend(const compe::Workspace& ws, Store& store, const Run& r, const std::string& name,
                                   const std::string& command_line) {
  MaskBlendRequest req;
  for (const auto& in : r.config["mask_vote"].value("inputs", nlohmann::json::array())) {
    if (!in.contains("run_id") || !in["run_id"].is_string())
      fail(ErrorCode::kInvalidArgument, "blend {}: a member has no run id in its record", who(r));
    req.runs.push_back(in["run_id"]);
  }
  req.name = name.empty() ? r.name + "-rerun" : name;
  req.command_line = command_line;
  return record_mask_blend(ws, store, req);
}

}  // namespace compe::blend
