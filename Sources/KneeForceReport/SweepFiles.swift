import Foundation
import KneeForceFiles

/// A problem in one of the sweep's files, named by its path and, where there is one, its
/// line (1 is the header of a CSV file): `OUT/results.csv:7: rmse_bw: expected a number`.
public struct ReportInputError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let line: Int?
  public let message: String

  init(_ file: String, line: Int? = nil, _ message: String) {
    self.file = file
    self.line = line
    self.message = message
  }

  public var description: String {
    if let line { return "\(file):\(line): \(message)" }
    return "\(file): \(message)"
  }
}

/// The three targets of docs/SWEEP_OUTPUTS.md, in their order.
let targetOrder = ["medial", "lateral", "total"]
let networkOrder = ["bilstm_mlp", "tcn"]
let baselineOrder = ["mean_curve", "aligned_curve", "ridge", "ridge_subject"]
let featureOrder = ["selected", "all", "no_kin", "no_grf", "no_emg"]

func modelRank(_ model: String) -> (Int, String) {
  let order = networkOrder + baselineOrder
  return (order.firstIndex(of: model) ?? order.count, model)
}

func featureRank(_ features: String) -> (Int, String) {
  (featureOrder.firstIndex(of: features) ?? featureOrder.count, features)
}

/// The contract's order of units: model, features, activities (`all` first), subject.
func unitOrder(_ unit: UnitRecord) -> [String] {
  let model = modelRank(unit.model)
  let features = featureRank(unit.features)
  return [
    String(format: "%03d", model.0), model.1, String(format: "%03d", features.0), features.1,
    unit.activities == "all" ? "" : unit.activities, unit.subject,
  ]
}

func isBaseline(_ model: String) -> Bool { baselineOrder.contains(model) }

/// A comma-separated file of the contract: a header, no quoting, `\n` line ends.
struct CSVTable {
  let path: String
  let header: [String]
  /// Fields of each data line, and the line's number in the file.
  let rows: [[Substring]]
  let lines: [Int]

  static func read(_ url: URL, name: String) throws -> CSVTable {
    let text = try readText(url, name: name)
    var rows: [[Substring]] = []
    var lines: [Int] = []
    var header: [String]?
    var number = 0
    let all = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, raw) in all.enumerated() {
      number += 1
      var line = raw
      if line.hasSuffix("\r") { line = line.dropLast() }
      if line.isEmpty {
        if index == all.count - 1 { break }
        throw ReportInputError(name, line: number, "empty line")
      }
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      guard let header else {
        let names = fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $1.count > 1 }) {
          throw ReportInputError(name, line: 1, "the column \(duplicate.key) appears twice")
        }
        header = names
        continue
      }
      guard fields.count == header.count else {
        throw ReportInputError(
          name, line: number,
          "expected \(header.count) fields (\(header.joined(separator: ","))), found "
            + "\(fields.count)")
      }
      rows.append(fields)
      lines.append(number)
    }
    guard let header else {
      throw ReportInputError(name, "is empty: expected a header line")
    }
    return CSVTable(path: name, header: header, rows: rows, lines: lines)
  }

  func column(_ name: String) -> Int? { header.firstIndex(of: name) }

  func require(_ name: String) throws -> Int {
    guard let index = column(name) else {
      throw ReportInputError(
        path, line: 1, "no column \(name) (the header is \(header.joined(separator: ",")))")
    }
    return index
  }

  func text(_ row: Int, _ column: Int) -> String { String(rows[row][column]) }

  /// A number of the contract (`0.1523`, `1e-05`, `nan`), nil for an empty field.
  func number(_ row: Int, _ column: Int) throws -> Double? {
    let field = rows[row][column]
    if field.isEmpty { return nil }
    if let value = Double(field) { return value }
    throw ReportInputError(
      path, line: lines[row], "\(header[column]): expected a number, found '\(field)'")
  }

  func integer(_ row: Int, _ column: Int) throws -> Int? {
    let field = rows[row][column]
    if field.isEmpty { return nil }
    if let value = Int(field) { return value }
    throw ReportInputError(
      path, line: lines[row], "\(header[column]): expected a whole number, found '\(field)'")
  }

  func nonEmpty(_ row: Int, _ column: Int) throws -> String {
    let field = rows[row][column]
    guard !field.isEmpty else {
      throw ReportInputError(path, line: lines[row], "\(header[column]) is empty")
    }
    return String(field)
  }
}

