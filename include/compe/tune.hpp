#pragma once
/// Hyper-parameter optimisation: search spaces, studies and trials, samplers and pruners.
///
/// The design follows Optuna's: a Study owns a Sampler (what to try next) and a Pruner (when to
/// stop a trial early); trials are asked for, evaluated and told their outcome. Studies and
/// trials live in a compe::Store, so several processes (or machines, on PostgreSQL) can share one
/// study: trial numbers come from Store::create_trial and are never duplicated.
///
/// Parameters are sampled when a trial is asked for (define-and-run): the study's SearchSpace
/// is fixed, and Trial::suggest_* returns the value sampled for a declared parameter. A
/// conditional parameter (SearchSpace::when) is sampled only when its condition holds; trials
/// without it are left out of its model (as Optuna's TPE does), and relative (multivariate)
/// sampling covers the unconditional parameters only. Every sampler is reproducible for a seed: a
/// Study's generator is seeded with (seed, number of trials already in the study), so a fresh
/// study replays exactly and a continued one does not repeat its first session's draws. Workers
/// that open the same study at the same moment should be given different seeds.
///
/// Values and representations: a parameter has an external value (a JSON number, or the
/// categorical choice itself) as stored in the trial, and an internal value (double): the float
/// or integer itself, or the index of a categorical choice.
///
/// Errors: bad spaces, settings and names throw compe::Error(kInvalidArgument / kNotFound)
/// naming the parameter or setting. Thread safety: a Study is used by one thread at a time.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compe/split.hpp"
#include "compe/store.hpp"

namespace compe::tune {

enum class ParamKind { kFloat, kInt, kCategorical };

/// The distribution of one parameter. Build it with float_param / int_param / categorical_param,
/// which check it.
struct Distribution {
  ParamKind kind = ParamKind::kFloat;
  double low = 0;   ///< float and int: inclusive bounds (low <= high)
  double high = 0;  ///< for a stepped range, high is lowered to low + k * step
  bool log = false;
  std::optional<double> step;           ///< float: optional grid; int: always set (default 1)
  std::vector<nlohmann::json> choices;  ///< categorical: the choices (numbers, strings, bools)

  /// Whether the distribution has exactly one value (such parameters are not sampled).
  bool single() const;
  /// Whether the internal value lies in the distribution (on its grid for stepped ranges).
  bool contains(double internal) const;
  /// The internal value of an external one; nullopt when it is not in the distribution.
  std::optional<double> to_internal(const nlohmann::json& external) const;
  /// The external value (a JSON number, or the choice) of an internal one.
  nlohmann::json to_external(double internal) const;
  /// {"type": "float", "low": .., "high": .., "log": .., "step": ..} or
  /// {"type": "categorical", "choices": [..]}.
  nlohmann::json to_json() const;
  bool operator==(const Distribution&) const = default;
};

/// A float parameter on [low, high]; log scale needs 0 < low; step (> 0) excludes log.
/// Throws Error(kInvalidArgument) naming `name` on a non-finite bound, low > high, a log scale
/// with a non-positive bound, or a bad step.
Distribution float_param(std::string_view name, double low, double high, bool log = false,
                         std::optional<double> step = std::nullopt);
/// An integer parameter on [low, high] with step (default 1; log scale needs step 1 and low >= 1).
Distribution int_param(std::string_view name, std::int64_t low, std::int64_t high, bool log = false,
                       std::int64_t step = 1);
/// A categorical parameter; choices must be non-empty, distinct scalars.
Distribution categorical_param(std::string_view name, std::vector<nlohmann::json> choices);
/// Parses to_json()'s form (also accepted: "int"/"integer", "float"/"real"/"uniform"/
/// "loguniform", "categorical"/"choice"). Error(kInvalidArgument) names `name` and the key.
Distribution distribution_from_json(std::string_view name, const nlohmann::json& j);

/// A parameter's condition: for each named parameter, the external values under which the
/// conditioned parameter is sampled. It holds when every named parameter is active (sampled in
/// the trial) and has one of its listed values.
using Condition = std::map<std::string, std::vector<nlohmann::json>>;

/// Named distributions in declaration order (names unique), some of them conditional.
class SearchSpace {
 public:
  /// Throws Error(kInvalidArgument) when `name` is empty or already declared.
  SearchSpace& add(std::string name, Distribution distribution);
  /// Makes a declared parameter conditional. Error(kInvalidArgument) when `name` or a parameter
  /// the condition names is not declared, a listed value is not in that parameter's
  /// distribution, the condition is empty, or the conditions would form a cycle.
  SearchSpace& when(const std::string& name, Condition condition);
  /// The parameter's condition; nullptr for an unconditional parameter.
  const Condition* condition(std::string_view name) const;
  bool conditional() const { return !conditions_.empty(); }
  /// Whether `name`'s condition holds for the external values sampled so far (`params`, an
  /// object). Unconditional parameters are always active.
  bool active(std::string_view name, const nlohmann::json& params) const;
  /// Parameter names in the order they are sampled: declaration order, except that a parameter
  /// comes after the parameters its condition names.
  std::vector<std::string> sampling_order() const;
  const Distribution* find(std::string_view name) const;
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const std::vector<std::pair<std::string, Distribution>>& params() const { return params_; }
  /// [{"name": .., distribution json.., "when": {"parent": [values]}}, ...] in declaration order
  nlohmann::json to_json() const;
  /// Parses to_json()'s form, or a table {name: {type = .., when = {parent = value or [values]}}}
  /// (conditions may name parameters declared later); Error(kInvalidArgument) names the
  /// parameter.
  static SearchSpace from_json(const nlohmann::json& j);
  bool operator==(const SearchSpace&) const = default;

