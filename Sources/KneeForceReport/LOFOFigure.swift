import Foundation

/// One model's change of RMSE against input set `all` when a group is left out, per target
/// and held-out subject (activity `all`).
struct LOFOScores {
  var model: String
  /// Left-out feature sets (`no_kin`, ...), in the contract's order.
  var groups: [String]
  /// `[group][target]`: (subject, RMSE(no_group) - RMSE(all)).
  var deltas: [String: [String: [(subject: String, value: Double)]]]
}

/// Leave-one-feature-out: ΔRMSE against `all` per left-out group (x) and target (colour),
/// one panel per model, mean ± SD over held-out subjects with a dot per subject. Positive:
/// leaving the group out made the prediction worse, so the group helped.
enum LOFOFigure {
  static func make(_ scores: [LOFOScores], targets: [String], synthetic: Bool) -> Figure {
    let groupCount = scores.map(\.groups.count).max() ?? 1
    let panelWidth = max(
      240.0, 80 + Double(groupCount * targets.count) * 24 + Double(groupCount) * 16)
    let cols = max(1, min(2, scores.count))
    let rows = max(1, (scores.count + cols - 1) / cols)
    let width = Double(cols) * (panelWidth + 10) + 10
    let legendEntries: [(symbol: SVGCanvas.Symbol, label: String)] =
      targets.map { (.box(colour: Palette.target($0)), Words.target($0)) }
      + [(.errorBar, "± SD over subjects"), (.dot(colour: "#ffffff"), "one held-out subject")]
    var probe = SVGCanvas(width: width, height: 0)
    let legendHeight = probe.legend(legendEntries, x: 12, y: 0, maxWidth: width - 24)
    let top = 50 + legendHeight + 4
    let panelHeight = 260.0
    var canvas = SVGCanvas(width: width, height: top + Double(rows) * panelHeight)
    let title = "Leave one feature group out: change in RMSE against all inputs (all activities)"
    canvas.text(title, x: 12, y: 20, size: 14, weight: "bold")
    canvas.text(
      "ΔRMSE = RMSE without the group − RMSE with all inputs; positive: the group helped.",
      x: 12, y: 36, size: 11)
    if synthetic {
      canvas.text(
        "SYNTHETIC DATA", x: width - 12, y: 20, size: 12, anchor: "end", weight: "bold",
        colour: Palette.vermillion)
    }
    canvas.legend(legendEntries, x: 12, y: 46, maxWidth: width - 24)
    var values: [Double] = []
    for score in scores {
      for byTarget in score.deltas.values {
        for points in byTarget.values {
          values += points.map(\.value)
          if let stats = meanSD(points.map(\.value)) {
            values += [stats.mean + stats.sd, stats.mean - stats.sd]
          }
        }
      }
    }
    for (index, score) in scores.enumerated() {
      let ox = 10 + Double(index % cols) * (panelWidth + 10)
      let oy = top + Double(index / cols) * panelHeight
      let left = ox + 66
      let right = ox + panelWidth - 8
      let y = Scale.linear(values, start: oy + 200, end: oy + 22, includeZero: true)
      let groups = score.groups
      let x = Scale(lower: 0, upper: Double(max(1, groups.count)), start: left, end: right)
      canvas.text(Words.model(score.model), x: left, y: oy + 14, size: 12, weight: "bold")
      canvas.axes(
        x: x, y: y, xTitle: "Left-out input group", yTitle: "ΔRMSE vs all (BW)",
        xTicks: groups.enumerated().map {
          (Double($0.offset) + 0.5, String($0.element.dropFirst(3)).uppercased())
        })
      canvas.line(left, y(0), right, y(0), colour: "#333", width: 1)
      let slot = (right - left) / Double(max(1, groups.count))
      let barWidth = min(22, slot * 0.8 / Double(max(1, targets.count)))
      for (g, group) in groups.enumerated() {
        for (t, target) in targets.enumerated() {
          let points = score.deltas[group]?[target] ?? []
          guard let stats = meanSD(points.map(\.value)) else { continue }
          let centre =
            left + (Double(g) + 0.5) * slot + (Double(t) - Double(targets.count - 1) / 2) * barWidth
          let y0 = y(0)
          let y1 = y(stats.mean)
          canvas.rect(
            x: centre - barWidth / 2 + 1, y: min(y0, y1), width: barWidth - 2, height: abs(y1 - y0),
            fill: Palette.target(target), stroke: "#333", opacity: 0.9,
            title: "\(Words.shortModel(score.model)) without \(group.dropFirst(3)), \(target): "
              + "ΔRMSE \(decimal(stats.mean)) ± \(decimal(stats.sd)) BW (n = \(stats.n))")
          let hi = y(stats.mean + stats.sd)
          let lo = y(stats.mean - stats.sd)
          canvas.line(centre, hi, centre, lo, colour: "#000", width: 1)
          canvas.line(centre - 3, hi, centre + 3, hi, colour: "#000", width: 1)
          canvas.line(centre - 3, lo, centre + 3, lo, colour: "#000", width: 1)
          for point in points where point.value.isFinite {
            canvas.circle(
              x: centre, y: y(point.value), r: 2.2, fill: "#ffffff", stroke: "#000",
              title: "\(point.subject): \(decimal(point.value))")
          }
        }
      }
    }
    let caption =
      "Leave-one-feature-out: change of RMSE (BW) against the model with all inputs when one "
      + "input group is left out, per target; mean ± SD over held-out subjects, dots per "
      + "subject, all activities pooled. Positive values: the group helped."
    return Figure(
      file: "lofo.svg", caption: caption, svg: canvas.document(title: title, description: caption))
  }
}