func readText(_ url: URL, name: String) throws -> String {
  let data: Data
  do {
    data = try RegularFile.read(url.path)
  } catch let error as RegularFileError {
    throw ReportInputError(name, error.reason)
  }
  guard let text = String(data: data, encoding: .utf8) else {
    throw ReportInputError(name, "is not UTF-8 text")
  }
  return text
}

func readJSONObject(_ url: URL, name: String) throws -> [String: Any] {
  let text = try readText(url, name: name)
  let object: Any
  do {
    object = try JSONSerialization.jsonObject(with: Data(text.utf8))
  } catch {
    let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
    throw ReportInputError(name, "is not valid JSON" + (detail.map { ": \($0)" } ?? ""))
  }
  guard let dictionary = object as? [String: Any] else {
    throw ReportInputError(name, "expected a JSON object")
  }
  return dictionary
}

/// One line of `results.csv`.
struct ResultRow {
  var model: String
  var features: String
  var activity: String
  var subject: String
  var target: String
  var rmse: Double?
  var r: Double?
  var trials: Int?
  var seeds: Int?
  var activities: String
  var failed: Bool
}

/// `unit.json`, with the fields the report shows.
struct UnitRecord {
  var folder: String
  var model: String
  var features: String
  var activities: String
  var subject: String
  var failed: Bool
  var failure: String?
  var seeds: Int?
  var epochsTrained: [Int]
  var bestEpochs: [Int]
  var seconds: Double?
  var validationSubject: String?

  var isBaseline: Bool { KneeForceReport.isBaseline(model) }
}

/// The time-normalised curves of one sequence: `[target][step]`.
struct SequenceCurves {
  var trial: String
  var sequence: Int
  var activity: String
  var measured: [[Double]]
  var predicted: [[Double]]
  var sd: [[Double]]
}

/// One member's history: epochs with their losses.
struct MemberHistory {
  var member: Int
  var seed: Int?
  var epochs: [Int] = []
  var training: [Double?] = []
  var validation: [Double?] = []
  var bestEpoch: Int?
}

/// Everything of `OUT` that the report reads.
struct SweepFolder {
  let url: URL
  var sweep: [String: Any]
  var results: [ResultRow]
  var units: [UnitRecord]
  /// Folders under `units/` without `unit.json` yet (running, or killed).
  var unfinished: [String]
  /// `selection.csv`: the feature set chosen per "model|activities|subject", when present.
  var selection: [String: String] = [:]

  /// `OUT/...` for messages: the folder as given plus the relative path.
  func name(_ relative: String) -> String { url.appendingPathComponent(relative).path }

  static func read(_ url: URL) throws -> SweepFolder {
    let display = { (relative: String) in url.appendingPathComponent(relative).path }
    let sweep = try readJSONObject(
      url.appendingPathComponent("sweep.json"), name: display("sweep.json"))
    let results = try readResults(
      url.appendingPathComponent("results.csv"), name: display("results.csv"))
    var units: [UnitRecord] = []
    var unfinished: [String] = []
    let unitsURL = url.appendingPathComponent("units")
    let names =
      ((try? FileManager.default.contentsOfDirectory(atPath: unitsURL.path)) ?? [])
      .filter { !$0.hasPrefix(".") }.sorted()
    for folder in names {
      let unitURL = unitsURL.appendingPathComponent(folder)
      guard FileKind(path: unitURL.path) == .directory else { continue }
      let journal = unitURL.appendingPathComponent("unit.json")
      guard FileKind(path: journal.path) != .missing else {
        unfinished.append(folder)
        continue
      }
      units.append(
        try readUnit(journal, folder: folder, name: display("units/\(folder)/unit.json")))
    }
    units.sort { unitOrder($0).lexicographicallyPrecedes(unitOrder($1)) }
    var selection: [String: String] = [:]
    let selectionURL = url.appendingPathComponent("selection.csv")
    if FileKind(path: selectionURL.path) != .missing {
      let table = try CSVTable.read(selectionURL, name: display("selection.csv"))
      let columns = try ["model", "activities", "subject", "features", "chosen"].map {
        try table.require($0)
      }
      for row in table.rows.indices where table.text(row, columns[4]) == "1" {
        let key = [0, 1, 2].map { table.text(row, columns[$0]) }.joined(separator: "|")
        selection[key] = table.text(row, columns[3])
      }
    }
    return SweepFolder(
      url: url, sweep: sweep, results: results, units: units, unfinished: unfinished,
      selection: selection)
  }

