"""Small competitions for the CLI cases (standard library only).

    python3 make_data.py columns ROOT OUT    titanic + ref (id-like), cabin_block (97 levels),
                                             one (constant), age_copy (duplicate of age)
    python3 make_data.py ref ROOT OUT        titanic + ref, a code lower in train than in test
    python3 make_data.py cultivar OUT        multiclass, integer labels 0/1/2, label submission
    python3 make_data.py proba OUT           multiclass, one probability column per class
"""
import csv
import random
import sys
from pathlib import Path


def writer(path):
    return csv.writer(open(path, "w", newline=""))


def titanic_plus(root, out, extra_names, extra):
    out.mkdir(parents=True, exist_ok=True)
    src = Path(root) / "examples" / "titanic" / "data"
    (out / "sample_submission.csv").write_text((src / "sample_submission.csv").read_text())
    for name in ("train", "test"):
        rows = list(csv.reader(open(src / f"{name}.csv")))
        w = writer(out / f"{name}.csv")
        w.writerow(rows[0] + extra_names)
        for r in rows[1:]:
            w.writerow(r + extra(name, r))


def main():
    kind = sys.argv[1]
    if kind == "columns":
        titanic_plus(sys.argv[2], Path(sys.argv[3]), ["ref", "cabin_block", "one", "age_copy"],
                     lambda name, r: ["R%06d" % (int(r[0]) * 7), "B%d" % (int(r[0]) * 31 % 97), "1", r[3]])
    elif kind == "ref":
        titanic_plus(sys.argv[2], Path(sys.argv[3]), ["ref"],
                     lambda name, r: ["R%06d" % (int(r[0]) + (500000 if name == "test" else 0))])
    elif kind == "cultivar":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        random.seed(7)

        def row(i):
            c = i % 3
            return [i, round(random.gauss(c, 0.6), 4), round(random.gauss(-c, 0.8), 4), c]
        tr = [row(i) for i in range(240)]
        te = [row(i) for i in range(240, 330)]
        w = writer(out / "train.csv")
        w.writerow(["id", "alcohol", "hue", "cultivar"])
        w.writerows(tr)
        w = writer(out / "test.csv")
        w.writerow(["id", "alcohol", "hue"])
        w.writerows(r[:3] for r in te)
        w = writer(out / "sample_submission.csv")
        w.writerow(["id", "cultivar"])
        w.writerows([r[0], 0] for r in te)
        w = writer(out / "solution.csv")
        w.writerow(["id", "cultivar", "Usage"])
        w.writerows([r[0], r[3], "Public" if r[0] % 3 else "Private"] for r in te)
    elif kind == "proba":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        w = writer(out / "train.csv")
        w.writerow(["id", "x", "kind"])
        w.writerows([i, i % 7, "abc"[i % 3]] for i in range(60))
        w = writer(out / "test.csv")
        w.writerow(["id", "x"])
        w.writerows([i, i % 7] for i in range(60, 80))
        w = writer(out / "sample_submission.csv")
        w.writerow(["id", "a", "b", "c"])
        w.writerows([i, 0.33, 0.33, 0.34] for i in range(60, 80))
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
