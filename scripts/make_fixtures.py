#!/usr/bin/env python3
"""Generates the PyTorch reference fixtures that the Swift model tests compare against.

For each case it writes two files into Tests/KneeForceModelsTests/Fixtures/:

* ``<case>.ckpt.safetensors``: a checkpoint in the KneeForce format (F32 weights, PyTorch default
  initialisation under a fixed seed, dropout 0.1 in the metadata).
* ``<case>.io.safetensors`` (all F32): ``x``, ``dy``, ``y`` = model(x), ``dx`` and
  ``grad.<name>`` = gradients of sum(y * dy), and the weights after one and two Adam / AdamW steps
  (``adam1.<name>``, ``adam2.<name>``, ``adamw1.<name>``, ``adamw2.<name>``) that both reuse the
  same gradients.  The optimiser settings are in the ``adam`` metadata key.

The references are computed in float64 from the float32 weights and inputs (dropout off), so they
are accurate to float32 rounding and the Swift tolerances only have to cover Swift's own error.
The output is deterministic: re-running the script rewrites identical bytes.

Usage: python3 scripts/make_fixtures.py [--out DIR]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kneeforce_torch as kf  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "Tests", "KneeForceModelsTests", "Fixtures")

ADAM = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}
DROPOUT = 0.1

# name: (seed, config, batch, length)
CASES = {
    "bilstm_small": (
        1001,
        {"model": "bilstm_mlp", "inputs": 5, "outputs": 3, "hidden": 6, "layers": 2, "mlp": [8, 5]},
        2,
        7,
    ),
    "bilstm_t1": (
        1002,
        {"model": "bilstm_mlp", "inputs": 3, "outputs": 3, "hidden": 4, "layers": 1, "mlp": [5, 3]},
        1,
        1,
    ),
    "bilstm_odd": (
        1003,
        {
            "model": "bilstm_mlp",
            "inputs": 9,
            "outputs": 3,
            "hidden": 16,
            "layers": 2,
            "mlp": [12, 7],
        },
        3,
        13,
    ),
    "tcn_small": (
        2001,
        {"model": "tcn", "inputs": 5, "outputs": 3, "channels": 6, "levels": 3, "kernel_size": 3},
        2,
        9,
    ),
    "tcn_t1": (
        2002,
        {"model": "tcn", "inputs": 4, "outputs": 3, "channels": 4, "levels": 2, "kernel_size": 2},
        1,
        1,
    ),
    "tcn_odd": (
        2003,
        {"model": "tcn", "inputs": 7, "outputs": 3, "channels": 8, "levels": 4, "kernel_size": 3},
        3,
        20,
    ),
}


def optimiser_steps(
    model64: torch.nn.Module, grads: dict[str, torch.Tensor], optimiser: type
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Two steps from the original weights, both with the same gradients, in float64."""
    model = copy.deepcopy(model64)
    params = dict(model.named_parameters())
    opt = optimiser(
        params.values(),
        lr=ADAM["lr"],
        betas=(ADAM["beta1"], ADAM["beta2"]),
        eps=ADAM["eps"],
        weight_decay=ADAM["weight_decay"],
        foreach=False,
    )
    snapshots = []
    for _ in range(2):
        for name, p in params.items():
            p.grad = grads[name].clone()
        opt.step()
        snapshots.append({name: p.detach().clone() for name, p in params.items()})
    return snapshots[0], snapshots[1]


def make_case(name: str, out_dir: str) -> list[str]:
    seed, config, batch, length = CASES[name]
    torch.manual_seed(seed)
    model = kf.build_model({**config, "dropout": DROPOUT}).float().eval()
    x = torch.randn(batch, length, config["inputs"], dtype=torch.float32)
    dy = torch.randn(batch, length, config["outputs"], dtype=torch.float32)

    ckpt_path = os.path.join(out_dir, f"{name}.ckpt.safetensors")
    kf.save_checkpoint(model, ckpt_path)

    model64 = copy.deepcopy(model).double().eval()
    x64 = x.double().requires_grad_(True)
    y64 = model64(x64)
    (y64 * dy.double()).sum().backward()
    grads = {n: p.grad.detach().clone() for n, p in model64.named_parameters()}
    model64.zero_grad(set_to_none=True)

    adam1, adam2 = optimiser_steps(model64, grads, torch.optim.Adam)
    adamw1, adamw2 = optimiser_steps(model64, grads, torch.optim.AdamW)

    tensors = {"x": x, "dy": dy, "y": y64.detach(), "dx": x64.grad.detach()}
    for prefix, values in (
        ("grad", grads),
        ("adam1", adam1),
        ("adam2", adam2),
        ("adamw1", adamw1),
        ("adamw2", adamw2),
    ):
        for param, value in values.items():
            tensors[f"{prefix}.{param}"] = value
    tensors = {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}
    io_path = os.path.join(out_dir, f"{name}.io.safetensors")
    save_file(tensors, io_path, metadata={"adam": json.dumps(ADAM, separators=(",", ":"))})
    return [ckpt_path, io_path]


def verify(name: str, ckpt_path: str, io_path: str) -> None:
    """Reloads both files with the safetensors library, and the checkpoint strictly into torch."""
    model = kf.load_checkpoint(ckpt_path)  # load_state_dict(strict=True) inside
    _, config, batch, length = CASES[name]
    assert model.config == {**config, "dropout": DROPOUT}, (model.config, config)
    io = load_file(io_path)
    with safe_open(io_path, framework="pt") as handle:
        assert json.loads(handle.metadata()["adam"]) == ADAM
    assert all(t.dtype == torch.float32 for t in io.values())
    assert io["x"].shape == (batch, length, config["inputs"])
    assert io["y"].shape == (batch, length, config["outputs"])
    params = dict(model.named_parameters())
    for prefix in ("grad", "adam1", "adam2", "adamw1", "adamw2"):
        names = {k[len(prefix) + 1 :] for k in io if k.startswith(prefix + ".")}
        assert names == set(params), (prefix, names ^ set(params))
        for param, p in params.items():
            assert io[f"{prefix}.{param}"].shape == p.shape
    # The float32 model from the checkpoint must agree with the float64 reference.
    with torch.no_grad():
        y32 = model.eval()(io["x"])
    err = (y32 - io["y"]).abs().max().item()
    assert err < 1e-4, f"{name}: float32 forward differs from reference by {err}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture folder")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)

    total = 0
    for name in CASES:
        ckpt_path, io_path = make_case(name, args.out)
        verify(name, ckpt_path, io_path)
        for path in (ckpt_path, io_path):
            os.chmod(path, 0o644)  # safetensors creates 0600 files; keep the checkout readable
            size = os.path.getsize(path)
            total += size
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()[:16]
            print(f"wrote {os.path.relpath(path, REPO)}  {size} bytes  sha256 {digest}")
    print(f"total {total} bytes in {len(CASES) * 2} files; all reloaded and verified")
    print(f"torch {torch.__version__}")


if __name__ == "__main__":
    main()