  static func readResults(_ url: URL, name: String) throws -> [ResultRow] {
    let table = try CSVTable.read(url, name: name)
    let model = try table.require("model")
    let features = try table.require("features")
    let activity = try table.require("activity")
    let subject = try table.require("subject")
    let target = try table.require("target")
    let rmse = try table.require("rmse_bw")
    let r = try table.require("pearson_r")
    let trials = table.column("n_trials")
    let seeds = table.column("seeds")
    let activities = table.column("activities")
    let status = table.column("status")
    var rows: [ResultRow] = []
    rows.reserveCapacity(table.rows.count)
    for i in table.rows.indices {
      let state = status.map { table.text(i, $0) } ?? "ok"
      guard state == "ok" || state == "failed" || state.isEmpty else {
        throw ReportInputError(
          name, line: table.lines[i], "status: expected ok or failed, found '\(state)'")
      }
      let targetName = try table.nonEmpty(i, target)
      guard targetOrder.contains(targetName) else {
        throw ReportInputError(
          name, line: table.lines[i],
          "target: expected medial, lateral or total, found '\(targetName)'")
      }
      let row = ResultRow(
        model: try table.nonEmpty(i, model), features: try table.nonEmpty(i, features),
        activity: try table.nonEmpty(i, activity), subject: try table.nonEmpty(i, subject),
        target: targetName, rmse: try table.number(i, rmse), r: try table.number(i, r),
        trials: try trials.flatMap { try table.integer(i, $0) },
        seeds: try seeds.flatMap { try table.integer(i, $0) },
        activities: activities.map { table.text(i, $0) }.flatMap { $0.isEmpty ? nil : $0 }
          ?? "all",
        failed: state == "failed")
      if !row.failed, row.rmse == nil {
        throw ReportInputError(name, line: table.lines[i], "rmse_bw is empty in a row that is ok")
      }
      rows.append(row)
    }
    return rows
  }

