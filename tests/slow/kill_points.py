#!/usr/bin/env python3
"""Kill points: SIGKILL compe at many instants of a scenario, then check what survived.

Scenarios (--scenario):
  run        `compe run --model linear` killed at N points spread over its duration
  tune       `compe tune --workers 2` (the parent and its workers, one process group) killed at
             N points; each restart continues the study; a last uninterrupted tune completes it
  tune-pg    the same on PostgreSQL (COMPE_TEST_POSTGRES; skipped, exit 0, when unset)
  host       `compe host serve` killed at N points while a client uploads submissions

After every kill, and at the end:
  - the SQLite store passes PRAGMA integrity_check and foreign_key_check;
  - no artifact is half-written: every prediction file, meta.json and config.json present is
    complete (parses, has every row); temporary files of atomic writes are counted, not fatal;
  - interrupted work is marked: once a command has opened the store, no run or trial is
    `running`;
  - nothing reported as saved is missing: a run whose `--json` result was printed is
    `finished` with its files; a submission answered 201 is in the host's database with its
    file, whose sha256 is its name.
Prints one summary line per scenario; exit 1 on any violation. Standard library only.
"""
import argparse
import csv
import glob
import http.client
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)
    print("PROBLEM:", msg, file=sys.stderr)


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def start(args, **kw):
    # A process group of its own: a kill takes the parent and its workers at once, as a crash
    # or an OOM kill of the whole job would.
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def descendants(pid):
    out = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            kids = [int(x) for x in open(task).read().split()]
        except OSError:
            continue
        for k in kids:
            out += [k] + descendants(k)
    return out


