#include <gtest/gtest.h>

#include <string>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "../error_of.hpp"

using compe::ErrorCode;
using compe::JsonAt;
using compe::testing::error_of;

TEST(Quote, CutsLongTextAndCountsWhatWasCut) {
  EXPECT_EQ(compe::quote("abc"), "'abc'");
  const std::string big(100000, 'x');
  const std::string q = compe::quote(big);
  EXPECT_EQ(q, "'" + std::string(compe::kQuoteChars, 'x') + "...' (99920 more characters)");
  EXPECT_EQ(compe::clip(big, 3), "xxx... (99997 more characters)");
  // Characters, not bytes: a multi-byte character is never split.
  EXPECT_EQ(compe::clip("ééé", 2), "éé... (1 more characters)");
}

TEST(Quote, EscapesControlsTerminalSequencesAndBadUtf8) {
  EXPECT_EQ(compe::quote("\x1b[31mRED\x1b[0m"), "'\\x1b[31mRED\\x1b[0m'");
  EXPECT_EQ(compe::clip("a\nb\tc\rd\x7f"), "a\\nb\\tc\\rd\\x7f");
  EXPECT_EQ(compe::clip("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(compe::clip("\xc2\x9b" "2J"), "\\u009b2J");  // C1 CSI
  EXPECT_EQ(compe::clip("abc\xe2\x80\xae" "fed"), "abc\\u202efed");  // right-to-left override
  EXPECT_EQ(compe::clip("Zürich ✓"), "Zürich ✓");
  // A whole message keeps its own line breaks; nothing else acts on a terminal.
  EXPECT_EQ(compe::escape_controls("line 1\nline 2: \x1b]0;title\x07"), "line 1\nline 2: \\x1b]0;title\\x07");
  const std::vector<std::string> names = {"a", std::string(100, 'b'), "c"};
  EXPECT_EQ(compe::list_shown(names, 2), "a, " + std::string(40, 'b') + "... (60 more characters) and 1 more");
}

TEST(JsonInput, ParseErrorsNamePositionWithoutTheLibraryPrefix) {
  std::string msg = error_of([] { compe::parse_json("{\"a\": 1,\n \"b\": x}", "f.json"); }, ErrorCode::kParse);
  EXPECT_NE(msg.find("f.json: not valid JSON at line 2, column 7: syntax error while parsing value"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("json.exception"), std::string::npos) << msg;
  // A number beyond a double's range is a parse error with its position, not an internal error.
  msg = error_of([] { compe::parse_json("[{\"score\": 1e400}]", "r.json"); }, ErrorCode::kParse);
  EXPECT_NE(msg.find("r.json: not valid JSON at line 1, column"), std::string::npos) << msg;
  EXPECT_NE(msg.find("number out of the range of a double, near '1e400'"), std::string::npos) << msg;
  // The offending text is quoted and cut, never echoed whole.
  const std::string long_literal = "[\"" + std::string(100000, 'y') + "\x01\"]";
  msg = error_of([&] { compe::parse_json(long_literal, "big.json"); }, ErrorCode::kParse);
  EXPECT_LT(msg.size(), 400u) << msg;
  EXPECT_NE(msg.find("more characters"), std::string::npos) << msg;
  error_of([] { compe::parse_json("", "empty.json"); }, ErrorCode::kParse);
  error_of([] { compe::parse_json("{} {}", "two.json"); }, ErrorCode::kParse);
  EXPECT_EQ(compe::parse_json(" {\"a\": [1, 2.5, \"x\"]} ", "ok.json")["a"][1], 2.5);
}

TEST(JsonInput, TypedGettersNameFilePathAndExpectation) {
  const nlohmann::json doc = compe::parse_json(
      R"({"name": {"x": 1}, "n": "7", "list": [1, "two"], "big": 18446744073709551615, "a/b": true})", "m.json");
  const JsonAt root(doc, "m.json");
  std::string msg = error_of([&] { root.at("name").string(); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /name: expected a string, got an object");
  msg = error_of([&] { root.at("n").number(); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /n: expected a number, got a string '7'");
  msg = error_of([&] { root.at("list").strings(); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /list/0: expected a string, got the number 1");
  msg = error_of([&] { root.at("big").integer(); }, ErrorCode::kParse);
  EXPECT_NE(msg.find("m.json: /big: expected an integer below 2^63"), std::string::npos) << msg;
  msg = error_of([&] { root.at("a/b").string(); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /a~1b: expected a string, got true");
  msg = error_of([&] { root.at("missing", "a folds hash"); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: no key 'missing'; expected a folds hash");
  msg = error_of([&] { root.at("list").at(5); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /list: expected at least 6 element(s), got 2");
  msg = error_of([&] { JsonAt(doc["list"], "m.json", "/list").object(); }, ErrorCode::kParse);
  EXPECT_EQ(msg, "m.json: /list: expected an object, got an array of 2");
  EXPECT_FALSE(root.find("absent"));
  EXPECT_FALSE(root.opt_string("absent"));
  EXPECT_EQ(root.at("list").at(1).string(), "two");
}
