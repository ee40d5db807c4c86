/// The result of checking a dataset folder.
public struct DatasetCheckReport: Sendable {
  /// Every problem, errors and warnings, manifest first, then trials in manifest order, then
  /// problems across trials, events and subjects.
  public var diagnostics: [Diagnostic]
  /// The usable part: trials without errors, channels in the first trial's order.
  public var dataset: Dataset
  public var summary: DatasetSummary
}

/// The result of `DatasetChecker.scan`: the problems and the summary of a dataset folder,
/// without its trials, which the scan read one at a time and did not keep.
public struct DatasetScanReport: Sendable {
  /// As `DatasetCheckReport.diagnostics`.
  public var diagnostics: [Diagnostic]
  public var summary: DatasetSummary
  /// Manifest columns beyond the required ones, in file order.
  public var extraColumns: [String]
  /// Events of the usable trials, by trial id, sorted by time.
  public var events: [String: [GaitEvent]]
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

  /// Why `folder` cannot be a dataset folder (it does not exist, is a file, cannot be read),
  /// in words, or nil when it is a readable folder.
  public static func folderProblem(_ folder: String) -> String? {
    DatasetFiles.folderProblem(folder)
  }

  /// Checks `folder` and keeps its usable trials, for training.
  public func check(folder: String) -> DatasetCheckReport {
    var trials: [Trial] = []
    let scan = scan(folder: folder) { trials.append($0) }
    let dataset = Dataset(
      folder: folder, extraColumns: scan.extraColumns, trials: trials, events: scan.events,
      warnings: scan.diagnostics.warnings)
    return DatasetCheckReport(
      diagnostics: scan.diagnostics, dataset: dataset, summary: scan.summary)
  }

  /// Checks `folder` one trial at a time: each trial file is read, checked, summarised and
  /// handed to `usableTrial` when it has no errors (channels in the first trial's order),
  /// then dropped, so that memory is bounded by the largest trial, not the dataset.
  public func scan(folder: String, usableTrial: (Trial) -> Void = { _ in }) -> DatasetScanReport {
    var diagnostics: [Diagnostic] = []
    let manifestPath = DatasetFiles.join(folder, "manifest.csv")
    func failed() -> DatasetScanReport {
      let summary = DatasetSummary(
        folder: folder, manifestRows: 0, diagnostics: diagnostics, channels: [],
        accumulated: DatasetSummary.Accumulator(), trialsWithEvents: 0)
      return DatasetScanReport(
        diagnostics: diagnostics, summary: summary, extraColumns: [], events: [:])
    }

    if let problem = DatasetFiles.folderProblem(folder) {
      diagnostics.append(.error(manifestPath, 1, 1, problem))
      return failed()
    }
    let manifestBytes: [UInt8]
    switch DatasetFiles.readAll(manifestPath) {
    case .success(let bytes):
      manifestBytes = bytes
    case .failure(.file(.kind(.missing))):
      diagnostics.append(
        .error(
          manifestPath, 1, 1,
          "no manifest.csv in the dataset folder \(quoted(folder, limit: 400))"))
      return failed()
    case .failure(let problem):
      diagnostics.append(.error(manifestPath, 1, 1, problem.sentence(name: "manifest.csv")))
      return failed()
    }
    let (parsed, manifestDiagnostics) = Manifest.parse(manifestBytes, file: manifestPath)
    diagnostics += manifestDiagnostics
    guard let manifest = parsed else { return failed() }

    let fileColumn = (manifest.columns.firstIndex(of: "file") ?? 0) + 1
    var summary = DatasetSummary.Accumulator()
    var usableIDs = Set<String>()
    var usableSubjects = Set<String>()
    var reference: (channels: [String], file: String)?
    for info in manifest.trials {
      var named: String { "file \(quoted(info.file, limit: 200)) of trial \(quoted(info.trialID))" }
      guard DatasetFiles.staysInside(info.file) else {
        diagnostics.append(
          .error(
            manifestPath, info.line, fileColumn,
            "\(named) \(Self.outside(info.file)); trial files must be inside the dataset "
              + "folder, named relative to it"))
        continue
      }
      let path = DatasetFiles.join(folder, info.file)
      let parsedTrial: Trial?
      let trialDiagnostics: [Diagnostic]
      switch TrialReader.read(path, info: info, maxGap: maxGap) {
      case .success(let (trial, found)):
        (parsedTrial, trialDiagnostics) = (trial, found)
      case .failure(.encoding(let words)):
        diagnostics.append(.error(path, 1, 1, words))
        continue
      case .failure(let problem):
        let looked = problem == .kind(.missing) ? " (looked for \(plain(path, limit: 400)))" : ""
        diagnostics.append(
          .error(manifestPath, info.line, fileColumn, "\(named) \(problem.predicate)\(looked)"))
        continue
      }
      diagnostics += trialDiagnostics
      guard var trial = parsedTrial else { continue }
      var consistent = true
      if let reference {
        consistent = compareChannels(
          trial, path: path, reference: reference, into: &diagnostics)
        if consistent { trial = reordered(trial, to: reference.channels) }
      } else {
        reference = (trial.channels, path)
      }
      if consistent && !trialDiagnostics.hasErrors {
        summary.add(trial)
        usableIDs.insert(info.trialID)
        usableSubjects.insert(info.subject)
        usableTrial(trial)
      }
    }

    var events: [String: [GaitEvent]] = [:]
    let eventsPath = DatasetFiles.join(folder, "events.csv")
    switch DatasetFiles.readAll(eventsPath) {
    case .success(let bytes):
      let (parsedEvents, eventDiagnostics) = GaitEventsReader.parse(
        bytes, file: eventsPath, knownTrials: manifest.namedTrialIDs)
      diagnostics += eventDiagnostics
      events = parsedEvents.filter { usableIDs.contains($0.key) }
    case .failure(.file(.kind(.missing))):
      break
    case .failure(let problem):
      diagnostics.append(.error(eventsPath, 1, 1, problem.sentence(name: "events.csv")))
    }

    checkSubjects(manifest, usableSubjects: usableSubjects, file: manifestPath, into: &diagnostics)

    let result = DatasetSummary(
      folder: folder, manifestRows: manifest.trials.count, diagnostics: diagnostics,
      channels: reference?.channels ?? [], accumulated: summary,
      trialsWithEvents: events.values.filter { !$0.isEmpty }.count)
    return DatasetScanReport(
      diagnostics: diagnostics, summary: result, extraColumns: manifest.extraColumns,
      events: events)
  }

