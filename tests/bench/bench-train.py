#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Training throughput of the embedded models' recipe (Xception, width 1/8,
# 71x71 gray Fashion-MNIST, batch 64, SGD with momentum), our engine
# (xception-cli train on a subset, its own images/s) and Debian's PyTorch on
# the same network and batch, in the same run, same threads.
#   /usr/bin/python3 tests/bench/bench-train.py [--cli build/app/xception-cli] [--steps 40]
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module  # noqa: E402

bp = import_module("bench-pytorch")


def engine(cli, arch, steps, threads):
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([cli, "train", "--arch", arch, "--width", "1/8", "--input-size", "71",
                              "--dataset", "fashion-mnist:/usr/share/datasets/fashion-mnist",
                              "--subset", str(steps * 64), "--epochs", "1", "--batch", "64",
                              "--threads", str(threads), "--json", "--out",
                              os.path.join(d, "m.h5")],
                             check=True, capture_output=True, text=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return lines[-1]["images_per_s"]


def pytorch(standard, steps, threads):
    torch.set_num_threads(threads)
    model = bp.Xception(classes=10, standard=standard, width=1 / 8, in_ch=1).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(64, 1, 71, 71) * 2 - 1
    y = torch.randint(0, 10, (64,))
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return steps * 64 / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/app/xception-cli")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    print("training throughput, Xception width 1/8, 71x71x1, batch 64, %d threads" % a.threads)
    for arch, std in (("xception", False), ("xception-standard", True)):
        e = engine(a.cli, arch, a.steps, a.threads)
        p = pytorch(std, a.steps, a.threads)
        print("%-18s engine %7.1f images/s   PyTorch %7.1f images/s   engine / PyTorch %.2fx" %
              (arch, e, p, e / p))


if __name__ == "__main__":
    main()
