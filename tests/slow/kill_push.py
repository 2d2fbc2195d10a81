#!/usr/bin/env python3
"""Kill -9 during `compe push`: the store stays consistent and a second push completes.

A run with big artifacts (a synthetic binary competition of --rows train and test rows: oof.csv,
test.csv, test_folds.csv and submission.csv of several MB each) is made in a workspace; then, for
each of --points instants spread over the time one uninterrupted push takes, `compe push` of that
run into a fresh store (a SQLite file; with --postgres, also a fresh schema of the PostgreSQL of
COMPE_TEST_POSTGRES) is SIGKILLed at that instant. After every kill:
  - the store opens (`compe runs`), and for SQLite passes PRAGMA integrity_check and
    foreign_key_check, and no artifact row lacks its blob nor any blob a chunk;
  - the run is either absent or has the source's status, and every artifact recorded for it has
    its full content: a pull into a fresh workspace fetches every recorded artifact (the store
    verifies each sha256; the test checks it again against the record);
  - a second `compe push` completes, and `compe pull` into another fresh workspace gives files
    byte-identical to the workspace's runs/<id>/.
Prints one summary line per store; exit 1 on any violation. Standard library only.
Usage: kill_push.py --compe BUILD/compe --root REPO [--points N] [--rows N] [--postgres]
"""
import argparse
import filecmp
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kill_points  # noqa: E402  (the SQLite integrity check)

PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)
    print("PROBLEM:", msg, file=sys.stderr)


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


def must(args, what):
    p = sh(args)
    if p.returncode != 0:
        raise SystemExit(f"{what} failed ({p.returncode}): {' '.join(args)}\n{p.stdout}{p.stderr}")
    return p.stdout


def make_data(folder, rows):
    rng = random.Random(20)
    os.makedirs(folder)
    with open(os.path.join(folder, "train.csv"), "w") as tr:
        tr.write("id,a,b,c,target\n")
        for i in range(rows):
            a, b, c = rng.random(), rng.random(), rng.random()
            y = 1 if a + 0.5 * b + 0.3 * rng.random() > 0.9 else 0
            tr.write(f"{i},{a:.6f},{b:.6f},{c:.6f},{y}\n")
    with open(os.path.join(folder, "test.csv"), "w") as te, \
            open(os.path.join(folder, "sample_submission.csv"), "w") as ss:
        te.write("id,a,b,c\n")
        ss.write("id,target\n")
        for i in range(rows, 2 * rows):
            te.write(f"{i},{rng.random():.6f},{rng.random():.6f},{rng.random():.6f}\n")
            ss.write(f"{i},0.5\n")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Bench:
    def __init__(self, compe, tmp, data):
        self.compe, self.tmp, self.data = compe, tmp, data
        self.fresh_count = 0

    def fresh_workspace(self):
        self.fresh_count += 1
        ws = os.path.join(self.tmp, f"fresh{self.fresh_count}")
        must([self.compe, "init", ws, "--from", self.data, "--metric", "roc_auc"], "init")
        return ws

    def push(self, ws, run, store):
        return subprocess.Popen([self.compe, "push", run, "--workspace", ws, "--store", store],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)