  /// Why a manifest `file` that `DatasetFiles.staysInside` refuses is refused.
  private static func outside(_ file: String) -> String {
    if file.hasPrefix("/") { return "is an absolute path" }
    var depth = 0
    for part in file.split(separator: "/") {
      depth += part == ".." ? -1 : part == "." ? 0 : 1
      if depth < 0 { return "leaves the dataset folder (by '..')" }
    }
    return "names the dataset folder itself, not a file in it"
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
          "channels differ between trials: missing \(plain(missing.joined(separator: ", "))), "
            + "which \(plain(reference.file, limit: 400)) has"))
    }
    for (c, name) in trial.channels.enumerated() where !expected.contains(name) {
      diagnostics.append(
        .error(
          path, 1, c + 2,
          "channels differ between trials: \(quoted(name)) is not in "
            + plain(reference.file, limit: 400)))
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
    _ manifest: Manifest, usableSubjects: Set<String>, file: String,
    into diagnostics: inout [Diagnostic]
  ) {
    for location in manifest.subjectLocations where !usableSubjects.contains(location.subject) {
      diagnostics.append(
        .error(
          file, location.line, location.column,
          "subject \(quoted(location.subject)) has no usable trials (every trial row or file of "
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
            "subject \(quoted(info.subject)) weighs \(info.bodyWeightN) N here but "
              + "\(first.bodyWeightN) N on line \(first.line)"))
      } else if info.side != first.side {
        reported.insert(info.subject)
        diagnostics.append(
          .warning(
            file, info.line, sideColumn,
            "subject \(quoted(info.subject)) has side \(info.side.rawValue) here but "
              + "\(first.side.rawValue) on line \(first.line)"))
      }
    }
  }
}
