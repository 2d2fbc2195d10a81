#!/usr/bin/python3
"""Writes tests/golden/cases/tpe/*.json: TPE internals of Optuna 3.1.0 on fixed observations.

Run with Debian's interpreter (python3-optuna 3.1.0, numpy 1.24, scipy 1.10):
    /usr/bin/python3 tests/golden/gen/gen_tpe.py

parzen.json: one case per Parzen estimator built by optuna.samplers._tpe.parzen_estimator.
_ParzenEstimator with TPESampler's default parameters (consider_prior, prior_weight 1.0, magic
clip, no endpoints, default_weights), univariate or multivariate. A case holds the distributions
(compe's JSON form), the observations (internal values: floats, ints, choice indices), and
Optuna's results: mixture weights, per parameter the kernel centres (mus) and bandwidths (sigmas)
in the transformed domain, the truncation bounds (low, high), categorical kernel weights, and the
log-density of candidate points.

Optuna 3.1.0's _truncnorm.logpdf leaves out the -log(scale) term of a continuous kernel (later
Optuna versions have it). Each case keeps both: "log_pdf_optuna310", Optuna's own log_pdf
(compe's default scoring), and "log_pdf", the true density (compe with optuna31_kernels off):
for parameters without a step the true log-density is computed from Optuna's weights, mus and sigmas with
scipy.stats.truncnorm.logpdf; stepped, integer and categorical parameters use Optuna's log_pdf
as is (a probability mass, where the scale cancels). Both paths are checked against each other
on a discrete case below.

split.json: default_gamma and default_weights for several n, and _split_observation_pairs on
mixed complete / pruned observations.

truncnorm.json: optuna.samplers._tpe._truncnorm.ppf (the inverse CDF behind TPE's sampling) and
_log_gauss_mass on bounds that cover the left, central and right branches and far tails.
"""

import json
import os

import numpy as np
import optuna
import scipy
from optuna import distributions as D
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import _split_observation_pairs, default_gamma, default_weights
from scipy.special import logsumexp
from scipy.stats import truncnorm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases", "tpe")
assert optuna.__version__ == "3.1.0", optuna.__version__
assert scipy.__version__.startswith("1.10"), scipy.__version__