def artifact_checks(con, report):
    """No artifact row without its content, no stored content missing a chunk."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "artifacts" not in tables or "artifact_blobs" not in tables:
        return
    orphans = con.execute(
        "SELECT a.run_id, a.name FROM artifacts a LEFT JOIN artifact_blobs b "
        "ON b.sha = a.sha WHERE b.sha IS NULL").fetchall()
    if orphans:
        report(f"artifact rows without their content: {orphans[:3]}")
    short = con.execute(
        "SELECT b.sha, b.chunks, COUNT(c.idx), b.size, COALESCE(SUM(c.size), 0) "
        "FROM artifact_blobs b LEFT JOIN artifact_chunks c ON c.sha = b.sha "
        "GROUP BY b.sha HAVING COUNT(c.idx) != b.chunks OR "
        "COALESCE(SUM(c.size), 0) != b.size").fetchall()
    if short:
        report(f"blobs with missing chunks: {short[:3]}")


def sqlite_checks(path, what):
    kill_points.sqlite_integrity(path, what, report=problem,
                                 more=lambda con, report: artifact_checks(con, lambda m: report(f"{what}: {m}")))


def check_after_kill(b, run, status, store, what):
    """The store opens; the run is absent or complete in what it records."""
    p = sh([b.compe, "runs", "--workspace", b.src, "--store", store, "--json", "--limit", "0"])
    if p.returncode != 0:
        problem(f"{what}: the store does not open: {p.stderr.strip()}")
        return
    runs = {r["run_id"]: r for r in json.loads(p.stdout)["runs"]}
    if run not in runs:
        return "absent"
    if runs[run]["status"] != status:
        problem(f"{what}: run {run} is {runs[run]['status']} in the target, {status} in the source")
    show = sh([b.compe, "show", run, "--workspace", b.src, "--store", store, "--json"])
    if show.returncode != 0:
        problem(f"{what}: runs show fails: {show.stderr.strip()}")
        return
    recorded = {a["name"]: a for a in json.loads(show.stdout)["artifacts"]}
    ws = b.fresh_workspace()
    pull = sh([b.compe, "pull", run, "--workspace", ws, "--store", store, "--json"])
    if pull.returncode != 0:
        problem(f"{what}: pull after the kill fails: {pull.stderr.strip()}")
        return
    for name, a in recorded.items():
        path = os.path.join(ws, "runs", run, os.path.basename(a["path"]))
        if not os.path.isfile(path):
            problem(f"{what}: artifact {name} is recorded but its content was not pulled")
        elif sha256(path) != a["sha"] or os.path.getsize(path) != a["size"]:
            problem(f"{what}: artifact {name} pulled with another sha256 or size than recorded")
    shutil.rmtree(ws)
    return f"{len(recorded)} artifacts"


def scenario(b, run, status, make_store, label, points):
    # One uninterrupted push measures the span the kills are spread over.
    store = make_store("measure")
    t0 = time.monotonic()
    p = b.push(b.src, run, store)
    out, err = p.communicate(timeout=600)
    span = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"{label}: push failed: {err}")
    states = {}
    for i in range(points):
        what = f"{label} kill {i + 1}/{points}"
        store = make_store(f"k{i}")
        at = span * (i + 0.5) / points
        p = b.push(b.src, run, store)
        time.sleep(at)
        finished_first = p.poll() is not None
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.communicate(timeout=60)
        if store.endswith(".db"):
            sqlite_checks(store, what)
        state = "finished before the kill" if finished_first else check_after_kill(
            b, run, status, store, what)
        states[state] = states.get(state, 0) + 1
        # A second push completes; a pull into a fresh workspace is byte-identical.
        again = sh([b.compe, "push", run, "--workspace", b.src, "--store", store])
        if again.returncode != 0:
            problem(f"{what}: second push fails: {again.stderr.strip()}")
            continue
        if store.endswith(".db"):
            sqlite_checks(store, what + " after the second push")
        ws = b.fresh_workspace()
        pull = sh([b.compe, "pull", run, "--workspace", ws, "--store", store])
        if pull.returncode != 0:
            problem(f"{what}: pull after the second push fails: {pull.stderr.strip()}")
            continue
        src_dir = os.path.join(b.src, "runs", run)
        for f in sorted(os.listdir(src_dir)):
            got = os.path.join(ws, "runs", run, f)
            if not os.path.isfile(got) or not filecmp.cmp(os.path.join(src_dir, f), got,
                                                          shallow=False):
                problem(f"{what}: {f} is not byte-identical after push and pull")
        shutil.rmtree(ws)
    seen = ", ".join(f"{v} x {k}" for k, v in sorted(states.items(), key=lambda kv: str(kv[0])))
    print(f"kill_push {label}: {points} kills over a {span:.2f} s push; after the kill: {seen}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compe", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--postgres", action="store_true",
                    help="also on COMPE_TEST_POSTGRES (skipped when unset)")
    args = ap.parse_args()
    compe = os.path.abspath(args.compe)
    tmp = tempfile.mkdtemp(prefix="kill_push_")
    try:
        data = os.path.join(tmp, "data")
        make_data(data, args.rows)
        b = Bench(compe, tmp, data)
        b.src = os.path.join(tmp, "src")
        must([compe, "init", b.src, "--from", data, "--metric", "roc_auc"], "init")
        run = json.loads(must([compe, "run", "--model", "linear", "--workspace", b.src, "--json"],
                              "run"))["run_id"]
        show = json.loads(must([compe, "show", run, "--workspace", b.src, "--json"],
                               "runs show"))
        status = show["status"]
        size = sum(os.path.getsize(os.path.join(b.src, "runs", run, f))
                   for f in os.listdir(os.path.join(b.src, "runs", run)))
        print(f"run {run}: {size} bytes in runs/{run}/")
        scenario(b, run, status, lambda tag: os.path.join(tmp, f"target_{tag}.db"), "sqlite",
                 args.points)
        if args.postgres:
            url = os.environ.get("COMPE_TEST_POSTGRES", "")
            if not url:
                print("kill_push postgres: COMPE_TEST_POSTGRES is not set: skipped")
            else:
                sep = "&" if "?" in url else "?"
                base = f"kill_push_{os.getpid()}_{int(time.time())}"
                scenario(b, run, status, lambda tag: f"{url}{sep}schema={base}_{tag}", "postgres",
                         args.points)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if PROBLEMS:
        print(f"kill_push: {len(PROBLEMS)} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
