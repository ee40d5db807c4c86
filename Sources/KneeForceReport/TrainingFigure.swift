import Foundation

/// Training and validation loss per epoch of one unit, every seed member, the best epoch
/// (the weights the checkpoint holds) marked. Small enough to tile as small multiples.
enum TrainingFigure {
  static let width = 330.0
  static let height = 250.0

  static func make(unit: UnitRecord, members: [MemberHistory], synthetic: Bool) -> Figure {
    var canvas = SVGCanvas(width: width, height: height)
    let title =
      "\(Words.shortModel(unit.model)), \(Words.features(unit.features)), "
      + (unit.activities == "all" ? "" : "\(Words.activity(unit.activities)), ")
      + "held out \(unit.subject)"
    canvas.text(title, x: 8, y: 15, size: 11.5, weight: "bold")
    if synthetic {
      canvas.text(
        "SYNTHETIC", x: width - 8, y: 15, size: 9, anchor: "end", weight: "bold",
        colour: Palette.vermillion)
    }
    let entries: [(symbol: SVGCanvas.Symbol, label: String)] = [
      (.line(colour: Palette.blue, dash: nil), "training"),
      (.line(colour: Palette.vermillion, dash: "5 3"), "validation"),
      (.marker(colour: Palette.orange), "best epoch"),
    ]
    canvas.legend(entries, x: 8, y: 22, maxWidth: width - 16)
    var losses: [Double] = []
    var lastEpoch = 1
    for member in members {
      losses += member.training.compactMap { $0 }
      losses += member.validation.compactMap { $0 }
      lastEpoch = max(lastEpoch, member.epochs.max() ?? 1)
    }
    let x = Scale.linear(
      [1, Double(lastEpoch)], start: 58, end: width - 12, fixed: (Double(min(1, lastEpoch)), 1))
    let y = Scale.log(losses, start: height - 48, end: 44)
    canvas.axes(x: x, y: y, xTitle: "Epoch", yTitle: "Loss, MSE (BW²)")
    for member in members {
      let label = members.count > 1 ? "member \(member.member)" : "training"
      canvas.polyline(
        zip(member.epochs, member.training).map { (x(Double($0)), $1.map { y($0) } ?? .nan) },
        colour: Palette.blue, width: 1.4, opacity: members.count > 1 ? 0.8 : nil,
        title: "\(label) training loss")
      canvas.polyline(
        zip(member.epochs, member.validation).map { (x(Double($0)), $1.map { y($0) } ?? .nan) },
        colour: Palette.vermillion, width: 1.4, dash: "5 3", opacity: members.count > 1 ? 0.8 : nil,
        title: "\(label) validation loss")
      if let best = member.bestEpoch, let index = member.epochs.firstIndex(of: best) {
        let value = member.validation[index] ?? member.training[index]
        canvas.line(
          x(Double(best)), y.start, x(Double(best)), y.end, colour: Palette.orange, width: 1,
          dash: "2 2")
        if let value {
          canvas.circle(
            x: x(Double(best)), y: y(value), r: 3.5, fill: Palette.orange, stroke: "#000",
            title: "member \(member.member): best epoch \(best), loss \(decimal(value, 5))")
        }
      }
    }
    let caption =
      "Training (solid) and validation (dashed) loss per epoch of \(title); the marked epoch's "
      + "weights are the checkpoint's."
    return Figure(
      file: "training_\(unit.folder).svg", caption: caption,
      svg: canvas.document(title: "Training curves: \(title)", description: caption))
  }
}
