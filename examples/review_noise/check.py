#!/usr/bin/env python3
"""The review queue's real check (docs/REVIEW.md): plant label noise, find it, fix it, retrain.

For a competition folder (train.csv, test.csv, sample_submission.csv, solution.csv, meta.json):
  1. plants noise: a share (--noise, default 0.05) of the train labels, chosen with a fixed seed,
     is changed to another class (binary: flipped; multiclass: a uniformly chosen other class);
     the ids and true labels are kept in flipped.csv;
  2. runs XGBoost (--rounds, --depth) on the clean and the noisy data with the same folds, and
     scores each run's submission on the hidden solution (public and private);
  3. builds the review queue from the noisy run's OOF (confident_learning then highest_loss, at
     most --top items each) and reports precision at k and recall of the flipped rows;
  4. simulates the reviewer on the first --fix items: each gets its true label (`compe review
     edit`), the queue is exported to labels.csv, compe.toml's [data] labels names it, and the same
     experiment runs again on the same folds; prints CV and private score before and after.
Prints one JSON document (and a Markdown table with --markdown). Only the standard library.

Usage: check.py COMPE DATA_DIR WORK_DIR [--noise 0.05] [--seed 19] [--top 50] [--fix 50]
                [--rounds 300] [--depth 4] [--threads 2] [--markdown]
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys


def sh(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(args)}\n{p.stdout}{p.stderr}")
    return p.stdout


def plant(data, out, share, seed):
    """Copies the competition to `out` with `share` of the train labels changed; returns the
    target column and {id: (noisy, true)} of the changed rows."""
    shutil.copytree(data, out)
    meta = json.load(open(os.path.join(data, "meta.json")))
    target = meta["target"] if isinstance(meta["target"], str) else meta["target"][0]
    with open(os.path.join(data, "train.csv"), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    col = header.index(target)
    classes = sorted({r[col] for r in body})
    rng = random.Random(seed)
    chosen = rng.sample(range(len(body)), round(share * len(body)))
    flipped = {}
    for i in sorted(chosen):
        true = body[i][col]
        noisy = rng.choice([c for c in classes if c != true])
        body[i][col] = noisy
        flipped[body[i][0]] = (noisy, true)
    with open(os.path.join(out, "train.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header] + body)
    with open(os.path.join(out, "..", "flipped.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "noisy", "true"])
        w.writerows([k, n, t] for k, (n, t) in flipped.items())
    return target, flipped


def run(compe, ws, experiment, data):
    doc = json.loads(sh(compe, "run", experiment, "--workspace", ws, "--json"))
    sub = os.path.join(ws, "runs", doc["run_id"], "submission.csv")
    score = json.loads(sh(compe, "score", "--solution", os.path.join(data, "solution.csv"),
                          "--submission", sub, "--workspace", ws, "--json"))
    return {"run_id": doc["run_id"], "cv": doc["cv"]["score"] if isinstance(doc["cv"], dict) else doc["cv"],
            "public": score.get("public"), "private": score.get("private")}


def quality(keys, flipped, ks):
    out = {}
    for k in ks:
        top = keys[:k]
        found = sum(1 for key in top if key in flipped)
        out[k] = {"precision": found / max(1, len(top)), "recall": found / max(1, len(flipped)), "found": found,
                  "queued": len(top)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("compe")
    ap.add_argument("data")
    ap.add_argument("work")
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--fix", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    compe = os.path.abspath(a.compe)
    work = os.path.abspath(a.work)
    os.makedirs(work)
    noisy_data = os.path.join(work, "noisy")
    target, flipped = plant(os.path.abspath(a.data), noisy_data, a.noise, a.seed)
    experiment = os.path.join(work, "xgb.toml")
    with open(experiment, "w") as f:
        f.write(f'name = "xgb"\n[model]\nbackend = "xgboost"\n[model.params]\nmax_depth = {a.depth}\n'
                f'learning_rate = 0.1\nnum_boost_round = {a.rounds}\nearly_stopping_rounds = 30\n'
                f'[run]\nseed = 42\nthreads = {a.threads}\n')

    clean_ws, ws = os.path.join(work, "clean"), os.path.join(work, "ws")
    sh(compe, "init", clean_ws, "--from", os.path.abspath(a.data))
    sh(compe, "init", ws, "--from", noisy_data)
    clean = run(compe, clean_ws, experiment, a.data)
    for name in ("folds.csv", "folds.json"):  # the noisy runs use the clean run's folds
        if os.path.exists(os.path.join(clean_ws, name)):
            shutil.copy(os.path.join(clean_ws, name), os.path.join(ws, name))
    noisy = run(compe, ws, experiment, a.data)

    queue = json.loads(sh(compe, "review", "build", "noise", "--from", noisy["run_id"], "--rule",
                          "confident_learning", "--rule", "highest_loss", "--top", str(a.top),
                          "--workspace", ws, "--json"))
    keys = [it["key"] for it in queue["items"]]
    ks = [k for k in (10, 20, 50, 100, 200) if k <= len(keys)] + [len(keys)]
    qual = quality(keys, flipped, sorted(set(ks)))
    confident = sum(1 for it in queue["items"] if any(r["rule"] == "confident_learning" for r in it["reasons"]))

    # The reviewer gives each of the first --fix items its true label.
    with open(os.path.join(a.data, "train.csv"), newline="") as f:
        truth = {r[next(iter(r))]: r[target] for r in csv.DictReader(f)}
    for it in queue["items"][:a.fix]:
        sh(compe, "review", "edit", "noise", it["key"], "--action", "relabel", "--label", truth[it["key"]],
           "--reviewer", "oracle", "--workspace", ws)
    exported = json.loads(sh(compe, "review", "export", "noise", "-o", os.path.join(ws, "labels.csv"),
                             "--workspace", ws, "--json"))
    toml = open(os.path.join(ws, "compe.toml")).read().replace("[data]", '[data]\nlabels = "labels.csv"', 1)
    open(os.path.join(ws, "compe.toml"), "w").write(toml)
    fixed = run(compe, ws, experiment, a.data)
    doc = {"data": a.data, "rows_flipped": len(flipped), "noise": a.noise, "seed": a.seed,
           "queue_items": len(keys), "confident_learning_items": confident, "quality": qual,
           "fixed_items": min(a.fix, len(keys)), "labels_changed": exported["rows"],
           "clean": clean, "noisy": noisy, "after_fix": fixed}
    print(json.dumps(doc, indent=1))
    if a.markdown:
        print("\n| k | precision at k | recall | found |\n| --- | --- | --- | --- |")
        for k, q in qual.items():
            print(f"| {k} | {q['precision']:.3f} | {q['recall']:.3f} | {q['found']} of {len(flipped)} |")
        print("\n| labels | CV | public | private |\n| --- | --- | --- | --- |")
        for name, r in (("clean", clean), ("5% flipped", noisy), (f"top {doc['fixed_items']} fixed", fixed)):
            print(f"| {name} | {r['cv']:.5f} | {r['public']:.5f} | {r['private']:.5f} |")


if __name__ == "__main__":
    main()
