#!/usr/bin/env python3
"""The work of a `kneeforce sweep --patience 0` in PyTorch: a plain sequential LOSO loop.

Reads the same dataset folder (docs/DATASET_FORMAT.md), cuts every trial into one sequence of
``--length`` time-normalised samples (linear interpolation over the trial's time stamps, as
KneeForce's default segmentation does), divides GRF forces and the kcf.* targets by body weight,
and then, for every model, feature set (``--lofo``: all, no_kin, no_grf, no_emg) and held-out
subject in turn: z-scores the inputs with the training subjects' statistics, trains a fresh
model for ``--epochs`` epochs (Adam, MSE averaged over the targets, gradient-norm clipping at 1,
shuffled mini-batches of ``--batch``, dropout in training; no validation subject and no early
stopping, like ``--patience 0``) and scores the held-out subject (RMSE in BW over its pooled
samples). Units run one after another, each on its own; that is the comparison with
KneeForce's fold-batched lockstep training.

Example (the benchmark of benchmarks/RESULTS.md):
  python3 benchmarks/pytorch_sweep.py --data /tmp/kf-cohort --lofo --epochs 60 --batch 32 \\
      --threads 2 --json /tmp/pytorch_sweep.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import kneeforce_torch as kf  # noqa: E402

TARGETS = ["kcf.medial", "kcf.lateral", "kcf.total"]
GROUPS = ["kin", "grf", "emg"]


def body_weight_scaled(channel: str) -> bool:
    group, _, name = channel.partition(".")
    name = name.lower()
    if group == "kcf":
        return True
    if group == "grf":
        return not (name.startswith("cop") or name == "tz" or "moment" in name or "torque" in name)
    return False


def load(folder: str, length: int):
    with open(os.path.join(folder, "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    inputs, targets, subjects, channels = [], [], [], None
    for row in rows:
        with open(os.path.join(folder, row["file"]), newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            data = np.array([[float(v) if v else np.nan for v in r] for r in reader])
        if channels is None:
            channels = [c for c in header[1:] if c.split(".")[0] in GROUPS]
        time_s = data[:, 0]
        grid = np.linspace(time_s[0], time_s[-1], length)
        weight = float(row["body_weight_n"])

        def column(name: str) -> np.ndarray:
            values = np.interp(grid, time_s, data[:, header.index(name)])
            return values / weight if body_weight_scaled(name) else values

        inputs.append(np.stack([column(c) for c in channels], axis=1))
        targets.append(np.stack([column(c) for c in TARGETS], axis=1))
        subjects.append(row["subject"])
    return (
        np.array(inputs, dtype=np.float32),
        np.array(targets, dtype=np.float32),
        np.array(subjects),
        channels,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--models", default="bilstm_mlp,tcn")
    p.add_argument("--lofo", action="store_true")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--length", type=int, default=101)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--mlp", type=int, nargs=2, default=[128, 64])
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--levels", type=int, default=4)
    p.add_argument("--kernel-size", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=0,
                   help="only the first N held-out subjects of each model and input set (0: all)")
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    x_all, y_all, subjects, channels = load(args.data, args.length)
    load_seconds = time.perf_counter() - started
    feature_sets = ["all"] + ([f"no_{g}" for g in GROUPS] if args.lofo else [])
    units = []
    train_start = time.perf_counter()
    for model_kind in args.models.split(","):
        for features in feature_sets:
            keep = [i for i, c in enumerate(channels) if c.split(".")[0] != features[3:]]
            for held in sorted(set(subjects))[: args.folds or None]:
                unit_start = time.perf_counter()
                train, test = subjects != held, subjects == held
                x_train = x_all[train][:, :, keep]
                mean = x_train.reshape(-1, len(keep)).mean(axis=0)
                std = np.maximum(x_train.reshape(-1, len(keep)).std(axis=0), 1e-3)
                xt = torch.from_numpy((x_train - mean) / std)
                yt = torch.from_numpy(y_all[train])
                xs = torch.from_numpy((x_all[test][:, :, keep] - mean) / std)
                ys = torch.from_numpy(y_all[test])
                torch.manual_seed(args.seed)
                config = kf.make_config(
                    model_kind, len(keep), 3, args.dropout, hidden=args.hidden,
                    layers=args.layers, mlp=args.mlp, channels=args.channels,
                    levels=args.levels, kernel_size=args.kernel_size)
                model = kf.build_model(config)
                optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
                loss_fn = nn.MSELoss()
                for _ in range(args.epochs):
                    model.train()
                    order = torch.randperm(len(xt))
                    for begin in range(0, len(xt), args.batch):
                        index = order[begin : begin + args.batch]
                        optimiser.zero_grad(set_to_none=True)
                        loss = loss_fn(model(xt[index]), yt[index])
                        loss.backward()
                        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                        optimiser.step()
                model.eval()
                with torch.no_grad():
                    prediction = model(xs)
                rmse = ((prediction - ys) ** 2).mean(dim=(0, 1)).sqrt().tolist()
                seconds = time.perf_counter() - unit_start
                units.append({"model": model_kind, "features": features, "subject": held,
                              "rmse_bw": rmse, "seconds": seconds})
                print(f"{model_kind} {features} held-out {held}: {seconds:.1f} s, RMSE "
                      + " ".join(f"{v:.3f}" for v in rmse), flush=True)
    training_seconds = time.perf_counter() - train_start
    result = {
        "framework": "pytorch", "torch_version": torch.__version__,
        "threads": torch.get_num_threads(), "config": vars(args), "sequences": len(x_all),
        "input_channels": len(channels), "units": units, "load_seconds": load_seconds,
        "training_seconds": training_seconds,
        "total_seconds": time.perf_counter() - started,
    }
    print(f"{len(units)} units in {training_seconds:.1f} s (data loading {load_seconds:.1f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
