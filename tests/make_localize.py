# SPDX-License-Identifier: MIT
#
# Localisation data and goldens (tests/data/localize/), without the C engine:
#   images/{square,disk}/NNN.png   48x48 gray: a bright square or a dark disk on noise
#   boxes.csv                      image,x,y,width,height,label of each shape
#   maps/K.map.npy                 random maps (h, w) for the metric cases
#   maps/K.q.npy                   the golden's 8-bit quantised upsampled map
#   maps/cases.txt                 K IMG_H IMG_W X Y W H [X Y W H] | HIT IOU T AX AY
# The metrics in numpy, as CheXlocalize defines them: the map upsampled to
# the image (bilinear, half-pixel centres: torch's interpolate with
# align_corners=False), min-max normalised, max -> pointing game; uint8(255 v)
# binarised at Otsu's threshold (OpenCV's THRESH_OTSU) -> IoU with the boxes.
import os
import shutil

import numpy as np
import torch
from PIL import Image


def otsu(q):
    """OpenCV's getThreshVal_Otsu_8u, in numpy: class 0 is q <= t."""
    hist = np.bincount(q.ravel(), minlength=256).astype(np.float64)
    n = q.size
    best, t_best = -1.0, 0
    w0 = s0 = 0.0
    total = (np.arange(256) * hist).sum()
    for t in range(256):
        w0 += hist[t]
        s0 += t * hist[t]
        w1 = n - w0
        if w0 == 0 or w1 == 0:
            continue
        mu0, mu1 = s0 / w0, (total - s0) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
        if between > best:
            best, t_best = between, t
    return t_best


def box_mask(boxes, h, w):
    """Pixels whose centres lie in [x, x + w) x [y, y + h)."""
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    m = np.zeros((h, w), bool)
    for x, y, bw, bh in boxes:
        m |= (xx >= x) & (xx < x + bw) & (yy >= y) & (yy < y + bh)
    return m


def bilinear(m, h, w):
    """Half-pixel centres, no antialiasing (tf.image.resize; torch's
    interpolate with align_corners=False), in float64 numpy: torch rounds
    its scale to float32, which moves exact cell centres off by 1e-8."""
    ih, iw = m.shape
    fy = np.maximum((np.arange(h) + 0.5) * ih / h - 0.5, 0.0)
    fx = np.maximum((np.arange(w) + 0.5) * iw / w - 0.5, 0.0)
    y0 = np.minimum(fy.astype(int), ih - 1)
    x0 = np.minimum(fx.astype(int), iw - 1)
    y1, x1 = np.minimum(y0 + 1, ih - 1), np.minimum(x0 + 1, iw - 1)
    wy, wx = (fy - y0)[:, None], (fx - x0)[None, :]
    top = m[y0][:, x0] + (m[y0][:, x1] - m[y0][:, x0]) * wx
    bot = m[y1][:, x0] + (m[y1][:, x1] - m[y1][:, x0]) * wx
    return top + (bot - top) * wy


def upsample01(m, h, w):
    u = bilinear(m.astype(np.float64), h, w)
    # the same resize as torch's, checked here so the formula cannot drift
    t = torch.nn.functional.interpolate(torch.from_numpy(m.astype(np.float64))[None, None],
                                        size=(h, w), mode="bilinear", align_corners=False,
                                        antialias=False)[0, 0].numpy()
    assert np.abs(t - u).max() < 1e-6
    lo, hi = u.min(), u.max()
    return (u - lo) / (hi - lo) if hi > lo else np.zeros_like(u)


def metrics(m, h, w, boxes):
    v = upsample01(m, h, w)
    truth = box_mask(boxes, h, w)
    at = int(np.argmax(v))
    q = (255.0 * v).astype(np.uint8)
    t = otsu(q)
    pred = q > t
    inter, union = (pred & truth).sum(), (pred | truth).sum()
    return bool(truth.ravel()[at]), float(inter / union if union else 0.0), t, at % w, at // w, q


def make_localize(data):
    out = os.path.join(data, "localize")
    if os.path.isdir(out):
        shutil.rmtree(out)
    rng = np.random.default_rng(2027)
    rows = ["image,x,y,width,height,label"]
    for label in ("square", "disk"):
        os.makedirs(os.path.join(out, "images", label))
        for i in range(40):
            img = rng.normal(110, 12, size=(48, 48))
            s = int(rng.integers(12, 19))
            x0, y0 = (int(v) for v in rng.integers(0, 48 - s, size=2))
            yy, xx = np.mgrid[0:48, 0:48]
            if label == "square":
                inside = (xx >= x0) & (xx < x0 + s) & (yy >= y0) & (yy < y0 + s)
            else:
                c = s / 2.0
                inside = (xx + 0.5 - x0 - c) ** 2 + (yy + 0.5 - y0 - c) ** 2 <= c * c
            # bright squares, dark disks: easy to tell apart, so that a small
            # model trained for seconds looks at the shape itself
            img[inside] = rng.normal(230 if label == "square" else 10, 8, size=int(inside.sum()))
            name = "%s/%03d.png" % (label, i)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                os.path.join(out, "images", name))
            rows.append("%s,%d,%d,%d,%d,%s" % (name, x0, y0, s, s, label))
    with open(os.path.join(out, "boxes.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")

    os.makedirs(os.path.join(out, "maps"))
    lines = ["# K IMG_H IMG_W boxes (X Y W H)... | HIT IOU OTSU ARGMAX_X ARGMAX_Y: "
             "made by tests/make_localize.py"]
    for k in range(16):
        # odd whole scales: the maximum's pixel sits on its cell's centre,
        # so float32 and float64 agree on where it is
        mh, mw = (int(v) for v in rng.integers(2, 11, size=2))
        ky, kx = (int(v) for v in rng.choice([3, 5, 7, 9], size=2))
        h, w = mh * ky, mw * kx
        m = (rng.random((mh, mw)) ** 2).astype(np.float32).astype(np.float64)
        boxes = []
        for _ in range(int(rng.integers(1, 3))):
            bw, bh = float(rng.uniform(2, w / 2)), float(rng.uniform(2, h / 2))
            boxes.append((round(float(rng.uniform(-3, w - bw)), 2),
                          round(float(rng.uniform(-3, h - bh)), 2), round(bw, 2), round(bh, 2)))
        hit, iou, t, ax, ay, q = metrics(m, h, w, boxes)
        np.save(os.path.join(out, "maps", "%d.map.npy" % k), m.astype(np.float32))
        np.save(os.path.join(out, "maps", "%d.q.npy" % k), np.ascontiguousarray(q, dtype=np.float32))
        lines.append("%d %d %d %s | %d %.12f %d %d %d" % (
            k, h, w, " ".join("%g %g %g %g" % b for b in boxes), hit, iou, t, ax, ay))
    with open(os.path.join(out, "maps", "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
