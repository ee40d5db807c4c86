import Foundation
import KneeForceFiles

/// Writes a complete sweep output folder as docs/SWEEP_OUTPUTS.md describes it (marker,
/// sweep.json, results.csv, summary.md, units/<unit>/ with unit.json, predictions.csv,
/// history.csv and a checkpoint), with curves that look like knee contact forces: a double
/// hump in stance, low in swing, each model a little off in its own way. `results.csv` is
/// computed from the predictions, as the sweep computes it.
struct SweepFixture {
  var subjects = ["S01", "S02", "S03"]
  var models = ["bilstm_mlp", "tcn"]
  var baselines = ["mean_curve", "ridge"]
  var features = ["all", "no_emg"]
  var activities = ["stair_ascent", "walking"]
  var trials = 2
  var steps = 101
  var epochs = 12
  var seeds = 2
  var synthetic = true
  /// Folder names of units whose loss turned non-finite (no predictions, empty scores).
  var failed: Set<String> = []
  /// `--per-activity`: one unit per activity (results' `activities` column `per_activity`).
  var perActivity = false

  static let targets = ["medial", "lateral", "total"]

  /// The 48-unit `--lofo` sweep of the issue: 2 networks x 4 feature sets x 6 subjects (plus
  /// 48 baseline units), 6 activities, 5 trials each, 101 steps, 100 epochs.
  static var largeLOFO: SweepFixture {
    var fixture = SweepFixture()
    fixture.subjects = (1...6).map { "S0\($0)" }
    fixture.features = ["all", "no_kin", "no_grf", "no_emg"]
    fixture.activities = [
      "chair_rise", "ramp_descent", "squat", "stair_ascent", "stair_descent", "walking",
    ]
    fixture.trials = 5
    fixture.epochs = 100
    fixture.seeds = 1
    return fixture
  }

  struct Unit {
    var model: String
    var features: String
    var subject: String
    var activities = "all"
    var folder: String { "\(model)__\(features)__\(activities)__\(subject)" }
    var pooled: String { "\(model)|\(features)|\(subject)" }
  }

  var units: [Unit] {
    var out: [Unit] = []
    for model in models + baselines {
      for f in features {
        for a in perActivity ? activities.sorted() : ["all"] {
          for s in subjects {
            out.append(Unit(model: model, features: f, subject: s, activities: a))
          }
        }
      }
    }
    return out
  }

  /// `[target][step]` of one trial.
  func measured(activity: Int, subject: Int, trial: Int) -> [[Double]] {
    var total = [Double](repeating: 0, count: steps)
    var medial = total
    for i in 0..<steps {
      let x = Double(i) / Double(steps - 1)
      let a = Double(activity)
      let c1 = 0.14 + 0.02 * a
      let c2 = 0.46 + 0.015 * a
      let h1 = 2.4 + 0.25 * a
      let h2 = 2.1 + 0.1 * a
      let scale = 1 + 0.06 * Double(subject)
      var value = 0.3 + h1 * exp(-pow((x - c1) / 0.08, 2)) + h2 * exp(-pow((x - c2) / 0.09, 2))
      value *= scale
      value += 0.09 * sin(2 * .pi * 3 * x + Double(trial) * 1.7 + Double(subject))
      total[i] = value
      medial[i] = value * (0.6 + 0.03 * sin(2 * .pi * x + Double(subject)))
    }
    let lateral = zip(total, medial).map { $0 - $1 }
    return [medial, lateral, total]
  }

  /// `[target][step]` of a model's prediction for a trial, and the members' SD.
  func predicted(_ unit: Unit, measured: [[Double]], activity: Int, subject: Int) -> (
    [[Double]], [[Double]]
  ) {
    let fi = Double(features.firstIndex(of: unit.features) ?? 0)
    var prediction = measured
    var sd = measured.map { $0.map { _ in 0.0 } }
    let mean = self.measured(activity: activity, subject: 0, trial: 0)
    for t in measured.indices {
      for i in 0..<steps {
        let x = Double(i) / Double(steps - 1)
        let m = measured[t][i]
        switch unit.model {
        case "bilstm_mlp":
          prediction[t][i] = m + 0.05 + 0.03 * fi + 0.08 * sin(2 * .pi * 2 * x + Double(subject))
        case "tcn":
          prediction[t][i] =
            m * (0.93 - 0.02 * fi) + 0.1 + 0.06 * sin(2 * .pi * 4 * x + Double(subject))
        case "mean_curve":
          prediction[t][i] = mean[t][i]
        default:
          prediction[t][i] = 0.85 * m + 0.15 * mean[t][i] + 0.12 * cos(2 * .pi * x) + 0.02 * fi
        }
        if seeds > 1, !SweepReportBaselines.contains(unit.model) {
          sd[t][i] = 0.04 + 0.03 * sin(2 * .pi * x + Double(t)) * sin(2 * .pi * x + Double(t))
        }
      }
    }
    return (prediction, sd)
  }

