#!/usr/bin/env python3
"""Trains one fold for compe's `command` model backend (see docs/COMMAND_TRAINER.md).

Standard library only: numeric columns are median-imputed and standardised, text columns with at
most MAX_LEVELS distinct values are one-hot encoded (others, such as names, are left out), and a
linear model (softmax / logistic / least squares) is fitted by full-batch
gradient descent. It is an example of the protocol, not a strong model.

Parameters (COMPE_PARAMS_JSON): learning_rate (0.1), epochs (200), l2 (1e-3), log_every (10).

Curves: every `log_every` epochs (and after the last) it appends the train and validation loss
(log loss for classification, RMSE for regression) to COMPE_METRICS_FILE as one JSON line, e.g.
{"step": 10, "train_logloss": 0.52, "valid_logloss": 0.55}; compe stores them as the fold's
train-logloss / valid-logloss curves.
"""

import csv
import json
import math
import os
import random

MAX_LEVELS = 30


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def as_float(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Encoder:
    """Column transforms fitted on the fold's train rows only."""

    def __init__(self, rows, columns):
        self.numeric, self.levels = {}, {}
        for c in columns:
            cells = [r[c] for r in rows if r[c] != ""]
            values = [as_float(v) for v in cells]
            if cells and all(v is not None for v in values):
                values.sort()
                mid = len(values) // 2
                median = values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])
                mean = sum(values) / len(values)
                sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
                self.numeric[c] = (median, mean, sd)
            elif len(set(cells)) <= MAX_LEVELS:
                self.levels[c] = sorted(set(cells))

    def row(self, r):
        out = []
        for c, (median, mean, sd) in self.numeric.items():
            v = as_float(r[c]) if r[c] != "" else None
            out.append(((median if v is None else v) - mean) / sd)
        for c, levels in self.levels.items():
            out.extend(1.0 if r[c] == level else 0.0 for level in levels)
        return out


def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def main():
    env = os.environ
    params = json.loads(env.get("COMPE_PARAMS_JSON", "{}"))
    rate = float(params.get("learning_rate", 0.1))
    epochs = int(params.get("epochs", 200))
    l2 = float(params.get("l2", 1e-3))
    random.seed(int(env["COMPE_SEED"]))

    task = env["COMPE_TASK"]
    id_col = env["COMPE_ID_COLUMN"]
    target = env["COMPE_TARGET_COLUMNS"].split(",")[0]
    classes = json.loads(env["COMPE_CLASSES"])
    train = read_rows(env["COMPE_TRAIN_CSV"])
    valid = read_rows(env["COMPE_VALID_CSV"])
    test = read_rows(env["COMPE_TEST_CSV"])

    features = [c for c in train[0] if c not in (id_col, target)]
    enc = Encoder(train, features)
    x = [enc.row(r) + [1.0] for r in train]
    p = len(x[0])

    if task == "regression":
        y = [[float(r[target])] for r in train]
        k = 1
    else:
        # Labels are given as in the train file; classes lists them in compe's order
        # (binary: classes[1] is the positive class).
        index = {label: i for i, label in enumerate(classes)}
        k = len(classes)
        y = [[1.0 if index[r[target]] == j else 0.0 for j in range(k)] for r in train]

    w = [[0.0] * p for _ in range(k)]

    def scores(row):
        z = [sum(wj[i] * row[i] for i in range(p)) for wj in w]
        return z if task == "regression" else softmax(z)

    def loss(out, target_row):
        """Squared error (regression) or log loss of one row."""
        if task == "regression":
            return (out[0] - target_row[0]) ** 2
        return -sum(t * math.log(max(o, 1e-15)) for o, t in zip(out, target_row))

    def mean_loss(total, count):
        return math.sqrt(total / count) if task == "regression" else total / count

    loss_name = "rmse" if task == "regression" else "logloss"
    if task == "regression":
        vx, vy = [enc.row(r) + [1.0] for r in valid], [[float(r[target])] for r in valid]
    else:
        vx = [enc.row(r) + [1.0] for r in valid]
        vy = [[1.0 if index[r[target]] == j else 0.0 for j in range(k)] for r in valid]

    # One JSON object per line, flushed at once: a killed trainer leaves whole lines behind.
    metrics_path = env.get("COMPE_METRICS_FILE", "")
    metrics = open(metrics_path, "a", encoding="utf-8") if metrics_path else None
    log_every = max(1, int(params.get("log_every", 10)))

    n = len(x)
    for epoch in range(1, epochs + 1):
        grad = [[0.0] * p for _ in range(k)]
        train_loss = 0.0
        for row, target_row in zip(x, y):
            out = scores(row)
            train_loss += loss(out, target_row)
            for j in range(k):
                err = out[j] - target_row[j]
                for i in range(p):
                    grad[j][i] += err * row[i]
        for j in range(k):
            for i in range(p):
                w[j][i] -= rate * (grad[j][i] / n + l2 * w[j][i])
        if metrics and (epoch % log_every == 0 or epoch == epochs):
            # The train loss is that of the weights before this epoch's step (it comes free with
            # the gradient); the validation loss is measured after it.
            valid_loss = sum(loss(scores(row), t) for row, t in zip(vx, vy))
            record = {"step": epoch, "train_" + loss_name: mean_loss(train_loss, n),
                      "valid_" + loss_name: mean_loss(valid_loss, len(vx))}
            metrics.write(json.dumps(record) + "\n")
            metrics.flush()
    if metrics:
        metrics.close()

    def prediction_columns(row):
        out = scores(enc.row(row) + [1.0])
        return [out[1]] if task == "binary" else out

    names = ["prediction"] if task != "multiclass" else [f"p_{c}" for c in classes]
    out_dir = env["COMPE_OUTPUT_DIR"]
    for name, rows in (("oof.csv", valid), ("test.csv", test)):
        with open(os.path.join(out_dir, name), "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([id_col] + names)
            for r in rows:
                writer.writerow([r[id_col]] + [repr(v) for v in prediction_columns(r)])
    print(f"fold {env['COMPE_FOLD']}: {n} train rows, {len(valid)} valid, {len(test)} test")


if __name__ == "__main__":
    main()
