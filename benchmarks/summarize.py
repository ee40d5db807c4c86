#!/usr/bin/env python3
"""Summarises a benchmarks/run.sh folder: per model and device, the median over repeats of
each run's median epoch time, sequences/s, and the ratio to PyTorch measured in the same run."""

import glob
import json
import os
import statistics
import sys


def main() -> None:
    folder = sys.argv[1]
    ours: dict[tuple[str, str], list[dict]] = {}
    torch: dict[str, list[dict]] = {}
    for path in sorted(glob.glob(os.path.join(folder, "kneeforce-*.json"))):
        with open(path) as f:
            for r in json.load(f)["results"]:
                ours.setdefault((r["model"], r["device"]), []).append(r)
    for path in sorted(glob.glob(os.path.join(folder, "pytorch-*.json"))):
        with open(path) as f:
            r = json.load(f)
        torch.setdefault(r["model_config"]["model"], []).append(r)
    print(f"results in {folder}")
    print("| model | engine | device | repeats | epoch s (median) | train seq/s | infer seq/s "
          "| GFLOP/s | train ratio vs PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, runs in sorted(torch.items()):
        t_epoch = statistics.median(r["epoch_seconds_median"] for r in runs)
        t_infer = statistics.median(r["inference_sequences_per_second"] for r in runs)
        seqs = runs[0]["config"]["sequences"]
        print(f"| {model} | PyTorch {runs[0]['torch_version']} ({runs[0]['threads']} threads) "
              f"| cpu | {len(runs)} | {t_epoch:.2f} | {seqs / t_epoch:.0f} | {t_infer:.0f} | - | 1.00 |")
        for (m, device), rs in sorted(ours.items()):
            if m != model:
                continue
            epoch = statistics.median(r["epoch_median_s"] for r in rs)
            infer = statistics.median(r["inference_sequences_per_s"] for r in rs)
            gflops = statistics.median(r["train_gflops"] for r in rs)
            print(f"| {model} | KneeForce | {device} | {len(rs)} | {epoch:.2f} | {seqs / epoch:.0f} "
                  f"| {infer:.0f} | {gflops:.1f} | {t_epoch / epoch:.2f} |")


if __name__ == "__main__":
    main()
