// Review queues through files: JSON Lines import, export of corrected labels, boxes and COCO, and
// the [data] labels override that `compe run` applies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../error_of.hpp"
#include "../titanic_workspace.hpp"
#include "compe/review_queue.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace fs = std::filesystem;
using compe::testing::error_of;
using json = nlohmann::json;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("compe-review-queue-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    compe::write_file_atomic(path / name, text);
    return path / name;
  }
};

compe::ReviewEdit edit(const std::string& queue, const std::string& key, const std::string& action,
                       json value) {
  compe::ReviewEdit e;
  e.queue = queue;
  e.key = key;
  e.action = action;
  e.new_value = std::move(value);
  e.reviewer = "ann";
  return e;
}

}  // namespace

TEST(ReviewQueueFiles, ClassLabelsImportEditExport) {
  TempDir dir;
  auto store = compe::open_store(":memory:");
  auto file = dir.write("items.jsonl",
                        "{\"id\": 7, \"label\": \"cat\", \"reasons\": \"looks like a dog\"}\n\n"
                        "{\"id\": \"b,1\", \"label\": \"dog\", \"predictions\": {\"r\": {\"cat\": 0.9}}}\n"
                        "{\"id\": \"c\", \"label\": \"dog\"}\n");
  auto q = compe::review::import_queue(*store, "pets", file);
  EXPECT_EQ(q.kind, "classification");
  EXPECT_EQ(q.items, 3);
  auto items = store->list_review_items("pets");
  EXPECT_EQ(items[0].key, "7");
  EXPECT_EQ(items[0].reasons[0]["text"], "looks like a dog");
  EXPECT_EQ(items[1].predictions["r"]["cat"], 0.9);

  store->edit_review_item(edit("pets", "7", "relabel", "dog"));
  store->edit_review_item(edit("pets", "b,1", "relabel", "cat"));
  store->edit_review_item(edit("pets", "c", "skip", nullptr));
  auto res = compe::review::export_queue(*store, "pets", dir.path / "labels.csv", "");
  EXPECT_EQ(res.rows, 2u);
  EXPECT_EQ(compe::read_file(dir.path / "labels.csv"), "id,label\n7,dog\n\"b,1\",cat\n");
  json side = json::parse(compe::read_file(dir.path / "labels.csv.review.json"));
  EXPECT_EQ(side["queue"], "pets");
  EXPECT_EQ(side["edits"].size(), 2u);
  EXPECT_EQ(side["last_edit"], res.last_edit);
  EXPECT_NE(error_of([&] { compe::review::export_queue(*store, "pets", dir.path / "x.csv", dir.path / "c.json"); })
                .find("--coco needs a boxes queue"),
            std::string::npos);
}

