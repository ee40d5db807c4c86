#!/usr/bin/env python3
"""Write the C3D reference values the KneeForceLabFiles tests compare against.

Developer machines only, never CI: `pip install ezc3d c3d numpy`, then
`python3 scripts/make_c3d_references.py` from the repository root. It

1. has the test target write our own files (synthetic content in Intel, DEC and SGI/MIPS,
   float and integer storage; a 70 000-frame trial; every real file of
   ../shared/data/grand-challenge re-encoded as DEC, SGI and integer storage) into a
   temporary folder (`KNEEFORCE_C3D_REFERENCE_INPUTS`);
2. reads every file, and the real files themselves, with ezc3d (Intel and DEC; it cannot
   read SGI/MIPS) and with py-c3d (all three), and records labels, rates, frame counts,
   sampled points and analog samples, per-point and per-channel sums over every sample,
   events and ezc3d's force-plate outputs;
3. writes Tests/KneeForceLabFilesTests/References/<name>.json, and copies the small
   synthetic files into References/synthetic/. The real files are never copied.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import c3d as pyc3d
import ezc3d
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "Tests/KneeForceLabFilesTests/References"
SHARED = ROOT.parent / "shared/data/grand-challenge"


def processor_and_storage(path):
    data = Path(path).read_bytes()
    block = data[0]
    code = data[512 * (block - 1) + 3]
    proc = {84: "intel", 85: "dec", 86: "mips"}[code]
    reader = pyc3d.Reader(open(path, "rb"))
    scale = reader.point_scale
    return proc, ("float" if scale < 0 else "integer"), float(abs(scale))


def num(value):
    value = float(value)
    return None if not np.isfinite(value) else value


def sample_indices(rng, count, n):
    if count == 0:
        return []
    picks = set([0, count - 1])
    picks.update(int(i) for i in rng.integers(0, count, size=n))
    return sorted(picks)


def pick_points(rng, xyz, valid):
    """xyz [points, frames, 3]; valid [points, frames]."""
    n_points, n_frames = valid.shape
    picks = []
    for frame in sample_indices(rng, n_frames, 25):
        picks.append((frame, int(rng.integers(0, n_points))))
    invalid = np.argwhere(~valid)
    if len(invalid):
        for k in rng.choice(len(invalid), size=min(5, len(invalid)), replace=False):
            point, frame = invalid[k]
            picks.append((int(frame), int(point)))
    rows = []
    for frame, point in picks:
        if valid[point, frame]:
            rows.append([frame, point] + [num(v) for v in xyz[point, frame]])
        else:
            rows.append([frame, point, None, None, None])
    return rows


def point_sums(xyz, valid):
    """Per point: sums of x, y, z over its valid frames, and their count (every sample)."""
    rows = []
    for point in range(xyz.shape[0]):
        v = valid[point]
        rows.append([float(np.sum(xyz[point, v, k], dtype=np.float64)) for k in range(3)] + [int(v.sum())])
    return rows


def analog_sums(analogs):
    """Per channel: sum and sum of absolute values over every sample."""
    return [[float(np.sum(c, dtype=np.float64)), float(np.sum(np.abs(c), dtype=np.float64))] for c in analogs]


def pick_analogs(rng, analogs):
    """analogs [channels, samples]"""
    channels, samples = analogs.shape
    rows = []
    if channels == 0:
        return rows
    for sample in sample_indices(rng, samples, 30):
        channel = int(rng.integers(0, channels))
        rows.append([sample, channel, float(analogs[channel, sample])])
    return rows


def ezc3d_reference(path, name):
    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    p = c["parameters"]
    h = c["header"]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    points = c["data"]["points"]  # [4, points, frames]
    residuals = c["data"]["meta_points"]["residuals"][0]  # [points, frames]
    xyz = np.transpose(points[:3], (1, 2, 0))
    valid = (residuals >= 0) & np.all(np.isfinite(xyz), axis=2)
    analogs = c["data"]["analogs"][0]
    plates = []
    for k, plate in enumerate(c["data"].get("platform", [])):
        force = plate["force"]
        fz = np.abs(force[2])
        loaded = np.argwhere(fz > 0.05 * max(fz.max(), 1e-9))[:, 0]
        picks = set(int(i) for i in rng.choice(loaded, size=min(20, len(loaded)), replace=False)) if len(loaded) else set()
        picks.update(sample_indices(rng, force.shape[1], 5))
        rows = []
        for s in sorted(picks):
            rows.append(
                [s]
                + [num(v) for v in force[:, s]]
                + [num(v) for v in plate["center_of_pressure"][:, s]]
                + [num(plate["Tz"][2, s])]
            )
        plates.append(
            {"index": k + 1, "unit_position": plate["unit_position"], "unit_moment": plate["unit_moment"], "samples": rows}
        )
    events = []
    if "EVENT" in p and int(p["EVENT"]["USED"]["value"][0]) > 0:
        used = int(p["EVENT"]["USED"]["value"][0])
        times = np.array(p["EVENT"]["TIMES"]["value"]).reshape(2, -1) if used else np.zeros((2, 0))
        contexts = p["EVENT"].get("CONTEXTS", {"value": [""] * used})["value"]
        for i in range(used):
            events.append(
                {"label": p["EVENT"]["LABELS"]["value"][i].strip(), "context": contexts[i].strip(), "time": float(times[0, i] * 60 + times[1, i])}
            )
    def labels(group, count):
        # LABELS, LABELS2, LABELS3, ... joined here (the script's doing, in both readers).
        names, k = [], 1
        while (key := "LABELS" if k == 1 else f"LABELS{k}") in p[group]:
            names += [s.strip() for s in p[group][key]["value"]]
            k += 1
        return names[:count]

    return {
        "version": "ezc3d " + getattr(ezc3d, "__version__", "1.7.2"),
        "point_labels": labels("POINT", points.shape[1]),
        "analog_labels": labels("ANALOG", analogs.shape[0]),
        "point_rate": float(h["points"]["frame_rate"]),
        "analog_rate": float(h["analogs"]["frame_rate"]),
        "first_frame": int(h["points"]["first_frame"]) + 1,
        "frames": int(points.shape[2]),
        "analog_samples": int(analogs.shape[1]),
        "points": pick_points(rng, xyz, valid),
        "analogs": pick_analogs(rng, analogs),
        "point_sums": point_sums(xyz.astype(np.float64), valid),
        "analog_sums": analog_sums(analogs),
        "force_plates": plates,
        "events": events,
    }


def pyc3d_reference(path, name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    with open(path, "rb") as handle:
        reader = pyc3d.Reader(handle)
        frames_points = []
        frames_analogs = []
        for _, points, analog in reader.read_frames():
            frames_points.append(points.copy())
            frames_analogs.append(np.array(analog, dtype=float).reshape(reader.analog_used, -1))
        def joined(group):
            names, k = [], 1
            while (param := reader.get(f"{group}:LABELS" if k == 1 else f"{group}:LABELS{k}")) is not None:
                names += [s.strip() for s in param.string_array]
                k += 1
            return names

        labels = joined("POINT")
        analog_labels = joined("ANALOG") if reader.analog_used else []
        point_rate = float(reader.point_rate)
        analog_rate = float(reader.analog_rate)
        first = int(reader.first_frame)
    pts = np.stack(frames_points, axis=1)  # [points, frames, 5]
    xyz = pts[:, :, :3]
    valid = pts[:, :, 3] >= 0
    analogs = np.concatenate(frames_analogs, axis=1) if frames_analogs and reader.analog_used else np.zeros((0, 0))
    return {
        "version": "py-c3d " + getattr(pyc3d, "__version__", "0.6.0"),
        "point_labels": labels[: pts.shape[0]],
        "analog_labels": analog_labels[: analogs.shape[0]],
        "point_rate": point_rate,
        "analog_rate": analog_rate,
        "first_frame": first,
        "frames": int(pts.shape[1]),
        "analog_samples": int(analogs.shape[1]) if analogs.size else 0,
        "points": pick_points(rng, xyz, valid),
        "analogs": pick_analogs(rng, analogs),
        "point_sums": point_sums(xyz.astype(np.float64), valid),
        "analog_sums": analog_sums(analogs) if analogs.size else [],
    }


def reference(path, name):
    proc, storage, scale = processor_and_storage(path)
    readers = {}
    if proc != "mips":
        readers["ezc3d"] = ezc3d_reference(path, name)
    readers["py-c3d"] = pyc3d_reference(path, name)
    return {"file": name, "processor": proc, "storage": storage, "point_scale": scale, "readers": readers}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, KNEEFORCE_C3D_REFERENCE_INPUTS=tmp)
        subprocess.run(["swift", "build", "--build-tests"], cwd=ROOT, check=True)
        subprocess.run(
            ["swift", "test", "--skip-build", "--disable-swift-testing", "--filter", "ReferenceInputWriter"],
            cwd=ROOT, env=env, check=True,
        )
        inputs = sorted(Path(tmp).glob("*.c3d"))
        real = sorted(SHARED.rglob("*.c3d")) if SHARED.exists() else []
        REFERENCES.mkdir(parents=True, exist_ok=True)
        (REFERENCES / "synthetic").mkdir(exist_ok=True)
        for path in real + inputs:
            name = path.stem
            print("reference", name, file=sys.stderr)
            with open(REFERENCES / f"{name}.json", "w") as out:
                json.dump(reference(path, name), out, indent=None, separators=(",", ":"))
                out.write("\n")
            if name.startswith("synthetic_"):
                shutil.copy(path, REFERENCES / "synthetic" / path.name)


if __name__ == "__main__":
    main()
