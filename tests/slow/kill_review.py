#!/usr/bin/env python3
"""Kill -9 of `compe ui` while reviewers save edits: every acknowledged edit is in the store.

A workspace holds a review queue imported from a file (--items class-label items). For each of
--points rounds, `compe ui` is started on the workspace's SQLite store and two client threads
(two reviewers) POST edits of random items to /api/review/<queue>/edit as fast as the server
answers; after a random delay the server's process group is SIGKILLed. Each edit the server
answered with 200 is acknowledged: the client records the edit id it was given. After every kill:
  - the store passes PRAGMA integrity_check and foreign_key_check;
  - every acknowledged edit id is in review_edits with the reviewer and value that were sent;
  - each item's history is one unbroken chain (an edit's old value is the previous edit's new
    value, the first one's the label it was queued with), and the item's label, status and
    last_edit are those of its latest edit;
  - the edit ids are unique and the counter is at least the largest id.
Prints one summary line; exit 1 on any violation. Standard library only.
Usage: kill_review.py --compe BUILD/compe [--points N] [--items N]
"""
import argparse
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kill_points  # noqa: E402  (process-group kill and the SQLite integrity check)

PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)
    print("PROBLEM:", msg, file=sys.stderr)


def make_workspace(compe, tmp, items):
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    with open(os.path.join(data, "train.csv"), "w") as f:
        f.write("id,a,target\n")
        for i in range(40):
            f.write(f"{i},{i * 0.5},{i % 2}\n")
    with open(os.path.join(data, "test.csv"), "w") as f:
        f.write("id,a\n")
        for i in range(40, 50):
            f.write(f"{i},{i * 0.5}\n")
    with open(os.path.join(data, "sample_submission.csv"), "w") as f:
        f.write("id,target\n")
        for i in range(40, 50):
            f.write(f"{i},0.5\n")
    ws = os.path.join(tmp, "ws")
    subprocess.run([compe, "init", ws, "--from", data], check=True, capture_output=True)
    lines = os.path.join(tmp, "items.jsonl")
    with open(lines, "w") as f:
        for i in range(items):
            f.write(json.dumps({"id": str(i), "label": str(i % 2), "reasons": "planted"}) + "\n")
    subprocess.run([compe, "review", "import", "q", lines, "--workspace", ws], check=True, capture_output=True)
    return ws


def start_ui(compe, ws):
    p = kill_points.start([compe, "ui", "--workspace", ws, "--port", "0"])
    deadline = time.time() + 30
    line = ""
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"url: (http://\S+/)", line)
        if m:
            return p, m.group(1)
    raise SystemExit(f"compe ui did not start: {line}")


def reviewer(base, name, items, acked, stop, rng):
    while not stop.is_set():
        key = str(rng.randrange(items))
        body = {"key": key, "reviewer": name, "action": rng.choice(["relabel", "relabel", "skip", "undo"])}
        if body["action"] == "relabel":
            body["value"] = f"{name}-{rng.randrange(1000)}"
        req = urllib.request.Request(base + "api/review/q/edit", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                doc = json.loads(res.read())
            acked.append((doc["edit"]["id"], key, name, body.get("value")))
        except urllib.error.HTTPError as e:
            if e.code != 400:  # "nothing to undo" is a 400 and saves nothing
                problem(f"{name}: HTTP {e.code} on {body}")
        except (OSError, ValueError):
            return  # the server is gone


def check_store(db, acked, round_no):
    kill_points.sqlite_integrity(db, f"round {round_no}", report=problem)
    con = sqlite3.connect(db, timeout=30)
    try:
        edits = {r[0]: r for r in con.execute(
            "SELECT id, item_key, action, old_value, new_value, reviewer FROM review_edits ORDER BY id")}
        for eid, key, name, value in acked:
            row = edits.get(eid)
            if row is None:
                problem(f"round {round_no}: acknowledged edit {eid} of item {key} by {name} is lost")
            elif row[1] != key or row[5] != name or (value is not None and json.loads(row[4]) != value):
                problem(f"round {round_no}: edit {eid} differs from what was acknowledged: {row}")
        counter = con.execute("SELECT value FROM counters WHERE name = 'review_edits'").fetchone()[0]
        if edits and counter < max(edits):
            problem(f"round {round_no}: counter {counter} is below edit id {max(edits)}")
        for key, original, label, status, last in con.execute(
                "SELECT item_key, original, label, status, last_edit FROM review_items WHERE queue = 'q'"):
            chain = [r for r in edits.values() if r[1] == key]
            prev = json.loads(original)
            for r in chain:
                if json.loads(r[3]) != prev:
                    problem(f"round {round_no}: item {key}: edit {r[0]} starts from {r[3]}, expected {prev}")
                prev = json.loads(r[4])
            if json.loads(label) != prev:
                problem(f"round {round_no}: item {key}: label {label}, its last edit gives {prev}")
            if chain and (last != chain[-1][0] or status != chain[-1][2]):
                problem(f"round {round_no}: item {key}: last_edit {last}/{status}, history ends {chain[-1][0]}")
            if not chain and (last != 0 or status != "open"):
                problem(f"round {round_no}: item {key}: no edits but last_edit {last}/{status}")
        return len(edits)
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compe", required=True)
    ap.add_argument("--root", default=None)
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--items", type=int, default=12)
    a = ap.parse_args()
    compe = os.path.abspath(a.compe)
    tmp = tempfile.mkdtemp(prefix="compe-kill-review-")
    rng = random.Random(19)
    acked_total = 0
    try:
        ws = make_workspace(compe, tmp, a.items)
        db = os.path.join(ws, ".compe", "compe.db")
        acked = []
        stored = 0
        for round_no in range(a.points):
            p, base = start_ui(compe, ws)
            stop = threading.Event()
            threads = [threading.Thread(target=reviewer, args=(base, name, a.items, acked, stop, random.Random(rng.random())))
                       for name in ("ann", "bob")]
            for t in threads:
                t.start()
            time.sleep(0.2 + rng.random() * 0.8)
            kill_points.kill_group(p)
            stop.set()
            for t in threads:
                t.join(timeout=30)
            stored = check_store(db, acked, round_no)
        acked_total = len(acked)
        if acked_total < a.points:
            problem(f"only {acked_total} edits were acknowledged in {a.points} rounds: the test saw too little")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"kill_review: {a.points} kills, {acked_total} acknowledged edits, {stored} stored, "
          f"{len(PROBLEMS)} problems")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
