// The image pages' documents: images served from the workspace's image folder only, thumbnails
// cached under .compe/cache/thumbs, detection and segmentation OOF against the truth per image,
// and a multilabel run's AUC per label column.
#include "server/api_images.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "server/png.hpp"

namespace compe::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// True when `p` (canonical) lies strictly inside `root` (canonical).
bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return q != p.end();
}

struct FileStamp {
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  std::time_t mtime_s = 0;
};

std::optional<FileStamp> stamp_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{static_cast<std::int64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                   st.st_mtim.tv_sec};
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

ImageFile refused(int status, std::string message) {
  ImageFile out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

ImageFile ready(const fs::path& path, const FileStamp& st, bool thumbnail) {
  ImageFile out;
  out.status = 200;
  out.path = path;
  out.content_type = content_type_for(path.filename().string());
  out.etag = fmt::format("\"{}-{}\"", st.size, st.mtime_ns);
  out.last_modified = http_date(st.mtime_s);
  out.thumbnail = thumbnail;
  return out;
}

/// The cached thumbnail of a PNG source, made when missing or older than the source; nullopt
/// when the source cannot be read as PNG (it is then sent as it is).
std::optional<fs::path> thumbnail_of(const fs::path& root, const fs::path& source,
                                     const FileStamp& source_stamp, const std::string& id,
                                     std::int64_t size) {
  const fs::path cached = root / ".compe" / "cache" / "thumbs" / std::to_string(size) / (id + ".png");
  if (auto st = stamp_of(cached); st && st->mtime_ns >= source_stamp.mtime_ns) return cached;
  const std::string bytes = read_file(source);
  if (!png::is_png(bytes)) return std::nullopt;
  png::Image img;
  try {
    img = png::decode(bytes, id);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    return std::nullopt;
  }
  fs::create_directories(cached.parent_path());
  write_file_atomic(cached, png::encode(png::fit(img, size)));
  return cached;
}

}  // namespace

ImageConfig read_image_config(const fs::path& root) {
  const Workspace ws = Workspace::open(root);
  const CompetitionConfig& cc = ws.config();
  ImageConfig c;
  c.task = std::string(metric::task_name(cc.task));
  c.id_column = cc.id_column;
  c.classes = cc.classes;
  c.train = ws.resolve(cc.train);
  auto path_of = [&](const std::string& p) { return p.empty() ? fs::path() : ws.resolve(p); };
  c.boxes = path_of(cc.boxes);
  c.masks = path_of(cc.masks);
  c.images = cc.images.empty() ? c.train.parent_path() / "images" : ws.resolve(cc.images);
  return c;
}

bool is_image_id(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.' || id[0] == '-') return false;
  if (id.find("..") != std::string::npos) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

ImageFile find_image(const fs::path& root_in, const std::string& id, std::int64_t size) {
  if (!is_image_id(id))
    return refused(400, fmt::format("{} is not an image id (1 to 200 of A-Z a-z 0-9 . _ -, no '..')", quote(id)));
  if (size != 0 && (size < kMinThumb || size > kMaxThumb))
    return refused(400, fmt::format("size {}: expected {} to {} pixels", size, kMinThumb, kMaxThumb));
  std::error_code ec;
  const fs::path root = fs::canonical(root_in, ec);
  if (ec) return refused(404, "workspace folder is not readable");
  const ImageConfig config = read_image_config(root);
  const fs::path folder = fs::canonical(config.images, ec);
  if (ec || !fs::is_directory(folder, ec))
    return refused(404, "the workspace has no image folder ([data] images)");
  for (const char* ext : {".png", ".jpg", ".jpeg"}) {
    const fs::path candidate = folder / (id + ext);
    if (!fs::exists(fs::symlink_status(candidate, ec))) continue;
    const fs::path target = fs::canonical(candidate, ec);
    if (ec || !inside(folder, target))
      return refused(403, fmt::format("image {} leads outside the image folder", quote(id)));
    const auto st = stamp_of(target);
    if (!st) return refused(403, fmt::format("image {} is not a regular file", quote(id)));
    if (size != 0)
      if (auto thumb = thumbnail_of(root, target, *st, id, size))
        if (auto tst = stamp_of(*thumb)) return ready(*thumb, *tst, true);
    return ready(target, *st, false);
  }
  return refused(404, fmt::format("no image {} (.png, .jpg or .jpeg) in the image folder", quote(id)));
}

}  // namespace compe::server
