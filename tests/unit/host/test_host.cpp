#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "compe/error.hpp"
#include "compe/host.hpp"
#include "compe/score.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "../error_of.hpp"

namespace fs = std::filesystem;
using compe::host::Host;
using compe::host::Refusal;
using compe::host::Refused;

namespace {

constexpr std::int64_t kNow = 1798761600000;  // 2027-01-01T00:00:00Z
constexpr std::int64_t kHour = 3600000;

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("compe-host-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// ids 1..10; Public rows 1,2,3,4; Private 5..9; Ignored 10 with an empty target.
const char* kSolution =
    "id,y,Usage\n1,0,Public\n2,1,Public\n3,0,Public\n4,1,Public\n5,0,Private\n6,1,Private\n"
    "7,0,Private\n8,1,Private\n9,1,Private\n10,,Ignored\n";

std::string submission(const std::vector<double>& p) {
  std::string s = "id,y\n";
  for (std::size_t i = 0; i < p.size(); ++i) s += fmt::format("{},{}\n", i + 1, p[i]);
  return s;
}

struct Fixture {
  TempDir tmp;
  fs::path dir = tmp.path / "comp";
  std::vector<compe::host::TeamToken> tokens;

  explicit Fixture(const std::string& metric = "roc_auc", int daily_limit = 3) {
    compe::write_file_atomic(tmp.path / "solution.csv", kSolution);
    compe::host::InitOptions o;
    o.dir = dir;
    o.solution = tmp.path / "solution.csv";
    o.metric = metric;
    o.deadline = "2027-01-02T00:00:00Z";
    o.daily_limit = daily_limit;
    o.teams = {"alpha", "beta", "gamma"};
    o.title = "Test <b>cup</b>";
    o.now_ms = kNow;
    tokens = compe::host::init(o);
  }
};

using compe::testing::message_of;

Refusal refusal_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Refused& e) {
    return e.reason();
  }
  ADD_FAILURE() << "not refused";
  return Refusal::kForbidden;
}

}  // namespace