 private:
  std::vector<std::pair<std::string, Distribution>> params_;
  std::map<std::string, Condition, std::less<>> conditions_;
};

enum class Direction { kMinimize, kMaximize };
std::string_view direction_name(Direction d);  ///< "minimize" / "maximize"
/// Error(kInvalidArgument) for anything but "minimize" / "maximize".
Direction parse_direction(std::string_view name);

/// A trial as the sampler and pruner see it (a frozen record read from the store).
struct FrozenTrial {
  std::int64_t number = 0;
  TrialState state = TrialState::kRunning;
  std::map<std::string, double> params;  ///< internal values of the space's parameters
  std::optional<double> value;           ///< complete trials (the first objective's value)
  std::vector<double> values;  ///< complete trials: one value per objective (empty otherwise)
  std::map<std::int64_t, double> intermediate;
  std::string error;  ///< why a failed trial failed
};

/// What samplers and pruners may look at: the study's direction, space and trials.
struct StudyView {
  Direction direction = Direction::kMinimize;  ///< the (first) objective's direction
  const SearchSpace* space = nullptr;
  std::span<const FrozenTrial> trials;  ///< by number
  /// Multi-objective studies: one direction per objective (two or more). Empty for a single
  /// objective, whose direction is `direction`.
  std::span<const Direction> directions = {};
  bool multi_objective() const { return directions.size() > 1; }
};

/// A small deterministic generator (xoshiro256**, seeded with splitmix64), identical on every
/// platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);
  std::uint64_t next();
  double uniform();                      ///< [0, 1)
  double uniform(double lo, double hi);  ///< [lo, hi)
  std::uint64_t below(std::uint64_t n);  ///< [0, n), n > 0

 private:
  std::uint64_t s_[4];
};

/// Chooses parameters for a new trial. Relative sampling sees the whole space at once;
/// independent sampling then fills each parameter the relative step left out.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// Internal values for some (or none) of the space's parameters.
  virtual std::map<std::string, double> sample_relative(const StudyView& study, Rng& rng) = 0;
  /// One parameter's internal value.
  virtual double sample_independent(const StudyView& study, const std::string& name,
                                    const Distribution& dist, Rng& rng) = 0;
  /// Whether the sampler has nothing left to propose (grid: every point asked).
  virtual bool exhausted(const StudyView& /*study*/) const { return false; }
};

/// Decides whether a running trial should stop after its latest intermediate value.
class Pruner {
 public:
  virtual ~Pruner() = default;
  /// `trial` is running and has at least one intermediate value; `study.trials` may include it.
  virtual bool prune(const StudyView& study, const FrozenTrial& trial) = 0;
};

/// Settings shared by samplers and pruners, as key = value (numbers or bools). Unknown keys and
/// keys the chosen row does not take are rejected with Error(kInvalidArgument) naming them.
using Settings = std::map<std::string, nlohmann::json>;

