#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (OUT/<target>/) from the competitions in examples/, the
fixtures in tests/data, every file a CLI case writes with printf (the malformed inputs of
tests/cli/cases) and the hand-written seeds in fuzz/seeds/<target>/. Standard library only."""
import hashlib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1]
MAX = 16 * 1024
SEP = b"\n@@\n"


def head(path, lines=40):
    with open(path, "rb") as f:
        return b"".join(f.readlines()[:lines])[:MAX]


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def walk(top, exts):
    for base, _, files in os.walk(top):
        for f in sorted(files):
            if os.path.splitext(f)[1] in exts:
                yield os.path.join(base, f)


csvs = list(walk(os.path.join(ROOT, "examples"), {".csv"})) + list(walk(os.path.join(ROOT, "tests", "data"), {".csv"}))
for p in csvs:
    data = head(p)
    put("csv", data)
    for k in (0, 1, 2, 3, 6, 7):
        put("boxes", bytes([k]) + data)
for d in walk(os.path.join(ROOT, "examples"), {".csv"}):
    if os.path.basename(d) == "solution.csv":
        sample = os.path.join(os.path.dirname(d), "sample_submission.csv")
        for m in range(14):
            put("score", bytes([m]) + head(d, 20) + SEP + head(sample, 20))
for p in walk(os.path.join(ROOT, "examples"), {".toml"}):
    put("toml", head(p, 200))
for p in walk(os.path.join(ROOT, "examples"), {".json"}):
    put("oof", b"id,fold,y\n0,0,0.5" + SEP + b"id,y\n20,0.5" + SEP + head(p, 200))

# Files the CLI cases write with printf: the malformed inputs the tests already know.
for case in walk(os.path.join(ROOT, "tests", "cli", "cases"), {".case"}):
    for line in open(case, encoding="utf-8"):
        for m in re.finditer(r"printf '((?:[^'\\]|\\.)*)' > ([\w./-]+)", line):
            try:
                data = subprocess.run(["bash", "-c", "printf -- '" + m.group(1) + "'"],
                                      capture_output=True, timeout=5).stdout[:MAX]
            except subprocess.SubprocessError:
                continue
            ext = os.path.splitext(m.group(2))[1]
            if ext == ".json":
                put("boxes", b"\x04" + data)
                put("boxes", b"\x05" + data)
                put("oof", b"id,fold,y\n0,0,0.5" + SEP + b"id,y\n20,0.5" + SEP + data)
            elif ext == ".toml":
                put("toml", data)
            elif ext == ".csv":
                put("csv", data)
                put("score", b"\x00" + data)
                for k in (0, 2, 6):
                    put("boxes", bytes([k]) + data)

for target in os.listdir(os.path.join(ROOT, "fuzz", "seeds")):
    d = os.path.join(ROOT, "fuzz", "seeds", target)
    for f in sorted(os.listdir(d)):
        put(target, open(os.path.join(d, f), "rb").read())
