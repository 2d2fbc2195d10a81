"""Checks for tests/cli/cases/baseline_more.case; each prints one JSON document.

    python3 baseline_more.py seeds WS A.json B.json AB.json   (runs with seed 1, seed 2, seeds [1, 2])
    python3 baseline_more.py importance SHOW.json             (compe show --json of a run)
    python3 baseline_more.py repeats WS ONE.json REP.json     (runs with repeats = 1 and 3)
    python3 baseline_more.py diff DIFF.json                   (compe diff --json)
"""
import csv
import json
import sys


def oof(ws, path):
    run = json.load(open(path))
    with open(f"{ws}/{run['oof']}", newline="") as f:
        rows = list(csv.DictReader(f))
    col = [c for c in rows[0] if c not in ("id", "fold")][0]
    return run, {r["id"]: float(r[col]) for r in rows}


def seeds(ws, a_path, b_path, ab_path):
    (a, oa), (b, ob), (ab, oab) = oof(ws, a_path), oof(ws, b_path), oof(ws, ab_path)
    meta = json.load(open(f"{ws}/runs/{ab['run_id']}/meta.json"))
    cfg = json.load(open(f"{ws}/runs/{ab['run_id']}/config.json"))
    per_seed = meta["cv"]["seeds"]
    return {"differ": oa != ob,
            "mean": all(abs(oab[k] - (oa[k] + ob[k]) / 2) < 1e-6 for k in oa),
            "seeds": cfg["run"]["seeds"],
            "seed_keys": sorted(per_seed),
            "seed1": all(abs(per_seed["1"]["folds"][f] - a["folds"][f]) < 1e-9 for f in a["folds"]),
            "seed2": all(abs(per_seed["2"]["folds"][f] - b["folds"][f]) < 1e-9 for f in b["folds"])}


def importance(show_path):
    d = json.load(open(show_path))
    imp = d["details"]["importance"]
    return {"features": sorted(r["feature"] for r in imp),
            "first": imp[0]["feature"],
            "gain_sum": round(sum(r["gain"] for r in imp), 6),
            "perm": [r["permutation_mean"] for r in imp],
            "first_drop_large": (imp[0]["permutation_mean"] or 0) > 0.05,
            "std_all": all(r["permutation_std"] is not None for r in imp),
            "artifact": "importance" in [a["name"] for a in d["artifacts"]],
            "seeds": d["details"]["seeds"]}


def repeats(ws, one_path, rep_path):
    one, rep = json.load(open(one_path)), json.load(open(rep_path))
    meta = json.load(open(f"{ws}/runs/{rep['run_id']}/meta.json"))["cv"]["repeats"]
    with open(f"{ws}/runs/{rep['run_id']}/oof_repeats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(f"{ws}/{one['oof']}", newline="") as f:
        n = sum(1 for _ in csv.DictReader(f))
    return {"folds": sorted(int(k) for k in rep["folds"]),
            "first_repeat_same": all(abs(rep["folds"][k] - v) < 1e-12 for k, v in one["folds"].items()),
            "same_hash": one["folds_hash"] == rep["folds_hash"],
            "n": meta["n"],
            "cv_is_mean": abs(rep["cv"] - sum(meta["pooled"]) / len(meta["pooled"])) < 1e-12,
            "first_pooled": abs(meta["pooled"][0] - one["cv"]) < 1e-12,
            "oof_rows": len(rows) == 3 * n,
            "fold_ids": sorted({int(r["fold"]) for r in rows}) == list(range(15))}


def diff(path):
    d = json.load(open(path))["folds"]
    return {"paired": d["paired"], "significant": d["wilcoxon_p"] < 0.05 and d["sign_p"] < 0.05}


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    print(json.dumps({"seeds": seeds, "importance": importance, "repeats": repeats, "diff": diff}[cmd](*args)))
