#!/usr/bin/env python3
"""Peers of `typofix bench model`: PyTorch (transformers' DistilBertForMaskedLM,
eager, inference mode), ONNX Runtime on the same model exported to ONNX, and
ONNX Runtime's own int8 dynamic quantisation of that export, side by side with
typofix's engines, case by case in one run, so that every ratio compares runs
made minutes apart at most.

Run by hand (needs torch, transformers, onnx and onnxruntime; CI does not
install them):

    python3 scripts/bench_inference_peers.py [--typofix target/release/typofix] \
        [--configs minilm,distilbert-base] [--engines fused,int8,bf16] \
        [--seq-lens 32,128] [--batches 1,32] [--threads 1,2] [--runs 40] \
        [--max-tokens N] [--json OUT]

Each configuration has random weights: `minilm` is all-MiniLM-L6-v2's shape,
which the shipped model has (6 layers, dim 384, 12 heads, hidden 1536), and
`distilbert-base` is distilbert-base-uncased's (6 layers, dim 768, 12 heads,
hidden 3072); both have the vocabulary of 30522. Every system computes logits
at every position of a fixed random batch of full-length sequences (attention
mask all ones). Latency is per call of `batch` sequences: median, p90 and p99
of `runs` timed calls after warm-up calls. The last columns divide the
fastest typofix engine's median by ONNX Runtime's, fp32 and int8: below 1,
typofix is faster.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentiles(samples):
    s = sorted(samples)
    rank = lambda p: s[max(1, min(len(s), int(np.ceil(p / 100 * len(s))))) - 1]
    return {"median_ms": rank(50), "p90_ms": rank(90), "p99_ms": rank(99)}


def time_calls(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return percentiles(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--typofix", default=os.path.join(ROOT, "target/release/typofix"))
    ap.add_argument("--configs", default="minilm,distilbert-base")
    ap.add_argument("--engines", default="fused,int8,bf16", help="typofix engines (`typofix bench model --engines`)")
    ap.add_argument("--seq-lens", default="32,128")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=0,
                    help="skip cases whose batch x seq exceeds this (0: none skipped)")
    ap.add_argument("--json")
    ns = ap.parse_args()

    import onnxruntime as ort
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic

    shapes = {"minilm": dict(dim=384, hidden_dim=1536, n_layers=6, n_heads=12),
              "distilbert-base": {}}
    rows = []
    rng = np.random.default_rng(0)
    for name in ns.configs.split(","):
        config = transformers.DistilBertConfig(**shapes[name])
        torch.manual_seed(0)
        model = transformers.DistilBertForMaskedLM(config).eval()
        workdir = tempfile.mkdtemp()
        onnx_path = os.path.join(workdir, f"{name}.onnx")
        example = (torch.ones(1, 16, dtype=torch.long), torch.ones(1, 16, dtype=torch.long))
        torch.onnx.export(
            model, example, onnx_path, input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"},
                          "logits": {0: "b", 1: "s"}},
            opset_version=17, dynamo=False)
        int8_path = os.path.join(workdir, f"{name}-int8.onnx")
        quantize_dynamic(onnx_path, int8_path, weight_type=QuantType.QInt8)
        for threads in [int(t) for t in ns.threads.split(",")]:
            torch.set_num_threads(threads)
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            sessions = {system: ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                        for system, path in (("onnxruntime", onnx_path), ("onnxruntime-int8", int8_path))}
            for seq in [int(s) for s in ns.seq_lens.split(",")]:
                for batch in [int(b) for b in ns.batches.split(",")]:
                    if ns.max_tokens and batch * seq > ns.max_tokens:
                        print(f"{name} threads {threads} seq {seq:>3} batch {batch:>2}: skipped (--max-tokens)")
                        continue
                    ids = rng.integers(1, config.vocab_size, size=(batch, seq), dtype=np.int64)
                    mask = np.ones_like(ids)
                    case = {"config": name, "threads": threads, "seq_len": seq, "batch": batch}
                    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)

                    def torch_call():
                        with torch.inference_mode():
                            model(input_ids=t_ids, attention_mask=t_mask).logits

                    results = {"pytorch": time_calls(torch_call, ns.warmup, ns.runs)}
                    for system, session in sessions.items():
                        results[system] = time_calls(
                            lambda: session.run(["logits"], {"input_ids": ids, "attention_mask": mask}),
                            ns.warmup, ns.runs)
                    out = subprocess.run(
                        [ns.typofix, "bench", "model", "--config", name, "--engines", ns.engines,
                         "--seq-lens", str(seq), "--batches", str(batch), "--threads", str(threads),
                         "--runs", str(ns.runs), "--warmup", str(ns.warmup), "--json"],
                        check=True, capture_output=True, text=True).stdout
                    for t in json.loads(out)["timings"]:
                        results[f"typofix-{t['engine']}"] = {k: t[k] for k in ("median_ms", "p90_ms", "p99_ms")}
                    best = min((k for k in results if k.startswith("typofix-")),
                               key=lambda k: results[k]["median_ms"])
                    row = dict(case, **results, best_typofix=best)
                    rows.append(row)
                    if ns.json:  # written after every case, so a stopped run keeps its rows
                        with open(ns.json, "w") as f:
                            json.dump({"rows": rows}, f, indent=1)
                    ms = results[best]["median_ms"]
                    print(f"{name} threads {threads} seq {seq:>3} batch {batch:>2}: " + "  ".join(
                        f"{system} {r['median_ms']:.2f} ms" for system, r in results.items())
                        + f"  | {best} / ORT fp32 {ms / results['onnxruntime']['median_ms']:.2f}"
                        + f"  / ORT int8 {ms / results['onnxruntime-int8']['median_ms']:.2f}", flush=True)
    meta = {"torch": torch.__version__, "onnxruntime": ort.__version__, "transformers": transformers.__version__,
            "runs": ns.runs, "warmup": ns.warmup, "rows": rows}
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
