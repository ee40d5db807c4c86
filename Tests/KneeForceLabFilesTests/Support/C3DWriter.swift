import Foundation

@testable import KneeForceLabFiles

/// A small C3D writer for tests: it makes DEC, SGI/MIPS and integer-storage files (which no
/// real file here is) from real files and from synthetic content, so the reader can be
/// checked against ezc3d and py-c3d on every format. Not a general-purpose writer.
struct C3DWriter {
  enum Value {
    case characters([String])
    case bytes([UInt8], dimensions: [Int])
    case integers([Int16], dimensions: [Int])
    case floats([Float], dimensions: [Int])
  }

  struct Parameter {
    var name: String
    var value: Value
  }

  struct Group {
    var name: String
    var parameters: [Parameter]
  }

  var processor: C3DProcessor = .intel
  var storage: C3DStorage = .float
  /// Positive; written negative for float storage.
  var pointScale: Float = 0.1
  var pointRate: Float = 100
  var analogSamplesPerFrame = 0
  var firstFrame = 1
  var frameCount = 0
  var pointLabels: [String] = []
  var pointUnits = "mm"
  /// `[frame][point][x, y, z]`, NaN for an invalid point.
  var points: [Float] = []
  /// `[frame][point]`, in point units (written as the residual byte times the scale).
  var residuals: [Float] = []
  var analogLabels: [String] = []
  var analogUnits: [String] = []
  var analogScales: [Float] = []
  var analogOffsets: [Int16] = []
  var generalScale: Float = 1
  var analogUnsigned = false
  /// `[sample][channel]` values as stored (before offset and scale).
  var analogRaw: [Float] = []
  /// More groups (FORCE_PLATFORM, EVENT, TRIAL, ...); a POINT or ANALOG group here adds its
  /// parameters to the ones the writer makes.
  var groups: [Group] = []
  var headerEvents: [(label: String, time: Float)] = []
  /// Labels per LABELS parameter, so tests can make LABELS2.
  var labelsPerParameter = 255

  var analogCount: Int { analogLabels.count }

