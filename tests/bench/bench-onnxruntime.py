#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The speed anchor: ONNX Runtime (npm's onnxruntime-node, CPU) on the same
# Xception 299x299 as `xception-cli bench`, same CPU, same threads, in one
# run, the two alternating. The network is bench-pytorch.py's torch.nn
# Xception (eval mode), exported with Debian's PyTorch (torch.onnx.export,
# opset 13); ONNX Runtime folds its BatchNormalization into the convolutions.
# Runs are paired one by one: node drives `xception-cli bench --interleave`
# in a child process, ours and ONNX Runtime's forward alternating (which goes
# first alternating too), so that each ratio comes from two runs a fraction
# of a second apart on this noisy machine. Before each run, the process that
# ran last must have gone quiet: ONNX Runtime's pool keeps a thread spinning
# for 30-40 ms after a run (one CPU of two), so a fixed 20 ms of rest let it
# take a core from the first third of every forward that followed it (our
# entry flow 9 ms slower after ONNX Runtime's runs than after our own); our
# threads stop within a few ms. Quiet: its threads' run time (schedstat)
# grew by under 1 ms in each of the last two 5 ms polls, 20 ms at least.
#   /usr/bin/python3 tests/bench/bench-onnxruntime.py [--ort-dir DIR] [--rounds 3] [--runs 30]
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
// argv: onnxruntime-node dir, model.onnx, threads, runs, xception-cli
const ort = require(process.argv[2]);
const { spawn } = require('child_process');
const readline = require('readline');
(async () => {
  const threads = parseInt(process.argv[4]), runs = parseInt(process.argv[5]);
  const s = await ort.InferenceSession.create(process.argv[3], {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    executionMode: 'sequential' });
  const x = new ort.Tensor('float32', Float32Array.from({length: 299 * 299 * 3},
                                                         () => Math.random() * 2 - 1),
                           [1, 3, 299, 299]);
  const feeds = {}; feeds[s.inputNames[0]] = x;
  // the engine in its own process, one forward per line we send it
  const cli = spawn(process.argv[6], ['bench', '--model', 'builtin:xception', '--threads',
                                      String(threads), '--interleave'],
                    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: cli.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value;
  if (await next() !== 'ready') throw new Error('xception-cli bench --interleave did not start');
  const ours = async () => { cli.stdin.write('\n'); return parseFloat(await next()); };
  const theirs = async () => {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // the other side's threads must have stopped spinning before a timed run:
  // wait until the process that ran last is quiet (see the top of the script)
  const fs = require('fs');
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const busyNs = pid => {
    let t = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { t += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); }
      catch (e) { /* a thread that just ended */ }
    }
    return t;
  };
  const settle = async pid => {
    let last = busyNs(pid), quiet = 0;
    for (let waited = 0; waited < 1000 && (waited < 20 || quiet < 2); waited += 5) {
      await sleep(5);
      const now = busyNs(pid);
      quiet = now - last < 1e6 ? quiet + 1 : 0;
      last = now;
    }
  };
  await theirs(); await ours();
  const pairs = [];
  let lastPid = cli.pid;
  for (let i = 0; i < runs; i++) {
    let e, o;
    await settle(lastPid);
    if (i % 2 == 0) { e = await ours(); await settle(cli.pid); o = await theirs(); lastPid = process.pid; }
    else { o = await theirs(); await settle(process.pid); e = await ours(); lastPid = cli.pid; }
    pairs.push([e, o]);
  }
  cli.stdin.end();
  console.log(JSON.stringify(pairs));
})();
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/app/xception-cli")
    ap.add_argument("--ort-dir", default=os.environ.get("ORT_DIR", "/tmp/ort"))
    ap.add_argument("--runs", type=int, default=30, help="pairs of runs per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    ort = os.path.join(a.ort_dir, "node_modules", "onnxruntime-node")
    if not os.path.isdir(ort):
        sys.exit(f"no {ort}: run `npm install --ignore-scripts onnxruntime-node@1.30.0` in "
                 f"{a.ort_dir}")
    cli = os.path.abspath(a.cli)
    with open(os.path.join(ort, "package.json")) as f:
        ort_version = json.load(f)["version"]
    with tempfile.TemporaryDirectory() as tmp:
        onnx = os.path.join(tmp, "xception.onnx")
        model = bp.Xception().eval()
        torch.onnx.export(model, torch.zeros(1, 3, 299, 299), onnx, opset_version=13,
                          input_names=["input"], output_names=["logits"])
        runner = os.path.join(tmp, "run.js")
        with open(runner, "w") as f:
            f.write(RUNNER)
        info = bp.bench_ours(cli, 1, a.threads, "builtin:xception")
        print(f"Xception 299x299, batch 1, {a.threads} threads; engine GEMM "
              f"{info.get('gemm', 'OpenBLAS')} (OpenBLAS {info['blas_core']} kernels); "
              f"onnxruntime-node {ort_version}")
        ratios, wins, total = [], 0, 0
        for r in range(a.rounds):
            out = subprocess.run(["node", runner, ort, onnx, str(a.threads), str(a.runs), cli],
                                 check=True, capture_output=True, text=True).stdout
            pairs = json.loads(out.strip().splitlines()[-1])
            per = [o / e for e, o in pairs]
            wins += sum(1 for q in per if q > 1)
            total += len(per)
            ratios.append(statistics.median(per))
            print(f"round {r + 1}: engine median {statistics.median([e for e, _ in pairs]):.1f} ms "
                  f"(min {min(e for e, _ in pairs):.1f}), ONNX Runtime median "
                  f"{statistics.median([o for _, o in pairs]):.1f} ms (min {min(o for _, o in pairs):.1f}); "
                  f"ONNX Runtime / engine, median of {len(per)} pairs = {statistics.median(per):.2f}x",
                  flush=True)
    print(f"Xception 299x299, batch 1, {a.threads} threads: ONNX Runtime / engine = "
          f"{statistics.median(ratios):.2f}x (median of {a.rounds} rounds of {a.runs} runs paired one by "
          f"one; engine faster in {wins} of {total} pairs; above 1: we are faster)")


if __name__ == "__main__":
    main()
