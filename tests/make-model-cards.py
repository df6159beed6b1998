#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes resources/models/NAME.md for each embedded model from what the model
# file records (command, seed, time, throughput) and what xception-cli
# measures now (evaluate, summary, bench), plus PyTorch's training throughput
# on the same network and recipe (tests/bench/bench-train.py).
#   /usr/bin/python3 tests/make-model-cards.py [--cli build/app/xception-cli]
import argparse
import json
import os
import subprocess

import h5py

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FMNIST = "fashion-mnist:/usr/share/datasets/fashion-mnist"


def cli(args, exe):
    return subprocess.run([exe] + args, check=True, capture_output=True, text=True).stdout


def attr(f, k):
    v = f.attrs.get(k)
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "xception-cli"))
    ap.add_argument("--pytorch-images-per-s", nargs=2, type=float, default=None,
                    help="PyTorch training throughput (separable, standard) from bench-train.py")
    a = ap.parse_args()
    names = ["xception-tiny-fmnist", "xception-tiny-fmnist-standard"]
    cards = {}
    names = [n for n in names
             if os.path.exists(os.path.join(ROOT, "resources", "models", n + ".h5"))]
    for i, name in enumerate(names):
        path = os.path.join(ROOT, "resources", "models", name + ".h5")
        with h5py.File(path, "r") as f:
            command = attr(f, "xception_studio_command")
            seconds = float(attr(f, "xception_studio_train_seconds"))
            ips = float(attr(f, "xception_studio_images_per_second"))
        ev = json.loads(cli(["evaluate", "--model", path, "--dataset", FMNIST, "--json"], a.cli))
        sm = json.loads(cli(["summary", "--model", path, "--json"], a.cli))["totals"]
        bench = json.loads(cli(["bench", "--model", path, "--runs", "20", "--json"], a.cli))
        cards[name] = (command, seconds, ips, ev, sm, bench)

    for i, name in enumerate(names):
        command, seconds, ips, ev, sm, bench = cards[name]
        twin = names[1 - i] if len(names) == 2 else None
        lines = ["# %s" % name, ""]
        lines.append("Keras Applications' Xception topology and layer names (14 blocks, 36 "
                     "convolutions), width multiplier 1/8, 71×71×1 input (Fashion-MNIST's 28×28 "
                     "images upscaled bilinearly), 10 classes, `tf` preprocessing (x/127.5 − 1)%s."
                     % (", with every SeparableConv2D replaced by a standard Conv2D of the same "
                        "kernel, strides and channels" if "standard" in name else ""))
        lines += ["", "Trained by our own engine, from scratch, with:", "", "```",
                  command, "```", ""]
        lines.append("Recipe: SGD with momentum 0.9, peak learning rate 0.05, cosine decay with "
                     "a 1-epoch linear warm-up, weight decay 5e-4 on kernels, batch 64, 6 epochs "
                     "over the 60,000 training images, random crop after 2-pixel zero padding and "
                     "horizontal flips, seed 1; BatchNormalization's moving statistics "
                     "re-estimated over 100 batches at the end.")
        lines += ["", "| | |", "|---|---|",
                  "| test accuracy (10,000 images) | **%.2f%%** |" % (100 * ev["accuracy"]),
                  "| mean cross-entropy on the test set | %.4f |" % ev["loss"],
                  "| params | %s |" % format(sm["params"], ","),
                  "| multiply-accumulates per image | %s |" % format(sm["macs"], ","),
                  "| as standard convolutions | %s params, %s MACs |" % (
                      format(sm["standard_params"], ","), format(sm["standard_macs"], ",")),
                  "| forward latency, batch 1, 2 threads | %.2f ms (median of 20) |" %
                  bench["forward_ms"]["median"],
                  "| training time | %.0f s (%.1f min) on 2 cores |" % (seconds, seconds / 60),
                  "| training throughput, engine | %.0f images/s |" % ips]
        if a.pytorch_images_per_s and len(a.pytorch_images_per_s) > i:
            lines.append("| training throughput, PyTorch 1.13, same network and batch | %.0f "
                         "images/s |" % a.pytorch_images_per_s[i])
        lines += ["", "Per-class accuracy (recall) and precision on the test set:", "",
                  "| class | accuracy | precision |", "|---|---|---|"]
        for c in ev["classes"]:
            lines.append("| %s | %.1f%% | %.1f%% |" % (c["label"], 100 * c["recall"],
                                                      100 * c["precision"]))
        if twin is None:
            lines.append("")
            with open(os.path.join(ROOT, "resources", "models", name + ".md"), "w") as f:
                f.write("\n".join(lines))
            print("wrote %s.md" % name)
            continue
        tev, tsm = cards[twin][3], cards[twin][4]
        lines += ["", "Beside its twin `%s`: %.2f%% against %.2f%% test accuracy, with %.1f× %s "
                  "params and %.1f× %s MACs." % (
                      twin, 100 * ev["accuracy"], 100 * tev["accuracy"],
                      max(sm["params"], tsm["params"]) / min(sm["params"], tsm["params"]),
                      "fewer" if sm["params"] < tsm["params"] else "more",
                      max(sm["macs"], tsm["macs"]) / min(sm["macs"], tsm["macs"]),
                      "fewer" if sm["macs"] < tsm["macs"] else "more"), ""]
        with open(os.path.join(ROOT, "resources", "models", name + ".md"), "w") as f:
            f.write("\n".join(lines))
        print("wrote %s.md" % name)


if __name__ == "__main__":
    main()
