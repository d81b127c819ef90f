#!/usr/bin/env python3
"""The PyTorch peer of `typofix bench train`: the same training step in
transformers' DistilBertForMaskedLM on CPU, side by side.

Run by hand (needs torch and transformers; CI does not install them):

    python3 scripts/bench_train_torch.py [--threads 1] [--typofix target/release/typofix]

Both sides: a fresh model (vocab 8192, dim 256, 4 layers, 4 heads, hidden
1024), a fixed random batch of 32 x 32 tokens, the MLM loss on 15% of
positions, backward, gradient clipping at 1.0 and an AdamW step; median of
20 timed steps after 3 warm-up steps. PyTorch runs its standard path
(labels of -100 elsewhere, so full logits); typofix projects only the
predicted positions. Prints both and the ratio typofix / PyTorch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def torch_tokens_per_sec(args):
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = transformers.DistilBertConfig(vocab_size=args.vocab, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                                        hidden_dim=args.hidden, max_position_embeddings=max(64, args.seq))
    model = transformers.DistilBertForMaskedLM(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, eps=1e-6)
    ids = torch.randint(5, args.vocab, (args.batch, args.seq))
    labels = torch.full_like(ids, -100)
    picked = torch.rand(ids.shape) < 0.15
    labels[picked] = ids[picked]
    times = []
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return args.batch * args.seq / median, median, torch.__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--typofix", default=os.path.join(ROOT, "target", "release", "typofix"))
    args = ap.parse_args()

    ours = json.loads(subprocess.check_output([
        args.typofix, "bench", "train", "--json", "--threads", str(args.threads), "--vocab-size", str(args.vocab),
        "--dim", str(args.dim), "--layers", str(args.layers), "--heads", str(args.heads), "--hidden", str(args.hidden),
        "--batch", str(args.batch), "--seq-len", str(args.seq), "--warmup", str(args.warmup), "--steps", str(args.steps)]))
    theirs, median, version = torch_tokens_per_sec(args)
    print(f"config: vocab {args.vocab}, dim {args.dim}, {args.layers} layers, {args.heads} heads, hidden {args.hidden}; "
          f"batch {args.batch} x seq {args.seq}; {args.threads} thread(s)")
    print(f"typofix (candle): median step {ours['median_step_s'] * 1e3:8.1f} ms  {ours['tokens_per_sec']:8.0f} tokens/s"
          f"  (forward {ours['median_forward_s'] * 1e3:.1f}, backward {ours['median_backward_s'] * 1e3:.1f},"
          f" optimizer {ours['median_optimizer_s'] * 1e3:.1f} ms)")
    print(f"PyTorch {version}: median step {median * 1e3:8.1f} ms  {theirs:8.0f} tokens/s")
    print(f"ratio typofix / PyTorch: {ours['tokens_per_sec'] / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
