#!/usr/bin/env python3
"""The table of benchmarks/recipe.sh: per setup (sweep folder OUT/<config>-<seed>) the mean
over held-out subjects of RMSE (BW) and Pearson r for medial, lateral and total force, per
cohort seed and averaged over seeds. Networks are scored on their main feature set
(`selected` where the sweep chose inputs per fold); the baselines come from the `recipe`
sweeps (ridge on every input, ridge on grf+kin, both z-score variants)."""
import collections
import csv
import os
import re
import sys

TARGETS = ("medial", "lateral", "total")


def scores(folder):
    """{(model, features): {target: (mean rmse, mean r, subjects)}} over activity `all`."""
    rmse = collections.defaultdict(list)
    r = collections.defaultdict(list)
    with open(os.path.join(folder, "results.csv")) as f:
        for row in csv.DictReader(f):
            if row["activity"] != "all" or row["status"] != "ok":
                continue
            key = (row["model"], row["features"], row["target"])
            rmse[key].append(float(row["rmse_bw"]))
            r[key].append(float(row["pearson_r"]))
    out = collections.defaultdict(dict)
    for (model, features, target), values in rmse.items():
        out[(model, features)][target] = (
            sum(values) / len(values),
            sum(r[(model, features, target)]) / len(values),
            len(values),
        )
    return out


def main_features(table, model):
    sets = [f for (m, f) in table if m == model]
    for preferred in ("selected", "all"):
        if preferred in sets:
            return preferred
    return sorted(sets)[0] if sets else None


def main():
    root = sys.argv[1]
    runs = collections.defaultdict(dict)
    for name in sorted(os.listdir(root)):
        match = re.fullmatch(r"(.+)-(\d+)", name)
        if match and os.path.exists(os.path.join(root, name, "results.csv")):
            runs[match.group(1)][int(match.group(2))] = scores(os.path.join(root, name))
    seeds = sorted({s for per in runs.values() for s in per})
    lines = []
    rows = []  # (setup, model, features, {seed: {target: (rmse, r, n)}})
    order = [c for c in ("recipe", "naive") if c in runs] + sorted(
        c for c in runs if c not in ("recipe", "naive"))
    for config in order:
        for model in ("bilstm_mlp", "tcn"):
            per_seed = {}
            features = None
            for seed, table in runs[config].items():
                features = main_features(table, model)
                if features:
                    per_seed[seed] = table[(model, features)]
            if per_seed:
                rows.append((config, model, features, per_seed))
    if "recipe" in runs:
        for model, features in (("mean_curve", "all"), ("aligned_curve", "all"),
                                ("ridge", "all"), ("ridge", "grf+kin"), ("ridge", "grf"),
                                ("ridge_subject", "all"), ("ridge_subject", "grf+kin"),
                                ("ridge_subject", "grf")):
            per_seed = {s: t[(model, features)] for s, t in runs["recipe"].items()
                        if (model, features) in t}
            if per_seed:
                rows.append(("baseline", model, features, per_seed))
    header = "| setup | model | inputs | " + " | ".join(
        f"seed {s} RMSE m / l / **t**" for s in seeds) + " | mean RMSE total | mean r total |"
    lines.append(header)
    lines.append("|" + "---|" * (header.count("|") - 1))
    for config, model, features, per_seed in rows:
        cells = []
        for s in seeds:
            if s in per_seed:
                t = per_seed[s]
                cells.append(" / ".join(
                    (f"**{t[x][0]:.3f}**" if x == "total" else f"{t[x][0]:.3f}") for x in TARGETS))
            else:
                cells.append("–")
        totals = [per_seed[s]["total"][0] for s in per_seed]
        rs = [per_seed[s]["total"][1] for s in per_seed]
        lines.append(f"| {config} | {model} | {features} | " + " | ".join(cells)
                     + f" | {sum(totals) / len(totals):.3f} | {sum(rs) / len(rs):.3f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
