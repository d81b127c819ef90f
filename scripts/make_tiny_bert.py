#!/usr/bin/env python3
"""Makes the tiny random BERT fixtures that `typofix model import` is tested on.

Writes, under crates/typofix-train/tests/fixtures/:
  tiny-bert/      a BertModel (no MLM head, with a pooler), as sentence
                  encoders such as all-MiniLM-L6-v2 ship;
  tiny-bert-mlm/  a BertForMaskedLM;
each with config.json, model.safetensors, vocab.txt and reference_io.safetensors:
input_ids and attention_mask [3, 32] (rows with 32, 11 and 4 real tokens),
last_hidden [3, 32, 32] and, for the MLM, logits [3, 32, 200]. LayerNorms and
biases are randomised so that a wrong mapping cannot pass. Needs torch and
transformers:

    python3 -m venv V && V/bin/pip install torch transformers safetensors
    V/bin/python scripts/make_tiny_bert.py
"""
import os

import torch
import transformers
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "typofix-train", "tests", "fixtures")
VOCAB = 200


def config():
    return transformers.BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        type_vocab_size=2,
        hidden_act="gelu",
        layer_norm_eps=1e-12,
        pad_token_id=0,
    )


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))
            if "token_type_embeddings" in name:
                p.copy_(torch.randn_like(p))


def inputs():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, VOCAB, (3, 32), generator=g)
    mask = torch.zeros(3, 32, dtype=torch.long)
    for row, n in enumerate([32, 11, 4]):
        mask[row, :n] = 1
        ids[row, 0] = 2  # [CLS]
        ids[row, n - 1] = 3  # [SEP]
        ids[row, n:] = 0  # [PAD]
    return ids, mask


def write(model, name, with_logits):
    model.eval()
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(specials + [f"w{i}" for i in range(len(specials), VOCAB)]) + "\n")
    ids, mask = inputs()
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    tensors = {
        "input_ids": ids,
        "attention_mask": mask,
        "last_hidden": out.hidden_states[-1].contiguous(),
    }
    if with_logits:
        tensors["logits"] = out.logits.contiguous()
    save_file(tensors, os.path.join(d, "reference_io.safetensors"))
    print("wrote", d, {k: list(v.shape) for k, v in tensors.items()})


torch.manual_seed(0)
encoder = transformers.BertModel(config())
randomise(encoder)
write(encoder, "tiny-bert", with_logits=False)

torch.manual_seed(1)
mlm = transformers.BertForMaskedLM(config())
randomise(mlm)
mlm.tie_weights()
write(mlm, "tiny-bert-mlm", with_logits=True)
