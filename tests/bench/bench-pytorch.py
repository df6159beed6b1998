#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Xception forward at 299x299, batch 1: our engine (xception-cli bench) and
# Debian's PyTorch on the same network, same CPU, same run, same threads.
# PyTorch's model is plain torch.nn (Conv2d, depthwise Conv2d with groups=C,
# BatchNorm2d in eval mode, TF "same" padding done by F.pad where needed).
#   /usr/bin/python3 tests/bench/bench-pytorch.py [--cli build/app/xception-cli] [--runs 10]
import argparse
import json
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SepConv(nn.Module):
    def __init__(self, cin, cout, standard=False):
        super().__init__()
        if standard:
            self.dw = None
            self.pw = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        else:
            self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pw = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pw(self.dw(x) if self.dw is not None else x)


def cut(x, name, where):
    """Grad-CAM's cheapest form in PyTorch: the target layer becomes a leaf
    that requires grad, so backward stops there (as our engine's does)."""
    if name == where.get("name"):
        x = x.detach().requires_grad_(True)
        where["tensor"] = x
    return x


class Block(nn.Module):
    """Entry/exit block: [relu] sep bn relu sep bn, maxpool 3/2 same, 1x1/2 residual."""
    def __init__(self, cin, c1, c2, first_relu, standard, index=0):
        super().__init__()
        self.first_relu = first_relu
        self.index = index
        self.where = {}
        self.s1, self.b1 = SepConv(cin, c1, standard), nn.BatchNorm2d(c1, eps=1e-3)
        self.s2, self.b2 = SepConv(c1, c2, standard), nn.BatchNorm2d(c2, eps=1e-3)
        self.res, self.rb = nn.Conv2d(cin, c2, 1, stride=2, bias=False), nn.BatchNorm2d(c2, eps=1e-3)

    def forward(self, x):
        y = cut(F.relu(x), "block%d_sepconv1_act" % self.index, self.where) \
            if self.first_relu else x
        y = F.relu(self.b1(self.s1(y)))
        y = self.b2(self.s2(y))
        # TF "same" for 3x3 stride 2: pads (1, 1) on odd sizes, (0, 1) on even ones
        pt = y.shape[2] % 2
        y = F.max_pool2d(F.pad(y, (pt, 1, pt, 1), value=float("-inf")), 3, 2)
        return y + self.rb(self.res(x))


class Middle(nn.Module):
    def __init__(self, c, standard):
        super().__init__()
        self.s = nn.ModuleList([SepConv(c, c, standard) for _ in range(3)])
        self.b = nn.ModuleList([nn.BatchNorm2d(c, eps=1e-3) for _ in range(3)])

    def forward(self, x):
        y = x
        for s, b in zip(self.s, self.b):
            y = b(s(F.relu(y)))
        return y + x


class Xception(nn.Module):
    def __init__(self, classes=1000, standard=False, width=1.0, in_ch=3):
        super().__init__()
        f = lambda n: max(1, round(n * width))
        self.c1, self.b1 = nn.Conv2d(in_ch, f(32), 3, stride=2, bias=False), nn.BatchNorm2d(f(32), eps=1e-3)
        self.c2, self.b2 = nn.Conv2d(f(32), f(64), 3, bias=False), nn.BatchNorm2d(f(64), eps=1e-3)
        self.entry = nn.Sequential(Block(f(64), f(128), f(128), False, standard, 2),
                                   Block(f(128), f(256), f(256), True, standard, 3),
                                   Block(f(256), f(728), f(728), True, standard, 4))
        self.where = {}
        self.middle = nn.Sequential(*[Middle(f(728), standard) for _ in range(8)])
        self.exit = Block(f(728), f(728), f(1024), True, standard)
        self.s14a, self.b14a = SepConv(f(1024), f(1536), standard), nn.BatchNorm2d(f(1536), eps=1e-3)
        self.s14b, self.b14b = SepConv(f(1536), f(2048), standard), nn.BatchNorm2d(f(2048), eps=1e-3)
        self.fc = nn.Linear(f(2048), classes)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        x = self.exit(self.middle(self.entry(x)))
        x = F.relu(self.b14a(self.s14a(x)))
        x = cut(F.relu(self.b14b(self.s14b(x))), "block14_sepconv2_act", self.where)
        return self.fc(x.mean(dim=(2, 3)))

    def set_cut(self, name):
        self.where = {"name": name}
        for b in self.entry:
            b.where = self.where


def gradcam_torch(model, x, layer):
    """Forward, backward of the top logit to the layer, the Grad-CAM map."""
    model.set_cut(layer)
    logits = model(x)
    cls = int(logits.argmax())
    logits[0, cls].backward()
    a = model.where["tensor"]
    w = a.grad.mean(dim=(2, 3), keepdim=True)
    return torch.relu((w * a).sum(dim=1))


def bench_torch(runs, threads, standard=False, size=299):
    torch.set_num_threads(threads)
    model = Xception(standard=standard).eval()
    n_params = sum(p.numel() for p in model.parameters())
    x = torch.rand(1, 3, size, size) * 2 - 1
    times = []
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.inference_mode():
        model(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            torch.softmax(model(x), dim=1)
            times.append((time.perf_counter() - t0) * 1000)
    res = {"median": statistics.median(times), "min": min(times), "max": max(times),
           "params": n_params, "gradcam": {}}
    for layer in ("block14_sepconv2_act", "block4_sepconv1_act"):
        t = []
        gradcam_torch(model, x, layer)
        for _ in range(runs):
            t0 = time.perf_counter()
            gradcam_torch(model, x, layer)
            t.append((time.perf_counter() - t0) * 1000)
        res["gradcam"][layer] = statistics.median(t)
    return res


def bench_ours(cli, runs, threads, spec):
    out = subprocess.run([cli, "bench", "--model", spec, "--runs", str(runs),
                          "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/app/xception-cli")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--standard", action="store_true", help="also the standard-conv variant")
    a = ap.parse_args()
    variants = [("separable", "builtin:xception", False)]
    if a.standard:
        variants.append(("standard", "builtin:xception:variant=standard", True))
    print("Xception 299x299, batch 1, %d threads, %d runs; torch %s" %
          (a.threads, a.runs, torch.__version__))
    for name, spec, std in variants:
        ours = bench_ours(a.cli, a.runs, a.threads, spec)
        pt = bench_torch(a.runs, a.threads, std)
        o = ours["forward_ms"]["median"]
        print("%-9s engine  median %8.1f ms  (min %.1f, max %.1f), peak RSS %.0f MB" %
              (name, o, ours["forward_ms"]["min"], ours["forward_ms"]["max"],
               ours["peak_rss_bytes"] / 2**20))
        print("%-9s PyTorch median %8.1f ms  (min %.1f, max %.1f), %d params" %
              (name, pt["median"], pt["min"], pt["max"], pt["params"]))
        print("%-9s PyTorch / engine = %.2fx" % (name, pt["median"] / o))
        for g in ours.get("gradcam", []):
            tp = pt["gradcam"].get(g["layer"])
            print("%-9s Grad-CAM at %-22s engine %7.1f ms (%.2fx forward), PyTorch autograd "
                  "%7.1f ms (%.2fx its forward), PyTorch / engine = %.2fx" %
                  (name, g["layer"], g["median_ms"], g["ratio_to_forward"], tp,
                   tp / pt["median"], tp / g["median_ms"]))


if __name__ == "__main__":
    main()
