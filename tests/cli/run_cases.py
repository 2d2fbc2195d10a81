#!/usr/bin/env python3
"""Runs the declarative CLI case files against the real compe binary.

A case file holds cases separated by lines of `---`. A case is a title line (`# ...`) followed by
steps. A step is a `$ command` line (run by bash in a fresh temporary folder shared by the case's
steps, with `compe` on PATH and $ROOT set to the repository root) and its expectations:

    exit: N               exit status (default 0)
    stdout: TEXT          TEXT occurs in stdout          (!stdout: must not occur)
    stderr: TEXT          TEXT occurs in stderr          (!stderr: must not occur)
    stdout-re: REGEX      a regular expression matches stdout (likewise stderr-re)
    json: PATH == VALUE   stdout is JSON and the value at PATH (a.b.0.c) equals VALUE (JSON);
                          `~=` compares numbers within 1e-9 relative

Only the standard library is used, so any python3 runs it.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def parse_cases(path):
    text = open(path, encoding="utf-8").read()
    cases = []
    for block in re.split(r"^---\s*$", text, flags=re.M):
        title, steps = None, []
        for raw in block.splitlines():
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("# ") and title is None and not steps:
                title = line[2:].strip()
            elif line.startswith("#"):
                continue
            elif line.startswith("$ "):
                steps.append({"cmd": line[2:], "expect": []})
            else:
                if not steps:
                    raise SystemExit(f"{path}: expectation before any command: {line!r}")
                key, _, value = line.partition(":")
                steps[-1]["expect"].append((key.strip(), value.strip()))
        if steps:
            cases.append((title or steps[0]["cmd"], steps))
    return cases


def lookup(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)]
        else:
            cur = cur[part]
    return cur


def check_step(step, proc):
    problems = []
    expected_exit = 0
    for key, value in step["expect"]:
        if key == "exit":
            expected_exit = int(value)
        elif key in ("stdout", "stderr"):
            if value not in getattr(proc, key):
                problems.append(f"{key} lacks {value!r}")
        elif key in ("!stdout", "!stderr"):
            if value in getattr(proc, key[1:]):
                problems.append(f"{key[1:]} unexpectedly has {value!r}")
        elif key in ("stdout-re", "stderr-re"):
            if not re.search(value, getattr(proc, key[:-3]), flags=re.M):
                problems.append(f"{key[:-3]} does not match /{value}/")
        elif key == "json":
            m = re.match(r"(\S+)\s*(==|~=)\s*(.+)$", value)
            if not m:
                problems.append(f"bad json expectation {value!r}")
                continue
            try:
                got = lookup(json.loads(proc.stdout), m.group(1))
            except Exception as e:  # noqa: BLE001
                problems.append(f"json path {m.group(1)}: {e!r}")
                continue
            want = json.loads(m.group(3))
            if m.group(2) == "~=":
                ok = isinstance(got, (int, float)) and abs(got - want) <= 1e-9 * max(1.0, abs(want))
            else:
                ok = got == want
            if not ok:
                problems.append(f"json {m.group(1)} is {got!r}, expected {want!r}")
        else:
            problems.append(f"unknown expectation {key!r}")
    if proc.returncode != expected_exit:
        problems.insert(0, f"exit status {proc.returncode}, expected {expected_exit}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compe", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("-k", default="", help="only cases whose title contains this")
    args = ap.parse_args()

    bindir = tempfile.mkdtemp(prefix="compe-bin-")
    os.symlink(os.path.abspath(args.compe), os.path.join(bindir, "compe"))
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["ROOT"] = os.path.abspath(args.root)
    env["NO_COLOR"] = "1"

    passed = failed = 0
    for name in sorted(os.listdir(args.cases)):
        if not name.endswith(".case"):
            continue
        for title, steps in parse_cases(os.path.join(args.cases, name)):
            if args.k and args.k not in title:
                continue
            work = tempfile.mkdtemp(prefix="compe-case-")
            problems = []
            for step in steps:
                proc = subprocess.run(["bash", "-c", step["cmd"]], cwd=work, env=env,
                                      capture_output=True, text=True, timeout=300)
                p = check_step(step, proc)
                if p:
                    problems.append((step["cmd"], p, proc))
                    break
            shutil.rmtree(work, ignore_errors=True)
            if problems:
                failed += 1
                cmd, p, proc = problems[0]
                print(f"FAIL {name}: {title}\n  $ {cmd}")
                for x in p:
                    print(f"    {x}")
                print("  --- stdout\n" + proc.stdout[-2000:] + "  --- stderr\n" + proc.stderr[-2000:])
            else:
                passed += 1
                print(f"ok   {name}: {title}")
    shutil.rmtree(bindir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