/// TPE settings (defaults are Optuna 3.1's).
struct TpeOptions {
  bool consider_prior = true;
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  bool multivariate = false;   ///< one joint Parzen estimator over the whole space
  bool constant_liar = false;  ///< running trials count as the worst (parallel workers)
  /// Score candidates as Optuna 3.1.0 does (the default): continuous kernels without their
  /// -log(sigma) term, so wide kernels weigh more than a true density gives them. Off: true
  /// densities (as later Optuna versions score), which found worse optima at 100 trials on
  /// Branin and Hartmann6 over 100 seeds (bench/results/tune.md).
  bool optuna31_kernels = true;
};

/// Median pruner settings (Optuna's MedianPruner defaults).
struct MedianOptions {
  int n_startup_trials = 5;
  std::int64_t n_warmup_steps = 0;
  std::int64_t interval_steps = 1;
  int n_min_trials = 1;
};

/// Asynchronous successive halving (Optuna's SuccessiveHalvingPruner with a fixed min_resource).
struct HalvingOptions {
  std::int64_t min_resource = 1;
  int reduction_factor = 4;
  int min_early_stopping_rate = 0;
};

/// Fold pruner for cross-validated objectives; intermediate step k holds the score of fold k.
///
/// Rule: after at least `min_folds` folds, let d_i = s_i - b_i (sign-adjusted so that d_i > 0
/// means the trial is better on fold i) over the folds the trial and the best complete trial
/// both have. With mean m, sample standard deviation s and n folds, the one-sided paired
/// t statistic t = m / (s / sqrt(n)) has n - 1 degrees of freedom; the trial is pruned when
/// student_t_cdf(t, n - 1) < alpha: were the trial truly as good as the best, differences this
/// bad would be seen with probability below alpha. When every difference is equal (s = 0) the
/// trial is pruned if they are negative. Without a complete best trial with those folds, nothing
/// is pruned.
struct FoldOptions {
  int min_folds = 2;
  double alpha = 0.05;
};

/// The fold rule on paired differences d (> 0: the trial is better on that fold).
bool fold_rule_prunes(const std::vector<double>& differences, const FoldOptions& options);

/// Parzen estimator (one kernel mixture over one or more parameters), as Optuna 3.1 builds it.
/// Public for tests and golden checks.
class ParzenEstimator {
 public:
  /// observations[p][i]: internal value of parameter p (in space order) of observation i.
  /// `weights`: one per observation (empty = Optuna's default ramp).
  ParzenEstimator(const std::vector<std::vector<double>>& observations,
                  const std::vector<Distribution>& dists, const TpeOptions& options,
                  std::vector<double> weights = {});
  /// The same estimator, given orders[p]: the indices of observations[p] in ascending order of
  /// value (ties in any order; empty = not given), which spares the univariate bandwidths their
  /// sort. Callers that keep their observations sorted (the TPE sampler) use it.
  ParzenEstimator(const std::vector<std::vector<double>>& observations,
                  const std::vector<Distribution>& dists, const TpeOptions& options,
                  std::vector<double> weights,
                  const std::vector<std::vector<std::size_t>>& orders);

  /// Normalised mixture weights (the prior's last when considered).
  const std::vector<double>& weights() const { return weights_; }
  /// Kernel centres of parameter p in the transformed (log when log-scaled) domain.
  const std::vector<double>& mus(std::size_t p) const { return params_[p].mus; }
  const std::vector<double>& sigmas(std::size_t p) const { return params_[p].sigmas; }
  /// Truncation bounds of parameter p (transformed domain, widened by step/2 when stepped).
  double low(std::size_t p) const { return params_[p].low; }
  double high(std::size_t p) const { return params_[p].high; }
  /// Categorical kernel weights of parameter p: rows = components, columns = choices.
  const std::vector<std::vector<double>>& categorical(std::size_t p) const {
    return params_[p].cat;
  }

  /// `size` samples (internal values): samples[p][j].
  std::vector<std::vector<double>> sample(Rng& rng, std::size_t size) const;
  /// Log-density (log-mass for stepped and categorical parameters) of each sample.
  std::vector<double> log_pdf(const std::vector<std::vector<double>>& samples) const;

