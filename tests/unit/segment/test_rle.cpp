// RLE parsing checks, pixel order and the empty-mask conventions.
#include <gtest/gtest.h>

#include <vector>

#include "compe/error.hpp"
#include "compe/segment.hpp"
#include "../error_of.hpp"

namespace sg = compe::segment;
using compe::testing::message_of;

TEST(Rle, ColumnMajorOneBasedOrder) {
  // 3 wide, 2 high; row-major image:  1 0 0
  //                                   1 1 0
  const std::vector<std::uint8_t> img = {1, 0, 0, 1, 1, 0};
  // Column-major numbering: pixel 1 = (0,0), 2 = (1,0), 3 = (0,1), 4 = (1,1).
  EXPECT_EQ(sg::format_rle(sg::encode(img.data(), 3, 2)), "1 2 4 1");
  EXPECT_EQ(sg::format_rle(sg::encode(img.data(), 3, 2, sg::Order::kRowMajor)), "1 1 4 2");
  const auto back = sg::decode(sg::parse_rle("1 2 4 1", 6, {}), 3, 2);
  EXPECT_EQ(back, img);
}

TEST(Rle, TouchingRunsMergeAndEmptyIsEmpty) {
  const auto m = sg::parse_rle(" 3 2  5 1\n", 10, {});
  EXPECT_EQ(sg::format_rle(m), "3 3");
  EXPECT_EQ(m.area(), 3);
  EXPECT_TRUE(sg::parse_rle("", 10, {}).empty());
  EXPECT_EQ(sg::format_rle(sg::Mask{}), "");
}

TEST(Rle, BadCodesNameThePlaceAndValue) {
  const sg::Where w{"sub.csv", 7, "12_top"};
  EXPECT_EQ(message_of([&] { sg::parse_rle("1 2 x 3", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE token 3 is 'x', expected a positive integer");
  EXPECT_EQ(message_of([&] { sg::parse_rle("1 2 5", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE has 3 numbers, expected pairs of start and length");
  EXPECT_EQ(message_of([&] { sg::parse_rle("0 2", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE run 1 starts at 0, expected a start >= 1 (pixels are numbered "
            "from 1)");
  EXPECT_EQ(message_of([&] { sg::parse_rle("4 0", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE run 1 has length 0, expected a length >= 1");
  EXPECT_EQ(message_of([&] { sg::parse_rle("5 3 6 1", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE run 2 starts at 6, before the end of the previous run (pixel 7): "
            "starts must increase and runs must not overlap");
  EXPECT_EQ(message_of([&] { sg::parse_rle("99 5", 100, w); }),
            "sub.csv: line 7: image '12_top': RLE run 1 (99 5) ends at pixel 103, past the image's 100 pixels");
  EXPECT_NO_THROW(sg::parse_rle("99 2", 100, w));
  EXPECT_NO_THROW(sg::parse_rle("99 5", 0, w));  // no bound given
  EXPECT_EQ(message_of([&] { sg::parse_rle("2 9223372036854775807", 0, w); }),
            "sub.csv: line 7: image '12_top': RLE run 1 (2 9223372036854775807) is longer than any image");
}

TEST(Rle, EmptyMaskConventions) {
  const sg::Mask empty, some = sg::parse_rle("1 4", 10, {});
  EXPECT_DOUBLE_EQ(sg::dice(empty, empty), 1.0);
  EXPECT_DOUBLE_EQ(sg::iou(empty, empty), 1.0);
  EXPECT_DOUBLE_EQ(sg::dice(empty, some), 0.0);
  EXPECT_DOUBLE_EQ(sg::dice(some, empty), 0.0);
  const sg::Mask half = sg::parse_rle("3 4", 10, {});  // overlaps 2 of 4 + 4
  EXPECT_DOUBLE_EQ(sg::dice(some, half), 0.5);
  EXPECT_DOUBLE_EQ(sg::iou(some, half), 2.0 / 6.0);
  // Mean per row counts an empty-empty row as 1; global pools the pixels.
  EXPECT_DOUBLE_EQ(sg::mean_dice({empty, some}, {empty, half}), 0.75);
  EXPECT_DOUBLE_EQ(sg::mean_dice({empty, some}, {empty, half}, sg::Reduction::kGlobal), 0.5);
  EXPECT_DOUBLE_EQ(sg::mean_dice({empty}, {empty}, sg::Reduction::kGlobal), 1.0);
  EXPECT_EQ(message_of([&] { sg::mean_dice({empty}, {}); }),
            "1 true masks and 0 predicted masks: expected the same rows");
}
