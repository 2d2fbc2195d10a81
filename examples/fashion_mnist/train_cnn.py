#!/usr/bin/env python3
"""Trains one fold of a small CNN on Fashion-MNIST for `compe run` (the command backend,
docs/COMMAND_TRAINER.md), and logs its curves into the run through the compe module — or, on an
interpreter without the module (a CUDA machine's own PyTorch, say), through the protocol's
metrics file (COMPE_METRICS_FILE), which `compe run` reads back into the same curves.

Images come from images.npy next to the workspace's train.csv (an image's id is its row);
the CSV files only say which ids train, validate and get predicted in this fold.
Device: CUDA when available, else the CPU with COMPE_THREADS threads; nothing else changes.

Parameters (COMPE_PARAMS_JSON): epochs (6), lr (3e-3), batch_size (128), width (16),
weight_decay (5e-4), images (without the module: the images.npy path, default data/images.npy
from the workspace folder), tta (true: average with the horizontally flipped image), augment (true:
random flips and shifts of up to 2 pixels).
"""

import csv
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

try:
    import compe
except ImportError:  # no compe module for this interpreter: the plain protocol below
    compe = None


class PlainEnv:
    """The COMPE_* variables this script reads, without the compe module."""

    def __init__(self):
        import json
        import os
        env = os.environ
        self.fold = int(env["COMPE_FOLD"])
        self.train_csv, self.valid_csv, self.test_csv = (
            env["COMPE_TRAIN_CSV"], env["COMPE_VALID_CSV"], env["COMPE_TEST_CSV"])
        self.output_dir = env["COMPE_OUTPUT_DIR"]
        self.id_column = env["COMPE_ID_COLUMN"]
        self.params = json.loads(env.get("COMPE_PARAMS_JSON", "{}") or "{}")
        self.classes = json.loads(env.get("COMPE_CLASSES", "[]") or "[]")
        self.target_columns = [c for c in env.get("COMPE_TARGET_COLUMNS", "").split(",") if c]
        self.seed = int(env.get("COMPE_SEED", "0"))
        self.threads = int(env.get("COMPE_THREADS", "0"))
        self.metrics_file = env.get("COMPE_METRICS_FILE", "")

    def write_predictions(self, name, ids, pred):
        with open(Path(self.output_dir) / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([self.id_column] + [f"p_{c}" for c in self.classes])
            for i, row in zip(ids, pred.tolist()):
                w.writerow([i] + [repr(v) for v in row])


class PlainCurves:
    """Appends one JSON line per step to COMPE_METRICS_FILE (docs/COMMAND_TRAINER.md, Curves)."""

    def __init__(self, path):
        self.path, self.attached, self.run_id = path, bool(path), "(metrics file)"

    def log(self, step, **values):
        if self.path:
            import json
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **values}) + "\n")


def read_ids(path, id_column, label_column=None):
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        if label_column is None:
            return [r[id_column] for r in rows], None
        ids, labels = [], []
        for r in rows:
            ids.append(r[id_column])
            labels.append(r[label_column])
        return ids, labels


class Net(nn.Module):
    def __init__(self, width, classes):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                                 nn.ReLU(inplace=True))

        self.features = nn.Sequential(block(1, width), block(width, width), nn.MaxPool2d(2),
                                      block(width, 2 * width), block(2 * width, 2 * width), nn.MaxPool2d(2),
                                      block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * width, classes))

    def forward(self, x):
        return self.head(self.features(x))


def augment(x):
    """Random horizontal flips and shifts of up to 2 pixels (zero padding), per image."""
    n = x.shape[0]
    flip = torch.rand(n, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), device=x.device)
    dy = torch.randint(0, 5, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(28, device=x.device)[None, :])  # n x 28
    cols = (dx[:, None] + torch.arange(28, device=x.device)[None, :])
    idx = torch.arange(n, device=x.device)[:, None, None]
    return padded[idx, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


@torch.no_grad()
def predict(model, x, batch_size, tta):
    model.eval()
    out = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i:i + batch_size]
        p = F.softmax(model(xb), dim=1)
        if tta:
            p = 0.5 * (p + F.softmax(model(xb.flip(3)), dim=1))
        out.append(p)
    return torch.cat(out)


def main():
    env = compe.trainer_env() if compe else PlainEnv()
    params = env.params
    epochs = int(params.get("epochs", 6))
    lr = float(params.get("lr", 3e-3))
    batch_size = int(params.get("batch_size", 128))
    width = int(params.get("width", 16))
    weight_decay = float(params.get("weight_decay", 5e-4))
    tta = bool(params.get("tta", True))
    use_augment = bool(params.get("augment", True))

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(max(1, env.threads or 2))
    torch.manual_seed(env.seed)
    np.random.seed(env.seed % 2**32)

    if compe:
        images = np.load(Path(compe.open_workspace(params.get("workspace")).train_path).parent / "images.npy")
    else:
        images = np.load(params.get("images", "data/images.npy"))
    target = env.target_columns[0]
    train_ids, train_labels = read_ids(env.train_csv, env.id_column, target)
    valid_ids, valid_labels = read_ids(env.valid_csv, env.id_column, target)
    test_ids, _ = read_ids(env.test_csv, env.id_column)
    index = {c: i for i, c in enumerate(env.classes)}

    def tensor(ids):
        x = images[np.array([int(i) for i in ids])].astype(np.float32) / 255.0
        return torch.from_numpy((x - 0.286) / 0.353).unsqueeze(1).to(device)

    x_train, x_valid, x_test = tensor(train_ids), tensor(valid_ids), tensor(test_ids)
    y_train = torch.tensor([index[v] for v in train_labels], device=device)
    y_valid = torch.tensor([index[v] for v in valid_labels], device=device)

    model = Net(width, len(env.classes)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = (len(train_ids) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    curves = compe.command_run() if compe else PlainCurves(env.metrics_file)
    started = time.monotonic()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(train_ids), device=device)
        total, seen = 0.0, 0
        for i in range(0, len(perm), batch_size):
            b = perm[i:i + batch_size]
            xb = augment(x_train[b]) if use_augment else x_train[b]
            loss = F.cross_entropy(model(xb), y_train[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
            seen += len(b)
        p_valid = predict(model, x_valid, 512, tta=False)
        valid_loss = F.nll_loss(torch.log(p_valid.clamp_min(1e-15)), y_valid).item()
        valid_acc = (p_valid.argmax(1) == y_valid).float().mean().item()
        curves.log(step=epoch + 1, train_loss=total / seen, valid_loss=valid_loss, valid_accuracy=valid_acc)
        print(f"fold {env.fold} epoch {epoch + 1}/{epochs}: train_loss {total / seen:.4f} "
              f"valid_loss {valid_loss:.4f} valid_accuracy {valid_acc:.4f} "
              f"({time.monotonic() - started:.0f} s, {device})", flush=True)

    # Out-of-fold and test predictions with test-time augmentation.
    p_valid = predict(model, x_valid, 512, tta).cpu().numpy().astype(np.float64)
    p_test = predict(model, x_test, 512, tta).cpu().numpy().astype(np.float64)
    env.write_predictions("oof.csv", valid_ids, p_valid)
    env.write_predictions("test.csv", test_ids, p_test)
    print(f"fold {env.fold}: {len(train_ids)} train, {len(valid_ids)} valid, {len(test_ids)} test images; "
          f"curves {'logged to run ' + curves.run_id if curves.attached else 'not logged (not under compe run)'}")


if __name__ == "__main__":
    main()
