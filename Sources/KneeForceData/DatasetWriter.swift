import Foundation
import KneeForceFiles

/// Writes a `Dataset` as a dataset folder (manifest.csv, trial CSVs, events.csv), the one
/// format every reader in the project understands. Importers and the synthetic cohort use it
/// so that everything they produce passes `kneeforce check` by construction.
public enum DatasetWriter {
  /// Decimal places per channel: enough to stay below every sensor's resolution (0.001° for
  /// angles, 0.01 N for forces, 1e-5 for normalised EMG) without bloating the files.
  public static func decimals(for channel: String) -> Int {
    switch ChannelConventions.group(of: channel) {
    case "kin": return 3
    case "grf":
      return ChannelConventions.isBodyWeightScaled(channel) ? 2 : 5
    case "emg": return 5
    case "kcf": return 2
    default: return 6
    }
  }

  /// Writes `dataset` as the folder `folder`, published whole: it is built in a hidden
  /// sibling and renamed into place when complete, so an interrupted write never leaves a
  /// manifest that lists missing trials (which `check` could accept). `extraFiles` (such as
  /// README.txt) go beside the manifest. `mode` follows the output-folder rules: a non-empty
  /// folder that kneeforce did not write is refused; `.force` replaces a marked one.
  @discardableResult
  public static func write(
    _ dataset: Dataset, to folder: String, command: String, mode: OutputFolder.Mode = .fresh,
    extraFiles: [(name: String, bytes: [UInt8])] = []
  ) throws -> URL {
    try OutputFolder.writeWhole(folder, command: command, mode: mode) { staging in
      try writeContents(dataset, into: staging.path)
      for file in extraFiles {
        try write(file.bytes, to: DatasetFiles.join(staging.path, file.name))
      }
    }
  }

  /// Writes the dataset's files into an existing folder: where each trial's `info.file` says
  /// (always inside the folder); events.csv only when there are events.
  public static func writeContents(_ dataset: Dataset, into folder: String) throws {
    let manager = FileManager.default
    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for trial in dataset.trials where !DatasetFiles.staysInside(trial.info.file) {
      throw WriteError(path: trial.info.file, code: EINVAL)
    }
    try write(manifestBytes(dataset), to: DatasetFiles.join(folder, "manifest.csv"))
    for trial in dataset.trials {
      let path = DatasetFiles.join(folder, trial.info.file)
      let directory = (path as NSString).deletingLastPathComponent
      if !directory.isEmpty {
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
      }
      try write(trialBytes(trial), to: path)
    }
    if !dataset.events.isEmpty {
      try write(eventsBytes(dataset), to: DatasetFiles.join(folder, "events.csv"))
    }
  }

  public static func manifestBytes(_ dataset: Dataset) -> [UInt8] {
    var text =
      (Manifest.requiredColumns + dataset.extraColumns).map(CSVReader.escape)
      .joined(separator: ",") + "\n"
    for trial in dataset.trials {
      let info = trial.info
      var weight: [UInt8] = []
      DecimalFormatter.append(info.bodyWeightN, decimals: 2, to: &weight)
      let fields =
        [
          info.trialID, info.subject, info.activity, info.side.rawValue,
          String(decoding: weight, as: UTF8.self), info.file,
        ] + dataset.extraColumns.map { info.extra[$0] ?? "" }
      text += fields.map(CSVReader.escape).joined(separator: ",") + "\n"
    }
    return Array(text.utf8)
  }

  public static func trialBytes(_ trial: Trial) -> [UInt8] {
    var out: [UInt8] = []
    let header = ([ChannelConventions.timeColumn] + trial.channels).map(CSVReader.escape)
      .joined(separator: ",")
    out.reserveCapacity(header.utf8.count + trial.sampleCount * (trial.channels.count + 1) * 8)
    out.append(contentsOf: Array(header.utf8))
    out.append(UInt8(ascii: "\n"))
    let places = trial.channels.map(decimals(for:))
    for i in 0..<trial.sampleCount {
      DecimalFormatter.append(trial.time[i], decimals: 6, to: &out)
      for c in 0..<trial.channels.count {
        out.append(UInt8(ascii: ","))
        if c < trial.values.count, i < trial.values[c].count {
          DecimalFormatter.append(trial.values[c][i], decimals: places[c], to: &out)
        }
      }
      out.append(UInt8(ascii: "\n"))
    }
    return out
  }

  public static func eventsBytes(_ dataset: Dataset) -> [UInt8] {
    var out = Array("trial_id,event,time_s\n".utf8)
    for trial in dataset.trials {
      for event in dataset.events[trial.info.trialID] ?? [] {
        out.append(contentsOf: Array(CSVReader.escape(event.trialID).utf8))
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: Array(CSVReader.escape(event.event).utf8))
        out.append(UInt8(ascii: ","))
        DecimalFormatter.append(event.time, decimals: 6, to: &out)
        out.append(UInt8(ascii: "\n"))
      }
    }
    return out
  }

  /// Plain buffered write. `Data.write` fsyncs every file, which made writing a cohort of a
  /// few hundred small files take several times longer than generating it.
  static func write(_ bytes: [UInt8], to path: String) throws {
    guard let file = fopen(path, "wb") else { throw WriteError(path: path, code: errno) }
    let written = bytes.withUnsafeBufferPointer { buffer in
      buffer.isEmpty ? 0 : fwrite(buffer.baseAddress, 1, buffer.count, file)
    }
    let closed = fclose(file)
    guard written == bytes.count, closed == 0 else {
      throw WriteError(path: path, code: errno)
    }
  }

  public struct WriteError: Error, CustomStringConvertible {
    public var path: String
    public var code: Int32

    public var description: String {
      "cannot write \(path): \(String(cString: strerror(code)))"
    }
  }
}
