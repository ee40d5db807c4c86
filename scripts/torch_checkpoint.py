#!/usr/bin/env python3
"""Proves KneeForce checkpoints round-trip with PyTorch (run by hand, never in CI).

  load CK.safetensors [--input IN.safetensors --output OUT.safetensors]
      Builds the model from CK's ``kneeforce`` metadata and loads the tensors with
      ``load_state_dict(strict=True)``, so any missing, extra or misshapen tensor fails loudly.
      With --input/--output it also writes ``y`` = model(``x`` from IN) in eval mode (dropout
      off), computed in float64 from the float32 weights and stored as F32, so the Swift engine's
      output for the same file can be compared against it.

  save --model bilstm_mlp|tcn [config options] [--seed S] OUT.safetensors
      Writes a randomly initialised (PyTorch default init) checkpoint in the KneeForce format, so
      the Swift side can be shown to load what PyTorch writes.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kneeforce_torch as kf  # noqa: E402


def command_load(args: argparse.Namespace) -> None:
    model = kf.load_checkpoint(args.checkpoint)
    count = sum(p.numel() for p in model.parameters())
    print(f"{args.checkpoint}: loaded strictly, {kf.config_json(model.config)}, {count} parameters")
    if args.input is None:
        return
    inputs = load_file(args.input)
    if "x" not in inputs:
        sys.exit(f"{args.input}: no tensor named 'x'")
    x = inputs["x"]
    expected = model.config["inputs"]
    if x.dim() != 3 or x.shape[2] != expected:
        sys.exit(f"{args.input}: x has shape {list(x.shape)}, expected [batch, time, {expected}]")
    model64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        y = model64(x.double()).to(torch.float32).contiguous()
    save_file({"y": y}, args.output)
    print(f"{args.output}: wrote y {list(y.shape)} for x {list(x.shape)} from {args.input}")


def command_save(args: argparse.Namespace) -> None:
    config = kf.make_config(
        args.model, args.inputs, args.outputs, args.dropout, hidden=args.hidden,
        layers=args.layers, mlp=args.mlp, channels=args.channels, levels=args.levels,
        kernel_size=args.kernel_size,
    )
    torch.manual_seed(args.seed)
    model = kf.build_model(config)
    kf.save_checkpoint(model, args.output)
    kf.load_checkpoint(args.output)  # the file just written must load strictly
    count = sum(p.numel() for p in model.parameters())
    print(f"{args.output}: wrote {kf.config_json(model.config)}, {count} parameters")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Load or write KneeForce checkpoints with PyTorch.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", help="load a checkpoint strictly, optionally run it on x")
    load.add_argument("checkpoint")
    load.add_argument("--input", help="safetensors file with x [batch, time, inputs]")
    load.add_argument("--output", help="where to write y (required with --input)")
    load.set_defaults(run=command_load)

    save = sub.add_parser("save", help="write a randomly initialised checkpoint")
    save.add_argument("--model", choices=kf.MODEL_KINDS, required=True)
    save.add_argument("--inputs", type=int, default=40)
    save.add_argument("--outputs", type=int, default=3)
    save.add_argument("--dropout", type=float, default=0.1)
    save.add_argument("--hidden", type=int, default=128, help="bilstm_mlp")
    save.add_argument("--layers", type=int, default=2, help="bilstm_mlp")
    save.add_argument("--mlp", type=int, nargs=2, default=[128, 64], help="bilstm_mlp")
    save.add_argument("--channels", type=int, default=64, help="tcn")
    save.add_argument("--levels", type=int, default=4, help="tcn")
    save.add_argument("--kernel-size", type=int, default=3, help="tcn")
    save.add_argument("--seed", type=int, default=0)
    save.add_argument("output")
    save.set_defaults(run=command_save)

    args = parser.parse_args()
    if args.command == "load" and (args.input is None) != (args.output is None):
        parser.error("--input and --output go together")
    args.run(args)


if __name__ == "__main__":
    main()