  func write(to url: URL) throws {
    let fm = FileManager.default
    try fm.createDirectory(at: url, withIntermediateDirectories: true)
    try OutputFolder.writeMarker(url, command: "sweep")
    let unitsURL = url.appendingPathComponent("units")
    try fm.createDirectory(at: unitsURL, withIntermediateDirectories: true)
    // (unit folder, activity, subject, target) -> (measured, predicted) samples.
    var samples: [String: ([Double], [Double], Int)] = [:]
    for unit in units {
      let folder = unitsURL.appendingPathComponent(unit.folder)
      try fm.createDirectory(at: folder, withIntermediateDirectories: true)
      let s = subjects.firstIndex(of: unit.subject)!
      let isFailed = failed.contains(unit.folder)
      let network = !SweepReportBaselines.contains(unit.model)
      if !isFailed {
        var csv =
          "trial_id,subject,activity,sequence,step,measured.medial,measured.lateral,"
          + "measured.total,predicted.medial,predicted.lateral,predicted.total,sd.medial,"
          + "sd.lateral,sd.total\n"
        for (a, activity) in activities.enumerated()
        where unit.activities == "all" || unit.activities == activity {
          for k in 0..<trials {
            let m = measured(activity: a, subject: s, trial: k)
            let (p, sd) = predicted(unit, measured: m, activity: a, subject: s)
            let trial = "\(unit.subject)_\(activity)_\(k + 1)"
            for i in 0..<steps {
              csv += "\(trial),\(unit.subject),\(activity),0,\(i)"
              for t in 0..<3 { csv += ",\(m[t][i])" }
              for t in 0..<3 { csv += ",\(p[t][i])" }
              for t in 0..<3 { csv += ",\(sd[t][i])" }
              csv += "\n"
            }
            for (t, target) in Self.targets.enumerated() {
              for key in ["\(unit.pooled)|\(activity)|\(target)", "\(unit.pooled)|all|\(target)"] {
                var entry = samples[key] ?? ([], [], 0)
                entry.0 += m[t]
                entry.1 += p[t]
                entry.2 += 1
                samples[key] = entry
              }
            }
          }
        }
        try AtomicFile.write(
          csv, to: folder.appendingPathComponent("predictions.csv"), durable: false)
      }
      var epochsTrained: [Int] = []
      var bestEpochs: [Int] = []
      if network {
        var csv = "member,seed,epoch,training_loss,validation_loss,best\n"
        for member in 0..<seeds {
          let count = isFailed ? 3 : max(2, epochs - (member * 3 + s) % 7)
          let decay = Double(max(epochs, 5)) / 5
          let losses = (1...count).map { e -> (Double, Double) in
            let x = Double(e)
            let training =
              0.02 + 0.6 * exp(-x / decay) * (1 + 0.03 * sin(x + Double(member)))
            let late = max(0, x - 0.6 * Double(epochs))
            let validation = 0.04 + 0.5 * exp(-x / decay) + 0.00004 * late * late
            return (training, validation)
          }
          let best = isFailed ? 0 : losses.indices.min { losses[$0].1 < losses[$1].1 }! + 1
          for (index, loss) in losses.enumerated() {
            let e = index + 1
            let validation = isFailed && e == count ? "nan" : "\(loss.1)"
            csv += "\(member),\(member),\(e),\(loss.0),\(validation),\(e == best ? 1 : 0)\n"
          }
          epochsTrained.append(count)
          bestEpochs.append(best)
        }
        try AtomicFile.write(csv, to: folder.appendingPathComponent("history.csv"), durable: false)
        try AtomicFile.write(
          checkpointBytes(), to: folder.appendingPathComponent("checkpoint.safetensors"),
          durable: false)
      }
      let others = subjects.filter { $0 != unit.subject }
      var journal: [String: Any] = [
        "unit": [
          "model": unit.model, "features": unit.features, "activities": unit.activities,
          "subject": unit.subject,
        ],
        "status": isFailed ? "failed" : "ok",
        "training_subjects": network ? Array(others.dropFirst()) : others,
        "format": 1,
        "seeds": network ? Array(0..<seeds) : [],
        "held_out_activities": unit.activities == "all" ? activities : [unit.activities],
        "epochs_trained": epochsTrained, "best_epochs": bestEpochs,
        "training_sequences": others.count * activities.count * trials,
        "seconds": 1.5 + Double(s),
        "files": isFailed
          ? ["history.csv"]
          : (network
            ? ["predictions.csv", "history.csv", "checkpoint.safetensors"] : ["predictions.csv"]),
      ]
      if network { journal["validation_subject"] = others.first! }
      if isFailed {
        journal["failure"] = [
          "epoch": 3, "member": 0, "seed": 0, "what": "validation loss is nan",
        ]
      }
      try AtomicFile.write(
        try JSONSerialization.data(
          withJSONObject: journal, options: [.prettyPrinted, .sortedKeys]),
        to: folder.appendingPathComponent("unit.json"), durable: false)
    }

    var results =
      "model,features,activity,subject,target,rmse_bw,pearson_r,n_trials,seeds,n_sequences,"
      + "activities,status\n"
    for model in models + baselines {
      for f in features {
        for activity in ["all"] + activities.sorted() {
          for subject in subjects.sorted() {
            let unit = Unit(
              model: model, features: f, subject: subject,
              activities: perActivity
                ? (activity == "all" ? activities.sorted()[0] : activity) : "all")
            let trained = perActivity ? "per_activity" : "all"
            let n = activity == "all" ? trials * activities.count : trials
            let seedCount = SweepReportBaselines.contains(model) ? 0 : seeds
            for target in Self.targets {
              let prefix = "\(model),\(f),\(activity),\(subject),\(target)"
              if failed.contains(unit.folder) {
                results += "\(prefix),,,\(n),\(seedCount),\(n),\(trained),failed\n"
                continue
              }
              let (m, p, _) = samples["\(unit.pooled)|\(activity)|\(target)"]!
              results +=
                "\(prefix),\(rmse(m, p)),\(pearson(m, p)),\(n),\(seedCount),\(n),\(trained),ok\n"
            }
          }
        }
      }
    }
    try AtomicFile.write(results, to: url.appendingPathComponent("results.csv"), durable: false)
    try AtomicFile.write(
      "# Sweep\n\n\(synthetic ? "SYNTHETIC data.\n" : "")(fixture)\n",
      to: url.appendingPathComponent("summary.md"), durable: false)

    let networkUnits = models.count * features.count * subjects.count
    let sweep: [String: Any] = [
      "format": 1, "command": "sweep", "version": "0.2.0", "commit": "fd3337f0123456789",
      "options": [
        "models": models, "inputs": ["kin", "grf", "emg"], "lofo": features.count > 1,
        "per_activity": perActivity, "epochs": epochs, "patience": 10, "batch": 32, "lr": 0.003,
        "weight_decay": 0, "max_grad_norm": 1, "seeds": seeds, "seed": 0,
        "segmentation": ["trial": ["length": steps]], "backend": "cpu", "hidden": 16,
      ],
      "run": [
        "device": "cpu (2 threads, OpenBLAS)", "fold_batch": 6, "planned_memory_bytes": 123456,
        "threads": 2,
      ],
      "data": [
        "folder": "/data/synthetic-cohort", "fingerprint": "9f2c4e1a77b0c3d5",
        "synthetic": synthetic, "subjects": subjects,
        "trials_per_activity": Dictionary(
          uniqueKeysWithValues: activities.map { ($0, trials * subjects.count) }),
      ],
      "units": [
        "planned": units.count, "finished": units.count, "failed": failed.count,
        "networks": networkUnits,
      ],
      "shard": ["index": 1, "count": 1],
      "timings": ["started": "2026-12-01T09:00:00Z", "seconds": 312.5, "training_seconds": 300.1],
      "complete": true,
    ]
    try AtomicFile.write(
      try JSONSerialization.data(withJSONObject: sweep, options: [.prettyPrinted, .sortedKeys]),
      to: url.appendingPathComponent("sweep.json"), durable: false)
  }

  func checkpointBytes() -> [UInt8] {
    let header = Array(#"{"__metadata__":{"kneeforce":"{}"}}"#.utf8)
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
    bytes += header
    return bytes
  }

  func rmse(_ a: [Double], _ b: [Double]) -> Double {
    (zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(a.count)).squareRoot()
  }

  func pearson(_ a: [Double], _ b: [Double]) -> Double {
    let ma = a.reduce(0, +) / Double(a.count)
    let mb = b.reduce(0, +) / Double(b.count)
    var sab = 0.0
    var saa = 0.0
    var sbb = 0.0
    for (x, y) in zip(a, b) {
      sab += (x - ma) * (y - mb)
      saa += (x - ma) * (x - ma)
      sbb += (y - mb) * (y - mb)
    }
    guard saa > 0, sbb > 0 else { return .nan }
    return sab / (saa * sbb).squareRoot()
  }
}

let SweepReportBaselines: Set<String> = ["mean_curve", "ridge"]
