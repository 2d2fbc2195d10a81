// The image pages' server side: the PNG reader/writer, image ids and traversal refusals, the
// thumbnail cache, and the detection, segmentation and multilabel run documents.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <zlib.h>

#include "../error_of.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "server/api_images.hpp"
#include "server/png.hpp"
#include "server/server.hpp"

namespace fs = std::filesystem;
using namespace compe;
using compe::testing::error_of;
using nlohmann::json;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("compe-images-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// A w x h image whose left half is red and right half blue, opaque.
server::png::Image halves(std::int64_t w, std::int64_t h) {
  server::png::Image img{w, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w * h * 4))};
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      std::uint8_t* p = &img.rgba[static_cast<std::size_t>((y * w + x) * 4)];
      p[0] = x < w / 2 ? 255 : 0;
      p[2] = x < w / 2 ? 0 : 255;
      p[3] = 255;
    }
  return img;
}

std::pair<std::string, std::string> split_response(const std::string& raw) {
  auto eol = raw.find("\r\n");
  auto body = raw.find("\r\n\r\n");
  return {raw.substr(0, eol), body == std::string::npos ? "" : raw.substr(body + 4)};
}

std::string header_of(const std::string& raw, const std::string& name) {
  auto pos = raw.find("\r\n" + name + ": ");
  if (pos == std::string::npos) return "";
  pos += name.size() + 4;
  return raw.substr(pos, raw.find("\r\n", pos) - pos);
}

std::int64_t mtime_ns(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

/// A detection workspace: images a (200x100, PNG), b (100x100, PNG), c (JPEG bytes); truth boxes;
/// a finished run with oof_boxes.csv; a file outside the image folder and symlinks to it.
struct ImageWorkspace {
  TempDir tmp;
  fs::path ws = tmp.path / "ws";
  std::unique_ptr<Store> store;
  std::string run_id;

  explicit ImageWorkspace(const std::string& task = "detection") {
    const bool seg = task == "segmentation";
    write(ws / "compe.toml", "[competition]\nname = \"shapes\"\ntask = \"" + task + "\"\nmetric = \"" +
                                 (seg ? "dice" : "coco_map50") +
                                 "\"\nid = \"image_id\"\nclasses = [\"cat\", \"dog_big\"]\n\n[data]\n"
                                 "train = \"data/train.csv\"\ntest = \"data/test.csv\"\n"
                                 "sample_submission = \"data/sample_submission.csv\"\n" +
                                 (seg ? "masks = \"data/masks.csv\"\n" : "boxes = \"data/boxes.csv\"\n"));
    write(ws / "data/train.csv", "image_id,width,height\na,200,100\nb,100,100\nc,40,30\n");
    write(ws / "data/images/a.png", server::png::encode(halves(200, 100)));
    write(ws / "data/images/b.png", server::png::encode(halves(100, 100)));
    write(ws / "data/images/c.jpg", "\xff\xd8\xff\xe0 not really a jpeg");
    write(ws / "data/secret.png", server::png::encode(halves(4, 4)));
    write(tmp.path / "outside.png", server::png::encode(halves(4, 4)));
    fs::create_symlink("../secret.png", ws / "data/images/evil.png");
    fs::create_symlink(tmp.path / "outside.png", ws / "data/images/far.png");
    fs::create_symlink("a.png", ws / "data/images/alias.png");
    // a: one cat found and one dog missed; b: no objects, one false dog; c: one cat found.
    write(ws / "data/boxes.csv",
          "image_id,x1,y1,x2,y2,label\na,10,10,50,50,0\na,100,20,180,90,1\nb,,,,,\nc,0,0,20,20,0\n");
    write(ws / "data/masks.csv",
          "Image_Label,EncodedPixels\na_cat,1 10\na_dog_big,\nb_cat,\nb_dog_big,101 100\nc_cat,\nc_dog_big,\n");
    store = open_store((ws / ".compe" / "compe.db").string());
    compe::Run r;
    r.name = "det";
    r.kind = "model";
    r.metric = "coco_map50";
    r.direction = "maximize";
    run_id = store->create_run(r).id;
  }

  void oof(const std::string& name, const std::string& text) { write(ws / "runs" / run_id / name, text); }

  std::string get(server::Server& s, const std::string& target, const std::string& extra = "") {
    return s.respond("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
  }
};

}  // namespace

TEST(Png, EncodeDecodeRoundTripAndFitAveragesAreas) {
  const server::png::Image img = halves(64, 32);
  const std::string file = server::png::encode(img);
  ASSERT_TRUE(server::png::is_png(file));
  const server::png::Image back = server::png::decode(file, "x.png");
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 32);
  EXPECT_EQ(back.rgba, img.rgba);
  const server::png::Image small = server::png::fit(img, 16);
  EXPECT_EQ(small.width, 16);
  EXPECT_EQ(small.height, 8);
  EXPECT_EQ(small.rgba[0], 255);                       // left: red
  EXPECT_EQ(small.rgba[(16 * 8 - 1) * 4 + 2], 255);    // bottom right: blue
  EXPECT_EQ(server::png::fit(img, 100).width, 64);     // never enlarged
}

