#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The speed anchor: ONNX Runtime (npm's onnxruntime-node, CPU) on the same
# Xception 299x299 as `xception-cli bench`, same CPU, same threads, in one
# run, the two alternating. The network is bench-pytorch.py's torch.nn
# Xception (eval mode), exported with Debian's PyTorch (torch.onnx.export,
# opset 13); ONNX Runtime folds its BatchNormalization into the convolutions.
#   /usr/bin/python3 tests/bench/bench-onnxruntime.py [--ort-dir DIR] [--rounds 3]
# DIR holds node_modules/onnxruntime-node: `npm install --ignore-scripts
# onnxruntime-node@1.30.0` there (its CPU binaries are in the package).
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("bench_pytorch", os.path.join(HERE, "bench-pytorch.py"))
bp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bp)

RUNNER = r"""
const ort = require(process.argv[2]);
(async () => {
  const threads = parseInt(process.argv[4]), runs = parseInt(process.argv[5]);
  const s = await ort.InferenceSession.create(process.argv[3], {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    executionMode: 'sequential' });
  const x = new ort.Tensor('float32', Float32Array.from({length: 299 * 299 * 3},
                                                         () => Math.random() * 2 - 1),
                           [1, 3, 299, 299]);
  const feeds = {}; feeds[s.inputNames[0]] = x;
  await s.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  console.log(JSON.stringify({median: t[Math.floor(runs / 2)], min: t[0], max: t[runs - 1]}));
})();
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/app/xception-cli")
    ap.add_argument("--ort-dir", default=os.environ.get("ORT_DIR", "/tmp/ort"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    ort = os.path.join(a.ort_dir, "node_modules", "onnxruntime-node")
    if not os.path.isdir(ort):
        sys.exit(f"no {ort}: run `npm install --ignore-scripts onnxruntime-node@1.30.0` in "
                 f"{a.ort_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        onnx = os.path.join(tmp, "xception.onnx")
        model = bp.Xception().eval()
        torch.onnx.export(model, torch.zeros(1, 3, 299, 299), onnx, opset_version=13,
                          input_names=["input"], output_names=["logits"])
        runner = os.path.join(tmp, "run.js")
        with open(runner, "w") as f:
            f.write(RUNNER)
        ratios = []
        for r in range(a.rounds):
            ours = bp.bench_ours(a.cli, a.runs, a.threads, "builtin:xception")
            out = subprocess.run(["node", runner, ort, onnx, str(a.threads), str(a.runs)],
                                 check=True, capture_output=True, text=True).stdout
            theirs = json.loads(out.strip().splitlines()[-1])
            e, o = ours["forward_ms"]["median"], theirs["median"]
            ratios.append(o / e)
            print(f"round {r + 1}: engine {e:.1f} ms (GEMM {ours.get('gemm', 'OpenBLAS')}, OpenBLAS {ours['blas_core']}), "
                  f"ONNX Runtime {o:.1f} ms (min {theirs['min']:.1f}); "
                  f"ONNX Runtime / engine = {o / e:.2f}x", flush=True)
    print(f"Xception 299x299, batch 1, {a.threads} threads: ONNX Runtime / engine = "
          f"{statistics.median(ratios):.2f}x (median of {a.rounds} rounds; above 1: we are faster)")


if __name__ == "__main__":
    main()
