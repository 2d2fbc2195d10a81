"""docs/BASELINE.md's table: the default `compe run --model xgboost` on every competition folder
given, with its pooled OOF CV, the mean of its fold scores, and the local public / private scores
of its submission (`compe score` with the folder's solution.csv).

    /usr/bin/python3 bench/baseline/run_baseline.py COMPE_BINARY OUT.json DIR... [--old]

--old: emulate the default before issue 16 with this binary: early_stopping = "valid",
base_score = 0.5 and every column a feature ([features] keep = all). A binary built from an
older commit runs its own default instead (pass --plain).
"""
import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p.stdout


def one(compe, folder, mode, params=None):
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        run([compe, "init", str(ws), "--from", str(folder)], tmp)
        meta = json.loads((Path(folder) / "meta.json").read_text())
        cmd = [compe, "run", "--workspace", str(ws), "--json"]
        if mode == "old":
            with open(Path(folder) / "train.csv", newline="") as f:
                header = next(csv.reader(f))
            keep = [c for c in header if c not in ("id", meta["target"])]
            exp = Path(tmp) / "old.toml"
            exp.write_text('[model]\nbackend = "xgboost"\n[model.params]\nearly_stopping = "valid"\n'
                           'base_score = 0.5\n[features]\nkeep = ' + json.dumps(keep) + "\n")
            cmd.insert(2, str(exp))
        elif params:
            exp = Path(tmp) / "new.toml"
            exp.write_text('[model]\nbackend = "xgboost"\n[model.params]\n' +
                           "".join(f"{k} = {json.dumps(v)}\n" for k, v in params.items()))
            cmd.insert(2, str(exp))
        else:
            cmd += ["--model", "xgboost"]
        r = json.loads(run(cmd, tmp))
        # The run's files are named relative to the workspace.
        s = json.loads(run([compe, "score", "--solution", str(Path(folder) / "solution.csv"), "--submission",
                            str(ws / r["submission"]), "--json"], tmp))
        return {"name": Path(folder).name, "metric": r["metric"], "cv": r["cv"], "mean": r["fold_mean"], "std": r["fold_std"],
                "public": s.get("public"), "private": s.get("private"), "seconds": r["wall_seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("compe")
    ap.add_argument("out")
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--old", action="store_true")
    ap.add_argument("--param", action="append", default=[], help="KEY=JSON for the default run (e.g. refit=true)")
    a = ap.parse_args()
    rows = []
    for d in a.dirs:
        try:
            params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in a.param)}
            row = one(str(Path(a.compe).resolve()), Path(d).resolve(), "old" if a.old else "new", params)
        except RuntimeError as e:
            row = {"name": Path(d).name, "error": str(e)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    Path(a.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
