import Foundation

/// One model's (or baseline's) mean prediction for a held-out subject, with the seed
/// members' standard deviation where there is more than one member.
struct CurveSeries {
  var model: String
  var mean: [Double]
  var memberSD: [Double]?
}

/// One held-out subject of a curves figure.
struct CurvePanel {
  var subject: String
  var sequences: Int
  var measuredMean: [Double]
  var measuredSD: [Double]
  var series: [CurveSeries]
}

/// Predicted vs measured curves of one activity and target: one panel per held-out subject,
/// the measured mean ± SD over the subject's sequences as a grey band, every model's and
/// baseline's mean prediction as a line, the seed members' SD as a light band.
enum CurvesFigure {
  static let panelWidth = 300.0
  static let panelHeight = 215.0
  static let columns = 3

  static func make(activity: String, target: String, panels: [CurvePanel], synthetic: Bool)
    -> Figure
  {
    let cols = max(1, min(columns, panels.count))
    let rows = max(1, (panels.count + cols - 1) / cols)
    let width = Double(cols) * panelWidth + 10
    var legendEntries: [(symbol: SVGCanvas.Symbol, label: String)] = [
      (.lineOnBand(colour: Palette.black, band: Palette.grey), "measured mean ± SD")
    ]
    var models: [String] = []
    var ensemble = false
    for panel in panels {
      for series in panel.series where !models.contains(series.model) {
        models.append(series.model)
      }
      if panel.series.contains(where: { $0.memberSD != nil }) { ensemble = true }
    }
    for model in models {
      let style = Palette.model(model)
      legendEntries.append((.line(colour: style.colour, dash: style.dash), Words.model(model)))
    }
    if ensemble {
      legendEntries.append((.band(colour: Palette.blue, opacity: 0.18), "± SD of seed members"))
    }

    // Measure the legend first, then draw it for real on the figure.
    var probe = SVGCanvas(width: width, height: 0)
    let legendHeight = probe.legend(legendEntries, x: 12, y: 0, maxWidth: width - 24)
    let top = 34 + legendHeight + 4
    var canvas = SVGCanvas(width: width, height: top + Double(rows) * panelHeight)
    let title =
      "\(Words.target(target)) knee contact force, \(Words.activity(activity)): predicted vs "
      + "measured (held-out subjects, input set all)"
    canvas.text(title, x: 12, y: 20, size: 14, weight: "bold")
    if synthetic {
      canvas.text(
        "SYNTHETIC DATA", x: width - 12, y: 20, size: 12, anchor: "end", weight: "bold",
        colour: Palette.vermillion)
    }
    canvas.legend(legendEntries, x: 12, y: 30, maxWidth: width - 24)

    var values: [Double] = []
    for panel in panels {
      for i in panel.measuredMean.indices {
        values.append(panel.measuredMean[i] - panel.measuredSD[i])
        values.append(panel.measuredMean[i] + panel.measuredSD[i])
      }
      for series in panel.series {
        values += series.mean
        if let sd = series.memberSD {
          for i in series.mean.indices {
            values.append(series.mean[i] + sd[i])
            values.append(series.mean[i] - sd[i])
          }
        }
      }
    }
    for (index, panel) in panels.enumerated() {
      let ox = 10 + Double(index % cols) * panelWidth
      let oy = top + Double(index / cols) * panelHeight
      let x = Scale(lower: 0, upper: 100, start: ox + 52, end: ox + panelWidth - 14)
      let y = Scale.linear(values, start: oy + 166, end: oy + 22, includeZero: true)
      canvas.text(
        "held out: \(panel.subject) (\(panel.sequences) "
          + (panel.sequences == 1 ? "sequence)" : "sequences)"),
        x: ox + 52, y: oy + 14, size: 11, weight: "bold")
      canvas.axes(
        x: x, y: y, xTitle: "Time (% of movement)",
        yTitle: "\(Words.target(target)) force (BW)",
        xTicks: stride(from: 0.0, through: 100, by: 20).map { ($0, coord($0)) })
      let n = panel.measuredMean.count
      let xs = (0..<n).map { x(n > 1 ? Double($0) / Double(n - 1) * 100 : 0) }
      canvas.band(
        xs: xs, lower: zip(panel.measuredMean, panel.measuredSD).map { y($0 - $1) },
        upper: zip(panel.measuredMean, panel.measuredSD).map { y($0 + $1) },
        colour: Palette.grey, opacity: 0.4)
      for series in panel.series {
        guard let sd = series.memberSD else { continue }
        let colour = Palette.model(series.model).colour
        canvas.band(
          xs: xs, lower: zip(series.mean, sd).map { y($0 - $1) },
          upper: zip(series.mean, sd).map { y($0 + $1) }, colour: colour, opacity: 0.18)
      }
      canvas.polyline(
        Array(zip(xs, panel.measuredMean.map { y($0) })), colour: Palette.black, width: 2.2,
        title: "measured, \(panel.subject)")
      for series in panel.series {
        let style = Palette.model(series.model)
        canvas.polyline(
          Array(zip(xs, series.mean.map { y($0) })), colour: style.colour, width: 1.6,
          dash: style.dash, title: "\(Words.model(series.model)), \(panel.subject)")
      }
    }
    let caption =
      "\(Words.target(target)) knee contact force during \(Words.activity(activity)): measured "
      + "mean ± SD over each held-out subject's sequences (grey) and the models' mean predictions "
      + "(input set all), 0-100 % of the movement, in body weights."
    return Figure(
      file: "curves_\(fileSafe(activity))_\(fileSafe(target)).svg", caption: caption,
      svg: canvas.document(title: title, description: caption))
  }

  /// Mean and SD over sequences of equal length; unequal lengths are resampled to the
  /// most common one first.
  static func meanAndSD(_ curves: [[Double]]) -> (mean: [Double], sd: [Double]) {
    guard !curves.isEmpty else { return ([], []) }
    let lengths = Dictionary(grouping: curves.map(\.count), by: { $0 })
    let length = lengths.max { ($0.value.count, $0.key) < ($1.value.count, $1.key) }!.key
    let same = curves.map { $0.count == length ? $0 : resample($0, to: length) }
    var mean = [Double](repeating: 0, count: length)
    var sd = [Double](repeating: 0, count: length)
    for i in 0..<length {
      let stats = meanSD(same.map { $0[i] })
      mean[i] = stats?.mean ?? .nan
      sd[i] = stats?.sd ?? 0
    }
    return (mean, sd)
  }

  static func resample(_ curve: [Double], to length: Int) -> [Double] {
    guard curve.count > 1, length > 1 else {
      return [Double](repeating: curve.first ?? .nan, count: length)
    }
    return (0..<length).map { i in
      let position = Double(i) / Double(length - 1) * Double(curve.count - 1)
      let lower = min(Int(position), curve.count - 2)
      let fraction = position - Double(lower)
      return curve[lower] * (1 - fraction) + curve[lower + 1] * fraction
    }
  }
}

/// Ids in file names: the characters of the contract's folder names, others as `~XX`.
func fileSafe(_ id: String) -> String {
  var out = ""
  for byte in id.utf8 {
    let plain =
      (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
      || byte == 0x2D || byte == 0x5F || byte == 0x2E
    out += plain ? String(UnicodeScalar(byte)) : String(format: "~%02X", byte)
  }
  return out.hasPrefix(".") ? "~2E" + out.dropFirst() : out
}