def compe_dist(d):
    if isinstance(d, D.CategoricalDistribution):
        return {"type": "categorical", "choices": list(d.choices)}
    if isinstance(d, D.IntDistribution):
        return {"type": "int", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    out = {"type": "float", "low": d.low, "high": d.high, "log": d.log}
    if d.step is not None:
        out["step"] = d.step
    return out


def internal_draw(rng, d, n):
    if isinstance(d, D.CategoricalDistribution):
        return rng.integers(0, len(d.choices), n).astype(float)
    if isinstance(d, D.IntDistribution):
        if d.log:
            return np.round(np.exp(rng.uniform(np.log(d.low), np.log(d.high), n))).astype(float)
        k = (d.high - d.low) // d.step
        return (d.low + d.step * rng.integers(0, k + 1, n)).astype(float)
    if d.log:
        return np.exp(rng.uniform(np.log(d.low), np.log(d.high), n))
    if d.step is not None:
        k = int(round((d.high - d.low) / d.step))
        return d.low + d.step * rng.integers(0, k + 1, n)
    return rng.uniform(d.low, d.high, n)


def continuous(d):
    if isinstance(d, D.CategoricalDistribution):
        return False
    if isinstance(d, D.IntDistribution):
        return d.log
    return d.log or d.step is None


def reference_log_pdf(pe, space, cands):
    """log-density of the mixture with true truncated-normal kernels."""
    n_comp = len(pe._weights)
    n = len(next(iter(cands.values())))
    comp = np.zeros((n, n_comp))
    for name, d in space.items():
        x = np.asarray(cands[name], dtype=float)
        if continuous(d):
            t = np.log(x) if d.log else x
            mus, sigmas = pe._mus[name], pe._sigmas[name]
            a = (pe._low[name] - mus) / sigmas
            b = (pe._high[name] - mus) / sigmas
            comp += truncnorm.logpdf(t[:, None], a, b, loc=mus, scale=sigmas)
        else:
            if isinstance(d, D.CategoricalDistribution):
                cw = pe._categorical_weights[name]
                comp += np.log(cw.T[x.astype(int), :])
            else:
                q = pe._q[name]
                low, high = pe._low[name], pe._high[name]
                mus, sigmas = pe._mus[name], pe._sigmas[name]
                ub = np.minimum(x + q / 2.0, high)
                lb = np.maximum(x - q / 2.0, low)
                comp += _truncnorm._log_gauss_mass(
                    (lb[:, None] - mus) / sigmas, (ub[:, None] - mus) / sigmas
                ) - _truncnorm._log_gauss_mass((low - mus) / sigmas, (high - mus) / sigmas)
    return logsumexp(comp + np.log(pe._weights), axis=1)


def typed_cands(space, cands):
    return {k: v.astype(int) if isinstance(space[k], D.CategoricalDistribution) else v
            for k, v in cands.items()}


def parzen_case(name, space, n_obs, seed, multivariate=False, n_cands=16, prior=True,
                endpoints=False, magic=True):
    rng = np.random.default_rng(seed)
    obs = {k: internal_draw(rng, d, n_obs) for k, d in space.items()}
    params = _ParzenEstimatorParameters(prior, 1.0, magic, endpoints, default_weights,
                                        multivariate)
    pe = _ParzenEstimator(obs, space, params)
    cands = {k: internal_draw(rng, d, n_cands) for k, d in space.items()}
    ref = reference_log_pdf(pe, space, cands)
    if not any(continuous(d) for d in space.values()):
        # Without continuous kernels Optuna's own log_pdf is exact: the two paths must agree.
        typed = typed_cands(space, cands)
        assert np.allclose(pe.log_pdf(typed), ref, rtol=0, atol=1e-12)
    out = {
        "name": name,
        "multivariate": multivariate,
        "consider_prior": prior,
        "consider_endpoints": endpoints,
        "consider_magic_clip": magic,
        "params": [{"name": k, "dist": compe_dist(d)} for k, d in space.items()],
        "observations": [obs[k].tolist() for k in space],
        "weights": pe._weights.tolist(),
        "mus": [None if pe._mus[k] is None else pe._mus[k].tolist() for k in space],
        "sigmas": [None if pe._sigmas[k] is None else pe._sigmas[k].tolist() for k in space],
        "low": [pe._low[k] for k in space],
        "high": [pe._high[k] for k in space],
        "categorical": [None if pe._categorical_weights[k] is None
                        else pe._categorical_weights[k].tolist() for k in space],
        "candidates": [cands[k].tolist() for k in space],
        "log_pdf": ref.tolist(),
        "log_pdf_optuna310": pe.log_pdf(typed_cands(space, cands)).tolist(),
    }
    return out


def parzen_cases():
    F = D.FloatDistribution
    I = D.IntDistribution
    C = D.CategoricalDistribution
    cases = []
    for n in (0, 1, 2, 5, 24, 26, 60):
        cases.append(parzen_case(f"float uniform n={n}", {"x": F(-3.0, 7.0)}, n, 100 + n))
    for n in (0, 1, 3, 30):
        cases.append(parzen_case(f"float log n={n}", {"lr": F(1e-5, 1.0, log=True)}, n, 200 + n))
    for n in (0, 4, 12, 40):
        cases.append(parzen_case(f"float step n={n}", {"frac": F(0.1, 1.0, step=0.05)}, n,
                                 300 + n))
    # Integer draws tie often; above 16 observations numpy's argsort (introsort) is not stable,
    # and its order decides which of equal centres gets which bandwidth.
    for n in (0, 3, 9, 16, 40):
        cases.append(parzen_case(f"int n={n}", {"depth": I(1, 12)}, n, 400 + n))
        cases.append(parzen_case(f"int step 3 n={n}", {"k": I(2, 29, step=3)}, n, 450 + n))
        cases.append(parzen_case(f"int log n={n}", {"leaves": I(2, 512, log=True)}, n, 500 + n))
    for n in (0, 1, 7, 40):
        cases.append(parzen_case(f"categorical n={n}", {"c": C(["a", "b", "c", "d"])}, n,
                                 600 + n))
    cases.append(parzen_case("consider endpoints n=6", {"x": F(0.0, 1.0)}, 6, 700, endpoints=True))
    cases.append(parzen_case("no prior n=6", {"x": F(0.0, 1.0)}, 6, 701, prior=False))
    cases.append(parzen_case("no magic clip n=6", {"x": F(0.0, 1.0)}, 6, 702, magic=False))
    mixed = {"x": F(-2.0, 2.0), "lr": F(1e-4, 1.0, log=True), "depth": I(1, 10),
             "frac": F(0.0, 1.0, step=0.1), "c": C([1, 2, 3])}
    for n in (0, 5, 14):
        cases.append(parzen_case(f"multivariate n={n}", mixed, n, 800 + n, multivariate=True))
    cases.append(parzen_case("multivariate float n=30", {"x": F(0.0, 1.0), "y": F(-1.0, 1.0)},
                             30, 830, multivariate=True))
    return cases


def split_cases():
    out = {"gamma": {str(n): default_gamma(n) for n in (0, 1, 9, 10, 11, 99, 100, 249, 250, 251,
                                                           1000)},
           "weights": {str(n): default_weights(n).tolist() for n in (0, 1, 24, 25, 26, 27, 40)},
           "splits": []}
    rng = np.random.default_rng(900)
    for n in (1, 7, 20, 45):
        scores = []
        for i in range(n):
            kind = rng.integers(0, 4)
            v = float(np.round(rng.normal(), 1))  # rounding makes ties
            if kind == 0:
                scores.append((1, [0.0]))  # pruned without intermediate values
            elif kind == 1:
                scores.append((-float(rng.integers(0, 4)), [v]))
            else:
                scores.append((-float("inf"), [v]))
        n_below = default_gamma(n)
        below, above = _split_observation_pairs(scores, n_below, None)
        # JSON has no infinities: they are written as the strings "inf" / "-inf".
        out["splits"].append({"keys": [[s if np.isfinite(s) else str(s), v[0]]
                                       for s, v in scores], "n_below": n_below,
                              "below": below.tolist(), "above": above.tolist()})
    return out


def truncnorm_cases():
    rows = []
    bounds = [(-1.0, 2.0), (0.5, 3.0), (-3.0, -0.2), (-30.0, -25.0), (25.0, 40.0),
              (-0.5, 0.5), (-8.0, 8.0), (-1e-3, 1e-3), (-45.0, 45.0), (3.0, 3.5)]
    for a, b in bounds:
        for q in (1e-6, 0.01, 0.2, 0.5, 0.77, 0.999999):
            x = float(_truncnorm.ppf(np.array([q]), a, b)[0])
            rows.append({"q": q, "a": a, "b": b, "x": x,
                         "log_mass": float(_truncnorm._log_gauss_mass(np.array([a]),
                                                                      np.array([b]))[0])})
    return rows


def write(name, doc):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")


def main():
    ref = {"reference": "optuna 3.1.0 (Debian python3-optuna), numpy " + np.__version__ +
           ", scipy " + scipy.__version__}
    write("parzen.json", dict(ref, cases=parzen_cases()))
    write("split.json", dict(ref, **split_cases()))
    write("truncnorm.json", dict(ref, cases=truncnorm_cases()))


if __name__ == "__main__":
    main()
