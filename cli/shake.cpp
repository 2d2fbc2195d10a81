// compe shake (shake-up simulation, CV vs LB history) and compe select (the two finals).
#include <chrono>
#include <cmath>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/core.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/pseudo_run.hpp"
#include "compe/shake.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

namespace {

std::string opt_score(const std::optional<double>& v) { return v ? fmt_score(*v) : "-"; }

std::string spark(const std::vector<std::size_t>& counts) {
  static const char* kBlocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::size_t top = 0;
  for (auto c : counts) top = std::max(top, c);
  std::string out;
  for (auto c : counts) {
    std::size_t level = top == 0 ? 0 : (c == 0 ? 0 : 1 + (c * 7 + top - 1) / top);
    out += kBlocks[std::min<std::size_t>(level, 8)];
  }
  return out;
}

std::string who(const shake::CandidateResult& c) {
  return c.label.empty() || c.label == c.name ? c.name : c.name + " " + c.label;
}

void print_shake(const shake::Result& r) {
  const std::size_t K = r.candidates.size();
  fmt::print("shake: {} candidate(s), metric {} ({}), {}: {} simulated splits of {} rows into {} public / {} private\n\n",
             K, r.metric, r.direction == metric::Direction::kMaximize ? "higher is better" : "lower is better",
             r.mode == shake::Mode::kResplit ? "re-splitting the solution's scored rows"
                                             : "resampling OOF rows to the test size",
             r.simulations, r.mode == shake::Mode::kResplit ? r.rows : r.public_rows + r.private_rows, r.public_rows,
             r.private_rows);
  bool actual = false;
  for (const auto& c : r.candidates) actual |= c.actual_public.has_value() || c.actual_private.has_value();
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.candidates) {
    std::vector<std::string> row{who(c),
                                 fmt::format("{} ± {:.4f}", fmt_score(c.public_score.mean), c.public_score.sd),
                                 fmt::format("[{}, {}]", fmt_score(c.public_score.p5), fmt_score(c.public_score.p95)),
                                 fmt::format("{} ± {:.4f}", fmt_score(c.private_score.mean), c.private_score.sd),
                                 fmt::format("[{}, {}]", fmt_score(c.private_score.p5), fmt_score(c.private_score.p95)),
                                 fmt::format("{:.4f}", c.gap.sd),
                                 fmt::format("{:.2f}", c.mean_abs_rank_change),
                                 fmt::format("{:.2f}", c.p_private_best)};
    if (actual) {
      row.push_back(opt_score(c.actual_public));
      row.push_back(opt_score(c.actual_private));
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header{"candidate", "public mean ± sd", "public 5-95%", "private mean ± sd",
                                  "private 5-95%", "sd(pub-priv)", "E|rank chg|", "P(priv #1)"};
  if (actual) {
    header.push_back("actual public");
    header.push_back("actual private");
  }
  print_table(header, rows);
  fmt::print("\npublic - private, {} bins from {:+.4f} to {:+.4f} (same bins for every candidate)\n",
             r.gap_edges.size() - 1, r.gap_edges.front(), r.gap_edges.back());
  for (const auto& c : r.candidates)
    fmt::print("  {:<24} |{}|  5%..95% [{:+.4f}, {:+.4f}]\n", who(c).substr(0, 24), spark(c.gap_histogram), c.gap.p5, c.gap.p95);
  if (K > 1) {
    fmt::print("\nP(row beats column on private | it beats it on public)\n");
    std::vector<std::string> h{"A \\ B"};
    for (const auto& c : r.candidates) h.push_back(c.name);
    std::vector<std::vector<std::string>> m;
    for (std::size_t a = 0; a < K; ++a) {
      std::vector<std::string> row{r.candidates[a].name};
      for (std::size_t b = 0; b < K; ++b) {
        if (a == b) {
          row.push_back("-");
          continue;
        }
        for (const auto& p : r.pairs)
          if (p.a == a && p.b == b)
            row.push_back(p.p_private_given_public ? fmt::format("{:.2f}", *p.p_private_given_public) : "never");
      }
      m.push_back(std::move(row));
    }
    print_table(h, m);
    fmt::print("\nP(public #1 is private #1) = {:.2f}; expected |rank change| = {:.2f} place(s)\n",
               r.p_public_top_is_private_top, r.mean_abs_rank_change);
  }
}

void print_history(const shake::History& h) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : h.rows)
    rows.push_back({r.run_id, r.name, fmt_score(r.cv), fmt_score(r.public_score), opt_score(r.private_score),
                    r.overfit_reason.empty() ? "" : "public-LB overfit? " + r.overfit_reason});
  print_table({"run", "name", "cv", "public", "private", "note"}, rows);
  auto corr = [](const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : std::string("- (needs 3 runs)"); };
  fmt::print("\nCV vs public LB over {} run(s): Pearson {}, Spearman {}\n", h.rows.size(), corr(h.pearson), corr(h.spearman));
  if (h.pearson_private)
    fmt::print("CV vs private LB: Pearson {}, Spearman {}\n", corr(h.pearson_private), corr(h.spearman_private));
  std::size_t flagged = 0;
  for (const auto& r : h.rows) flagged += !r.overfit_reason.empty();
  fmt::print("{} run(s) look like public-LB overfitting (public better while CV worse than the parent or the best-CV run {})\n",
             flagged, h.best_cv_run);
}

}  // namespace

