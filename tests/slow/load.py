#!/usr/bin/env python3
"""Bounded local load on the dashboard (`compe ui`) and the competition host (`compe host serve`)
with wrk (Debian's package): loopback only, a fixed number of connections and seconds per
endpoint. Records requests/s and the 99th percentile latency of each, and fails on any socket
error, non-2xx answer, or an upload answered but not recorded.

Six connections per endpoint: the servers admit at most six connections per client address at
once (a browser's worth; more get 503 at once), and wrk runs from one address.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

CONNECTIONS = 6
THREADS = 2


def start(args, cwd=None):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True, cwd=cwd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        m = re.search(r"url: (http://127\.0\.0\.1:(\d+)/\S*)", line)
        if m:
            return p, int(m.group(2))
    raise SystemExit(f"{args[1]} did not start")


def stop(p):
    os.killpg(p.pid, signal.SIGINT)
    p.wait(timeout=30)


def wrk(url, seconds, headers=(), script=None):
    args = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", "--timeout", "5s"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": total, "p99_ms": p99_ms,
            "socket_errors": errors.group(1) if errors else "", "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "raw": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compe", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (scripts/install-deps.sh installs it)")
        return 1
    compe = os.path.abspath(a.compe)
    tmp = tempfile.mkdtemp(prefix="compe-load-")
    results, problems = [], []
    try:
        ws = os.path.join(tmp, "ws")
        data = os.path.join(a.root, "examples", "titanic", "data")
        subprocess.run([compe, "init", ws, "--from", data], check=True, capture_output=True)
        for model in ("linear", "linear"):
            subprocess.run([compe, "run", "--model", model, "--workspace", ws], check=True, capture_output=True)
        ui, port = start([compe, "ui", "--workspace", ws, "--port", "0"])
        try:
            base = f"http://127.0.0.1:{port}"
            run_id = json.loads(subprocess.run([compe, "runs", "--workspace", ws, "--json"], check=True,
                                               capture_output=True, text=True).stdout)["runs"][0]["run_id"]
            for path in ("/api/runs", f"/api/runs/{run_id}", f"/api/runs/{run_id}/artifacts/oof.csv", "/"):
                results.append(("dashboard", path, wrk(base + path, a.seconds)))
        finally:
            stop(ui)

        hostdir = os.path.join(tmp, "contest")
        r = subprocess.run([compe, "host", "init", hostdir, "--solution", os.path.join(data, "solution.csv"),
                            "--metric", "roc_auc", "--deadline", "2099-01-01T00:00:00Z",
                            "--daily-limit", "1000000", "--teams", "a,b"], check=True, capture_output=True, text=True)
        token = re.search(r"^\s*a\s+([0-9a-f]{32})\s*$", r.stdout, re.M).group(1)
        host, port = start([compe, "host", "serve", hostdir, "--port", "0"])
        try:
            base = f"http://127.0.0.1:{port}"
            auth = f"Authorization: Bearer {token}"
            for path in ("/api/leaderboard", "/api/info"):
                results.append(("host", path, wrk(base + path, a.seconds, [auth])))
            body = open(os.path.join(data, "sample_submission.csv")).read()
            script = os.path.join(tmp, "upload.lua")
            open(script, "w").write(
                'wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + '\n'
                'wrk.headers["Content-Type"] = "text/csv"\n'
                'wrk.headers["Authorization"] = "Bearer ' + token + '"\n')
            up = wrk(base + "/api/teams/a/submissions?name=load.csv", a.seconds, script=script)
            results.append(("host", "POST /api/teams/a/submissions", up))
        finally:
            stop(host)
        con = sqlite3.connect(os.path.join(hostdir, "host.db"))
        recorded = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
        con.close()
        if not (up["requests"] <= recorded <= up["requests"] + CONNECTIONS):
            problems.append(f"uploads: {up['requests']} answered, {recorded} recorded")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"wrk -t{THREADS} -c{CONNECTIONS} -d{a.seconds}s on 127.0.0.1 ({os.cpu_count()} cores)")
    print(f"{'server':10} {'endpoint':42} {'req/s':>9} {'p99 ms':>8} {'requests':>9} errors")
    for server, path, r in results:
        errs = (r["socket_errors"] + (f" non-2xx {r['non_2xx']}" if r["non_2xx"] else "")).strip() or "none"
        label = path if len(path) <= 42 else path[:39] + "..."
        print(f"{server:10} {label:42} {r['rps']:9.0f} {r['p99_ms']:8.2f} {r['requests']:9d} {errs}")
        if r["socket_errors"] or r["non_2xx"]:
            problems.append(f"{server} {path}: {errs}")
    print(f"uploads recorded: {recorded} for {up['requests']} answered")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