 private:
  std::vector<double> log_pdf_sorted(const std::vector<double>& xs) const;
  struct Param {
    Distribution dist;
    double low = 0, high = 0;
    std::optional<double> q;
    std::vector<double> mus, sigmas, log_mass;  // log_mass: log P(low <= X <= high) per kernel
    std::vector<double> log_norm, inv_sigma;    // log(sqrt(2 pi) sigma) + log_mass, 1 / sigma
    std::vector<std::vector<double>> cat;
  };
  // One continuous parameter without a step (what univariate TPE builds per parameter): the
  // kernels sorted by centre in blocks, with bounds that let log_pdf skip the blocks whose terms
  // are all below exp(-40) of the largest.
  struct Sorted1D {
    std::vector<double> mu, inv_sigma, c0;  // c0 = log weight - log normaliser
    struct Block {
      std::size_t begin = 0, end = 0;
      double mu_lo = 0, mu_hi = 0, inv_sigma_min = 0, c0_max = 0;
    };
    std::vector<Block> blocks;
  };
  std::vector<double> weights_;
  std::vector<double> log_weights_;
  std::vector<Param> params_;
  std::optional<Sorted1D> sorted1d_;
};

/// Optuna 3.1's default weights: 1 for up to 25 observations, else a linear ramp from 1/n to 1
/// over the oldest n - 25, then 25 ones.
std::vector<double> default_tpe_weights(std::size_t n);
/// Optuna 3.1's gamma: min(ceil(0.1 n), 25).
std::size_t default_tpe_gamma(std::size_t n);
/// Splits observations ranked by (step key, loss) (lexicographic, stable) into the n_below best
/// and the rest, each returned in chronological (index) order.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations(
    const std::vector<std::pair<double, double>>& keys, std::size_t n_below);

// ---- several objectives ----

/// Non-domination ranks of loss vectors (every objective minimised): rank 0 is the Pareto
/// front, rank 1 the front of what remains, and so on. Vector a dominates b when it is no worse
/// in every objective and better in one. O(n^2 d).
std::vector<int> nondomination_ranks(const std::vector<std::vector<double>>& losses);
/// Hypervolume dominated by `points` (minimised) up to `reference` (exact; for the small sets
/// TPE weighs: O(n^d)). Points not below the reference in every objective add nothing.
double hypervolume(const std::vector<std::vector<double>>& points,
                   const std::vector<double>& reference);
/// A stored trial as samplers see it: the space's parameters as internal values (others and
/// unreadable ones left out), the value(s) of a complete trial, intermediate values, error.
FrozenTrial freeze_trial(const compe::Trial& t, const SearchSpace& space);
/// The complete trials no other complete trial dominates, by number, under `directions`.
std::vector<FrozenTrial> pareto_front(std::span<const FrozenTrial> trials,
                                      std::span<const Direction> directions);
/// Optuna 3.1's split for several objectives: the `n_below` "good" observations are filled by
/// non-domination rank, the last rank that does not fit by greedy hypervolume subset selection
/// (reference point max(1.1 w, 0.9 w) of that rank's worst point w). Returns below (in the
/// order selected) and above (ascending).
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations_multi(
    const std::vector<std::vector<double>>& losses, std::size_t n_below);
/// Optuna 3.1's weights of the "good" observations of a multi-objective study: each one's
/// hypervolume contribution plus 1e-12, divided by the largest, clipped to [0, 1].
std::vector<double> multi_objective_weights(const std::vector<std::vector<double>>& losses);

/// Standard normal helpers used by TPE and the fold pruner.
double log_ndtr(double x);
/// log(Phi(b) - Phi(a)) for a <= b.
double log_gauss_mass(double a, double b);
/// Quantile q in (0, 1) of the standard normal truncated to [a, b].
double truncnorm_ppf(double q, double a, double b);
/// CDF of Student's t with df > 0 degrees of freedom.
double student_t_cdf(double t, double df);

// ---- registries ----

struct SamplerInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  std::vector<std::string> settings;  ///< keys the row accepts
  std::function<std::unique_ptr<Sampler>(const Settings&)> factory;
};
struct PrunerInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  std::vector<std::string> settings;
  std::function<std::unique_ptr<Pruner>(const Settings&)> factory;
};