TEST(Png, RefusesCorruptTruncatedAndOversizedFiles) {
  std::string file = server::png::encode(halves(8, 8));
  EXPECT_NE(error_of([&] { server::png::decode("GIF89a", "g.png"); }).find("not a PNG"), std::string::npos);
  EXPECT_NE(error_of([&] { server::png::decode(file.substr(0, file.size() - 20), "t.png"); }).find("t.png"),
            std::string::npos);
  std::string bad_crc = file;
  bad_crc[20] ^= 1;  // inside IHDR's data
  EXPECT_NE(error_of([&] { server::png::decode(bad_crc, "c.png"); }).find("CRC"), std::string::npos);
  // A header claiming 100000 x 100000 pixels (valid CRC) is refused before anything is allocated.
  std::string ihdr = std::string("IHDR") + std::string("\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x06\x00\x00\x00", 13);
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size()));
  std::string big = file.substr(0, 8) + std::string("\x00\x00\x00\x0d", 4) + ihdr;
  for (int shift = 24; shift >= 0; shift -= 8) big.push_back(static_cast<char>((crc >> shift) & 0xff));
  EXPECT_NE(error_of([&] { server::png::decode(big, "big.png"); }).find("100000x100000"), std::string::npos);
}

TEST(ImageIds, OnlyPlainNamesAreLookedUp) {
  for (const char* ok : {"a", "img_01.v2", "0001-x", "A.B_c"}) EXPECT_TRUE(server::is_image_id(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{"", "..", "../x", "a/../b", "/etc/passwd", "a/b", "a\\b", "%2e%2e", ".hidden",
                          "-rf", "a..b", "a b", std::string("a\0b", 3), std::string(201, 'x')})
    EXPECT_FALSE(server::is_image_id(bad)) << bad;
}

TEST(ImageServing, RefusesTraversalEncodedDotsAbsolutePathsNulAndOutsideSymlinks) {
  ImageWorkspace t;
  server::Server s(*t.store, t.ws, {});
  for (const char* target : {"/api/images/..%2Fcompe.toml", "/api/images/%2e%2e%2fcompe.toml",
                             "/api/images/%2e%2e", "/api/images/..%2F..%2Foutside",
                             "/api/images/%2Fetc%2Fpasswd", "/api/images/a%00.png", "/api/images/a%2F..%2Fsecret",
                             "/api/images/secret%5C..", "/api/images/a?size=8", "/api/images/a?size=513",
                             "/api/images/a?size=x"}) {
    auto [status, body] = split_response(t.get(s, target));
    EXPECT_EQ(status, "HTTP/1.1 400 Bad Request") << target << ": " << body;
    EXPECT_EQ(body.find("\x89PNG"), std::string::npos) << target;
    EXPECT_EQ(body.find("[competition]"), std::string::npos) << target;
  }
  for (const char* target : {"/api/images/evil", "/api/images/far"}) {
    auto [status, body] = split_response(t.get(s, target));
    EXPECT_EQ(status, "HTTP/1.1 403 Forbidden") << target << ": " << body;
    EXPECT_NE(body.find("outside the image folder"), std::string::npos) << body;
    EXPECT_EQ(body.find(t.tmp.path.string()), std::string::npos) << "absolute path shown: " << body;
  }
  auto [status, body] = split_response(t.get(s, "/api/images/secret"));
  EXPECT_EQ(status, "HTTP/1.1 404 Not Found") << "data/secret.png is beside the folder, not in it";
  // A symlink that stays inside the folder is served.
  const std::string alias = t.get(s, "/api/images/alias");
  EXPECT_EQ(split_response(alias).first, "HTTP/1.1 200 OK");
  EXPECT_EQ(header_of(alias, "Content-Length"), std::to_string(fs::file_size(t.ws / "data/images/a.png")));
}

TEST(ImageServing, SendsOriginalsWithEtagAndAnswersNotModified) {
  ImageWorkspace t;
  server::Server s(*t.store, t.ws, {});
  const std::string raw = t.get(s, "/api/images/a");
  auto [status, body] = split_response(raw);
  ASSERT_EQ(status, "HTTP/1.1 200 OK");
  // respond() leaves streamed bodies out; the browser tests read them over HTTP.
  EXPECT_EQ(header_of(raw, "Content-Length"), std::to_string(fs::file_size(t.ws / "data/images/a.png")));
  EXPECT_EQ(header_of(raw, "Content-Type"), "image/png");
  EXPECT_EQ(header_of(raw, "X-Content-Type-Options"), "nosniff");
  const std::string etag = header_of(raw, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_NE(header_of(raw, "Last-Modified").find("GMT"), std::string::npos);
  EXPECT_EQ(header_of(raw, "Cache-Control"), "private, no-cache");
  EXPECT_EQ(raw.find("Cache-Control", raw.find("Cache-Control") + 1), std::string::npos) << "one Cache-Control header";
  EXPECT_EQ(split_response(t.get(s, "/api/images/a", "If-None-Match: " + etag + "\r\n")).first,
            "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(split_response(t.get(s, "/api/images/a", "If-None-Match: \"other\"\r\n")).first, "HTTP/1.1 200 OK");
  const std::string jpeg = t.get(s, "/api/images/c");
  EXPECT_EQ(header_of(jpeg, "Content-Type"), "image/jpeg");
  EXPECT_EQ(header_of(jpeg, "Content-Length"), std::to_string(fs::file_size(t.ws / "data/images/c.jpg")));
  EXPECT_EQ(split_response(t.get(s, "/api/images/zzz")).first, "HTTP/1.1 404 Not Found");
}