TEST(ReviewQueueFiles, BoxesImportEditExportCoco) {
  TempDir dir;
  auto store = compe::open_store(":memory:");
  auto file = dir.write("boxes.jsonl",
                        "{\"id\": \"a\", \"label\": [{\"x1\": 1, \"y1\": 2, \"x2\": 5, \"y2\": 9, \"label\": 1}],"
                        " \"data\": {\"width\": 32, \"height\": 16}}\n"
                        "{\"id\": \"b\", \"label\": []}\n");
  auto q = compe::review::import_queue(*store, "det", file);
  EXPECT_EQ(q.kind, "boxes");
  json moved = compe::review::check_boxes(
      json::parse(R"([{"x1": 2.5, "y1": 2, "x2": 6.5, "y2": 9, "label": 1, "extra": 3}])"), "edit");
  EXPECT_FALSE(moved[0].contains("extra"));
  store->edit_review_item(edit("det", "a", "boxes", moved));
  auto res = compe::review::export_queue(*store, "det", dir.path / "boxes.csv", dir.path / "coco.json");
  EXPECT_EQ(res.rows, 2u);
  EXPECT_EQ(res.images, 2u);
  auto t = compe::read_csv(dir.path / "boxes.csv");
  EXPECT_EQ(t.column_names(), (std::vector<std::string>{"image_id", "x1", "y1", "x2", "y2", "label"}));
  EXPECT_EQ(t.column("x1").as_double(0), 2.5);
  EXPECT_TRUE(t.column("x1").is_missing(1));  // an image without boxes: one row, empty cells
  json coco = json::parse(compe::read_file(dir.path / "coco.json"));
  EXPECT_EQ(coco["images"][0]["width"], 32);
  EXPECT_EQ(coco["annotations"].size(), 1u);
  EXPECT_EQ(coco["annotations"][0]["bbox"], json::parse("[2.5, 2.0, 4.0, 7.0]"));
  EXPECT_EQ(coco["annotations"][0]["category_id"], 1);

  EXPECT_NE(error_of([&] { compe::review::check_boxes(json::parse(R"([{"x1": 3, "y1": 0, "x2": 1, "y2": 4, "label": 0}])"), "edit"); })
                .find("edit: /0: expected x1 < x2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { compe::review::check_boxes(json::parse(R"([{"x1": 0, "y1": 0, "x2": 1, "y2": 4, "label": 0.5}])"), "edit"); })
                .find("/0/label: expected a class index"),
            std::string::npos);
}

TEST(ReviewQueueFiles, BadLinesNameFileAndLine) {
  TempDir dir;
  auto store = compe::open_store(":memory:");
  auto no_id = dir.write("a.jsonl", "{\"id\": 1, \"label\": \"x\"}\n{\"label\": \"y\"}\n");
  EXPECT_NE(error_of([&] { compe::review::import_queue(*store, "a", no_id); }).find("a.jsonl:2: /id"),
            std::string::npos);
  auto dup = dir.write("b.jsonl", "{\"id\": 1}\n{\"id\": \"1\"}\n");
  EXPECT_NE(error_of([&] { compe::review::import_queue(*store, "b", dup); }).find("item '1' given twice"),
            std::string::npos);
  auto empty = dir.write("c.jsonl", "\n\n");
  EXPECT_NE(error_of([&] { compe::review::import_queue(*store, "c", empty); }).find("no items"), std::string::npos);
  EXPECT_TRUE(store->list_review_queues().empty());  // nothing half-made
}

TEST(ReviewLabelOverride, ReplacesLabelsAndNamesBadLines) {
  compe::testing::TitanicWorkspace t("review-labels", "override");
  const fs::path toml = t.ws.root() / "compe.toml";
  std::string text = compe::read_file(toml);
  text.replace(text.find("[data]"), 6, "[data]\nlabels = \"fix.csv\"");
  compe::write_file_atomic(toml, text);
  compe::Workspace ws = compe::Workspace::open(t.ws.root());
  compe::Table train = ws.read_train();
  const std::string first = train.column("id").to_string(0);
  const double before = train.column("survived").as_double(0);
  compe::write_file_atomic(ws.root() / "fix.csv", fmt::format("id,survived\n{},{}\n", first, before == 1 ? 0 : 1));
  compe::write_file_atomic(ws.root() / "fix.csv.review.json", R"({"queue": "noise", "edits": [4]})");
  json lineage = compe::run::apply_label_override(ws, train);
  EXPECT_EQ(train.column("survived").as_double(0), before == 1 ? 0 : 1);
  EXPECT_EQ(train.column("survived").type, compe::DType::kInt64);
  EXPECT_EQ(lineage["file"], "fix.csv");
  EXPECT_EQ(lineage["changed"], 1);
  EXPECT_EQ(lineage["review"]["queue"], "noise");
  EXPECT_EQ(lineage["sha256"].get<std::string>().size(), 64u);

  compe::write_file_atomic(ws.root() / "fix.csv", "id,survived\n" + first + ",1\nnope,1\n");
  compe::Table again = ws.read_train();
  EXPECT_NE(error_of([&] { compe::run::apply_label_override(ws, again); }).find("fix.csv:3: id 'nope' is not a train id"),
            std::string::npos);
  compe::write_file_atomic(ws.root() / "fix.csv", "id,survived\n" + first + ",2\n");
  EXPECT_NE(error_of([&] { compe::run::apply_label_override(ws, again); }).find("fix.csv:2: label '2'"),
            std::string::npos);
}
