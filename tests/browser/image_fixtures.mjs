// Small image competitions for the image pages' tests, all made here so that they can switch to
// real runs in one place: today the detection and segmentation runs' files (the image-run
// contract's oof_boxes.csv / oof_masks.csv) are written by this module and recorded by
// compe_image_run_fixture (tests/browser/fixtures/image_run.cpp); once `compe run` trains such
// runs, `recordRun` becomes a `compe run` of an experiment.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { COMPE } from './setup.mjs';

export const FIXTURE = process.env.COMPE_IMAGE_RUN_FIXTURE ||
  path.join(path.dirname(COMPE || '.'), 'tests', 'compe_image_run_fixture');

export const SEGMENTATION_TASK = 'segmentation';
export const SEGMENTATION_METRIC = 'dice';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** An RGB PNG of width x height whose pixel (x, y) is colour(x, y) = [r, g, b]. */
export function png(width, height, colour) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; ++y) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; ++x) {
      const [r, g, b] = colour(x, y);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The column-major, 1-based RLE code of the rectangle [x1, x2) x [y1, y2) in an image `height` tall. */
export function rectRle(x1, y1, x2, y2, height) {
  const out = [];
  for (let x = x1; x < x2; ++x) out.push(x * height + y1 + 1, y2 - y1);
  return out.join(' ');
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function csv(header, rows) {
  return [header, ...rows.map(r => r.join(','))].join('\n') + '\n';
}

/** Records a run of `files` ({name: text}) in workspace `ws`; returns its id. */
export function recordRun(ws, name, metric, cv, foldScores, files) {
  const dir = fs.mkdtempSync(path.join(ws, '.fixture-'));
  const paths = Object.entries(files).map(([file, text]) => { write(path.join(dir, file), text); return path.join(dir, file); });
  const id = execFileSync(FIXTURE, [ws, name, metric, String(cv), foldScores.join(','), ...paths], { encoding: 'utf8' }).trim();
  fs.rmSync(dir, { recursive: true, force: true });
  return id;
}

function workspace(ws, task, metric, dataKeys, ids, W, H) {
  write(path.join(ws, 'compe.toml'), `[competition]\nname = "shapes"\ntask = "${task}"\nmetric = "${metric}"\n` +
    `id = "image_id"\nclasses = ["square", "bar"]\n\n[data]\ntrain = "data/train.csv"\n` +
    `test = "data/test.csv"\nsample_submission = "data/sample_submission.csv"\n${dataKeys}`);
  write(path.join(ws, 'data/train.csv'), csv('image_id,width,height', ids.map(id => [id, W, H])));
  write(path.join(ws, 'data/test.csv'), csv('image_id,width,height', [['t0', W, H]]));
  write(path.join(ws, 'data/sample_submission.csv'), csv('image_id,PredictionString', [['t0', '']]));
}

/** Paints the given rectangles ([x1, y1, x2, y2, rgb]) on a grey background. */
function paint(W, H, rects) {
  return png(W, H, (x, y) => {
    for (const [x1, y1, x2, y2, c] of rects) if (x >= x1 && x < x2 && y >= y1 && y < y2) return c;
    return [96, 96, 96];
  });
}

/**
 * A detection competition of six 160x120 images with squares (class 0) and bars (class 1), and
 * one run. Returns {ws, runId, truth, pred}: truth and pred as rows of the CSV files.
 * img_0: both found; img_1: the bar missed; img_2: a false square (score 0.8) where nothing is;
 * img_3: no objects, nothing predicted; img_4: one square found and a weak (0.3) false bar;
 * img_5: the square predicted as a bar (a miss and a false positive).
 */
export function detectionWorkspace(ws) {
  const W = 160, H = 120;
  const ids = ['img_0', 'img_1', 'img_2', 'img_3', 'img_4', 'img_5'];
  workspace(ws, 'detection', 'coco_map50', 'boxes = "data/boxes.csv"\n', ids, W, H);
  const truth = [
    ['img_0', 10, 10, 50, 50, 0], ['img_0', 80, 20, 150, 40, 1],
    ['img_1', 20, 60, 60, 100, 0], ['img_1', 70, 10, 150, 30, 1],
    ['img_2', 100, 70, 140, 110, 0],
    ['img_3', '', '', '', '', ''],
    ['img_4', 30, 30, 70, 70, 0],
    ['img_5', 60, 40, 100, 80, 0],
  ];
  const pred = [
    ['img_0', 11, 11, 50, 49, 0.95, 0, 0], ['img_0', 82, 20, 150, 41, 0.9, 1, 0],
    ['img_1', 21, 61, 60, 99, 0.85, 0, 0],
    ['img_2', 100, 70, 140, 110, 0.9, 0, 1], ['img_2', 5, 5, 40, 40, 0.8, 0, 1],
    ['img_4', 30, 31, 70, 70, 0.7, 0, 2], ['img_4', 100, 90, 150, 110, 0.3, 1, 2],
    ['img_5', 60, 40, 100, 80, 0.6, 1, 2],
  ];
  for (const id of ids) {
    const rects = truth.filter(t => t[0] === id && t[1] !== '').map(t => [t[1], t[2], t[3], t[4], t[5] === 0 ? [220, 200, 40] : [40, 200, 220]]);
    write(path.join(ws, 'data/images', id + '.png'), paint(W, H, rects));
  }
  write(path.join(ws, 'data/boxes.csv'), csv('image_id,x1,y1,x2,y2,label', truth));
  const oof = csv('image_id,x1,y1,x2,y2,score,label,fold', pred);
  const runId = recordRun(ws, 'boxes-cnn', 'coco_map50', 0.61, [0.7, 0.5, 0.6], {
    'oof_boxes.csv': oof,
    'test_boxes.csv': csv('image_id,x1,y1,x2,y2,score,label', [['t0', 1, 1, 20, 20, 0.5, 0]]),
    'test_boxes_folds.csv': csv('image_id,x1,y1,x2,y2,score,label,fold', [['t0', 1, 1, 20, 20, 0.5, 0, 0]]),
    'submission.csv': csv('image_id,PredictionString', [['t0', '0 0.5 1 1 20 20']]),
  });
  return { ws, runId, truth, pred };
}

/**
 * A segmentation competition of four 80x60 images with classes square and bar given as
 * Image_Label,EncodedPixels, and one run. img_0's square is [10, 30) x [20, 50) (x, y) in the
 * truth and [10, 30) x [20, 40) in the OOF; the other images' masks are listed in `masks`.
 */
export function segmentationWorkspace(ws) {
  const W = 80, H = 60;
  const ids = ['img_0', 'img_1', 'img_2', 'img_3'];
  workspace(ws, SEGMENTATION_TASK, SEGMENTATION_METRIC, 'masks = "data/masks.csv"\n', ids, W, H);
  const truth = {
    img_0: { square: [10, 20, 30, 50], bar: null },
    img_1: { square: null, bar: [40, 5, 75, 15] },
    img_2: { square: [50, 30, 70, 50], bar: [5, 5, 40, 12] },
    img_3: { square: null, bar: null },
  };
  const pred = {
    img_0: { square: [10, 20, 30, 40], bar: null },
    img_1: { square: null, bar: [40, 5, 75, 15] },
    img_2: { square: null, bar: [5, 5, 40, 12] },
    img_3: { square: [0, 0, 10, 10], bar: null },
  };
  const code = r => (r ? rectRle(r[0], r[1], r[2], r[3], H) : '');
  const truthRows = [], predRows = [];
  ids.forEach((id, i) => {
    for (const cls of ['square', 'bar']) {
      truthRows.push([`${id}_${cls}`, code(truth[id][cls])]);
      predRows.push([id, cls, code(pred[id][cls]), i % 2]);
    }
    const rects = Object.values(truth[id]).filter(Boolean).map(r => [...r, [200, 200, 200]]);
    write(path.join(ws, 'data/images', id + '.png'), paint(W, H, rects));
  });
  write(path.join(ws, 'data/masks.csv'), csv('Image_Label,EncodedPixels', truthRows));
  const runId = recordRun(ws, 'masks-unet', 'dice', 0.7, [0.8, 0.6], {
    'oof_masks.csv': csv('image_id,label,EncodedPixels,fold', predRows),
    'test_masks.csv': csv('image_id,label,EncodedPixels', [['t0', 'square', '']]),
    'submission.csv': csv('Image_Label,EncodedPixels', [['t0_square', '']]),
  });
  return { ws, runId, truth, pred, W, H };
}
