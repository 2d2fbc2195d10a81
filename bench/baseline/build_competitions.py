"""Build public tabular data sets as mini competitions in Kaggle's layout, for docs/BASELINE.md.

Every data set ships with a Debian package (no download): scikit-learn's bundled data sets
(python3-sklearn) and R data sets from r-cran-modeldata read with python3-rdata. The layout is the
one of the shared competitions: train.csv (id, features, target), test.csv (id, features),
sample_submission.csv (id, constant target), solution.csv (id, target, Usage: Public for a random
30 % of test rows, Private for the rest) and meta.json. Split: seed 42, 75 % train / 25 % test,
stratified by the target for classification; ids assigned after shuffling (train 0..n-1, test
continuing); binary targets are 0/1.

Rare-positive cases are built by keeping a random share of the positive rows (seed 42), so the
positives are a few percent of the rows, as in fraud or churn competitions.

    apt-get install -y python3-sklearn python3-pandas python3-rdata r-cran-modeldata r-cran-mlbench
    /usr/bin/python3 bench/baseline/build_competitions.py OUT_DIR [--only NAME ...]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SEED = 42
TEST_FRACTION = 0.25
PUBLIC_FRACTION = 0.30
ID = "id"


def dpkg_files(package):
    try:
        out = subprocess.run(["dpkg", "-L", package], check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError:
        sys.exit(f"package {package} is not installed: apt-get install -y {package}")
    return [line for line in out.splitlines() if line.strip()]


def dpkg_version(package):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], check=True,
                          capture_output=True, text=True).stdout.strip()


def sklearn_frame(loader):
    import sklearn.datasets as skd
    bunch = getattr(skd, loader)(as_frame=True)
    return bunch.frame.copy(), bunch


def _decompress(raw):
    import bz2
    import gzip
    import lzma
    import zlib
    for fn in (gzip.decompress, zlib.decompress, bz2.decompress, lzma.decompress):
        try:
            return fn(raw)
        except Exception:
            pass
    return raw


def _r_converter():
    import rdata
    from rdata.conversion._conversion import DEFAULT_CLASS_MAP
    return rdata.conversion.SimpleConverter(constructor_dict=dict(DEFAULT_CLASS_MAP), default_encoding="utf_8")


def read_lazyload(rdx, rdb, name):
    """One object of an R lazy-load database (data/Rdata.rdx + Rdata.rdb), as R's serialize.c
    writes it: a 4-byte length, then zlib (R_compress1) or a type byte and LZMA2 / bzip2 / raw."""
    import bz2
    import lzma
    import struct
    import zlib
    from rdata.parser._parser import parse_rdata_binary
    index = _r_converter().convert(parse_rdata_binary(memoryview(_decompress(Path(rdx).read_bytes()))))
    offset, length = (int(x) for x in index["variables"][name])
    comp = np.asarray(index["compressed"]).ravel()[0]
    with open(rdb, "rb") as f:
        f.seek(offset)
        blob = f.read(length)
    if comp in (True, 1):
        data = zlib.decompress(blob[4:])
    else:
        kind, body = blob[4:5], blob[5:]
        if kind == b"Z":
            data = lzma.decompress(body, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}])
        elif kind == b"2":
            data = bz2.decompress(body)
        else:
            data = body
    return _r_converter().convert(parse_rdata_binary(memoryview(data)))


def r_data(package, rpkg, name):
    """An R data set shipped by a Debian r-cran-* package (data/NAME.rda or the lazy-load database)."""
    import rdata
    files = dpkg_files(package)
    rda = [f for f in files if f.endswith(f"/{rpkg}/data/{name}.rda")]
    if rda:
        df = rdata.conversion.convert(rdata.parser.parse_file(rda[0]))[name]
    else:
        rdx = [f for f in files if f.endswith(f"/{rpkg}/data/Rdata.rdx")]
        rdb = [f for f in files if f.endswith(f"/{rpkg}/data/Rdata.rdb")]
        if not rdx or not rdb:
            sys.exit(f"{package} has no data set {name}")
        try:
            df = read_lazyload(rdx[0], rdb[0], name)
        except KeyError:
            sys.exit(f"{package} has no data set {name}")
    out = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.astype(object).where(s.notna(), None)
        elif isinstance(s.dtype, pd.IntervalDtype) or s.dtype == bool:
            out[c] = s.astype(str)
        else:
            out[c] = s
    return pd.DataFrame(out)


def modeldata(name):
    return r_data("r-cran-modeldata", "modeldata", name)


def rare(df, target, positive, share, seed=SEED):
    """Keeps `share` of the rows whose target is `positive` (a random choice, seeded)."""
    rng = np.random.default_rng(seed)
    pos = np.flatnonzero((df[target] == positive).to_numpy())
    drop = rng.choice(pos, size=len(pos) - int(round(share * len(pos))), replace=False)
    return df.drop(df.index[drop]).reset_index(drop=True)


# name -> (loader returning (df, target, task, metric, positive or None, source text))
SPECS = {}


def spec(name):
    def wrap(fn):
        SPECS[name] = fn
        return fn
    return wrap


def sk(loader, target, rename=None):
    df, _ = sklearn_frame(loader)
    if rename:
        df = df.rename(columns=rename)
    return df, f"python3-sklearn {dpkg_version('python3-sklearn')} sklearn.datasets.{loader}()"


@spec("iris")
def _():
    df, src = sk("load_iris", "target", {"target": "species"})
    return df, "species", "multiclass", "accuracy", None, src


@spec("wine")
def _():
    df, src = sk("load_wine", "target", {"target": "cultivar"})
    return df, "cultivar", "multiclass", "accuracy", None, src


@spec("digits")
def _():
    df, src = sk("load_digits", "target", {"target": "digit"})
    return df, "digit", "multiclass", "accuracy", None, src


@spec("diabetes")
def _():
    df, src = sk("load_diabetes", "target", {"target": "progression"})
    return df, "progression", "regression", "rmse", None, src


@spec("breast_cancer_rare")
def _():
    df, src = sk("load_breast_cancer", "target", {"target": "malignant"})
    df["malignant"] = 1 - df["malignant"]  # sklearn: 0 = malignant
    df = rare(df, "malignant", 1, 0.08)
    return df, "malignant", "binary", "roc_auc", 1, src + ", malignant rows subsampled to 8 %"


@spec("digits_rare")
def _():
    df, src = sk("load_digits", "target", {"target": "is_nine"})
    df["is_nine"] = (df["is_nine"] == 9).astype(int)
    df = rare(df, "is_nine", 1, 0.25)
    return df, "is_nine", "binary", "roc_auc", 1, src + ", digit 9 vs the rest, nines subsampled to 25 %"


def md(name, target, task, metric, positive=None, prepare=None):
    def load():
        df = modeldata(name)
        if prepare:
            df = prepare(df)
        src = f"r-cran-modeldata {dpkg_version('r-cran-modeldata')} modeldata::{name}"
        return df, target, task, metric, positive, src
    SPECS[name] = load


def _attrition(df):
    df["Attrition"] = (df["Attrition"] == "Yes").astype(int)
    return df


def _credit(df):
    df = df[df["Status"].notna()].copy()
    df["Status"] = (df["Status"] == "bad").astype(int)
    return df


def _lending(df):
    df["Class"] = (df["Class"] == "bad").astype(int)
    return df


def _churn(df):
    df["churn"] = (df["churn"] == "yes").astype(int)
    return df


def _penguins(df):
    return df[df["species"].notna()].copy()


def _cells(df):
    df = df.drop(columns=["case"])
    df["class"] = (df["class"] == "PS").astype(int)
    return df


md("attrition", "Attrition", "binary", "roc_auc", 1, _attrition)
md("credit_data", "Status", "binary", "roc_auc", 1, _credit)
md("lending_club", "Class", "binary", "roc_auc", 1, _lending)
md("mlc_churn", "churn", "binary", "roc_auc", 1, _churn)
md("cells", "class", "binary", "roc_auc", 1, _cells)
md("penguins", "species", "multiclass", "accuracy", None, _penguins)
md("concrete", "compressive_strength", "regression", "rmse")
md("Sacramento", "price", "regression", "rmsle")


def _letters(df):
    df = df.rename(columns={"lettr": "letter"})
    return df


def mlbench(name, target, task, metric, prepare=None, key=None):
    def load():
        df = r_data("r-cran-mlbench", "mlbench", name)
        if prepare:
            df = prepare(df)
        src = f"r-cran-mlbench {dpkg_version('r-cran-mlbench')} mlbench::{name}"
        return df, target, task, metric, None, src
    SPECS[key or name] = load


# UCI letter recognition: 20,000 rows x 16 features, 26 classes (the linear benchmark's data).
mlbench("LetterRecognition", "letter", "multiclass", "accuracy", _letters, key="letters")


def tidy(df):
    out = {}
    for c in df.columns:
        s = df[c]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
        elif s.dtype.kind == "f":
            nn = s.dropna()
            if len(nn) and np.all(np.mod(nn, 1) == 0) and nn.abs().max() < 2**53:
                out[c] = s.round().astype("Int64")
            else:
                out[c] = s
        elif s.dtype.kind in "iub" or str(s.dtype) == "Int64":
            out[c] = s.astype("Int64")
        else:
            out[c] = s.astype(str)
    return pd.DataFrame(out)


def build(name, out):
    df, target, task, metric, positive, source = SPECS[name]()
    df = tidy(df.reset_index(drop=True))
    y = df[target]
    strat = y if task != "regression" else None
    tr, te = train_test_split(np.arange(len(df)), test_size=TEST_FRACTION, stratify=strat, random_state=SEED)
    rng = np.random.default_rng(SEED)
    tr, te = rng.permutation(tr), rng.permutation(te)
    train = df.iloc[tr].reset_index(drop=True)
    test = df.iloc[te].reset_index(drop=True)
    train.insert(0, ID, np.arange(len(train)))
    test.insert(0, ID, np.arange(len(train), len(train) + len(test)))
    y_test = test.pop(target)
    if task == "binary":
        constant = 0.5
    elif task == "multiclass":
        counts = train[target].value_counts()
        constant = sorted(counts[counts == counts.max()].index.tolist())[0]
    else:
        constant = round(float(train[target].median()), 4)
    idx = np.arange(len(test))
    _, pub = train_test_split(idx, test_size=PUBLIC_FRACTION, stratify=y_test if task != "regression" else None,
                              random_state=SEED)
    usage = np.where(np.isin(idx, pub), "Public", "Private")
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    test.to_csv(out / "test.csv", index=False)
    pd.DataFrame({ID: test[ID], target: [constant] * len(test)}).to_csv(out / "sample_submission.csv", index=False)
    pd.DataFrame({ID: test[ID], target: y_test.to_numpy(), "Usage": usage}).to_csv(out / "solution.csv", index=False)
    meta = {"name": name, "source": source, "task": task, "target": target, "id": ID, "metric": metric,
            "rows_train": len(train), "rows_test": len(test),
            "positive_share": None if task != "binary" else round(float((y == 1).mean()), 4)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    for name in a.only or SPECS:
        try:
            meta = build(name, Path(a.out) / name)
        except SystemExit as e:
            print(f"skip {name}: {e}", file=sys.stderr)
            continue
        print(f"{name:20s} {meta['task']:10s} train={meta['rows_train']:6d} test={meta['rows_test']:5d} "
              f"positive={meta['positive_share']}")


if __name__ == "__main__":
    main()