std::span<const SamplerInfo> builtin_samplers();
std::span<const PrunerInfo> builtin_pruners();
/// Error(kNotFound) with the known names and the closest match.
const SamplerInfo& find_sampler(std::string_view name);
const PrunerInfo& find_pruner(std::string_view name);
/// find + check the settings + build. "none" is a pruner that never prunes.
std::unique_ptr<Sampler> make_sampler(std::string_view name, const Settings& settings = {});
std::unique_ptr<Pruner> make_pruner(std::string_view name, const Settings& settings = {});

// ---- studies ----

struct StudyOptions {
  std::string name;
  Direction direction = Direction::kMinimize;
  SearchSpace space;
  std::string sampler = "tpe";
  Settings sampler_settings;
  std::string pruner = "none";
  Settings pruner_settings;
  std::uint64_t seed = 0;
  bool load_if_exists = true;  ///< continue a study of the same name
  /// Free-form attributes recorded with a new study (compe tune keeps the experiment file there,
  /// so workers on other machines can join with the study's name alone). Null: none.
  nlohmann::json attrs;
  /// While optimize runs a trial, its worker records a heartbeat this often.
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(30);
  /// Before each ask, running trials whose worker is gone are ended as failed
  /// (Store::fail_stale_trials): a dead process on this host at once, a worker on another host
  /// when its heartbeat is older than this.
  std::chrono::milliseconds stale_after = std::chrono::minutes(10);
  /// Several objectives: one direction each (two or more; overrides `direction`). Trials are
  /// told a vector of values (Study::tell with a span); pruners judge the first objective.
  std::vector<Direction> directions;
};

class Study;

/// A running trial: its sampled parameters, intermediate reports and the pruning decision.
class Trial {
 public:
  std::int64_t number() const { return number_; }
  /// The sampled parameters as external values (inactive conditional parameters are absent).
  const nlohmann::json& params() const { return params_; }
  /// Whether `name` was sampled in this trial (false for an inactive conditional parameter).
  bool active(const std::string& name) const;
  /// The value sampled for a declared parameter. Error(kInvalidArgument) when `name` is not in
  /// the study's space, the declared distribution differs (e.g. other bounds), or the parameter
  /// is conditional and inactive in this trial.
  double suggest_float(const std::string& name, double low, double high, bool log = false,
                       std::optional<double> step = std::nullopt);
  std::int64_t suggest_int(const std::string& name, std::int64_t low, std::int64_t high,
                           bool log = false, std::int64_t step = 1);
  nlohmann::json suggest_categorical(const std::string& name,
                                     const std::vector<nlohmann::json>& choices);
  /// Records an intermediate value (e.g. the score of fold `step`).
  void report(double value, std::int64_t step);
  /// Whether the pruner says this trial should stop now.
  bool should_prune();

 private:
  friend class Study;
  Trial(Study& study, std::int64_t number, nlohmann::json params)
      : study_(&study), number_(number), params_(std::move(params)) {}
  const nlohmann::json& value_of(const std::string& name, const Distribution& expected) const;
  Study* study_;
  std::int64_t number_;
  nlohmann::json params_;
  std::map<std::int64_t, double> intermediate_;
};

/// Thrown by objectives (or raised by Study::optimize on should_prune) to end a trial as pruned.
struct TrialPruned {};

class Study {
 public:
  /// Creates or (load_if_exists) opens the study in `store`. The stored study keeps direction,
  /// space, sampler and pruner; opening an existing one with another direction is
  /// Error(kInvalidArgument). The store must outlive the study.
  Study(Store& store, StudyOptions options);

  const std::string& name() const { return options_.name; }
  Direction direction() const { return options_.direction; }
  /// One direction per objective (size 1 for a single objective).
  const std::vector<Direction>& directions() const { return directions_; }
  const SearchSpace& space() const { return options_.space; }