def kill_group(p):
    """SIGKILL the process, its group and every descendant (workers may start their own group)."""
    # Freeze the tree first (SIGSTOP, until no new process appears), so that nothing is started
    # between the scan and the kill.
    victims, seen = [p.pid], set()
    while set(victims) != seen:
        seen = set(victims)
        for v in victims:
            try:
                os.kill(v, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        victims = [p.pid] + descendants(p.pid)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for v in victims:
        try:
            os.kill(v, signal.SIGKILL)
        except ProcessLookupError:
            pass
    out, err = p.communicate(timeout=60)
    return out, err


def sqlite_integrity(path, what, report=None, more=None):
    """SQLite's integrity and foreign-key checks on `path` (when it exists), each finding passed to
    `report` (default: this script's problem()); `more(con, report)` adds checks on the same
    connection (kill_push.py's artifact checks)."""
    report = report or problem
    if not os.path.exists(path):
        return
    con = sqlite3.connect(path, timeout=30)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            report(f"{what}: integrity_check says {ok}")
        bad = con.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            report(f"{what}: foreign_key_check: {bad[:3]}")
        if more:
            more(con, report)
    finally:
        con.close()


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


TEMP_RE = re.compile(r"\.tmp")


def check_run_folders(ws, runs, n_train, n_test):
    """runs: {id: status}. Complete files only; finished runs have every file."""
    temps = 0
    for d in glob.glob(os.path.join(ws, "runs", "*")):
        rid = os.path.basename(d)
        for f in os.listdir(d):
            p = os.path.join(d, f)
            if TEMP_RE.search(f):
                temps += 1
                continue
            try:
                if f == "oof.csv":
                    rows = csv_rows(p)
                    if len(rows) != n_train + 1:
                        problem(f"{p}: {len(rows) - 1} rows, expected {n_train}")
                elif f in ("test.csv", "submission.csv"):
                    rows = csv_rows(p)
                    if len(rows) != n_test + 1:
                        problem(f"{p}: {len(rows) - 1} rows, expected {n_test}")
                elif f.endswith(".json"):
                    json.load(open(p, encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                problem(f"{p}: half-written ({e})")
        st = runs.get(rid)
        if st == "finished":
            for f in ("config.json", "oof.csv", "test.csv", "submission.csv", "meta.json"):
                if not os.path.exists(os.path.join(d, f)):
                    problem(f"run {rid} is finished but {f} is missing")
    return temps


def store_runs(compe, ws, store=None):
    """Opens the store through compe (which marks runs of dead processes), then lists runs."""
    args = [compe, "runs", "--workspace", ws, "--json", "--limit", "0"]
    if store:
        args += ["--store", store]
    r = sh(args)
    if r.returncode != 0:
        problem(f"compe runs failed after a kill: {r.stderr.strip()}")
        return {}
    doc = json.loads(r.stdout)
    runs = doc["runs"] if isinstance(doc, dict) else doc
    return {x["run_id"]: x["status"] for x in runs}


def make_workspace(compe, root, tmp):
    ws = os.path.join(tmp, "ws")
    r = sh([compe, "init", ws, "--from", os.path.join(root, "examples", "titanic", "data")])
    if r.returncode != 0:
        raise SystemExit(f"compe init failed: {r.stderr}")
    sh([compe, "folds", "--workspace", ws])
    n_train = sum(1 for _ in open(os.path.join(root, "examples", "titanic", "data", "train.csv"))) - 1
    n_test = sum(1 for _ in open(os.path.join(root, "examples", "titanic", "data", "test.csv"))) - 1
    return ws, n_train, n_test


def scenario_run(compe, root, tmp, points):
    ws, n_train, n_test = make_workspace(compe, root, tmp)
    args = [compe, "run", "--model", "linear", "--workspace", ws, "--json"]
    reported, durations = set(), []
    for _ in range(3):
        t0 = time.monotonic()
        p = start(args)
        out, err = p.communicate(timeout=300)
        durations.append(time.monotonic() - t0)
        if p.returncode != 0:
            raise SystemExit(f"compe run failed: {err}")
        reported.add(json.loads(out)["run_id"])
    duration = sorted(durations)[1]
    temps = 0
    for i in range(points):
        p = start(args)
        time.sleep(duration * (i + 0.5) / points)
        out, _ = kill_group(p)
        try:
            reported.add(json.loads(out)["run_id"])
        except (ValueError, KeyError):
            pass
        runs = store_runs(compe, ws)
        for rid, st in runs.items():
            if st == "running":
                problem(f"point {i}: run {rid} still running after its process was killed")
        sqlite_integrity(os.path.join(ws, ".compe", "compe.db"), f"point {i}")
        temps = check_run_folders(ws, runs, n_train, n_test)
    runs = store_runs(compe, ws)
    for rid in reported:
        if runs.get(rid) != "finished":
            problem(f"run {rid} was reported saved but is {runs.get(rid)}")
    counts = {}
    for st in runs.values():
        counts[st] = counts.get(st, 0) + 1
    return (f"run: {points} kill points over {duration:.2f} s (3 runs uninterrupted); runs {counts}; "
            f"{len(reported)} reported saved, all finished; {temps} leftover temp file(s)")


TUNE_EXP = ('name = "lin"\n[model]\nbackend = "linear"\n[features]\ndrop = ["name"]\n[tune]\nseed = 3\n'
            '[tune.space]\nC = {type = "float", low = 0.001, high = 100.0, log = true}\n')


def scenario_tune(compe, root, tmp, points, store=None):
    ws, n_train, n_test = make_workspace(compe, root, tmp)
    exp = os.path.join(tmp, "exp.toml")
    open(exp, "w").write(TUNE_EXP)
    study = "kill" + "".join(random.choice("abcdefghij") for _ in range(8))
    base = [compe, "tune", "--workspace", ws, "--study", study]
    if store:
        base += ["--store", store]
    first = base[:2] + [exp] + base[2:]
    t0 = time.monotonic()
    r = sh(first + ["--workers", "2", "--trials", "4"])
    duration = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"compe tune failed: {r.stderr}")
    temps = 0
    for i in range(points):
        p = start(base + ["--workers", "2", "--trials", "4"])
        time.sleep(duration * (i + 0.5) / points)
        kill_group(p)
        if store is None:
            sqlite_integrity(os.path.join(ws, ".compe", "compe.db"), f"tune point {i}")
        runs = store_runs(compe, ws, store)
        for rid, st in runs.items():
            if st == "running":
                problem(f"tune point {i}: run {rid} still running after its process was killed")
        temps = check_run_folders(ws, runs, n_train, n_test)
    # Resuming completes the study: one more uninterrupted tune.
    r = sh(base + ["--trials", "2", "--json"])
    if r.returncode != 0:
        problem(f"resuming tune failed: {r.stderr.strip()}")
    show = [compe, "study", "show", study, "--workspace", ws, "--json"] + (["--store", store] if store else [])
    doc = json.loads(sh(show).stdout)
    trials = doc["trials"]
    numbers = [t["number"] for t in trials]
    if len(numbers) != len(set(numbers)):
        problem(f"duplicated trial numbers: {sorted(numbers)}")
    if sorted(numbers) != list(range(len(numbers))):
        problem(f"trial numbers are not 0..{len(numbers) - 1}: {sorted(numbers)}")
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    if states.get("running"):
        problem(f"{states['running']} trial(s) still running after the study was resumed")
    runs = store_runs(compe, ws, store)
    for t in trials:
        if t["state"] == "complete" and t.get("run_id") and runs.get(t["run_id"]) != "finished":
            problem(f"trial {t['number']} is complete but its run {t['run_id']} is {runs.get(t['run_id'])}")
    where = "PostgreSQL" if store else "SQLite"
    return (f"tune ({where}, 2 workers): {points} kill points over {duration:.2f} s; "
            f"{len(trials)} trials {states}; numbers unique; {temps} leftover temp file(s)")


def scenario_host(compe, root, tmp, points):
    sol = os.path.join(root, "examples", "titanic", "data", "solution.csv")
    sample = open(os.path.join(root, "examples", "titanic", "data", "sample_submission.csv")).read()
    hostdir = os.path.join(tmp, "contest")
    r = sh([compe, "host", "init", hostdir, "--solution", sol, "--metric", "roc_auc",
            "--deadline", "2099-01-01T00:00:00Z", "--daily-limit", "100000", "--teams", "a,b"])
    if r.returncode != 0:
        raise SystemExit(f"compe host init failed: {r.stderr}")
    token = re.search(r"^\s*a\s+([0-9a-f]{32})\s*$", r.stdout, re.M).group(1)
    lines = sample.splitlines()
    accepted = {}  # id -> sha256 of the body answered 201
    rng = random.Random(7)
    for i in range(points):
        p = start([compe, "host", "serve", hostdir, "--port", "0"])
        port = None
        t_end = time.monotonic() + 30
        while port is None and time.monotonic() < t_end:
            line = p.stdout.readline()
            m = re.search(r"url: http://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            problem(f"host point {i}: the server did not start")
            kill_group(p)
            continue
        stop = threading.Event()

        def upload():
            k = 0
            while not stop.is_set():
                body = "\n".join([lines[0]] + [f"{ln.split(',')[0]},{rng.random():.6f}" for ln in lines[1:]]) + "\n"
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/teams/a/submissions?name=p{i}-{k}.csv", data=body.encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}, method="POST")
                k += 1
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        doc = json.loads(resp.read())
                        if resp.status == 201:
                            accepted[doc["id"]] = hashlib.sha256(body.encode()).hexdigest()
                except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                    return

        th = threading.Thread(target=upload)
        th.start()
        time.sleep(0.02 + 0.3 * (i + 0.5) / points)
        kill_group(p)
        stop.set()
        th.join()
        sqlite_integrity(os.path.join(hostdir, "host.db"), f"host point {i}")
    db = os.path.join(hostdir, "host.db")
    con = sqlite3.connect(db)
    rows = {rid: sha for rid, sha in con.execute("SELECT id, sha256 FROM submissions")}
    con.close()
    for sid, sha in accepted.items():
        if rows.get(sid) != sha:
            problem(f"submission {sid} was answered 201 but the database has {rows.get(sid)}")
    temps = 0
    for f in glob.glob(os.path.join(hostdir, "submissions", "*")):
        name = os.path.basename(f)
        if TEMP_RE.search(name):
            temps += 1
            continue
        if hashlib.sha256(open(f, "rb").read()).hexdigest() + ".csv" != name:
            problem(f"{f}: content does not match its sha256 name (half-written)")
    for sha in rows.values():
        if not os.path.exists(os.path.join(hostdir, "submissions", sha + ".csv")):
            problem(f"submission file {sha}.csv recorded but missing")
    r = sh([compe, "host", "status", hostdir, "--json"])
    if r.returncode != 0:
        problem(f"compe host status failed after the kills: {r.stderr.strip()}")
    return (f"host: {points} kill points during uploads; {len(accepted)} answered 201, all recorded "
            f"with their files; {len(rows)} in the database; {temps} leftover temp file(s)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compe", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--scenario", required=True, choices=["run", "tune", "tune-pg", "host"])
    ap.add_argument("--points", type=int, default=50)
    a = ap.parse_args()
    compe = os.path.abspath(a.compe)
    tmp = tempfile.mkdtemp(prefix="compe-kill-")
    try:
        if a.scenario == "run":
            line = scenario_run(compe, a.root, tmp, a.points)
        elif a.scenario == "tune":
            line = scenario_tune(compe, a.root, tmp, a.points)
        elif a.scenario == "tune-pg":
            url = os.environ.get("COMPE_TEST_POSTGRES")
            if not url:
                print("tune-pg: skipped (COMPE_TEST_POSTGRES is not set)")
                return 0
            line = scenario_tune(compe, a.root, tmp, a.points, store=url)
        else:
            line = scenario_host(compe, a.root, tmp, a.points)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(line)
    if PROBLEMS:
        print(f"{len(PROBLEMS)} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