TEST(HostSha256, KnownVectorsAndBlockBoundaries) {
  using compe::host::sha256_hex;
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Lengths around the padding boundaries (values from Python's hashlib).
  const std::pair<std::size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
      {1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"}};
  for (const auto& [n, want] : cases) EXPECT_EQ(sha256_hex(std::string(n, 'a')), want) << n;
}

TEST(HostTime, Iso8601FormsAndErrors) {
  using compe::host::parse_iso8601;
  EXPECT_EQ(parse_iso8601("2027-01-01"), kNow);
  EXPECT_EQ(parse_iso8601("2027-01-01T00:00Z"), kNow);
  EXPECT_EQ(parse_iso8601("2027-01-01T01:30:15.250Z"), kNow + kHour + 30 * 60000 + 15250);
  EXPECT_EQ(parse_iso8601("2027-01-01 02:00:00+02:00"), kNow);
  EXPECT_EQ(parse_iso8601("2026-12-31T19:00:00-0500"), kNow);
  EXPECT_EQ(parse_iso8601("2024-02-29T00:00:00Z"), 1709164800000);
  for (const char* bad : {"2027-01-01T00:00", "2027-13-01", "2023-02-29", "2027-01-01T24:00Z", "tomorrow",
                          "2027-01-01T00:00Zjunk", "2027-1-1"}) {
    std::string msg = message_of([&] { parse_iso8601(bad); });
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
    EXPECT_NE(msg.find("ISO 8601"), std::string::npos) << msg;
  }
  EXPECT_EQ(compe::host::utc_day_start(kNow + 5 * kHour), kNow);
  EXPECT_EQ(compe::host::utc_day_start(kNow - 1), kNow - 24 * kHour);
}

TEST(HostInit, WritesSettingsHashedTokensAndAPrivateSolution) {
  Fixture f;
  ASSERT_EQ(f.tokens.size(), 3u);
  std::string toml = compe::read_file(f.dir / "host.toml");
  for (const auto& t : f.tokens) {
    EXPECT_EQ(t.token.size(), 32u);
    EXPECT_EQ(toml.find(t.token), std::string::npos) << "a token in clear in host.toml";
    EXPECT_NE(toml.find(compe::host::sha256_hex(t.token)), std::string::npos);
  }
  EXPECT_EQ(compe::read_file(f.dir / "private" / "solution.csv"), kSolution);
  struct stat st {};
  ASSERT_EQ(::stat(f.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Host h(f.dir);
  EXPECT_EQ(h.config().title, "Test <b>cup</b>");
  EXPECT_EQ(h.config().metric, "roc_auc");
  EXPECT_EQ(h.config().daily_limit, 3);
  EXPECT_EQ(h.submission_columns(), (std::vector<std::string>{"id", "y"}));
  EXPECT_EQ(h.submission_rows(), 10u);
  for (const auto& t : f.tokens) EXPECT_EQ(h.team_for_token(t.token), t.team);
  EXPECT_FALSE(h.team_for_token("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(h.team_for_token(""));
}

TEST(HostInit, BadInputIsRefusedWithContext) {
  TempDir tmp;
  compe::write_file_atomic(tmp.path / "solution.csv", kSolution);
  compe::write_file_atomic(tmp.path / "no_usage.csv", "id,y\n1,0\n2,1\n");
  compe::write_file_atomic(tmp.path / "all_public.csv", "id,y,Usage\n1,0,Public\n2,1,Public\n");
  compe::write_file_atomic(tmp.path / "one_class.csv", "id,y,Usage\n1,0,Public\n2,0,Private\n");
  auto opts = [&] {
    compe::host::InitOptions o;
    o.dir = tmp.path / "comp";
    o.solution = tmp.path / "solution.csv";
    o.metric = "roc_auc";
    o.deadline = "2027-01-02T00:00:00Z";
    o.teams = {"a", "b"};
    o.now_ms = kNow;
    return o;
  };
  auto expect_error = [&](compe::host::InitOptions o, const std::string& part) {
    std::string msg = message_of([&] { compe::host::init(o); });
    EXPECT_NE(msg.find(part), std::string::npos) << "expected '" << part << "' in: " << msg;
    EXPECT_FALSE(fs::exists(o.dir / "host.toml"));
  };
  auto o = opts();
  o.deadline = "2026-12-31T23:00:00Z";
  expect_error(o, "is not in the future");
  o = opts();
  o.deadline = "soon";
  expect_error(o, "time 'soon'");
  o = opts();
  o.teams = {"a", "a"};
  expect_error(o, "team 'a' is listed twice");
  o = opts();
  o.teams = {"a b"};
  expect_error(o, "team name 'a b'");
  o = opts();
  o.daily_limit = 0;
  expect_error(o, "--daily-limit 0");
  o = opts();
  o.metric = "roc_acu";
  expect_error(o, "roc_auc");
  o = opts();
  o.solution = tmp.path / "no_usage.csv";
  expect_error(o, "Usage column");
  o = opts();
  o.solution = tmp.path / "all_public.csv";
  expect_error(o, "needs Public and Private rows");
  o = opts();
  o.solution = tmp.path / "one_class.csv";
  expect_error(o, "cannot be scored with metric 'roc_auc'");
  o = opts();
  compe::host::init(o);
  std::string msg = message_of([&] { compe::host::init(o); });
  EXPECT_NE(msg.find("not an empty folder"), std::string::npos) << msg;
}

TEST(HostSubmit, ScoresAsScoreDoesAndStoresTheFile) {
  Fixture f;
  Host h(f.dir);
  std::string csv = submission({0.1, 0.9, 0.4, 0.3, 0.2, 0.7, 0.6, 0.8, 0.9, 0.5});
  auto s = h.submit("alpha", csv, "/home/me/my sub.csv", kNow + kHour);
  EXPECT_EQ(s.id, 1);
  EXPECT_EQ(s.name, "my sub.csv");
  EXPECT_EQ(s.sha256, compe::host::sha256_hex(csv));
  EXPECT_EQ(s.bytes, static_cast<std::int64_t>(csv.size()));
  auto ref = compe::score::score_submission(compe::read_csv(f.dir / "private" / "solution.csv"),
                                            compe::read_csv_string(csv, "sub"), {.metric = "roc_auc"});
  EXPECT_DOUBLE_EQ(s.public_score, *ref.public_score);
  EXPECT_DOUBLE_EQ(s.private_score, *ref.private_score);
  EXPECT_EQ(compe::read_file(f.dir / "submissions" / (s.sha256 + ".csv")), csv);
  // Recorded: a fresh Host over the same folder sees it.
  Host again(f.dir);
  auto subs = again.submissions("alpha");
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].sha256, s.sha256);
  EXPECT_EQ(subs[0].time_ms, kNow + kHour);
  EXPECT_TRUE(again.submissions("beta").empty());
}

TEST(HostSubmit, BadFilesGetKagglesMessagesAndAreNotCounted) {
  Fixture f;
  Host h(f.dir);
  auto err = [&](const std::string& csv) { return message_of([&] { h.submit("alpha", csv, "sub.csv", kNow); }); };
  EXPECT_NE(err("id,target\n1,0.5\n").find("sub.csv: wrong columns id, target; expected columns: id, y"),
            std::string::npos);
  std::string twice = submission(std::vector<double>(10, 0.5));
  twice += twice.substr(5);
  std::string msg = err(twice);
  EXPECT_NE(msg.find("submission must have 10 rows, found 20"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10 duplicate id(s)"), std::string::npos) << msg;
  EXPECT_NE(err("id,y\n1,\"unterminated\n").find("sub.csv"), std::string::npos);
  EXPECT_NE(err(submission({0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5})).find("missing id(s): '10'"),
            std::string::npos);
  EXPECT_TRUE(h.submissions("alpha").empty());
  EXPECT_EQ(h.submissions_today("alpha", kNow), 0);
  // Unknown team (the server never lets one through, the API still refuses it).
  EXPECT_NE(message_of([&] { h.submit("delta", twice, "x", kNow); }).find("no team 'delta'"), std::string::npos);
}

TEST(HostSubmit, ErrorsNeverTellPublicFromPrivateRows) {
  // Pearson on predictions varying over rows 1..4 (Public) but constant over 5..9 (Private):
  // fine over all rows, undefined on the Private rows alone. Refusing it for free would tell the
  // split; it is counted, and the Private part scores as the worst value.
  Fixture f("pearson", 10);
  Host h(f.dir);
  auto s = h.submit("alpha", submission({0.1, 0.9, 0.2, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3}), "s.csv", kNow);
  EXPECT_TRUE(std::isfinite(s.public_score));
  EXPECT_EQ(s.private_score, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.submissions_today("alpha", kNow), 1);
  auto j = compe::host::submission_json(s, true);
  EXPECT_NE(j.dump().find("\"private\":null"), std::string::npos) << j.dump();
  EXPECT_NE(j.value("private_note", "").find("undefined"), std::string::npos) << j.dump();
  EXPECT_FALSE(j.contains("public_note"));
  // Undefined over every row at once: refused whatever the split, and not counted.
  std::string msg = message_of([&] { h.submit("alpha", submission(std::vector<double>(10, 0.5)), "c.csv", kNow); });
  EXPECT_NE(msg.find("c.csv"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("rivate"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("ublic"), std::string::npos) << msg;
  EXPECT_EQ(h.submissions_today("alpha", kNow), 1);
  // A row-level problem is named by its position among all rows (the same whatever the split).
  Fixture g("rmsle");
  Host hg(g.dir);
  std::string neg = message_of([&] { hg.submit("alpha", submission({1, 1, 1, 1, 1, 1, -1, 1, 1, 1}), "s.csv", kNow); });
  EXPECT_NE(neg.find("s.csv: rmsle: y_pred row 6 is -1; expected a value >= 0 (id '7')"), std::string::npos) << neg;
  EXPECT_EQ(neg.find("rivate"), std::string::npos) << neg;
}

TEST(HostSubmit, SplitProbeLearnsNothingFromFreeAnswers) {
  // The probe of a team that plants rows to learn the split: predictions constant but for one
  // or two rows, so that the metric is undefined on a part exactly when the varied rows share it.
  // Two hosts hold the same targets under different splits; every answer that does not count
  // against the daily limit (a refusal, its message) must be the same for both.
  const char* other_split =
      "id,y,Usage\n1,0,Private\n2,1,Public\n3,0,Private\n4,1,Public\n5,0,Public\n6,1,Private\n"
      "7,0,Public\n8,1,Private\n9,1,Private\n10,,Ignored\n";
  for (const char* metric : {"pearson", "spearman", "roc_auc", "log_loss", "rmse"}) {
    SCOPED_TRACE(metric);
    Fixture a(metric, 1000);
    TempDir tmp;
    compe::write_file_atomic(tmp.path / "solution.csv", other_split);
    compe::host::InitOptions o;
    o.dir = tmp.path / "comp";
    o.solution = tmp.path / "solution.csv";
    o.metric = metric;
    o.deadline = "2027-01-02T00:00:00Z";
    o.daily_limit = 1000;
    o.teams = {"alpha"};
    o.now_ms = kNow;
    compe::host::init(o);
    Host ha(a.dir), hb(o.dir);
    std::vector<std::vector<double>> probes;
    for (int i = 0; i < 9; ++i)
      for (int k = i; k < 9; ++k) {
        std::vector<double> p(10, 0.5);
        p[i] = 0.9;
        p[k] = 0.1;
        probes.push_back(p);
      }
    probes.push_back(std::vector<double>(10, 0.5));
    probes.push_back({0, 1, 0, 1, 0, 1, 0, 1, 1, 0.5});
    probes.push_back({1, 0, 1, 0, 1, 0, 1, 0, 0, 0.5});
    int counted = 0, refused = 0;
    for (const auto& p : probes) {
      const std::string csv = submission(p);
      std::string ma = message_of([&] { ha.submit("alpha", csv, "probe.csv", kNow); });
      std::string mb = message_of([&] { hb.submit("alpha", csv, "probe.csv", kNow); });
      EXPECT_EQ(ma, mb) << csv;
      (ma.empty() ? counted : refused) += 1;
    }
    EXPECT_EQ(ha.submissions_today("alpha", kNow), counted);
    EXPECT_EQ(hb.submissions_today("alpha", kNow), counted);
    EXPECT_GT(counted, 0);
    (void)refused;
  }
}

TEST(HostSubmit, DailyLimitDeadlineRevealAndSize) {
  Fixture f("roc_auc", 2);
  Host h(f.dir);
  std::string csv = submission({0.1, 0.9, 0.4, 0.3, 0.2, 0.7, 0.6, 0.8, 0.9, 0.5});
  h.submit("alpha", csv, "a.csv", kNow + kHour);
  h.submit("alpha", csv, "b.csv", kNow + 2 * kHour);
  EXPECT_EQ(refusal_of([&] { h.submit("alpha", csv, "c.csv", kNow + 3 * kHour); }), Refusal::kDailyLimit);
  std::string msg = message_of([&] { h.submit("alpha", csv, "c.csv", kNow + 3 * kHour); });
  EXPECT_NE(msg.find("2 submission(s) per UTC day"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2027-01-02T00:00:00.000Z"), std::string::npos) << msg;
  h.submit("beta", csv, "b.csv", kNow + 3 * kHour);  // another team has its own count
  EXPECT_EQ(h.submissions_today("alpha", kNow + 3 * kHour), 2);
  EXPECT_EQ(refusal_of([&] { h.submit("alpha", std::string(h.config().max_upload_bytes + 1, 'x'), "big", kNow); }),
            Refusal::kTooLarge);
  // The deadline (2027-01-02) closes submissions and finals, and reveals.
  std::int64_t after = kNow + 24 * kHour;
  EXPECT_FALSE(h.revealed_at(after - 1));
  EXPECT_EQ(h.revealed_at(after), after);
  EXPECT_EQ(refusal_of([&] { h.submit("gamma", csv, "g.csv", after); }), Refusal::kClosed);
  EXPECT_EQ(refusal_of([&] { h.set_finals("alpha", {1}, after); }), Refusal::kClosed);
  EXPECT_EQ(h.private_board(after).size(), 2u);
}

TEST(HostBoards, FinalsPrivateBoardAndShake) {
  Fixture f("roc_auc", 10);
  Host h(f.dir);
  // Public rows 1-4 have y = 0,1,0,1; Private rows 5-9 y = 0,1,0,1,1.
  std::string pub_good_priv_bad = submission({0.1, 0.9, 0.2, 0.8, 0.9, 0.1, 0.8, 0.2, 0.3, 0.5});
  std::string pub_bad_priv_good = submission({0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.2, 0.8, 0.7, 0.5});
  std::string middling = submission({0.2, 0.9, 0.8, 0.3, 0.2, 0.8, 0.3, 0.9, 0.4, 0.5});
  auto a1 = h.submit("alpha", pub_good_priv_bad, "a1", kNow + 1);  // public 1, private 0
  auto a2 = h.submit("alpha", middling, "a2", kNow + 2);
  auto a3 = h.submit("alpha", pub_bad_priv_good, "a3", kNow + 3);  // public 0, private 1
  auto b1 = h.submit("beta", middling, "b1", kNow + 4);
  auto g1 = h.submit("gamma", pub_good_priv_bad, "g1", kNow + 5);  // ties alpha's public, later
  EXPECT_DOUBLE_EQ(a1.public_score, 1.0);
  EXPECT_DOUBLE_EQ(a1.private_score, 0.0);
  EXPECT_DOUBLE_EQ(a3.private_score, 1.0);

  auto pub = h.public_board();
  ASSERT_EQ(pub.size(), 3u);
  EXPECT_EQ(pub[0].team, "alpha");  // the earlier of two equal scores ranks first
  EXPECT_EQ(pub[0].entries, 3);
  EXPECT_EQ(pub[0].last_ms, kNow + 3);
  EXPECT_EQ(pub[1].team, "gamma");
  EXPECT_EQ(pub[2].team, "beta");

  // No finals marked: the two best public (a1, a2). Then a3 marked: only a3 counts.
  EXPECT_EQ(h.effective_finals("alpha"), (std::vector<std::int64_t>{a1.id, a2.id}));
  EXPECT_EQ(refusal_of([&] { h.private_board(kNow + 10); }), Refusal::kNotRevealed);
  EXPECT_NE(message_of([&] { h.set_finals("alpha", {a1.id, a2.id, a3.id}, kNow); }).find("at most 2"), std::string::npos);
  EXPECT_NE(message_of([&] { h.set_finals("alpha", {b1.id}, kNow); }).find("team 'alpha' has no submission"),
            std::string::npos);
  EXPECT_NE(message_of([&] { h.set_finals("alpha", {a3.id, a3.id}, kNow); }).find("given twice"), std::string::npos);
  h.set_finals("alpha", {a3.id}, kNow + 10);
  EXPECT_EQ(h.effective_finals("alpha"), (std::vector<std::int64_t>{a3.id}));

  // Before the reveal no document carries a private score.
  auto subs = compe::host::submissions_json(h, "alpha", kNow + 11);
  for (const auto& s : subs["submissions"]) EXPECT_FALSE(s.contains("private")) << s.dump();
  auto lb = compe::host::leaderboard_json(h, "alpha", kNow + 11);
  EXPECT_TRUE(lb["private"].is_null());
  EXPECT_FALSE(lb["revealed"].get<bool>());
  EXPECT_EQ(lb.dump().find("\"private\":0"), std::string::npos);

  EXPECT_EQ(h.reveal(kNow + 20), kNow + 20);
  EXPECT_EQ(h.reveal(kNow + 30), kNow + 20);  // the first reveal stays
  EXPECT_EQ(refusal_of([&] { h.submit("beta", middling, "late", kNow + 31); }), Refusal::kClosed);
  auto priv = h.private_board(kNow + 31);
  ASSERT_EQ(priv.size(), 3u);
  EXPECT_EQ(priv[0].team, "alpha");
  EXPECT_DOUBLE_EQ(priv[0].private_score, 1.0);
  EXPECT_EQ(priv[0].public_rank, 1);
  EXPECT_EQ(priv[0].change, 0);
  EXPECT_FALSE(priv[0].auto_selected);
  EXPECT_EQ(priv[1].team, "beta");  // middling private beats gamma's 0
  EXPECT_EQ(priv[1].public_rank, 3);
  EXPECT_EQ(priv[1].change, 1);
  EXPECT_TRUE(priv[1].auto_selected);
  EXPECT_EQ(priv[2].team, "gamma");
  EXPECT_EQ(priv[2].change, -1);
  EXPECT_DOUBLE_EQ(priv[2].private_score, 0.0);

  subs = compe::host::submissions_json(h, "alpha", kNow + 31);
  EXPECT_DOUBLE_EQ(subs["submissions"][2]["private"].get<double>(), 1.0);
  lb = compe::host::leaderboard_json(h, "beta", kNow + 31);
  EXPECT_EQ(lb["private"][1]["team"], "beta");
  EXPECT_TRUE(lb["private"][1]["you"].get<bool>());
  auto info = compe::host::info_json(h, "beta", kNow + 31);
  EXPECT_TRUE(info["closed"].get<bool>());
  EXPECT_EQ(info["columns"], nlohmann::json::array({"id", "y"}));
}

TEST(HostSubmit, ClassLabelSolutionWithAnUnlabelledIgnoredRow) {
  TempDir tmp;
  compe::write_file_atomic(tmp.path / "solution.csv",
                           "id,label,Usage\n1,cat,Public\n2,dog,Public\n3,cat,Private\n4,dog,Private\n5,,Ignored\n");
  compe::host::InitOptions o;
  o.dir = tmp.path / "comp";
  o.solution = tmp.path / "solution.csv";
  o.metric = "accuracy";
  o.deadline = "2027-01-02";
  o.teams = {"a"};
  o.now_ms = kNow;
  compe::host::init(o);
  Host h(o.dir);
  auto s = h.submit("a", "id,label\n1,cat\n2,cat\n3,cat\n4,dog\n5,dog\n", "s.csv", kNow);
  EXPECT_DOUBLE_EQ(s.public_score, 0.5);
  EXPECT_DOUBLE_EQ(s.private_score, 1.0);
  // The Ignored row still needs a prediction, as every id does.
  std::string msg = message_of([&] { h.submit("a", "id,label\n1,cat\n2,cat\n3,cat\n4,dog\n5,\n", "e.csv", kNow); });
  EXPECT_NE(msg.find("e.csv: column 'label' has 1 empty prediction(s), at id(s) '5'"), std::string::npos) << msg;
}