  /// Ends stale trials (see StudyOptions::stale_after), samples parameters and creates a running
  /// trial with the next number.
  Trial ask();
  /// Like ask, but nullopt once the study has numbered `limit` trials (Store::create_trial_below).
  std::optional<Trial> ask_below(std::int64_t limit);
  /// A budget for optimize shared by every worker of the study: optimize stops when the study
  /// has numbered `limit` trials (none: nullopt, the default).
  void set_trial_limit(std::optional<std::int64_t> limit) { trial_limit_ = limit; }
  /// Numbers of the stale trials that this process ended as failed so far (see ask).
  const std::vector<std::int64_t>& stale_trials_ended() const { return stale_ended_; }
  void tell(const Trial& trial, double value);
  /// Completes a trial with one value per objective (Error(kInvalidArgument) on another count);
  /// a non-finite value makes it failed.
  void tell(const Trial& trial, std::span<const double> values);
  void tell_pruned(const Trial& trial);
  void tell_failed(const Trial& trial, const std::string& error);

  /// The study's trials from the store (refreshed), by number.
  std::vector<FrozenTrial> trials();
  /// The best complete trial; nullopt when none.
  std::optional<FrozenTrial> best_trial();
  /// The Pareto front of the complete trials (for a single objective: the best trials).
  std::vector<FrozenTrial> best_trials();
  /// Whether the sampler has nothing left to try (grid).
  bool exhausted();

  /// Runs objective on asked trials until n_trials (this call's count; 0 = no limit) or timeout
  /// (0 = none) or the sampler is exhausted. TrialPruned ends a trial as pruned; a compe::Error
  /// ends it as failed and the loop goes on; after max_consecutive_failures failures in a row
  /// the last error is rethrown. Other exceptions propagate after the trial is marked failed.
  /// `after_trial` (optional) sees each ended trial (for progress lines).
  void optimize(const std::function<double(Trial&)>& objective, std::int64_t n_trials,
                std::chrono::duration<double> timeout = std::chrono::duration<double>(0),
                int max_consecutive_failures = 5,
                const std::function<void(const FrozenTrial&)>& after_trial = {});
  /// optimize() for several objectives: the objective returns one value per direction.
  void optimize_multi(const std::function<std::vector<double>(Trial&)>& objective,
                      std::int64_t n_trials,
                      std::chrono::duration<double> timeout = std::chrono::duration<double>(0),
                      int max_consecutive_failures = 5,
                      const std::function<void(const FrozenTrial&)>& after_trial = {});

 private:
  friend class Trial;
  FrozenTrial freeze(const compe::Trial& t) const { return freeze_trial(t, options_.space); }
  void refresh();
  void mark_finished(FrozenTrial f);
  bool known_finished(std::int64_t number) const;
  /// A trial of the view or finished since the last refresh; nullptr when neither.
  const FrozenTrial* find_trial(std::int64_t number) const;
  void remember(const Trial& trial, TrialState state, std::vector<double> values,
                const std::string& error);
  void finish(const Trial& trial, TrialState state, std::span<const double> values,
              const std::string& error);
  StudyView view() const {
    StudyView v{options_.direction, &options_.space, cache_};
    if (directions_.size() > 1) v.directions = directions_;
    return v;
  }

  Store* store_;
  StudyOptions options_;
  std::vector<Direction> directions_;
  std::unique_ptr<Sampler> sampler_;
  // Conditional spaces: a second instance of the sampler for relative sampling over
  // relative_space_, so that each keeps what it has read about its own space between asks.
  std::unique_ptr<Sampler> relative_sampler_;
  std::unique_ptr<Pruner> pruner_;
  std::optional<std::int64_t> trial_limit_;
  std::vector<std::int64_t> stale_ended_;
  std::vector<std::string> sampling_order_;
  SearchSpace relative_space_;  // the unconditional parameters, when some are conditional
  Rng rng_;
  bool loaded_ = false;
  std::vector<char> is_finished_;              // by trial number: finished (immutable) and read
  std::vector<FrozenTrial> pending_;           // finished since the last refresh, not yet in cache_
  std::map<std::int64_t, FrozenTrial> mine_;   // asked here, not yet told
  std::vector<FrozenTrial> cache_;             // finished and running, by number
  std::vector<std::int64_t> running_in_view_;  // numbers of cache_'s running entries
};

