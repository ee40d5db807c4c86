/// The result of checking a dataset folder.
public struct DatasetCheckReport: Sendable {
  /// Every problem, errors and warnings, manifest first, then trials in manifest order, then
  /// problems across trials, events and subjects.
  public var diagnostics: [Diagnostic]
  /// The usable part: trials without errors, channels in the first trial's order.
  public var dataset: Dataset
  public var summary: DatasetSummary
}

/// Checks a dataset folder against docs/DATASET_FORMAT.md. Every check reports and goes on,
/// so that one run lists all problems of a folder rather than the first one.
///
/// "A subject with no trials" cannot come from the manifest alone, since subjects are only
/// named by trial rows; it is reported when every row of a subject, or every trial file it
/// points at, was rejected, because leave-one-subject-out would then silently drop the subject.
public struct DatasetChecker: Sendable {
  public var maxGap: Int

  public init(maxGap: Int = TrialReader.defaultMaxGap) {
    self.maxGap = max(0, maxGap)
  }

  public func check(folder: String) -> DatasetCheckReport {
    var diagnostics: [Diagnostic] = []
    let manifestPath = DatasetFiles.join(folder, "manifest.csv")
    let empty = Dataset(folder: folder, trials: [])

    guard let manifestBytes = DatasetFiles.read(manifestPath) else {
      diagnostics.append(
        .error(manifestPath, 1, 1, "no manifest.csv in the dataset folder '\(folder)'"))
      return DatasetCheckReport(
        diagnostics: diagnostics, dataset: empty,
        summary: DatasetSummary(dataset: empty, manifestRows: 0, diagnostics: diagnostics))
    }
    let (parsed, manifestDiagnostics) = Manifest.parse(manifestBytes, file: manifestPath)
    diagnostics += manifestDiagnostics
    guard let manifest = parsed else {
      return DatasetCheckReport(
        diagnostics: diagnostics, dataset: empty,
        summary: DatasetSummary(dataset: empty, manifestRows: 0, diagnostics: diagnostics))
    }

    let fileColumn = (manifest.columns.firstIndex(of: "file") ?? 0) + 1
    var usable: [Trial] = []
    var reference: (channels: [String], file: String)?
    for info in manifest.trials {
      if info.file.hasPrefix("/") {
        diagnostics.append(
          .warning(
            manifestPath, info.line, fileColumn,
            "file '\(info.file)' is absolute; a path relative to the dataset folder keeps the "
              + "folder movable"))
      }
      let path = DatasetFiles.join(folder, info.file)
      guard let bytes = DatasetFiles.read(path) else {
        diagnostics.append(
          .error(
            manifestPath, info.line, fileColumn,
            "file '\(info.file)' of trial '\(info.trialID)' does not exist (looked for \(path))"))
        continue
      }
      let (trial, trialDiagnostics) = TrialReader.parse(
        bytes, file: path, info: info, maxGap: maxGap)
      diagnostics += trialDiagnostics
      guard var trial else { continue }
      var consistent = true
      if let reference {
        consistent = compareChannels(
          trial, path: path, reference: reference, into: &diagnostics)
        if consistent { trial = reordered(trial, to: reference.channels) }
      } else {
        reference = (trial.channels, path)
      }
      if consistent && !trialDiagnostics.hasErrors { usable.append(trial) }
    }

    var events: [String: [GaitEvent]] = [:]
    let eventsPath = DatasetFiles.join(folder, "events.csv")
    if let bytes = DatasetFiles.read(eventsPath) {
      let (parsedEvents, eventDiagnostics) = GaitEventsReader.parse(
        bytes, file: eventsPath, knownTrials: manifest.namedTrialIDs)
      diagnostics += eventDiagnostics
      let usableIDs = Set(usable.map(\.info.trialID))
      events = parsedEvents.filter { usableIDs.contains($0.key) }
    }

    checkSubjects(manifest, usable: usable, file: manifestPath, into: &diagnostics)

    let dataset = Dataset(
      folder: folder, extraColumns: manifest.extraColumns, trials: usable, events: events,
      warnings: diagnostics.warnings)
    let summary = DatasetSummary(
      dataset: dataset, manifestRows: manifest.trials.count, diagnostics: diagnostics)
    return DatasetCheckReport(diagnostics: diagnostics, dataset: dataset, summary: summary)
  }

  /// Reports channels missing from or added to `trial` relative to the first trial. Order
  /// may differ; targets missing are already reported by the trial reader.
  private func compareChannels(
    _ trial: Trial, path: String, reference: (channels: [String], file: String),
    into diagnostics: inout [Diagnostic]
  ) -> Bool {
    let expected = Set(reference.channels)
    let found = Set(trial.channels)
    if expected == found { return true }
    let missing = reference.channels.filter {
      !found.contains($0) && !ChannelConventions.targetChannels.contains($0)
    }
    if !missing.isEmpty {
      diagnostics.append(
        .error(
          path, 1, trial.channels.count + 2,
          "channels differ between trials: missing \(missing.joined(separator: ", ")), which "
            + "\(reference.file) has"))
    }
    for (c, name) in trial.channels.enumerated() where !expected.contains(name) {
      diagnostics.append(
        .error(
          path, 1, c + 2,
          "channels differ between trials: '\(name)' is not in \(reference.file)"))
    }
    return false
  }

  private func reordered(_ trial: Trial, to channels: [String]) -> Trial {
    guard trial.channels != channels else { return trial }
    var copy = trial
    copy.channels = channels
    copy.values = channels.map { name in trial.column(name) ?? [] }
    return copy
  }

  private func checkSubjects(
    _ manifest: Manifest, usable: [Trial], file: String, into diagnostics: inout [Diagnostic]
  ) {
    let withTrials = Set(usable.map(\.info.subject))
    for location in manifest.subjectLocations where !withTrials.contains(location.subject) {
      diagnostics.append(
        .error(
          file, location.line, location.column,
          "subject '\(location.subject)' has no usable trials (every trial row or file of "
            + "this subject has errors), so no fold could test it"))
    }
    var firstRow: [String: TrialInfo] = [:]
    var reported = Set<String>()
    let weightColumn = (manifest.columns.firstIndex(of: "body_weight_n") ?? 0) + 1
    let sideColumn = (manifest.columns.firstIndex(of: "side") ?? 0) + 1
    for info in manifest.trials {
      guard let first = firstRow[info.subject] else {
        firstRow[info.subject] = info
        continue
      }
      if reported.contains(info.subject) { continue }
      if abs(info.bodyWeightN - first.bodyWeightN) > 0.02 * first.bodyWeightN {
        reported.insert(info.subject)
        diagnostics.append(
          .warning(
            file, info.line, weightColumn,
            "subject '\(info.subject)' weighs \(info.bodyWeightN) N here but "
              + "\(first.bodyWeightN) N on line \(first.line)"))
      } else if info.side != first.side {
        reported.insert(info.subject)
        diagnostics.append(
          .warning(
            file, info.line, sideColumn,
            "subject '\(info.subject)' has side \(info.side.rawValue) here but "
              + "\(first.side.rawValue) on line \(first.line)"))
      }
    }
  }
}
