#!/usr/bin/env python3
"""Trains one fold of a small PyTorch model for the Fashion-MNIST scene competitions, for
`compe run` with the command backend (docs/COMMAND_TRAINER.md), from scratch (no downloaded
weights). The task comes from COMPE_TASK:

  multilabel    a CNN with one sigmoid output per class (binary cross-entropy); writes
                id + one probability column per target column
  detection     a CenterNet-style net (stride 4): a heatmap per class and the box size per
                cell; writes image_id,x1,y1,x2,y2,score,label in pixels, label = the class index
                (top 20 peaks per image)
  segmentation  a small U-Net with one sigmoid map per class; writes image_id,label,EncodedPixels
                (column-major, 1-based RLE; pixels with probability > 0.5)

Images come from images.npy next to the workspace's train.csv (an image's id is its row); the
fold's CSV files say which ids train, validate and get predicted. Targets: the multilabel
columns of train.csv; COMPE_BOXES_CSV (detection ground truth) and COMPE_MASKS_CSV (segmentation
masks) for the other two.

Parameters (COMPE_PARAMS_JSON): epochs (8), lr (3e-3), batch_size (64), width (16), images
(path of images.npy; default: beside COMPE_TRAIN_CSV's source, given by the experiment).
Device: CUDA when available, else the CPU with COMPE_THREADS threads.
"""

import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ENV = os.environ


def params():
    return json.loads(ENV.get("COMPE_PARAMS_JSON", "{}") or "{}")


def read_ids(path, id_column):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def log_curve(step, **values):
    path = ENV.get("COMPE_METRICS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **values}) + "\n")


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Classifier(nn.Module):
    def __init__(self, width, outputs):
        super().__init__()
        w = width
        self.net = nn.Sequential(block(1, w), block(w, w), nn.MaxPool2d(2), block(w, 2 * w), block(2 * w, 2 * w),
                                 nn.MaxPool2d(2), block(2 * w, 4 * w), block(4 * w, 4 * w), nn.AdaptiveMaxPool2d(1),
                                 nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * w, outputs))

    def forward(self, x):
        return self.net(x)


class UNet(nn.Module):
    """Encoder at strides 1, 2, 4, 8; decoder back to stride `out_stride` (1 or 4)."""

    def __init__(self, width, outputs, out_stride=1):
        super().__init__()
        w = width
        self.e1, self.e2 = nn.Sequential(block(1, w), block(w, w)), nn.Sequential(block(w, 2 * w), block(2 * w, 2 * w))
        self.e3 = nn.Sequential(block(2 * w, 4 * w), block(4 * w, 4 * w))
        self.e4 = nn.Sequential(block(4 * w, 4 * w), block(4 * w, 4 * w))
        self.d3 = block(8 * w, 4 * w)
        self.d2 = block(6 * w, 2 * w)
        self.d1 = block(3 * w, w)
        self.out_stride = out_stride
        self.head = nn.Conv2d(4 * w if out_stride == 4 else w, outputs, 1)

    def forward(self, x):
        x1 = self.e1(x)
        x2 = self.e2(F.max_pool2d(x1, 2))
        x3 = self.e3(F.max_pool2d(x2, 2))
        x4 = self.e4(F.max_pool2d(x3, 2))
        y3 = self.d3(torch.cat([F.interpolate(x4, scale_factor=2), x3], 1))
        if self.out_stride == 4:
            return self.head(y3)
        y2 = self.d2(torch.cat([F.interpolate(y3, scale_factor=2), x2], 1))
        y1 = self.d1(torch.cat([F.interpolate(y2, scale_factor=2), x1], 1))
        return self.head(y1)


def rle(mask):
    flat = mask.T.reshape(-1).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [0]]))) + 1
    return " ".join(f"{s} {e - s}" for s, e in zip(edges[0::2], edges[1::2]))


def unrle(code, h, w):
    flat = np.zeros(h * w, dtype=np.uint8)
    nums = [int(t) for t in code.split()]
    for s, n in zip(nums[0::2], nums[1::2]):
        flat[s - 1:s - 1 + n] = 1
    return flat.reshape(w, h).T


