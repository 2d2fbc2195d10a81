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
///
/// This header includes the tuner's focused headers: compe/tune/space.hpp (distributions, search
/// spaces), trial.hpp (directions, frozen trials, the study view, the generator), math.hpp,
/// sampler.hpp, pruner.hpp, study.hpp and config.hpp (the [tune] table). Tuning an experiment
/// (trials that are runs, proxy transfer) is compe/tune/experiment.hpp, which also needs the run
/// layer and is therefore not included here.

#include "compe/tune/config.hpp"
#include "compe/tune/math.hpp"
#include "compe/tune/pruner.hpp"
#include "compe/tune/sampler.hpp"
#include "compe/tune/space.hpp"
#include "compe/tune/study.hpp"
#include "compe/tune/trial.hpp"
