import Foundation
import KneeForceData

/// The last step of every importer: every trial with the same channels (a trial that lacks
/// a channel group the others have is skipped, naming it; within a group the channels every
/// kept trial has), EMG envelopes normalised per subject to their maximum over the imported
/// trials, events collected.
public enum DatasetAssembly {
  public static func assemble(
    _ trials: [(info: TrialInfo, built: TrialBuilder.Built)], extraColumns: [String],
    log: ImportLog
  ) throws -> Dataset {
    guard !trials.isEmpty else {
      throw ImportError("import", "", "no trial could be imported (see the warnings)")
    }
    let groups = trials.map { Set($0.built.channels.compactMap(ChannelConventions.group(of:))) }
    let allGroups = groups.reduce(Set<String>()) { $0.union($1) }
    var kept: [(info: TrialInfo, built: TrialBuilder.Built)] = []
    for (trial, have) in zip(trials, groups) {
      let missing = allGroups.subtracting(have).sorted()
      if missing.isEmpty {
        kept.append(trial)
      } else {
        log.warn(
          "\(trial.info.trialID): lacks the channel group(s) \(missing.joined(separator: ", ")) "
            + "that other trials have; skipped")
      }
    }
    guard let first = kept.first else {
      throw ImportError("import", "", "no two trials share their channel groups")
    }
    let common = kept.dropFirst().reduce(Set(first.built.channels)) {
      $0.intersection($1.built.channels)
    }
    let channels = first.built.channels.filter { common.contains($0) }
    for trial in kept {
      let dropped = trial.built.channels.filter { !common.contains($0) }
      if !dropped.isEmpty {
        log.warn(
          "\(trial.info.trialID): channels not in every trial left out: "
            + dropped.joined(separator: ", "))
      }
    }
    // Per-subject EMG maxima.
    var maxima: [String: [String: Double]] = [:]
    for trial in kept {
      for (c, name) in trial.built.channels.enumerated() where name.hasPrefix("emg.") {
        let m = trial.built.values[c].filter(\.isFinite).max() ?? 0
        maxima[trial.info.subject, default: [:]][name] = max(
          maxima[trial.info.subject]?[name] ?? 0, m)
      }
    }
    var out: [Trial] = []
    var events: [String: [GaitEvent]] = [:]
    for trial in kept {
      var values: [[Double]] = []
      for name in channels {
        let c = trial.built.channels.firstIndex(of: name)!
        var column = trial.built.values[c]
        if name.hasPrefix("emg."), let m = maxima[trial.info.subject]?[name], m > 0 {
          column = column.map { $0 / m }
        }
        values.append(column)
      }
      out.append(
        Trial(info: trial.info, time: trial.built.time, channels: channels, values: values))
      let list = trial.built.events.map {
        GaitEvent(trialID: trial.info.trialID, event: $0.event, time: $0.time)
      }.sorted { $0.time < $1.time }
      if !list.isEmpty { events[trial.info.trialID] = list }
    }
    let absentTargets = ChannelConventions.targetChannels.filter { !channels.contains($0) }
    if !absentTargets.isEmpty {
      log.warn(
        "\(absentTargets.joined(separator: ", ")) unavailable in these files, not written; the "
          + "dataset format (version 1) requires all three targets, so `check` and `train` "
          + "refuse this folder")
    }
    log.note("channels (\(channels.count)): \(channels.joined(separator: ", "))")
    log.note(
      "EMG envelopes normalised per subject to the maximum over its \(kept.count) imported trial(s)"
    )
    log.note(
      "trials: "
        + out.map { "\($0.info.trialID) (\($0.info.activity), \($0.sampleCount) samples)" }
        .joined(separator: ", "))
    return Dataset(extraColumns: extraColumns, trials: out, events: events)
  }
}