class Task:
    """What differs between the three kinds: targets, the model, the loss and the output file."""

    def __init__(self, kind, classes, size, width):
        self.kind, self.classes, self.size = kind, classes, size
        k = len(classes)
        if kind == "multilabel":
            self.model = Classifier(width, k)
        elif kind == "detection":
            self.model = UNet(width, k + 2, out_stride=4)  # heatmaps + log box width and height
        else:
            self.model = UNet(width, k)

    def targets(self, rows, ids):
        h, w = self.size
        k = len(self.classes)
        if self.kind == "multilabel":
            return torch.tensor([[float(r[c]) for c in self.classes] for r in rows])
        if self.kind == "segmentation":
            masks = np.zeros((len(ids), k, h, w), dtype=np.float32)
            where = {i: n for n, i in enumerate(ids)}
            for image, label, code in self.masks:
                if image in where and code:
                    masks[where[image], self.classes.index(label)] = unrle(code, h, w)
            return torch.from_numpy(masks)
        gh, gw = h // 4, w // 4  # CenterNet targets: Gaussian peaks, sizes at the centres
        heat = np.zeros((len(ids), k + 2, gh, gw), dtype=np.float32)
        where = {i: n for n, i in enumerate(ids)}
        yy, xx = np.mgrid[0:gh, 0:gw]
        for image, x1, y1, x2, y2, label in self.boxes:
            if image not in where:
                continue
            n, c = where[image], label
            cx, cy = (x1 + x2) / 8.0, (y1 + y2) / 8.0
            sigma = max(0.7, min(x2 - x1, y2 - y1) / 24.0)
            heat[n, c] = np.maximum(heat[n, c], np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)))
            ix, iy = min(gw - 1, int(cx)), min(gh - 1, int(cy))
            heat[n, k, iy, ix], heat[n, k + 1, iy, ix] = np.log(x2 - x1), np.log(y2 - y1)
        return torch.from_numpy(heat)

    def loss(self, out, y):
        if self.kind != "detection":
            return F.binary_cross_entropy_with_logits(out, y)
        k = len(self.classes)
        p = torch.sigmoid(out[:, :k]).clamp(1e-4, 1 - 1e-4)
        t = y[:, :k]
        pos = t.eq(1).float()
        focal = -(pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * (1 - t) ** 4 * p ** 2 * torch.log(1 - p)).sum()
        centres = (y[:, k] != 0).float()
        size = (F.l1_loss(out[:, k:], y[:, k:], reduction="none").sum(1) * centres).sum()
        n = pos.sum().clamp_min(1)
        return (focal + 0.1 * size) / n

    def write(self, path, ids, out, id_column):
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            if self.kind == "multilabel":
                w.writerow([id_column] + self.classes)
                for i, row in zip(ids, torch.sigmoid(out).tolist()):
                    w.writerow([i] + [repr(v) for v in row])
            elif self.kind == "segmentation":
                w.writerow(["image_id", "label", "EncodedPixels"])
                probs = torch.sigmoid(out).numpy()
                for i, maps in zip(ids, probs):
                    for c, name in enumerate(self.classes):
                        code = rle(maps[c] > 0.5)
                        if code:
                            w.writerow([i, name, code])
            else:
                w.writerow(["image_id", "x1", "y1", "x2", "y2", "score", "label"])
                k = len(self.classes)
                heat = torch.sigmoid(out[:, :k])
                peaks = heat * (heat == F.max_pool2d(heat, 3, 1, 1)).float()
                h, wd = self.size
                for n, i in enumerate(ids):
                    scores, idx = peaks[n].reshape(-1).topk(20)
                    for s, j in zip(scores.tolist(), idx.tolist()):
                        if s < 0.05:
                            break
                        c, rest = divmod(j, peaks.shape[2] * peaks.shape[3])
                        gy, gx = divmod(rest, peaks.shape[3])
                        bw, bh = np.exp(out[n, k, gy, gx].item()), np.exp(out[n, k + 1, gy, gx].item())
                        cx, cy = (gx + 0.5) * 4, (gy + 0.5) * 4
                        x1, y1 = max(0.0, cx - bw / 2), max(0.0, cy - bh / 2)
                        x2, y2 = min(float(wd), cx + bw / 2), min(float(h), cy + bh / 2)
                        if x2 > x1 and y2 > y1:
                            w.writerow([i, f"{x1:.2f}", f"{y1:.2f}", f"{x2:.2f}", f"{y2:.2f}", f"{s:.5f}", c])


