#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The window at engine speed: xception-studio on the 299x299 Xception, timed
# by its own --timings (from the image handed to the window), beside
# `xception-cli bench` of the same model in the same run, and the ratios the
# app-speed goals are stated in. Runs the app under Xvfb with GTK's software
# renderer and no GL (GDK_DEBUG=gl-disable: under Xvfb GTK would otherwise
# load Mesa's llvmpipe, 44 MB of LLVM, which a real display's driver replaces).
#   /usr/bin/python3 tests/bench/bench-app.py [--build build] [--rounds 5]
# Needs xvfb-run and (for the 299x299 test photo) PIL; both are in
# .ci/install-deps.sh --dev.
import argparse
import json
import os
import statistics
import subprocess
import tempfile

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def bench_cli(cli, model, runs):
    out = subprocess.run([cli, "bench", "--model", model, "--runs", str(runs), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_app(app, model, image, view, tmp, visit_all=False):
    png = os.path.join(tmp, "shot.png")
    timings = os.path.join(tmp, "timings.json")
    env = dict(os.environ, GSK_RENDERER="cairo", GDK_DEBUG="gl-disable",
               GSETTINGS_BACKEND="memory", XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp,
               NO_AT_BRIDGE="1", GTK_A11Y="none")
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", app, "--model", model,
           "--view", view, "--screenshot", png, "--timings", timings]
    if visit_all:
        cmd.append("--visit-all")
    subprocess.run(cmd + [image], check=True, env=env, capture_output=True, timeout=900)
    with open(timings) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    cli = os.path.join(args.build, "app", "xception-cli")
    app = os.path.join(args.build, "app", "xception-studio")
    model = "builtin:xception"

    with tempfile.TemporaryDirectory() as tmp:
        photo = os.path.join(tmp, "photo299.png")
        Image.open(os.path.join(ROOT, "..", "shared", "images", "group_photo.jpg")) \
            .convert("RGB").resize((299, 299), Image.BILINEAR).save(photo)
        rows = []
        # alternate the engine and the window so that both see the same machine
        for r in range(args.rounds):
            b = bench_cli(cli, model, args.runs)
            w = run_app(app, model, photo, "explain", tmp)
            rows.append((b, w))
            fwd = b["forward_ms"]["median"]
            print(f"round {r + 1}: bench forward {fwd:.1f} ms; window predictions "
                  f"{w['predictions_ms']:.1f} ms ({w['predictions_ms'] / fwd:.2f}x; its forward "
                  f"with statistics {w['forward_ms']:.1f} ms), "
                  f"Grad-CAM overlay {w['explanation_ms']:.1f} ms, all done "
                  f"{w['all_done_ms'] / 1000:.1f} s (faithfulness: 43 forwards), "
                  f"peak RSS {w['peak_rss_bytes'] / 2**20:.0f} MB", flush=True)
        tour = run_app(app, model, photo, "explain", tmp, visit_all=True)
        tiny = run_app(app, "embedded:xception-tiny-fmnist",
                       os.path.join(ROOT, "resources", "samples",
                                    "fmnist-test-0000-ankle-boot.png"), "predictions", tmp)
        b = rows[-1][0]
        grad = {g["layer"]: g for g in b["gradcam"]}

    med = statistics.median
    print()
    print("Xception 299x299, 1000 classes, batch 1, 2 threads, GEMM %s, OpenBLAS %s kernels" %
          (b.get("gemm", "OpenBLAS"), b["blas_core"]))
    print("| | measured | goal |")
    print("|---|---|---|")
    ratio = med(w["predictions_ms"] / b["forward_ms"]["median"] for b, w in rows)
    print(f"| image -> predictions on screen / one bench forward | {ratio:.2f}x "
          f"(median of {args.rounds} rounds) | <= 1.5x |")
    print(f"| image -> predictions + Grad-CAM overlay on screen | "
          f"{med(w['explanation_ms'] for _, w in rows):.0f} ms | <= 500 ms |")
    print(f"| launch -> first prediction, embedded model and sample | "
          f"{tiny['launch_to_predictions_ms']:.0f} ms | <= 800 ms |")
    print(f"| peak RSS after every view (faithfulness included) | "
          f"{tour['peak_rss_bytes'] / 2**20:.0f} MB | <= 300 MB |")
    print(f"| bench peak RSS with Grad-CAM at the default layer | "
          f"{b['gradcam'][0]['peak_rss_bytes'] / 2**20:.0f} MB | <= 250 MB |")
    for layer, goal in (("block14_sepconv2_act", 1.1), ("block4_sepconv1_act", 2.0)):
        if layer in grad:
            # each round's bench times its forwards between its Grad-CAMs
            r = [g["ratio_to_forward"] for b, _ in rows for g in b["gradcam"]
                 if g["layer"] == layer]
            print(f"| bench Grad-CAM at {layer} / forward | {med(r):.2f}x (median of "
                  f"{len(r)} rounds, {min(r):.2f}-{max(r):.2f}) | <= {goal}x |")
    print(f"| bench forward, median | {b['forward_ms']['median']:.1f} ms | |")


if __name__ == "__main__":
    main()
