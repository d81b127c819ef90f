#!/usr/bin/env python3
"""Execute an exported .mlpackage with ../shared/tools/mil_numpy_exec.py and
compare its logits with reference logits (transformers' outputs).

    check_coreml_numerics.py PKG.mlpackage REFERENCE.safetensors \
        [--max-abs 1e-3] [--min-psnr 50] [--min-argmax 0.99] [--json OUT]

REFERENCE holds `input_ids`, `attention_mask` [N, S] and `logits` [N, S, V]
(as ../shared/fixtures/tiny-distilbert/reference_io.safetensors does). Each
row runs on its own (the package takes batch 1); the package's [1, V, 1, S]
logits are compared on every position (max |diff|, PSNR) and on real tokens
(argmax agreement).

PSNR = 20 log10(max |reference| / RMSE), over all positions, as Apple's
ml-ane-transformers tests define it. Exit 0 when every given bound holds.
"""
import argparse
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools")
sys.path.insert(0, os.environ.get("TYPOFIX_SHARED_TOOLS", TOOLS))
import mil_numpy_exec  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package")
    ap.add_argument("reference")
    ap.add_argument("--max-abs", type=float)
    ap.add_argument("--min-psnr", type=float)
    ap.add_argument("--min-argmax", type=float)
    ap.add_argument("--json")
    ns = ap.parse_args()

    ref = load_file(ns.reference)
    ids, mask, expected = ref["input_ids"], ref["attention_mask"], ref["logits"].astype(np.float64)
    ours = []
    for row in range(ids.shape[0]):
        feed = {
            "input_ids": ids[row:row + 1].astype(np.int32),
            "attention_mask": mask[row:row + 1].astype(np.int32),
        }
        logits = mil_numpy_exec.run_package(ns.package, feed)["logits"]  # [1, V, 1, S]
        ours.append(logits[0, :, 0, :].T.astype(np.float64))  # [S, V]
    ours = np.stack(ours)

    diff = ours - expected
    max_abs = float(np.abs(diff).max())
    rmse = float(np.sqrt(np.mean(diff ** 2)))
    psnr = float("inf") if rmse == 0 else 20 * np.log10(np.abs(expected).max() / rmse)
    real = mask.astype(bool)
    agree = float((ours.argmax(-1) == expected.argmax(-1))[real].mean())
    result = {"package": ns.package, "rows": int(ids.shape[0]), "max_abs": max_abs,
              "psnr_db": psnr, "argmax_agreement_real_tokens": agree}
    print(json.dumps(result))
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump(result, f, indent=1)

    failures = []
    if ns.max_abs is not None and max_abs > ns.max_abs:
        failures.append(f"max |diff| {max_abs:.3e} > {ns.max_abs}")
    if ns.min_psnr is not None and psnr < ns.min_psnr:
        failures.append(f"PSNR {psnr:.1f} dB < {ns.min_psnr}")
    if ns.min_argmax is not None and agree < ns.min_argmax:
        failures.append(f"argmax agreement {agree:.4f} < {ns.min_argmax}")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
