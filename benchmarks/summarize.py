#!/usr/bin/env python3
"""Summarises a benchmarks/run.sh folder: per model, device and fold count, the median over
repeats of each run's median epoch time, sequences/s, GFLOP/s, and the ratios to PyTorch
measured in the same run, with every repeat listed (ours / PyTorch of the same repeat).

With K folds in lockstep, our epoch trains K models; PyTorch trains one, so the per-fold
ratio is K * PyTorch epoch / our epoch (and likewise for inference)."""

import glob
import json
import os
import re
import statistics
import sys


def main() -> None:
    folder = sys.argv[1]
    ours: dict[tuple[str, str, int], dict[int, dict]] = {}
    torch: dict[str, dict[int, dict]] = {}
    for prefix, label in [("kneeforce", ""), ("openblas", " (OpenBLAS only)")]:
        for path in sorted(glob.glob(os.path.join(folder, f"{prefix}-*.json"))):
            repeat = int(re.search(r"-(\d+)\.json$", path).group(1))
            with open(path) as f:
                for r in json.load(f)["results"]:
                    key = (r["model"], r["device"] + label, r.get("folds", 1))
                    ours.setdefault(key, {})[repeat] = r
    for path in sorted(glob.glob(os.path.join(folder, "pytorch-*.json"))):
        repeat = int(re.search(r"-(\d+)\.json$", path).group(1))
        with open(path) as f:
            r = json.load(f)
        torch.setdefault(r["model_config"]["model"], {})[repeat] = r
    print(f"results in {folder}")
    print("| model | engine | folds | repeats | epoch s (median) | train seq/s | infer seq/s "
          "| GFLOP/s | train ratio (per repeat) | infer ratio (per repeat) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, runs in sorted(torch.items()):
        t_epoch = statistics.median(r["epoch_seconds_median"] for r in runs.values())
        t_infer = statistics.median(r["inference_seconds_median"] for r in runs.values())
        first = next(iter(runs.values()))
        seqs = first["config"]["sequences"]
        print(f"| {model} | PyTorch {first['torch_version']} ({first['threads']} threads, "
              f"dropout {first['config']['dropout']}) | 1 | {len(runs)} | {t_epoch:.2f} "
              f"| {seqs / t_epoch:.0f} | {seqs / t_infer:.0f} | - | 1.00 | 1.00 |")
        for (m, device, folds), rs in sorted(ours.items()):
            if m != model:
                continue
            epoch = statistics.median(r["epoch_median_s"] for r in rs.values())
            infer = statistics.median(statistics.median(r["inference_s"]) for r in rs.values())
            gflops = statistics.median(r["train_gflops"] for r in rs.values())
            train_ratios, infer_ratios = [], []
            for repeat, r in sorted(rs.items()):
                if repeat not in runs:
                    continue
                p = runs[repeat]
                train_ratios.append(folds * p["epoch_seconds_median"] / r["epoch_median_s"])
                infer_ratios.append(
                    folds * p["inference_seconds_median"] / statistics.median(r["inference_s"]))
            def show(ratios: list[float]) -> str:
                if not ratios:
                    return "-"
                each = ", ".join(f"{x:.2f}" for x in ratios)
                return f"**{statistics.median(ratios):.2f}** ({each})"
            print(f"| {model} | KneeForce {device} (dropout {next(iter(rs.values())).get('dropout')}) "
                  f"| {folds} | {len(rs)} | {epoch:.2f} | {folds * seqs / epoch:.0f} "
                  f"| {folds * seqs / infer:.0f} | {gflops:.1f} | {show(train_ratios)} "
                  f"| {show(infer_ratios)} |")
    print()
    print("Every repeat, epoch s (median of its timed epochs) and inference s (median pass):")
    for model, runs in sorted(torch.items()):
        for repeat, p in sorted(runs.items()):
            line = [f"{model} repeat {repeat}: PyTorch epochs {p['epoch_seconds']} "
                    f"inference {p['inference_seconds']}"]
            for (m, device, folds), rs in sorted(ours.items()):
                if m == model and repeat in rs:
                    r = rs[repeat]
                    line.append(f"KneeForce {device} x{folds} epochs "
                                f"{[round(e, 3) for e in r['epoch_s']]} inference "
                                f"{[round(e, 3) for e in r['inference_s']]}")
            print("; ".join(line))


if __name__ == "__main__":
    main()
