#!/usr/bin/env python3
"""Measures KneeForce and the PyTorch baseline epoch by epoch, alternating, in one run.

Both run as long-lived processes (`kneeforce bench --serve`, `pytorch_baseline.py --serve`)
that, after their warm-up, answer 'train' with the seconds of one training epoch and 'infer'
with the seconds of one inference pass. Each round times one epoch of each, then one inference
pass of each, the order swapped every round, so both sides see the same machine within
seconds of each other: on a shared machine whose load moves by 2-4x over minutes, ratios of
adjacent measurements are what can be trusted. Every round is printed and kept in the JSON.

  benchmarks/alternate.py --model bilstm_mlp --rounds 7 [--dropout 0.1] [--folds K]
      [--variant NAME=ENV ...] [-- <size options both sides take, e.g. --sequences 512>]

--folds K trains K models in lockstep on our side; PyTorch trains one, so the per-fold ratio
is K * PyTorch seconds / our seconds. --variant runs another configuration of ours in the same
rotation, e.g. --variant openblas=KNEEFORCE_RECURRENT_KERNEL=blas,KNEEFORCE_WEIGHT_GEMM=blas.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None):
        self.name = name
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
            env={**os.environ, **(env or {})}, bufsize=1)
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise SystemExit(f"{name}: exited before it was ready: {command}")
            if line.startswith("ready"):
                self.banner = line.strip()
                break

    def ask(self, command: str) -> float:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline().strip()
        try:
            return float(line)
        except ValueError:
            raise SystemExit(f"{self.name}: answered {line!r} to {command!r}")

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, choices=["bilstm_mlp", "tcn"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--folds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--binary", default=None, help="kneeforce executable (release build)")
    parser.add_argument("--json", default=None)
    parser.add_argument("sizes", nargs="*", help="size options both sides take")
    args = parser.parse_args()
    binary = args.binary or os.path.join(REPO, ".build", "release", "kneeforce")
    common = ["--model", args.model, "--dropout", str(args.dropout), *args.sizes]
    ours_command = [binary, "bench", "--serve", "--devices", "cpu", "--threads",
                    str(args.threads), "--folds", str(args.folds), *common]
    servers = [Server("kneeforce", ours_command)]
    for variant in args.variant:
        name, _, assignments = variant.partition("=")
        env = dict(a.split("=", 1) for a in assignments.split(",") if a)
        servers.append(Server(f"kneeforce-{name}", ours_command, env))
    servers.append(Server("pytorch", [
        sys.executable, os.path.join(REPO, "benchmarks", "pytorch_baseline.py"), "--serve",
        "--threads", str(args.threads), "--warmup", "1", *common]))
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
          f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    for server in servers:
        print(f"  {server.name}: {server.banner}")
    rounds = []
    for r in range(args.rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        result = {"round": r + 1, "load": os.getloadavg()[0]}
        for kind in ["train", "infer"]:
            for server in order:
                time.sleep(0.3)  # let the previous process's threads go idle
                result[f"{server.name} {kind}"] = server.ask(kind)
        rounds.append(result)
        ratios = []
        for server in servers[:-1]:
            t = args.folds * result[f"pytorch train"] / result[f"{server.name} train"]
            i = args.folds * result[f"pytorch infer"] / result[f"{server.name} infer"]
            ratios.append(f"{server.name} train {result[f'{server.name} train']:.3f} s "
                          f"(x{t:.2f}), infer {result[f'{server.name} infer']:.3f} s (x{i:.2f})")
        print(f"round {r + 1} (load {result['load']:.1f}): pytorch train "
              f"{result['pytorch train']:.3f} s, infer {result['pytorch infer']:.3f} s; "
              + "; ".join(ratios), flush=True)
    for server in servers:
        server.close()
    print()
    print(f"| engine | rounds | epoch s (median) | inference s (median) | train ratio, median "
          f"(min) | infer ratio, median (min) |")
    print("|---|---|---|---|---|---|")
    for server in servers:
        train = [x[f"{server.name} train"] for x in rounds]
        infer = [x[f"{server.name} infer"] for x in rounds]
        if server.name == "pytorch":
            line = f"| 1.00 | 1.00 |"
        else:
            tr = [args.folds * x["pytorch train"] / x[f"{server.name} train"] for x in rounds]
            ir = [args.folds * x["pytorch infer"] / x[f"{server.name} infer"] for x in rounds]
            line = (f"| **{statistics.median(tr):.2f}** ({min(tr):.2f}) "
                    f"| **{statistics.median(ir):.2f}** ({min(ir):.2f}) |")
        folds = f" x{args.folds} folds" if server.name != "pytorch" and args.folds > 1 else ""
        print(f"| {server.name}{folds} | {len(rounds)} | {statistics.median(train):.3f} "
              f"| {statistics.median(infer):.3f} {line}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "servers": [s.banner for s in servers],
                       "rounds": rounds}, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
