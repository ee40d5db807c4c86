#!/usr/bin/env python3
"""PyTorch CPU throughput baseline for the KneeForce models.

The Swift engine's speed is only meaningful next to what PyTorch does with the same models, data
shapes, optimiser and thread count on the same machine; this script measures that reference.

It trains on random data (x ~ N(0,1) [sequences, length, channels], targets ~ N(0,1)
[sequences, length, 3]) with Adam (lr 1e-3), MSE loss and gradient-norm clipping at 1.0, over
shuffled mini-batches.  ``--warmup`` epochs run first and are not timed, then ``--epochs`` epochs
are timed one by one.  Inference (eval mode, no_grad, the same batches in order) is timed as whole
passes over the data after one untimed pass, ``--inference-repeats`` times.

Example:
  python3 benchmarks/pytorch_baseline.py --model bilstm_mlp --threads 2 --sequences 2048 \\
      --length 101 --channels 40 --batch 64 --hidden 128 --layers 2 --mlp 128 64 \\
      --tcn-channels 64 --levels 4 --kernel 3 --dropout 0.1 --epochs 3 --warmup 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import kneeforce_torch as kf  # noqa: E402

OUTPUTS = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="PyTorch training/inference throughput baseline for KneeForce models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--model", choices=kf.MODEL_KINDS, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sequences", type=int, default=2048)
    parser.add_argument("--length", type=int, default=101)
    parser.add_argument("--channels", type=int, default=40, help="input channels per time step")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128, help="bilstm_mlp: LSTM hidden size")
    parser.add_argument("--layers", type=int, default=2, help="bilstm_mlp: LSTM layers")
    parser.add_argument("--mlp", type=int, nargs=2, default=[128, 64], help="bilstm_mlp: widths")
    parser.add_argument("--tcn-channels", type=int, default=64, help="tcn: channels per block")
    parser.add_argument("--levels", type=int, default=4, help="tcn: number of blocks")
    parser.add_argument("--kernel", type=int, default=3, help="tcn: kernel size")
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3, help="timed training epochs")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs before timing")
    parser.add_argument("--inference-repeats", type=int, default=3, help="timed inference passes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the raw timings and configuration here")
    parser.add_argument(
        "--serve", action="store_true",
        help="after the warm-up, read 'train' / 'infer' / 'quit' lines on stdin and answer "
        "each with the seconds of one epoch / inference pass (benchmarks/alternate.py)")
    args = parser.parse_args()
    if args.epochs < 1 or args.inference_repeats < 1 or args.warmup < 0:
        parser.error("--epochs and --inference-repeats must be >= 1, --warmup >= 0")
    return args


def build(args: argparse.Namespace) -> nn.Module:
    config = kf.make_config(
        args.model, args.channels, OUTPUTS, args.dropout, hidden=args.hidden,
        layers=args.layers, mlp=args.mlp, channels=args.tcn_channels, levels=args.levels,
        kernel_size=args.kernel,
    )
    return kf.build_model(config)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = build(args)
    x = torch.randn(args.sequences, args.length, args.channels)
    target = torch.randn(args.sequences, args.length, OUTPUTS)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    parameters = sum(p.numel() for p in model.parameters())

    def train_epoch() -> tuple[float, float]:
        model.train()
        order = torch.randperm(args.sequences)
        total = 0.0
        start = time.perf_counter()
        for begin in range(0, args.sequences, args.batch):
            index = order[begin : begin + args.batch]
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), target[index])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            total += loss.item() * len(index)
        return time.perf_counter() - start, total / args.sequences

    def inference_pass() -> float:
        model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            for begin in range(0, args.sequences, args.batch):
                model(x[begin : begin + args.batch])
        return time.perf_counter() - start

    if args.serve:
        for _ in range(args.warmup):
            train_epoch()
        inference_pass()
        print(f"ready pytorch {torch.__version__} {args.model} {torch.get_num_threads()} threads",
              flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "train":
                print(f"{train_epoch()[0]:.6f}", flush=True)
            elif command == "infer":
                print(f"{inference_pass():.6f}", flush=True)
            elif command == "quit":
                return
            else:
                print(f"error: unknown command {command!r}", flush=True)
        return

    warmup_seconds, epoch_seconds, losses = [], [], []
    for _ in range(args.warmup):
        seconds, loss = train_epoch()
        warmup_seconds.append(seconds)
        losses.append(loss)
    for _ in range(args.epochs):
        seconds, loss = train_epoch()
        epoch_seconds.append(seconds)
        losses.append(loss)
    inference_pass()  # untimed: first eval pass pays one-off allocation costs
    inference_seconds = [inference_pass() for _ in range(args.inference_repeats)]

    train_median = statistics.median(epoch_seconds)
    infer_median = statistics.median(inference_seconds)
    result = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "model_config": model.config,
        "parameters": parameters,
        "batches_per_epoch": -(-args.sequences // args.batch),
        "warmup_epoch_seconds": warmup_seconds,
        "epoch_seconds": epoch_seconds,
        "epoch_seconds_median": train_median,
        "train_sequences_per_second": args.sequences / train_median,
        "inference_seconds": inference_seconds,
        "inference_seconds_median": infer_median,
        "inference_sequences_per_second": args.sequences / infer_median,
        "epoch_losses": losses,
    }
    epochs = ", ".join(f"{s:.3f}" for s in epoch_seconds)
    print(
        f"pytorch {torch.__version__} {args.model} ({parameters} params), "
        f"{result['threads']} threads, {args.sequences}x{args.length}x{args.channels}, "
        f"batch {args.batch}: train median {train_median:.3f} s/epoch = "
        f"{result['train_sequences_per_second']:.1f} seq/s (epochs {epochs}); "
        f"inference median {infer_median:.3f} s = "
        f"{result['inference_sequences_per_second']:.1f} seq/s"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