def main():
    p = params()
    kind = ENV["COMPE_TASK"]
    id_column = ENV["COMPE_ID_COLUMN"]
    epochs, lr = int(p.get("epochs", 8)), float(p.get("lr", 3e-3))
    batch_size, width = int(p.get("batch_size", 64)), int(p.get("width", 16))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(max(1, int(ENV.get("COMPE_THREADS", "0") or 2)))
    seed = int(ENV.get("COMPE_SEED", "0"))
    torch.manual_seed(seed)

    images = np.load(p["images"]) if "images" in p else np.load(Path(ENV["COMPE_DATA_DIR"]) / "images.npy")
    size = images.shape[1:]
    if kind == "multilabel":
        classes = [c for c in ENV["COMPE_TARGET_COLUMNS"].split(",") if c]
    else:
        classes = json.loads(ENV["COMPE_CLASSES"])
    task = Task(kind, classes, size, width)
    if kind == "detection":
        with open(ENV["COMPE_BOXES_CSV"], newline="", encoding="utf-8") as f:
            # label: the class index (docs/COMMAND_TRAINER.md); a row with empty cells: no objects.
            task.boxes = [(r["image_id"], float(r["x1"]), float(r["y1"]), float(r["x2"]), float(r["y2"]),
                           int(r["label"])) for r in csv.DictReader(f) if r["x1"] != ""]
    if kind == "segmentation":
        with open(ENV["COMPE_MASKS_CSV"], newline="", encoding="utf-8") as f:
            task.masks = []
            for r in csv.DictReader(f):
                if "Image_Label" in r:  # <id>_<class>, the class being one of COMPE_CLASSES
                    cls = max((c for c in classes if r["Image_Label"].endswith("_" + c)), key=len)
                    task.masks.append((r["Image_Label"][:-len(cls) - 1], cls, r["EncodedPixels"]))
                else:
                    task.masks.append((r["image_id"], r["label"], r["EncodedPixels"]))

    train_rows, valid_rows = read_ids(ENV["COMPE_TRAIN_CSV"], id_column), read_ids(ENV["COMPE_VALID_CSV"], id_column)
    test_rows = read_ids(ENV["COMPE_TEST_CSV"], id_column)
    ids = lambda rows: [r[id_column] for r in rows]  # noqa: E731

    def tensor(rows):
        x = images[np.array([int(r[id_column]) for r in rows], dtype=np.int64)].astype(np.float32) / 255.0
        return torch.from_numpy((x - 0.2) / 0.3).unsqueeze(1)

    x_train, y_train = tensor(train_rows), task.targets(train_rows, ids(train_rows))
    x_valid, y_valid = tensor(valid_rows), task.targets(valid_rows, ids(valid_rows))
    x_test = tensor(test_rows)
    model = task.model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(train_rows) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps))

    @torch.no_grad()
    def run(x):
        model.eval()
        return torch.cat([model(x[i:i + 256].to(device)).cpu() for i in range(0, len(x), 256)])

    started = time.monotonic()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x_train))
        total = 0.0
        for i in range(0, len(perm), batch_size):
            b = perm[i:i + batch_size]
            loss = task.loss(model(x_train[b].to(device)), y_train[b].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        valid_loss = task.loss(run(x_valid), y_valid).item()
        log_curve(epoch + 1, train_loss=total / len(perm), valid_loss=valid_loss)
        print(f"fold {ENV['COMPE_FOLD']} epoch {epoch + 1}/{epochs}: train_loss {total / len(perm):.4f} "
              f"valid_loss {valid_loss:.4f} ({time.monotonic() - started:.0f} s, {device})", flush=True)

    out_dir = Path(ENV["COMPE_OUTPUT_DIR"])
    task.write(out_dir / "oof.csv", ids(valid_rows), run(x_valid), id_column)
    task.write(out_dir / "test.csv", ids(test_rows), run(x_test), id_column)


if __name__ == "__main__":
    main()