TEST(ImageServing, ThumbnailsAreCachedAndMadeAgainWhenTheSourceIsNewer) {
  ImageWorkspace t;
  server::Server s(*t.store, t.ws, {});
  const fs::path cached = t.ws / ".compe/cache/thumbs/64/a.png";
  std::string raw = t.get(s, "/api/images/a?size=64");
  ASSERT_EQ(split_response(raw).first, "HTTP/1.1 200 OK") << raw;
  EXPECT_EQ(header_of(raw, "X-Compe-Thumbnail"), "64");
  ASSERT_TRUE(fs::is_regular_file(cached));
  EXPECT_EQ(header_of(raw, "Content-Length"), std::to_string(fs::file_size(cached)));
  const std::string body = read_file(cached);
  server::png::Image thumb = server::png::decode(body, "thumb");
  EXPECT_EQ(thumb.width, 64);
  EXPECT_EQ(thumb.height, 32);
  EXPECT_EQ(thumb.rgba[0], 255);  // red on the left, as the source
  const auto first = mtime_ns(cached);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(header_of(t.get(s, "/api/images/a?size=64"), "X-Compe-Thumbnail"), "64");
  EXPECT_EQ(mtime_ns(cached), first) << "a fresh thumbnail is reused, not made again";
  EXPECT_EQ(read_file(cached), body);
  // The source changes: the thumbnail follows.
  write(t.ws / "data/images/a.png", server::png::encode(halves(100, 100)));
  fs::last_write_time(t.ws / "data/images/a.png", fs::last_write_time(cached) + std::chrono::seconds(5));
  EXPECT_EQ(split_response(t.get(s, "/api/images/a?size=64")).first, "HTTP/1.1 200 OK");
  EXPECT_EQ(server::png::decode(read_file(cached), "thumb").height, 64);
  EXPECT_GT(mtime_ns(cached), first);
  // What the PNG reader cannot read is sent as it is.
  raw = t.get(s, "/api/images/c?size=64");
  EXPECT_EQ(header_of(raw, "Content-Type"), "image/jpeg");
  EXPECT_EQ(header_of(raw, "X-Compe-Thumbnail"), "");
  EXPECT_FALSE(fs::exists(t.ws / ".compe/cache/thumbs/64/c.png"));
}