  static func readUnit(_ url: URL, folder: String, name: String) throws -> UnitRecord {
    let json = try readJSONObject(url, name: name)
    let parts = folder.components(separatedBy: "__").map(unescapeFolderPart)
    let unit = json["unit"] as? [String: Any] ?? [:]
    func part(_ key: String, _ index: Int) throws -> String {
      if let value = unit[key] as? String { return value }
      if parts.count == 4 { return parts[index] }
      throw ReportInputError(
        name,
        "unit.\(key) is missing and the folder name is not <model>__<features>__"
          + "<activities>__<subject>")
    }
    let status = json["status"] as? String ?? "ok"
    var failure: String?
    if let detail = json["failure"] {
      if let text = detail as? String {
        failure = text
      } else if let fields = detail as? [String: Any], let what = fields["what"] as? String {
        let place = [("epoch", fields["epoch"]), ("member", fields["member"])].compactMap {
          name, value in integer(value).map { "\(name) \($0)" }
        }
        failure = (place.isEmpty ? "" : place.joined(separator: ", ") + ": ") + what
      } else if JSONSerialization.isValidJSONObject(detail),
        let data = try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys])
      {
        failure = String(decoding: data, as: UTF8.self)
      }
    }
    return UnitRecord(
      folder: folder, model: try part("model", 0), features: try part("features", 1),
      activities: try part("activities", 2), subject: try part("subject", 3),
      failed: status == "failed", failure: failure,
      seeds: (json["seeds"] as? [Any])?.count ?? integer(json["seeds"]),
      epochsTrained: integers(json["epochs_trained"]), bestEpochs: integers(json["best_epochs"]),
      seconds: double(json["seconds"]), validationSubject: json["validation_subject"] as? String)
  }

  /// The sequences of a unit's `predictions.csv`, each with every target's curves.
  func predictions(_ unit: UnitRecord) throws -> [SequenceCurves] {
    let relative = "units/\(unit.folder)/predictions.csv"
    let table = try CSVTable.read(url.appendingPathComponent(relative), name: name(relative))
    let trial = try table.require("trial_id")
    let activity = try table.require("activity")
    let sequence = table.column("sequence")
    let step = try table.require("step")
    let measured = try targetOrder.map { try table.require("measured.\($0)") }
    let predicted = try targetOrder.map { try table.require("predicted.\($0)") }
    let sd = targetOrder.map { table.column("sd.\($0)") }
    struct Key: Hashable {
      var trial: Substring
      var sequence: Int
    }
    var index: [Key: Int] = [:]
    var curves: [SequenceCurves] = []
    var firstLine: [Int] = []
    var steps: [[Int: Int]] = []  // per sequence: step -> row
    for i in table.rows.indices {
      let seq = try sequence.flatMap { try table.integer(i, $0) } ?? 0
      let key = Key(trial: table.rows[i][trial], sequence: seq)
      guard let s = try table.integer(i, step), s >= 0, s < 1_000_000 else {
        throw ReportInputError(
          table.path, line: table.lines[i],
          "step: expected a whole number from 0, found '\(table.rows[i][step])'")
      }
      let k: Int
      if let existing = index[key] {
        k = existing
      } else {
        k = curves.count
        index[key] = k
        curves.append(
          SequenceCurves(
            trial: String(key.trial), sequence: seq, activity: try table.nonEmpty(i, activity),
            measured: [], predicted: [], sd: []))
        firstLine.append(table.lines[i])
        steps.append([:])
      }
      if steps[k][s] != nil {
        throw ReportInputError(
          table.path, line: table.lines[i],
          "step \(s) of trial \(key.trial) sequence \(seq) appears twice")
      }
      steps[k][s] = i
    }
    for k in curves.indices {
      let count = steps[k].count
      var m = Array(repeating: [Double](repeating: .nan, count: count), count: targetOrder.count)
      var p = m
      var d = Array(repeating: [Double](repeating: 0, count: count), count: targetOrder.count)
      for (s, i) in steps[k] {
        guard s < count else {
          throw ReportInputError(
            table.path, line: table.lines[i],
            "trial \(curves[k].trial) sequence \(curves[k].sequence) has \(count) steps but "
              + "one numbered \(s): steps must run 0 .. L-1")
        }
        for t in targetOrder.indices {
          m[t][s] = try table.number(i, measured[t]) ?? .nan
          p[t][s] = try table.number(i, predicted[t]) ?? .nan
          if let column = sd[t] { d[t][s] = try table.number(i, column) ?? 0 }
        }
      }
      curves[k].measured = m
      curves[k].predicted = p
      curves[k].sd = d
    }
    return curves
  }

  /// The members' losses from a unit's `history.csv`; nil when the unit has none.
  func history(_ unit: UnitRecord) throws -> [MemberHistory]? {
    let relative = "units/\(unit.folder)/history.csv"
    let file = url.appendingPathComponent(relative)
    guard FileKind(path: file.path) != .missing else { return nil }
    let table = try CSVTable.read(file, name: name(relative))
    let member = try table.require("member")
    let seed = table.column("seed")
    let epoch = try table.require("epoch")
    let training = try table.require("training_loss")
    let validation = table.column("validation_loss")
    let best = table.column("best")
    var members: [Int: MemberHistory] = [:]
    for i in table.rows.indices {
      guard let m = try table.integer(i, member), let e = try table.integer(i, epoch) else {
        throw ReportInputError(table.path, line: table.lines[i], "member and epoch must be set")
      }
      let memberSeed = try seed.flatMap { try table.integer(i, $0) }
      var h = members[m] ?? MemberHistory(member: m, seed: memberSeed)
      h.epochs.append(e)
      h.training.append(try table.number(i, training))
      h.validation.append(try validation.flatMap { try table.number(i, $0) })
      let flag = try best.flatMap { try table.integer(i, $0) }
      if flag == 1 { h.bestEpoch = e }
      members[m] = h
    }
    return members.keys.sorted().map { members[$0]! }
  }
}

/// `~XX` back to the byte it stands for (docs/SWEEP_OUTPUTS.md, "Units").
func unescapeFolderPart(_ part: String) -> String {
  var bytes: [UInt8] = []
  var utf8 = Array(part.utf8)[...]
  while let byte = utf8.first {
    if byte == UInt8(ascii: "~"), utf8.count >= 3,
      let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16)
    {
      bytes.append(value)
      utf8 = utf8.dropFirst(3)
    } else {
      bytes.append(byte)
      utf8 = utf8.dropFirst()
    }
  }
  return String(decoding: bytes, as: UTF8.self)
}

func integer(_ value: Any?) -> Int? {
  if let value = value as? Int { return value }
  if let value = value as? Double, value.isFinite { return Int(value) }
  if let number = value as? NSNumber { return number.intValue }
  return nil
}

func double(_ value: Any?) -> Double? {
  if let value = value as? Double { return value }
  if let value = value as? Int { return Double(value) }
  if let number = value as? NSNumber { return number.doubleValue }
  return nil
}

func integers(_ value: Any?) -> [Int] {
  (value as? [Any])?.compactMap { integer($0) } ?? []
}