void add_shake_commands(CLI::App& app) {
  {
    struct Args {
      std::string workspace, store;
      std::vector<std::string> runs;
      std::optional<double> public_fraction;
      std::size_t test_rows = 0, bootstrap = 1000, threads = 0, bins = 20;
      std::uint64_t seed = 42;
      bool oof = false, history = false, json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "shake", "Shake-up simulation of candidate runs over public/private splits; --history: CV vs LB");
    cmd->add_option("RUN", a->runs, "Candidate runs (ids or unique prefixes) or OOF folders");
    cmd->add_option("--public-fraction", a->public_fraction,
                    "Share of the test rows on the public LB (default: the solution's, else 0.3)");
    cmd->add_option("--test-rows", a->test_rows, "Rows of a simulated test set (OOF mode; default: the test set's)");
    cmd->add_option("--bootstrap,-B", a->bootstrap, "Simulated splits (default 1000)");
    cmd->add_option("--seed", a->seed, "Random seed (default 42)");
    cmd->add_option("--threads", a->threads, "Threads (default: all cores)");
    cmd->add_option("--bins", a->bins, "Histogram bins of public - private (default 20)");
    cmd->add_flag("--oof", a->oof, "Simulate from OOF predictions even when the workspace has a solution");
    cmd->add_flag("--history", a->history,
                  "CV vs public LB over the runs with LB scores: correlation and public-LB overfitting");
    add_workspace_option(cmd, a->workspace);
    add_store_option(cmd, a->store);
    cmd->add_flag("--json", a->json, "Print one JSON document");
    cmd->callback([a] {
      Workspace w = open_workspace(a->workspace);
      std::string store = store_url_or_env(a->store);
      if (a->history) {
        if (!a->runs.empty()) fail(ErrorCode::kInvalidArgument, "--history reads every run with an LB score: name no RUN");
        auto s = open_run_store(a->workspace, a->store);
        shake::History h = shake::history(*s, w.config().metric);
        if (a->json) print_json(shake::to_json(h));
        else print_history(h);
        return;
      }
      if (a->runs.empty()) fail(ErrorCode::kInvalidArgument, "name one or more candidate runs (or --history)");
      if (a->public_fraction && !(*a->public_fraction > 0 && *a->public_fraction < 1))
        fail(ErrorCode::kInvalidArgument, "--public-fraction is {}, expected a number strictly between 0 and 1",
             *a->public_fraction);
      shake::LoadOptions lo;
      lo.store = store;
      lo.use_solution = !a->oof;
      shake::Loaded loaded = shake::load_candidates(w, a->runs, lo);
      if (loaded.mode == shake::Mode::kResplit && a->test_rows)
        fail(ErrorCode::kInvalidArgument,
             "--test-rows applies to OOF resampling; with a solution the real {} test rows are re-split (add --oof)",
             loaded.test_rows);
      shake::Options o;
      o.mode = loaded.mode;
      o.public_fraction = a->public_fraction.value_or(loaded.public_fraction.value_or(0.3));
      o.test_rows = a->test_rows ? a->test_rows : loaded.test_rows;
      o.simulations = a->bootstrap;
      o.seed = a->seed;
      o.threads = a->threads;
      o.bins = a->bins;
      TerminalProgress bar(stderr, !a->json && isatty(fileno(stderr)), std::chrono::milliseconds(500));
      o.progress = &bar;
      shake::Result r = shake::simulate(loaded.problem, o);
      if (a->json) print_json(shake::to_json(r));
      else print_shake(r);
    });
  }
  {
    struct Args {
      std::string workspace, store;
      std::size_t bootstrap = 1000;
      std::uint64_t seed = 42;
      bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("select", "The two final submissions by compe.toml's [select] policy");
    cmd->add_option("--bootstrap,-B", a->bootstrap, "Simulated splits of the shake estimate (default 1000)");
    cmd->add_option("--seed", a->seed, "Random seed (default 42)");
    add_workspace_option(cmd, a->workspace);
    add_store_option(cmd, a->store);
    cmd->add_flag("--json", a->json, "Print one JSON document");
    cmd->callback([a] {
      Workspace w = open_workspace(a->workspace);
      shake::SelectOptions o;
      o.store = store_url_or_env(a->store);
      o.simulations = a->bootstrap;
      o.seed = a->seed;
      shake::Selection s = shake::select_finals(w, o);
      {
        std::vector<std::string> ids;
        for (const auto& f : s.finals) ids.push_back(f.run.id);
        for (const auto& line : pseudo::lineage_warnings(*open_run_store(a->workspace, o.store), ids))
          fmt::print(stderr, "warning: {}\n", line);
      }
      if (a->json) {
        print_json(shake::to_json(s));
        return;
      }
      fmt::print("policy: first = {}, second = {}{}{}\n", s.policy.first, s.policy.second,
                 s.policy.min_cv ? fmt::format(", min_cv = {}", fmt_score(*s.policy.min_cv)) : "",
                 s.policy.tag.empty() ? "" : ", tag = " + s.policy.tag);
      fmt::print("{} eligible run(s), {} left out\n\n", s.eligible, s.excluded.size());
      std::vector<std::vector<std::string>> rows;
      for (std::size_t i = 0; i < s.finals.size(); ++i) {
        const auto& f = s.finals[i];
        rows.push_back({std::to_string(i + 1), f.rule, f.run.id, f.run.name, f.model, opt_score(f.run.cv_score),
                        opt_score(f.public_score), opt_score(f.private_score),
                        f.run.git_commit.empty() ? "-" : f.run.git_commit.substr(0, 12) + (f.run.git_dirty.value_or(false) ? "+" : ""),
                        f.config_path + " " + f.config_hash});
      }
      print_table({"final", "rule", "run", "name", "model", "cv", "public", "private", "commit", "config"}, rows);
      if (s.finals.size() < 2) fmt::print("\nonly one eligible run: one final\n");
      if (s.oof_correlation) fmt::print("\ncorrelation of the finals' OOF predictions: {:.4f}\n", *s.oof_correlation);
      if (s.shake) {
        const auto& r = *s.shake;
        fmt::print("shake estimate ({} {} splits, {} public / {} private rows):\n", r.simulations,
                   r.mode == shake::Mode::kResplit ? "solution" : "OOF", r.public_rows, r.private_rows);
        for (const auto& c : r.candidates)
          fmt::print("  {}  private {} ± {:.4f}  public - private sd {:.4f}\n", c.name, fmt_score(c.private_score.mean),
                     c.private_score.sd, c.gap.sd);
        for (const auto& p : r.pairs)
          if (p.a == 0) fmt::print("  P(final 1 beats final 2 on private) = {:.2f}\n", p.p_a_private);
      }
      for (const auto& e : s.excluded) fmt::print("left out: {}\n", e);
    });
  }
}

}  // namespace compe::cli
