// `compe score` for segmentation solutions: one RLE mask per (image, class) row, Kaggle's
// Image_Label layout or an image and a class column, every code checked against its image's size.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/util.hpp"

namespace compe::score {
namespace {

std::string src(const Table& t, std::string_view fallback) {
  return t.source.empty() ? std::string(fallback) : t.source;
}

/// "'a', 'b', 'c' and 12 more"
std::string describe(const std::vector<std::string>& items) {
  constexpr std::size_t kShown = 5;
  std::string out;
  const std::size_t n = std::min(items.size(), kShown);
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", " : "") + quote(items[i]);
  if (items.size() > n) out += fmt::format(" and {} more", items.size() - n);
  return out;
}

std::string cell_text(const Column& c, std::size_t r) { return c.is_missing(r) ? std::string() : c.to_string(r); }

/// The key columns of a segmentation table: Image_Label, or an image and a class column.
struct Layout {
  std::string image_label;          ///< "Image_Label" layout when set
  std::string image, label;         ///< the two-column layout otherwise
  std::vector<std::string> keys() const {
    return image_label.empty() ? std::vector<std::string>{image, label} : std::vector<std::string>{image_label};
  }
};

Layout layout_of(const Table& t, const std::string& display) {
  if (t.has("Image_Label")) return {"Image_Label", "", ""};
  for (const auto& [image, label] : {std::pair<const char*, const char*>{"ImageId", "ClassId"},
                                     {"image_id", "label"}, {"ImageId", "label"}, {"image_id", "ClassId"}})
    if (t.has(image) && t.has(label)) return {"", image, label};
  fail(ErrorCode::kInvalidArgument,
       "{}: a segmentation table needs Image_Label,EncodedPixels, ImageId,ClassId,EncodedPixels or "
       "image_id,label,EncodedPixels; columns are: {}",
       display, list_shown(t.column_names()));
}

/// Each row's (image, class) key and image id.
struct Keys {
  std::vector<std::string> key, image;
};

Keys keys_of(const Table& t, const Layout& layout, const Options& options, const std::string& display) {
  Keys k;
  const std::size_t n = t.num_rows();
  k.key.resize(n);
  k.image.resize(n);
  if (layout.image_label.empty()) {
    const Column& img = t.column(layout.image);
    const Column& lab = t.column(layout.label);
    for (std::size_t r = 0; r < n; ++r) {
      if (img.is_missing(r) || lab.is_missing(r))
        fail_at(ErrorContext{.file = display, .line = r + 2}, ErrorCode::kInvalidArgument,
                "{}: line {}: empty {} or {}; expected an image and a class", display, r + 2, quote(layout.image),
                quote(layout.label));
      k.image[r] = img.to_string(r);
      k.key[r] = k.image[r] + "_" + lab.to_string(r);
    }
    return k;
  }
  const Column& il = t.column(layout.image_label);
  for (std::size_t r = 0; r < n; ++r) {
    const std::string key = cell_text(il, r);
    std::size_t cut = std::string::npos;
    for (const auto& c : options.classes)  // the longest class name the key ends with
      if (key.size() > c.size() + 1 && key.ends_with(c) && key[key.size() - c.size() - 1] == '_' &&
          (cut == std::string::npos || key.size() - c.size() - 1 < cut))
        cut = key.size() - c.size() - 1;
    if (options.classes.empty()) {
      // Without class names: the first cut whose image has a known size, else the last '_'.
      cut = key.rfind('_');
      for (std::size_t at = key.find('_'); at != std::string::npos && !options.image_sizes.empty();
           at = key.find('_', at + 1))
        if (options.image_sizes.count(key.substr(0, at))) {
          cut = at;
          break;
        }
    }
    if (cut == std::string::npos || cut == 0 || cut + 1 >= key.size())
      fail_at(ErrorContext{.file = display, .line = r + 2}, ErrorCode::kInvalidArgument,
              "{}: line {}: Image_Label is {}; expected <image>_<class>{}", display, r + 2, quote(key),
              options.classes.empty() ? std::string() : fmt::format(" with a class among {}", list_shown(options.classes)));
    k.key[r] = key;
    k.image[r] = key.substr(0, cut);
  }
  return k;
}

/// Maps each submission row to its solution row, refusing as score_submission refuses ids.
std::vector<std::size_t> match_keys(const Keys& sol, const Keys& sub, const std::string& sub_name,
                                    const std::string& sol_name) {
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(sol.key.size() * 2);
  for (std::size_t r = 0; r < sol.key.size(); ++r) {
    auto [it, added] = index.emplace(sol.key[r], r);
    if (!added)
      fail(ErrorCode::kInvalidArgument, "{}: duplicate id {} at line {} (first at line {})", sol_name,
           quote(sol.key[r]), r + 2, it->second + 2);
  }
  std::vector<std::size_t> map(sub.key.size(), 0);
  std::vector<std::uint8_t> seen(sol.key.size(), 0);
  std::vector<std::string> dup, extra, missing;
  for (std::size_t r = 0; r < sub.key.size(); ++r) {
    auto it = index.find(sub.key[r]);
    if (it == index.end()) {
      extra.push_back(sub.key[r]);
    } else if (seen[it->second]) {
      dup.push_back(sub.key[r]);
    } else {
      seen[it->second] = 1;
      map[r] = it->second;
    }
  }
  for (std::size_t r = 0; r < sol.key.size(); ++r)
    if (!seen[r]) missing.push_back(sol.key[r]);
  if (dup.empty() && extra.empty() && missing.empty()) return map;
  std::vector<std::string> parts;
  if (sub.key.size() != sol.key.size())
    parts.push_back(fmt::format("submission must have {} rows, found {}", sol.key.size(), sub.key.size()));
  if (!dup.empty()) parts.push_back(fmt::format("{} duplicate id(s): {}", dup.size(), describe(dup)));
  if (!missing.empty()) parts.push_back(fmt::format("{} missing id(s): {}", missing.size(), describe(missing)));
  if (!extra.empty())
    parts.push_back(fmt::format("{} unexpected id(s) not in the solution: {}", extra.size(), describe(extra)));
  std::string msg;
  for (std::size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
  fail(ErrorCode::kInvalidArgument, "{}: {}", sub_name, msg);
}

std::int64_t size_cell(const Table& t, const char* name, std::size_t r, const std::string& display) {
  const Column& c = t.column(name);
  const double v = c.is_missing(r) || c.type == DType::kString ? std::nan("") : c.as_double(r);
  if (!(v >= 1 && v <= 1e9 && v == std::floor(v)))
    fail_at(ErrorContext{.file = display, .line = r + 2}, ErrorCode::kInvalidArgument,
            "{}: line {}: {} is {}; expected a positive integer number of pixels", display, r + 2, quote(name),
            quote(cell_text(c, r)));
  return static_cast<std::int64_t>(v);
}

/// Pixels of each solution row's image: the solution's width,height, else the options' sizes.
std::vector<std::int64_t> pixels_per_row(const Table& sol, const Keys& keys, const Options& o,
                                         const std::string& display) {
  const bool own = sol.has("width") && sol.has("height");
  std::vector<std::int64_t> out(keys.key.size(), 0);
  for (std::size_t r = 0; r < out.size(); ++r) {
    if (own) {
      out[r] = size_cell(sol, "width", r, display) * size_cell(sol, "height", r, display);
      continue;
    }
    auto it = o.image_sizes.find(keys.image[r]);
    if (it != o.image_sizes.end()) {
      out[r] = it->second.first * it->second.second;
    } else if (o.image_size) {
      out[r] = o.image_size->first * o.image_size->second;
    } else {
      fail_at(ErrorContext{.file = display, .line = r + 2, .image_id = keys.image[r]},
              ErrorCode::kInvalidArgument,
              "{}: line {}: no size known for image {}: give the solution width,height columns, pass "
              "--image-size WxH, or score in a workspace whose test.csv has width,height for it",
              display, r + 2, quote(keys.image[r]));
    }
  }
  return out;
}

const Column& encoded_pixels(const Table& t, const std::string& display) {
  if (!t.has("EncodedPixels"))
    fail(ErrorCode::kInvalidArgument, "{}: no column 'EncodedPixels'; columns are: {}", display,
         list_shown(t.column_names()));
  return t.column("EncodedPixels");
}

void check_submission_columns(const Table& sub, const Layout& layout, const std::string& display) {
  std::vector<std::string> expected = layout.keys();
  expected.push_back("EncodedPixels");
  std::vector<std::string> missing, extra;
  for (const auto& c : expected)
    if (!sub.has(c)) missing.push_back(c);
  for (const auto& c : sub.column_names())
    if (std::find(expected.begin(), expected.end(), c) == expected.end()) extra.push_back(c);
  if (missing.empty() && extra.empty()) return;
  fail(ErrorCode::kInvalidArgument, "{}: wrong columns {}; expected columns: {}{}{}", display,
       list_shown(sub.column_names()), list_shown(expected),
       missing.empty() ? "" : fmt::format("; missing: {}", list_shown(missing)),
       extra.empty() ? "" : fmt::format("; unexpected: {}", list_shown(extra)));
}

std::vector<Usage> usage_of(const Table& t, const std::string& display) {
  std::vector<Usage> out(t.num_rows(), Usage::kPrivate);
  if (!t.has("Usage")) return out;
  const Column& c = t.column("Usage");
  for (std::size_t r = 0; r < out.size(); ++r) {
    std::string v = cell_text(c, r);
    std::string low = v;
    std::transform(low.begin(), low.end(), low.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (low == "public") {
      out[r] = Usage::kPublic;
    } else if (low == "private") {
      out[r] = Usage::kPrivate;
    } else if (low == "ignored") {
      out[r] = Usage::kIgnored;
    } else {
      fail(ErrorCode::kInvalidArgument, "{}: line {}: Usage is {}, expected Public, Private or Ignored", display,
           r + 2, quote(v));
    }
  }
  return out;
}

}  // namespace

PreparedMasks prepare_segmentation(const Table& solution, const Table& submission, const Options& options) {
  auto m = metric::make(options.metric);
  if (!m->info().accepts(metric::kSegmentation))
    fail(ErrorCode::kInvalidArgument, "metric '{}' does not score segmentation masks", options.metric);
  const std::string sol = src(solution, "solution"), sub = src(submission, "submission");
  const Layout layout = layout_of(solution, sol);
  const Column& sol_codes = encoded_pixels(solution, sol);
  check_submission_columns(submission, layout, sub);
  const Column& sub_codes = submission.column("EncodedPixels");

  PreparedMasks out;
  out.has_usage = solution.has("Usage");
  out.usage = usage_of(solution, sol);
  const Keys sol_keys = keys_of(solution, layout, options, sol);
  const Keys sub_keys = keys_of(submission, layout, options, sub);
  const std::vector<std::size_t> map = match_keys(sol_keys, sub_keys, sub, sol);
  const std::vector<std::int64_t> pixels = pixels_per_row(solution, sol_keys, options, sol);

  std::unordered_map<std::string, std::size_t> image_index;
  out.image_of.resize(solution.num_rows());
  out.truth.resize(solution.num_rows());
  out.pred.resize(solution.num_rows());
  for (std::size_t r = 0; r < solution.num_rows(); ++r) {
    auto [it, added] = image_index.emplace(sol_keys.image[r], out.images.size());
    if (added) out.images.push_back(sol_keys.image[r]);
    out.image_of[r] = it->second;
    const segment::Where where{sol, static_cast<std::int64_t>(r + 2), sol_keys.image[r]};
    out.truth[r] = segment::parse_rle(cell_text(sol_codes, r), pixels[r], where);
  }
  for (std::size_t r = 0; r < submission.num_rows(); ++r) {
    const std::size_t s = map[r];
    const segment::Where where{sub, static_cast<std::int64_t>(r + 2), sol_keys.image[s]};
    out.pred[s] = segment::parse_rle(cell_text(sub_codes, r), pixels[s], where);
  }
  Result& res = out.result;
  res.metric = m->spec();
  res.direction = m->info().direction;
  res.task = metric::kSegmentation;
  for (Usage u : out.usage) {
    res.public_rows += u == Usage::kPublic ? 1 : 0;
    res.private_rows += u == Usage::kPrivate ? 1 : 0;
    res.ignored_rows += u == Usage::kIgnored ? 1 : 0;
  }
  return out;
}

Result score_segmentation_submission(const Table& solution, const Table& submission, const Options& options) {
  const PreparedMasks p = prepare_segmentation(solution, submission, options);
  auto m = metric::make(options.metric);
  Result res = p.result;
  // Dice and IoU are defined on every part (both empty = 1), so no part is ever undefined.
  auto score_where = [&](auto keep) -> std::optional<double> {
    std::vector<segment::Mask> truth, pred;
    for (std::size_t r = 0; r < p.usage.size(); ++r)
      if (keep(p.usage[r])) {
        truth.push_back(p.truth[r]);
        pred.push_back(p.pred[r]);
      }
    if (truth.empty()) return std::nullopt;
    metric::Inputs in;
    in.true_masks = &truth;
    in.pred_masks = &pred;
    return m->score(in);
  };
  if (p.has_usage) {
    res.public_score = score_where([](Usage u) { return u == Usage::kPublic; });
    res.private_score = score_where([](Usage u) { return u == Usage::kPrivate; });
  }
  res.overall_score = score_where([](Usage u) { return u != Usage::kIgnored; });
  return res;
}

std::map<std::string, ImageSize> read_image_sizes(const Table& table, const std::string& id_column) {
  const std::string display = src(table, "images table");
  if (table.num_columns() == 0) fail(ErrorCode::kInvalidArgument, "{}: no columns", display);
  const std::string id = id_column.empty() ? table.column(0).name : id_column;
  if (!table.has(id) || !table.has("width") || !table.has("height"))
    fail(ErrorCode::kInvalidArgument, "{}: image sizes need {}, width and height columns; columns are: {}", display,
         quote(id), list_shown(table.column_names()));
  std::map<std::string, ImageSize> out;
  const Column& ids = table.column(id);
  for (std::size_t r = 0; r < table.num_rows(); ++r) {
    const ImageSize size{size_cell(table, "width", r, display), size_cell(table, "height", r, display)};
    if (!out.emplace(cell_text(ids, r), size).second)
      fail(ErrorCode::kInvalidArgument, "{}: line {}: image {} is listed twice", display, r + 2,
           quote(cell_text(ids, r)));
  }
  return out;
}

ImageSize parse_image_size(std::string_view text, std::string_view what) {
  const std::size_t x = text.find_first_of("xX");
  std::int64_t w = 0, h = 0;
  bool ok = x != std::string_view::npos;
  if (ok) {
    auto [p1, e1] = std::from_chars(text.data(), text.data() + x, w);
    auto [p2, e2] = std::from_chars(text.data() + x + 1, text.data() + text.size(), h);
    ok = e1 == std::errc() && p1 == text.data() + x && e2 == std::errc() && p2 == text.data() + text.size() &&
         w >= 1 && h >= 1 && w <= 1000000000 && h <= 1000000000;
  }
  if (!ok) fail(ErrorCode::kInvalidArgument, "{} is {}; expected WIDTHxHEIGHT in pixels, e.g. 96x96", what, quote(text));
  return {w, h};
}

}  // namespace compe::score
