#!/usr/bin/env python3
"""Checks Run records against the one Run schema (docs/FORMATS.md, "The Run record").

usage: run_schema.py FILE [PATH ...]

FILE holds one JSON document (a command's --json output). Each PATH names where runs are in it:
"" (the document is a run), "runs.*" (every element of a list), "best.run", "runs.0". Prints
"ok: N run record(s)" and exits 0, or prints each problem and exits 1.
"""
import json
import re
import sys

KINDS = {None, "model", "trial", "blend", "threshold", "import", "python"}
STATUSES = {"running", "finished", "failed", "interrupted", "pruned"}
NUM = (int, float)


def opt(types):
    return lambda v: v is None or (isinstance(v, types) and not isinstance(v, bool))


def is_num(v):
    return isinstance(v, NUM) and not isinstance(v, bool)


FIELDS = {
    "run_id": lambda v: isinstance(v, str) and re.fullmatch(r"[a-z2-7]{8}", v) is not None,
    "name": lambda v: isinstance(v, str),
    "kind": lambda v: v in KINDS,
    "status": lambda v: v in STATUSES,
    "partial": lambda v: isinstance(v, bool),
    "model": lambda v: isinstance(v, str),
    "metric": lambda v: isinstance(v, str),
    "direction": lambda v: v in ("maximize", "minimize", ""),
    "cv": opt(NUM),
    "fold_mean": opt(NUM),
    "fold_std": opt(NUM),
    "folds": lambda v: isinstance(v, dict) and all(k.isdigit() and (x is None or is_num(x)) for k, x in v.items()),
    "cv_optimistic": lambda v: isinstance(v, bool),
    "cv_note": opt(str),
    "folds_hash": lambda v: isinstance(v, str),
    "data_hash": lambda v: isinstance(v, str),
    "submission": opt(str),
    "oof": opt(str),
    "test": opt(str),
    "test_folds": opt(str),
    "parent": opt(str),
    "members": lambda v: v is None or (isinstance(v, list) and all(
        isinstance(m, dict) and {"name", "run_id", "path", "weight", "oof_score"} <= set(m) for m in v)),
    "params": lambda v: True,
    "proxy": lambda v: v is None or isinstance(v, dict),
    "tags": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
    "note": lambda v: isinstance(v, str),
    "error": lambda v: isinstance(v, str),
    "created": lambda v: isinstance(v, str) and v.endswith("Z"),
    "ended": opt(str),
    "heartbeat": opt(str),
    "wall_seconds": opt(NUM),
    "cpu_seconds": opt(NUM),
    "peak_memory_bytes": opt(int),
    "command": lambda v: isinstance(v, str),
    "workdir": lambda v: isinstance(v, str),
    "host": lambda v: isinstance(v, str),
    "pid": lambda v: isinstance(v, int),
    "git": lambda v: isinstance(v, dict) and {"commit", "branch", "dirty"} <= set(v),
    "versions": lambda v: isinstance(v, dict) and "compe" in v,
    "config": lambda v: isinstance(v, dict),
}


def check(run, where):
    problems = []
    if not isinstance(run, dict):
        return [f"{where}: not an object"]
    for key, ok in FIELDS.items():
        if key not in run:
            problems.append(f"{where}: missing '{key}'")
        elif not ok(run[key]):
            problems.append(f"{where}: '{key}' = {json.dumps(run[key])[:80]} does not fit the schema")
    if run.get("status") == "finished" and not problems:
        if run["cv"] is None:
            problems.append(f"{where}: a finished run without cv")
        if run["oof"] is None:
            problems.append(f"{where}: a finished run without oof")
    return problems


def select(doc, path):
    if path == "":
        return [("", doc)]
    out = [("", doc)]
    for part in path.split("."):
        nxt = []
        for where, node in out:
            if part == "*":
                nxt += [(f"{where}.{i}", x) for i, x in enumerate(node)]
            elif isinstance(node, list):
                nxt.append((f"{where}.{part}", node[int(part)]))
            else:
                nxt.append((f"{where}.{part}", node[part]))
        out = nxt
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    paths = sys.argv[2:] or [""]
    problems, n = [], 0
    for p in paths:
        for where, run in select(doc, p):
            n += 1
            problems += check(run, where or "(document)")
    for p in problems:
        print(p)
    if problems:
        return 1
    if n == 0:
        print("no run record found")
        return 1
    print(f"ok: {n} run record(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
