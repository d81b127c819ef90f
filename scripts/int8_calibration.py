#!/usr/bin/env python3
"""Does calibrating int8 smoothing on random token ids do as well as on text?

Simulates the int8 engine's quantisation in PyTorch on the shipped model
(transformers' DistilBertForMaskedLM, every encoder Linear quantised: weights
per output channel, activations per token, symmetric or centred) and prints
the largest input magnitudes of some of the encoder's products, then the
mean |Δ log-probability| of f32's ten best words at one masked position
of 300 held-out ewt_train sentences, for: no smoothing, smoothing of the
q/k/v and FFN-in products calibrated on 8 × 32 random token ids (what
`FusedMaskedLm::input_maxima` does), and calibrated on 200 real sentences.
Usage, from the repository root (needs torch and transformers):
    python3 scripts/int8_calibration.py
"""
import copy
import json
import random

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import DistilBertConfig, DistilBertForMaskedLM

MODEL = "crates/typofix/model"
SENTENCES = "../shared/data/corpus/ewt_train/sentences.txt"
SMOOTHED = ("q_lin", "k_lin", "v_lin", "lin1")  # the products after a LayerNorm

torch.set_num_threads(1)
model = DistilBertForMaskedLM(DistilBertConfig(**json.load(open(f"{MODEL}/config.json"))))
weights = {k: v.float() for k, v in load_file(f"{MODEL}/model.safetensors").items()}
model.load_state_dict(weights, strict=False)  # the projector is tied
model.eval()
tokenizer = Tokenizer.from_file(f"{MODEL}/tokenizer.json")
tokenizer.no_padding()
tokenizer.no_truncation()
sentences = [line.strip() for line in open(SENTENCES)]


def input_maxima(sequences):
    """Per encoder Linear, max |x_k| of its inputs over `sequences`."""
    maxima, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "transformer" in name:
            def hook(module, inputs, output, name=name):
                m = inputs[0].reshape(-1, inputs[0].shape[-1]).abs().amax(0)
                maxima[name] = torch.maximum(maxima.get(name, m), m)
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        for ids in sequences:
            model(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    return maxima


def symmetric(x):
    scale = x.abs().amax(1, keepdim=True).clamp_min(1e-12) / 127
    return (x / scale).round().clamp(-127, 127) * scale


def centred(x):
    low, high = x.amin(1, keepdim=True), x.amax(1, keepdim=True)
    centre, half = (low + high) / 2, ((high - low) / 2).clamp_min(1e-12)
    return ((x - centre) / half * 127).round().clamp(-127, 127) * half / 127 + centre


class Int8Linear(torch.nn.Module):
    def __init__(self, linear, input_max, centre):
        super().__init__()
        w = linear.weight.detach()
        self.smooth = (torch.ones(w.shape[1]) if input_max is None else
                       (input_max.clamp_min(1e-5) / w.abs().amax(0).clamp_min(1e-5)).sqrt())
        self.weight = symmetric(w * self.smooth)
        self.bias = linear.bias.detach()
        self.quantise = centred if centre else symmetric

    def forward(self, x):
        shape = x.shape
        x = self.quantise(x.reshape(-1, shape[-1]) / self.smooth)
        return (x @ self.weight.T + self.bias).reshape(*shape[:-1], -1)


def quantised(centre, maxima=None):
    q = copy.deepcopy(model)
    for name, module in list(q.named_modules()):
        for child, linear in list(module.named_children()):
            if isinstance(linear, torch.nn.Linear) and "transformer" in name:
                smooth = maxima is not None and child in SMOOTHED
                key = f"{name}.{child}"
                setattr(module, child, Int8Linear(linear, maxima[key] if smooth else None, centre))
    return q


real = [tokenizer.encode(s).ids[:128] for s in sentences[:200]]
real_maxima = input_maxima(real)
print("largest input magnitude per channel over 200 sentences: median channel, top channels")
for name, m in real_maxima.items():
    if name.endswith(("q_lin", "lin1", "lin2")):
        top = m.topk(3)
        channels = ", ".join(f"{int(i)}: {float(v):.1f}" for v, i in zip(top.values, top.indices))
        print(f"  {name.removeprefix('distilbert.transformer.'):28s} {m.median():5.2f}   {channels}")

rng = random.Random(5)
probes = []
for line in sentences[6000:6300]:
    ids = tokenizer.encode(line).ids[:64]
    if len(ids) >= 6:
        at = rng.randrange(1, len(ids) - 1)
        probes.append((ids[:at] + [103] + ids[at + 1:], at))


def log_probs(m):
    with torch.no_grad():
        return torch.stack([torch.log_softmax(m(torch.tensor([ids])).logits[0, at], -1)
                            for ids, at in probes])


reference = log_probs(model)
best = reference.topk(10, -1).indices
ids = random.Random(3)
random_ids = [[ids.randrange(0, 30522) for _ in range(32)] for _ in range(8)]
for label, m in [
    ("symmetric, no smoothing", quantised(False)),
    ("centred, no smoothing", quantised(True)),
    ("centred, smoothed on 8 x 32 random ids", quantised(True, input_maxima(random_ids))),
    ("centred, smoothed on 200 sentences", quantised(True, real_maxima)),
]:
    d = (log_probs(m).gather(1, best) - reference.gather(1, best)).abs().mean().item()
    print(f"{label:40s} mean |Δ log-probability| of the 10 best: {d:.4f}")