/// Parameter importance: how strongly each parameter's values order the objective over the
/// complete trials. Numeric parameters: the squared Spearman rank correlation between the value
/// (internal, log-scaled where the distribution is) and the objective; categorical parameters:
/// the correlation ratio (eta squared) of the objective's ranks grouped by choice. The scores are
/// normalised to sum to 1 (all 0 when none is informative, or with fewer than 3 trials). Ties get
/// average ranks. A cheap, model-free stand-in for fANOVA: it sees monotone and per-choice
/// effects, not interactions or U-shaped ones.
std::vector<std::pair<std::string, double>> parameter_importance(
    const SearchSpace& space, std::span<const FrozenTrial> trials);

/// The [tune] table of an experiment file (keys below; every key optional but the space):
///   [tune]
///   trials = 20          # trials per `compe tune` call
///   timeout = 0          # seconds per call, 0 = none
///   sampler = "tpe"      # a row of builtin_samplers()
///   pruner = "none"      # a row of builtin_pruners(); "fold" for cross-validation
///   seed = 0
///   study = "name"       # default: the experiment's name, else the file's stem
///   max_failures = 5     # consecutive failed trials before stopping
///   [tune.sampler_options]   # e.g. multivariate = true
///   [tune.pruner_options]    # e.g. alpha = 0.1
///   [tune.space]
///   learning_rate = {type = "float", low = 0.01, high = 0.3, log = true}
///   max_depth = {type = "int", low = 2, high = 8}
///   booster = {type = "categorical", choices = ["gbtree", "dart"]}
///   rate_drop = {type = "float", low = 0.0, high = 0.3, when = {booster = "dart"}}
///   [tune.proxy]             # optional: cheaper trials
///   rows = 0.25              # fraction (0 < rows <= 1) or count (integer > 1) of rows
///   rounds = 100             # cap on num_boost_round
///   folds = 2                # only the first k folds
/// [tune.proxy]: trials run on a cheaper version of the experiment (a row subsample, fewer
/// boosting rounds, fewer folds); `compe tune --transfer` re-runs the best at full size.
struct ProxyConfig {
  double rows_fraction = 1.0;   ///< rows = 0.25: keep this fraction of each fold's rows
  std::int64_t rows_count = 0;  ///< rows = 5000: keep about this many rows (0 = use the fraction)
  std::int64_t rounds = 0;      ///< cap on num_boost_round / n_estimators (0 = none)
  int folds = 0;                ///< run only the first k folds (0 = all)
  /// {"rows": .., "rounds": .., "folds": ..} with the keys that were set.
  nlohmann::json to_json() const;
};

/// The rows a proxy keeps (one flag per row of `inputs`; `folds` is the fold of each row, -1 for
/// rows never validated). Deterministic for a seed, so every trial of a study sees the same
/// subsample. The subsample follows the folds: each fold keeps the same fraction of its rows;
/// with groups (inputs.groups), whole groups are kept or dropped, taken in a seeded order until
/// the fold has its share of rows; otherwise, for a class target, each (fold, class) cell keeps
/// its share (rounded, at least one row), so the class balance of every fold is kept.
std::vector<std::uint8_t> proxy_rows(const split::Inputs& inputs, std::span<const int> folds,
                                     const ProxyConfig& proxy, std::uint64_t seed);

/// Spearman's rank correlation of two equally long series (average ranks for ties); NaN when
/// there are fewer than 2 pairs or a series is constant.
double spearman(std::span<const double> a, std::span<const double> b);

struct TuneConfig {
  std::int64_t trials = 20;
  double timeout = 0;
  std::string sampler = "tpe";
  Settings sampler_settings;
  std::string pruner = "none";
  Settings pruner_settings;
  std::uint64_t seed = 0;
  std::string study;
  int max_failures = 5;
  SearchSpace space;
  std::optional<ProxyConfig> proxy;  ///< [tune.proxy], when given
  /// What a trial's run is judged on: "cv" (the metric's direction), "fit_seconds" (time in
  /// the model's fit, minimised), "wall_seconds" (the whole run, minimised). Two or more make a
  /// multi-objective study. `objectives = ["cv", "fit_seconds"]` in the [tune] table.
  std::vector<std::string> objectives = {"cv"};
};

/// The names TuneConfig::objectives accepts.
std::vector<std::string> objective_names();

/// Parses and checks a [tune] table (as JSON); errors name `display` and the key (tune.space.X).
TuneConfig parse_tune_config(const nlohmann::json& table, std::string_view display);

}  // namespace compe::tune
