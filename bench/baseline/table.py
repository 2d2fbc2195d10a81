"""docs/BASELINE.md's table from run_baseline.py outputs: before.json after.json [refit.json]."""
import json
import sys


def load(path):
    return {r["name"]: r for r in json.load(open(path))}


def cells(r):
    if not r or "error" in r:
        return ["error"] * 4
    gap = r["cv"] - r["private"]
    return [f"{r['cv']:.4f}", f"{r['mean']:.4f}", f"{r['private']:.4f}", f"{gap:+.4f}"]


before, after = load(sys.argv[1]), load(sys.argv[2])
refit = load(sys.argv[3]) if len(sys.argv) > 3 else {}
head = ["competition", "metric", "before: pooled CV", "fold mean", "private", "CV − private",
        "after: pooled CV", "fold mean", "private", "CV − private"]
if refit:
    head += ["refit: pooled CV", "private"]
print("| " + " | ".join(head) + " |")
print("|" + " --- |" * len(head))
for name, a in after.items():
    row = [name, a.get("metric", "")] + cells(before.get(name)) + cells(a)
    if refit:
        c = cells(refit.get(name))
        row += [c[0], c[2]]
    print("| " + " | ".join(row) + " |")
