import Foundation

/// One model's scores over the held-out subjects (activity `all`, input set `all`).
struct ModelScores {
  var model: String
  var rmse: [(subject: String, value: Double)]
  var r: [(subject: String, value: Double)]
}

/// RMSE and Pearson r per model for one target: bars of the mean over held-out subjects,
/// ± SD as error bars, one dot per subject.
enum BarsFigure {
  static func make(target: String, scores: [ModelScores], subjects: [String], synthetic: Bool)
    -> Figure
  {
    let panelWidth = max(260.0, 70 + Double(scores.count) * 62)
    let width = 2 * panelWidth + 20
    let legendEntries: [(symbol: SVGCanvas.Symbol, label: String)] =
      scores.map { (.box(colour: Palette.model($0.model).colour), Words.shortModel($0.model)) }
      + [(.errorBar, "± SD over subjects"), (.dot(colour: "#ffffff"), "one held-out subject")]
    var probe = SVGCanvas(width: width, height: 0)
    let legendHeight = probe.legend(legendEntries, x: 12, y: 0, maxWidth: width - 24)
    let top = 50 + legendHeight + 6
    let plotHeight = 200.0
    var canvas = SVGCanvas(width: width, height: top + plotHeight + 60)
    let title = "\(Words.target(target)) knee contact force: RMSE and Pearson r per model"
    canvas.text(title, x: 12, y: 20, size: 14, weight: "bold")
    canvas.text(
      "\(subjects.count) held-out subjects, all activities pooled, input set all", x: 12, y: 36,
      size: 11)
    if synthetic {
      canvas.text(
        "SYNTHETIC DATA", x: width - 12, y: 20, size: 12, anchor: "end", weight: "bold",
        colour: Palette.vermillion)
    }
    canvas.legend(legendEntries, x: 12, y: 46, maxWidth: width - 24)
    for (panel, metric) in ["rmse", "r"].enumerated() {
      let ox = 10 + Double(panel) * (panelWidth + 10)
      let left = ox + 62
      let right = ox + panelWidth - 10
      var values: [Double] = []
      for score in scores {
        let points = (metric == "rmse" ? score.rmse : score.r).map(\.value)
        values += points
        if let stats = meanSD(points) { values += [stats.mean + stats.sd, stats.mean - stats.sd] }
      }
      let y = Scale.linear(
        values, start: top + plotHeight, end: top + 6, includeZero: true,
        fixed: metric == "r" ? (0, 1) : nil)
      let band = (right - left) / Double(max(1, scores.count))
      let x = Scale(lower: 0, upper: Double(max(1, scores.count)), start: left, end: right)
      canvas.axes(
        x: x, y: y, xTitle: "Model",
        yTitle: metric == "rmse" ? "RMSE (BW)" : "Pearson r (unitless)",
        xTicks: scores.enumerated().map {
          (Double($0.offset) + 0.5, Words.shortModel($0.element.model))
        })
      if y.lower < 0 { canvas.line(left, y(0), right, y(0), colour: "#555", width: 0.8) }
      for (index, score) in scores.enumerated() {
        let points = metric == "rmse" ? score.rmse : score.r
        let centre = left + (Double(index) + 0.5) * band
        let colour = Palette.model(score.model).colour
        guard let stats = meanSD(points.map(\.value)) else { continue }
        let barWidth = min(40, band * 0.6)
        let y0 = y(0)
        let y1 = y(stats.mean)
        canvas.rect(
          x: centre - barWidth / 2, y: min(y0, y1), width: barWidth, height: abs(y0 - y1),
          fill: colour, stroke: "#333", opacity: 0.85,
          title: "\(Words.shortModel(score.model)): \(metric == "rmse" ? "RMSE" : "r") "
            + "\(decimal(stats.mean)) ± \(decimal(stats.sd)) (n = \(stats.n))")
        let hi = y(stats.mean + stats.sd)
        let lo = y(stats.mean - stats.sd)
        canvas.line(centre, hi, centre, lo, colour: "#000", width: 1.2)
        canvas.line(centre - 6, hi, centre + 6, hi, colour: "#000", width: 1.2)
        canvas.line(centre - 6, lo, centre + 6, lo, colour: "#000", width: 1.2)
        for point in points where point.value.isFinite {
          let k = subjects.firstIndex(of: point.subject) ?? 0
          let offset =
            subjects.count > 1 ? (Double(k) / Double(subjects.count - 1) - 0.5) * barWidth * 0.8 : 0
          canvas.circle(
            x: centre + offset, y: y(point.value), r: 3, fill: "#ffffff", stroke: "#000",
            title: "\(point.subject): \(decimal(point.value))")
        }
      }
    }
    let caption =
      "\(Words.target(target)) knee contact force: RMSE (BW, left) and Pearson r (right) of "
      + "every model and baseline, mean ± SD over held-out subjects (bars, error bars) and "
      + "each subject (dots); all activities pooled, input set all."
    return Figure(
      file: "rmse_\(fileSafe(target)).svg", caption: caption,
      svg: canvas.document(title: title, description: caption))
  }
}