TEST(RunImages, DetectionOofAgainstTruthWithErrorsApAndPaging) {
  ImageWorkspace t;
  t.oof("oof_boxes.csv",
        "image_id,x1,y1,x2,y2,score,label,fold\n"
        "a,12,11,50,52,0.9,0,0\n"
        "a,0,60,20,80,0.3,1,0\n"
        "b,5,5,50,50,0.8,1,1\n"
        "c,0,0,20,20,0.7,0,1\n");
  json doc = server::run_images_json(*t.store, t.ws, t.run_id, {});
  EXPECT_EQ(doc["kind"], "detection");
  EXPECT_EQ(doc["classes"], json({"cat", "dog_big"}));
  EXPECT_EQ(doc["total"], 3);
  ASSERT_EQ(doc["images"].size(), 3u);
  // Worst AP first: a and b (0, no prediction of the dog / no truth at all), then c (1).
  EXPECT_EQ(doc["images"][2]["id"], "c");
  EXPECT_DOUBLE_EQ(doc["images"][2]["ap"].get<double>(), 1.0);
  json a;
  for (const json& img : doc["images"])
    if (img["id"] == "a") a = img;
  ASSERT_FALSE(a.is_null());
  EXPECT_EQ(a["width"], 200);
  EXPECT_EQ(a["height"], 100);
  EXPECT_EQ(a["url"], "/api/images/a");
  EXPECT_EQ(a["fold"], 0);
  ASSERT_EQ(a["truth"].size(), 2u);
  EXPECT_EQ(a["truth"][0]["matched"], true);
  EXPECT_EQ(a["truth"][1]["matched"], false);
  EXPECT_EQ(a["misses"], 1);
  EXPECT_EQ(a["false_positives"], 0) << "the 0.3 box is under the 0.5 threshold";
  EXPECT_NEAR(a["ap"].get<double>(), 0.5, 1e-9);  // the cat found, the dog not: mean over classes
  doc = server::run_images_json(*t.store, t.ws, t.run_id, {{"threshold", "0.2"}, {"sort", "errors"}});
  EXPECT_EQ(doc["images"][0]["id"], "a");
  EXPECT_EQ(doc["images"][0]["false_positives"], 1);
  EXPECT_EQ(doc["images"][0]["errors"], 2);
  doc = server::run_images_json(*t.store, t.ws, t.run_id, {{"filter", "false_positives"}});
  ASSERT_EQ(doc["total"], 1);
  EXPECT_EQ(doc["images"][0]["id"], "b");
  doc = server::run_images_json(*t.store, t.ws, t.run_id, {{"sort", "id"}, {"offset", "1"}, {"limit", "1"}});
  EXPECT_EQ(doc["total"], 3);
  ASSERT_EQ(doc["images"].size(), 1u);
  EXPECT_EQ(doc["images"][0]["id"], "b");
  EXPECT_NE(error_of([&] { server::run_images_json(*t.store, t.ws, t.run_id, {{"sort", "dice"}}); }).find("sort="),
            std::string::npos);
  EXPECT_NE(error_of([&] { server::run_images_json(*t.store, t.ws, t.run_id, {{"threshold", "2"}}); }).find("threshold"),
            std::string::npos);
  t.oof("oof_boxes.csv", "image_id,x1,y1,x2,y2,score,label,fold\na,1,1,x,5,0.9,0,0\n");
  const std::string msg = error_of([&] { server::run_images_json(*t.store, t.ws, t.run_id, {}); });
  EXPECT_NE(msg.find("oof_boxes.csv: line 2"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(t.tmp.path.string()), std::string::npos) << msg;
}

TEST(RunImages, SegmentationMasksAndDiceWorstFirst) {
  ImageWorkspace t("segmentation");
  // a: the cat's 10 pixels predicted as 1..5 (Dice 2*5/15); b: the dog predicted exactly; c: both empty.
  t.oof("oof_masks.csv",
        "image_id,label,EncodedPixels,fold\na,cat,1 5,0\na,dog_big,,0\nb,cat,,1\nb,dog_big,101 100,1\n"
        "c,cat,,1\nc,dog_big,,1\n");
  json doc = server::run_images_json(*t.store, t.ws, t.run_id, {});
  EXPECT_EQ(doc["kind"], "segmentation");
  EXPECT_EQ(doc["sort"], "dice");
  ASSERT_EQ(doc["images"].size(), 3u);
  const json& a = doc["images"][0];
  EXPECT_EQ(a["id"], "a");
  EXPECT_NEAR(a["dice_per_class"]["cat"].get<double>(), 10.0 / 15.0, 1e-12);
  EXPECT_DOUBLE_EQ(a["dice_per_class"]["dog_big"].get<double>(), 1.0);
  EXPECT_NEAR(a["dice"].get<double>(), (10.0 / 15.0 + 1) / 2, 1e-12);
  EXPECT_EQ(a["truth"], json::parse(R"([{"label": "cat", "rle": "1 10"}])"));
  EXPECT_EQ(a["pred"], json::parse(R"([{"label": "cat", "rle": "1 5"}])"));
  EXPECT_DOUBLE_EQ(doc["images"][2]["dice"].get<double>(), 1.0);
  // A run past the image is refused naming the file, line and image.
  t.oof("oof_masks.csv", "image_id,label,EncodedPixels,fold\nc,cat,1190 20,1\n");
  const std::string msg = error_of([&] { server::run_images_json(*t.store, t.ws, t.run_id, {}); }, ErrorCode::kParse);
  EXPECT_NE(msg.find("oof_masks.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'c'"), std::string::npos) << msg;
}

TEST(RunImages, ARunWithoutImageOofIsNotFound) {
  ImageWorkspace t;
  EXPECT_NE(error_of([&] { server::run_images_json(*t.store, t.ws, t.run_id, {}); }, ErrorCode::kNotFound)
                .find("oof_boxes.csv"),
            std::string::npos);
  server::Server s(*t.store, t.ws, {});
  EXPECT_EQ(split_response(t.get(s, "/api/runs/" + t.run_id + "/images")).first, "HTTP/1.1 404 Not Found");
}

TEST(RunColumns, MultilabelAucPerColumnPooledAndPerFold) {
  TempDir tmp;
  InitOptions init;
  init.dir = tmp.path / "ws";
  init.from = fs::path(COMPE_TEST_DATA) / "data" / "multilabel";
  init_workspace(init);
  const Workspace ws = Workspace::open(init.dir);
  const Table train = ws.read_train();
  auto store = open_store(ws.store_path().string());
  compe::Run r;
  r.name = "ml";
  r.kind = "model";
  const std::string id = store->create_run(r).id;
  // Column tshirt predicted by its truth (AUC 1), trouser by its opposite (AUC 0), the rest 0.5.
  const auto& targets = ws.config().target_columns;
  std::string oof = "id,fold," + join(targets, ",") + "\n";
  for (std::size_t i = 0; i < train.num_rows(); ++i) {
    oof += train.column("id").to_string(i) + "," + std::to_string(i % 2);
    for (std::size_t j = 0; j < targets.size(); ++j) {
      const double y = train.column(targets[j]).as_double(i);
      oof += ',';
      oof += j == 0 ? (y > 0 ? "0.9" : "0.1") : j == 1 ? (y > 0 ? "0.1" : "0.9") : "0.5";
    }
    oof += "\n";
  }
  write(init.dir / "runs" / id / "oof.csv", oof);
  const json doc = server::run_columns_json(*store, init.dir, id);
  EXPECT_EQ(doc["task"], "multilabel");
  ASSERT_EQ(doc["columns"].size(), targets.size());
  EXPECT_EQ(doc["columns"][0]["name"], targets[0]);
  EXPECT_DOUBLE_EQ(doc["columns"][0]["auc"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(doc["columns"][1]["auc"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(doc["columns"][2]["auc"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(doc["columns"][0]["folds"]["1"].get<double>(), 1.0);
  EXPECT_EQ(doc["columns"][0]["rows"], train.num_rows());
  // Another task has no columns to show.
  ImageWorkspace det;
  EXPECT_EQ(server::run_columns_json(*det.store, det.ws, det.run_id)["columns"], json::array());
}