  func bytes() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 512)
    let parameterBlocks = (parameterSection(dataBlock: 0).count + 511) / 512
    let dataBlock = 2 + parameterBlocks
    let parameterBytes = parameterSection(dataBlock: dataBlock)
    put16(&out, 0, UInt16(2) | UInt16(0x50) << 8, byteSwapWord: true)
    put16(&out, 2, UInt16(pointLabels.count))
    put16(&out, 4, UInt16(truncatingIfNeeded: analogCount * analogSamplesPerFrame))
    put16(&out, 6, UInt16(truncatingIfNeeded: min(firstFrame, 65535)))
    put16(&out, 8, UInt16(truncatingIfNeeded: min(firstFrame + frameCount - 1, 65535)))
    put16(&out, 10, 10)
    putFloat(&out, 12, storage == .float ? -pointScale : pointScale)
    put16(&out, 16, UInt16(dataBlock))
    put16(&out, 18, UInt16(analogSamplesPerFrame))
    putFloat(&out, 20, pointRate)
    put16(&out, 298, headerEvents.isEmpty ? 0 : 12345)
    put16(&out, 300, UInt16(headerEvents.count))
    for (index, event) in headerEvents.enumerated() {
      putFloat(&out, 304 + 4 * index, event.time)
      let label = Array(event.label.utf8.prefix(4)) + [UInt8](repeating: 32, count: 4)
      for k in 0..<4 { out[396 + 4 * index + k] = label[k] }
    }
    var section = parameterBytes
    section += [UInt8](repeating: 0, count: parameterBlocks * 512 - section.count)
    section[2] = UInt8(parameterBlocks)
    out += section
    out += dataSection()
    out += [UInt8](repeating: 0, count: (512 - out.count % 512) % 512)
    return out
  }

  // MARK: parameters

  private func allGroups(dataBlock: Int) -> [Group] {
    let lastFrame = firstFrame + frameCount - 1
    var point = Group(
      name: "POINT",
      parameters: [
        Parameter(
          name: "USED",
          value: .integers([Int16(truncatingIfNeeded: pointLabels.count)], dimensions: [])),
        Parameter(
          name: "SCALE",
          value: .floats([storage == .float ? -pointScale : pointScale], dimensions: [])),
        Parameter(name: "RATE", value: .floats([pointRate], dimensions: [])),
        Parameter(
          name: "FRAMES",
          value: .integers([Int16(truncatingIfNeeded: min(frameCount, 65535))], dimensions: [])),
        Parameter(name: "UNITS", value: .characters([pointUnits])),
        Parameter(
          name: "DATA_START",
          value: .integers([Int16(truncatingIfNeeded: dataBlock)], dimensions: [])),
        Parameter(name: "DESCRIPTIONS", value: .characters(pointLabels.map { _ in "" })),
      ])
    for (index, chunk) in chunks(pointLabels).enumerated() {
      point.parameters.append(
        Parameter(name: index == 0 ? "LABELS" : "LABELS\(index + 1)", value: .characters(chunk)))
    }
    var analog = Group(
      name: "ANALOG",
      parameters: [
        Parameter(name: "USED", value: .integers([Int16(analogCount)], dimensions: [])),
        Parameter(
          name: "RATE", value: .floats([pointRate * Float(analogSamplesPerFrame)], dimensions: [])),
        Parameter(name: "GEN_SCALE", value: .floats([generalScale], dimensions: [])),
        Parameter(name: "SCALE", value: .floats(analogScales, dimensions: [analogCount])),
        Parameter(name: "OFFSET", value: .integers(analogOffsets, dimensions: [analogCount])),
        Parameter(name: "UNITS", value: .characters(analogUnits)),
        Parameter(name: "FORMAT", value: .characters([analogUnsigned ? "UNSIGNED" : "SIGNED"])),
        Parameter(name: "DESCRIPTIONS", value: .characters(analogLabels.map { _ in "" })),
      ])
    for (index, chunk) in chunks(analogLabels).enumerated() {
      analog.parameters.append(
        Parameter(name: index == 0 ? "LABELS" : "LABELS\(index + 1)", value: .characters(chunk)))
    }
    let trial = Group(
      name: "TRIAL",
      parameters: [
        Parameter(
          name: "ACTUAL_START_FIELD",
          value: .integers(
            [
              Int16(truncatingIfNeeded: firstFrame & 0xffff),
              Int16(truncatingIfNeeded: firstFrame >> 16),
            ], dimensions: [2])),
        Parameter(
          name: "ACTUAL_END_FIELD",
          value: .integers(
            [
              Int16(truncatingIfNeeded: lastFrame & 0xffff),
              Int16(truncatingIfNeeded: lastFrame >> 16),
            ], dimensions: [2])),
      ])
    var result = [point, analog, trial]
    for group in groups {
      if let index = result.firstIndex(where: { $0.name == group.name }) {
        for parameter in group.parameters {
          result[index].parameters.removeAll { $0.name == parameter.name }
          result[index].parameters.append(parameter)
        }
      } else {
        result.append(group)
      }
    }
    return result
  }

  private func chunks(_ labels: [String]) -> [[String]] {
    guard !labels.isEmpty else { return [[]] }
    return stride(from: 0, to: labels.count, by: labelsPerParameter).map {
      Array(labels[$0..<min($0 + labelsPerParameter, labels.count)])
    }
  }

  private func parameterSection(dataBlock: Int) -> [UInt8] {
    var out: [UInt8] = [1, 0x50, 0, processor.code]
    let groups = allGroups(dataBlock: dataBlock)
    var records: [[UInt8]] = []
    for (index, group) in groups.enumerated() {
      let id = Int8(index + 1)
      records.append(record(name: group.name, id: -id, body: [0]))
      for parameter in group.parameters {
        records.append(record(name: parameter.name, id: id, body: encode(parameter.value) + [0]))
      }
    }
    for (index, record) in records.enumerated() {
      var record = record
      if index == records.count - 1 {
        let nameLength = Int(record[0])
        record[2 + nameLength] = 0
        record[3 + nameLength] = 0
      }
      out += record
    }
    return out
  }

  private func record(name: String, id: Int8, body: [UInt8]) -> [UInt8] {
    let nameBytes = Array(name.utf8)
    let out: [UInt8] = [UInt8(nameBytes.count), UInt8(bitPattern: id)] + nameBytes
    var offset = [UInt8](repeating: 0, count: 2)
    put16(&offset, 0, UInt16(body.count + 2))
    return out + offset + body
  }

  private func encode(_ value: Value) -> [UInt8] {
    switch value {
    case .characters(let strings):
      let length = max(1, strings.map { $0.utf8.count }.max() ?? 1)
      var out: [UInt8] = [0xff]
      if strings.count == 1 {
        out += [1, UInt8(length)]
      } else {
        out += [2, UInt8(length), UInt8(strings.count)]
      }
      for string in strings {
        out += Array(string.utf8) + [UInt8](repeating: 32, count: length - string.utf8.count)
      }
      return out
    case .bytes(let values, let dimensions):
      return [1, UInt8(dimensions.count)] + dimensions.map { UInt8($0) } + values
    case .integers(let values, let dimensions):
      var out: [UInt8] = [2, UInt8(dimensions.count)] + dimensions.map { UInt8($0) }
      for value in values {
        var word = [UInt8](repeating: 0, count: 2)
        put16(&word, 0, UInt16(bitPattern: value))
        out += word
      }
      return out
    case .floats(let values, let dimensions):
      var out: [UInt8] = [4, UInt8(dimensions.count)] + dimensions.map { UInt8($0) }
      for value in values {
        var word = [UInt8](repeating: 0, count: 4)
        putFloat(&word, 0, value)
        out += word
      }
      return out
    }
  }

  // MARK: data

  private func dataSection() -> [UInt8] {
    var out: [UInt8] = []
    let pointCount = pointLabels.count
    let word = storage == .float ? 4 : 2
    out.reserveCapacity(frameCount * (pointCount * 4 + analogCount * analogSamplesPerFrame) * word)
    var scratch = [UInt8](repeating: 0, count: 4)
    for frame in 0..<frameCount {
      for point in 0..<pointCount {
        let base = (frame * pointCount + point) * 3
        let xyz = [points[base], points[base + 1], points[base + 2]]
        let invalid = xyz.contains { !$0.isFinite }
        let residualByte =
          invalid
          ? 0
          : min(255, max(0, Int((residuals[frame * pointCount + point] / pointScale).rounded())))
        let residualWord = invalid ? -1 : residualByte | (0x1f << 8)
        if storage == .float {
          for value in xyz {
            putFloat(&scratch, 0, invalid ? 0 : value)
            out += scratch
          }
          putFloat(&scratch, 0, Float(residualWord))
          out += scratch
        } else {
          for value in xyz {
            let step = invalid ? 0 : (value / pointScale).rounded()
            put16(&scratch, 0, UInt16(bitPattern: Int16(max(-32768, min(32767, step)))))
            out += scratch[0..<2]
          }
          put16(&scratch, 0, UInt16(bitPattern: Int16(residualWord)))
          out += scratch[0..<2]
        }
      }
      for sample in 0..<analogSamplesPerFrame {
        for channel in 0..<analogCount {
          let raw = analogRaw[(frame * analogSamplesPerFrame + sample) * analogCount + channel]
          if storage == .float {
            putFloat(&scratch, 0, raw)
            out += scratch
          } else {
            let value = raw.rounded()
            let word =
              analogUnsigned
              ? UInt16(max(0, min(65535, value)))
              : UInt16(bitPattern: Int16(max(-32768, min(32767, value))))
            put16(&scratch, 0, word)
            out += scratch[0..<2]
          }
        }
      }
    }
    return out
  }

  private func put16(
    _ out: inout [UInt8], _ offset: Int, _ value: UInt16, byteSwapWord: Bool = false
  ) {
    // The first header word is two bytes (block number, 0x50), the same in every format.
    if byteSwapWord || processor != .mips {
      out[offset] = UInt8(value & 0xff)
      out[offset + 1] = UInt8(value >> 8)
    } else {
      out[offset] = UInt8(value >> 8)
      out[offset + 1] = UInt8(value & 0xff)
    }
  }

  private func putFloat(_ out: inout [UInt8], _ offset: Int, _ value: Float) {
    let bits = value.bitPattern
    switch processor {
    case .intel:
      for k in 0..<4 { out[offset + k] = UInt8((bits >> (8 * UInt32(k))) & 0xff) }
    case .mips:
      for k in 0..<4 { out[offset + k] = UInt8((bits >> (8 * UInt32(3 - k))) & 0xff) }
    case .dec:
      let encoded = DECFloat.encode(value)
      for k in 0..<4 { out[offset + k] = encoded[k] }
    }
  }
}
