import Foundation

// Shared pieces of every figure: the colour-blind-safe palette (Okabe & Ito), number and
// text formatting for SVG, linear and logarithmic scales with round ticks, axes with titles
// and a legend. Figures are plain SVG 1.1 with text as <text> (selectable, searchable) and
// no external references, so the same markup is a standalone file and an inline figure.

/// Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
enum Palette {
  static let black = "#000000"
  static let orange = "#E69F00"
  static let skyBlue = "#56B4E9"
  static let green = "#009E73"
  static let yellow = "#F0E442"
  static let blue = "#0072B2"
  static let vermillion = "#D55E00"
  static let purple = "#CC79A7"
  static let grey = "#999999"

  /// Networks solid, baselines dashed, so the figures read in greyscale too.
  static func model(_ name: String) -> (colour: String, dash: String?) {
    switch name {
    case "bilstm_mlp": return (blue, nil)
    case "tcn": return (vermillion, nil)
    case "mean_curve": return (green, "6 3")
    case "aligned_curve": return (green, "2 2")
    case "ridge": return (purple, "2 2")
    case "ridge_subject": return (purple, "6 3")
    default:
      let others = [orange, skyBlue, yellow, grey]
      let index = name.unicodeScalars.reduce(0) { ($0 &* 31 &+ Int($1.value)) & 0xFFFF }
      return (others[index % others.count], "4 2 1 2")
    }
  }

  static func target(_ name: String) -> String {
    switch name {
    case "medial": return blue
    case "lateral": return orange
    default: return green
    }
  }
}

/// Names as a reader expects them.
enum Words {
  static func model(_ name: String) -> String {
    switch name {
    case "bilstm_mlp": return "biLSTM-MLP"
    case "tcn": return "TCN"
    case "mean_curve": return "mean curve (baseline)"
    case "aligned_curve": return "aligned curve (baseline)"
    case "ridge": return "ridge (baseline)"
    case "ridge_subject": return "ridge, per-subject z-scores (baseline)"
    default: return name
    }
  }

  static func shortModel(_ name: String) -> String {
    switch name {
    case "bilstm_mlp": return "biLSTM-MLP"
    case "tcn": return "TCN"
    case "mean_curve": return "mean curve"
    case "aligned_curve": return "aligned curve"
    case "ridge": return "ridge"
    case "ridge_subject": return "ridge (subject z)"
    default: return name
    }
  }

  static func target(_ name: String) -> String {
    switch name {
    case "medial": return "Medial"
    case "lateral": return "Lateral"
    case "total": return "Total"
    default: return name
    }
  }

  static func activity(_ name: String) -> String {
    name == "all" ? "all activities" : name.replacingOccurrences(of: "_", with: " ")
  }

  static func features(_ name: String) -> String {
    if name == "all" { return "all inputs" }
    if name.hasPrefix("no_") { return "without \(name.dropFirst(3).uppercased())" }
    if name == "selected" { return "inputs chosen per fold" }
    return name.split(separator: "+").map { $0.uppercased() }.joined(separator: " + ") + " inputs"
  }
}

/// Text and attribute values for XML and HTML.
func escapeXML(_ text: String) -> String {
  var out = ""
  out.reserveCapacity(text.utf8.count)
  for c in text.unicodeScalars {
    switch c {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default:
      // Control characters are not allowed in XML 1.0.
      if c.value < 0x20 && c != "\n" && c != "\t" {
        out += " "
      } else {
        out.unicodeScalars.append(c)
      }
    }
  }
  return out
}

/// A coordinate with one decimal, short: `12.3`, `-4`, `100`.
func coord(_ value: Double) -> String {
  guard value.isFinite else { return "0" }
  let tenths = Int((value * 10).rounded())
  let whole = tenths / 10
  let fraction = abs(tenths % 10)
  if fraction == 0 { return String(whole) }
  return (tenths < 0 && whole == 0 ? "-0" : String(whole)) + "." + String(fraction)
}

/// A number for people with `digits` decimals: `0.152`, `-0.031`.
func decimal(_ value: Double, _ digits: Int = 3) -> String {
  guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "-∞") }
  let text = String(format: "%.\(digits)f", value)
  return text == "-" + String(format: "%.\(digits)f", 0.0)
    ? String(format: "%.\(digits)f", 0.0) : text
}

/// A tick label: as few decimals as the step needs.
func tickLabel(_ value: Double, step: Double) -> String {
  var digits = 0
  while digits < 6 {
    let scaled = step * pow(10, Double(digits))
    if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
    digits += 1
  }
  return decimal(abs(value) < step * 1e-6 ? 0 : value, digits)
}

/// Mean and sample standard deviation (n-1) of the finite values; SD is 0 for one value.
func meanSD(_ values: [Double]) -> (mean: Double, sd: Double, n: Int)? {
  let finite = values.filter(\.isFinite)
  guard !finite.isEmpty else { return nil }
  let mean = finite.reduce(0, +) / Double(finite.count)
  guard finite.count > 1 else { return (mean, 0, 1) }
  let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count - 1)
  return (mean, variance.squareRoot(), finite.count)
}

/// Maps a data interval onto pixels, linear or log10, with round ticks.
struct Scale {
  var lower: Double
  var upper: Double
  var start: Double
  var end: Double
  var logarithmic = false

  /// A linear scale over `values` widened to round ticks; `includeZero` keeps 0 in view.
  static func linear(
    _ values: [Double], start: Double, end: Double, includeZero: Bool = false,
    fixed: (Double, Double)? = nil
  ) -> Scale {
    var lo = values.filter(\.isFinite).min() ?? 0
    var hi = values.filter(\.isFinite).max() ?? 1
    if includeZero {
      lo = min(lo, 0)
      hi = max(hi, 0)
    }
    if let fixed {
      lo = min(lo, fixed.0)
      hi = max(hi, fixed.1)
    }
    if hi - lo < 1e-12 {
      lo -= 0.5
      hi += 0.5
    }
    let step = niceStep((hi - lo) / 5)
    return Scale(
      lower: (lo / step).rounded(.down) * step, upper: (hi / step).rounded(.up) * step,
      start: start, end: end)
  }

  /// A log10 scale over the positive `values`, widened to whole decades where that is close.
  static func log(_ values: [Double], start: Double, end: Double) -> Scale {
    let positive = values.filter { $0.isFinite && $0 > 0 }
    guard var lo = positive.min(), var hi = positive.max() else {
      return .linear(values, start: start, end: end, includeZero: true)
    }
    if hi / lo < 1.5 { return .linear(values, start: start, end: end, includeZero: false) }
    lo = pow(10, (log10(lo) * 4).rounded(.down) / 4)
    hi = pow(10, (log10(hi) * 4).rounded(.up) / 4)
    return Scale(lower: lo, upper: hi, start: start, end: end, logarithmic: true)
  }

  func callAsFunction(_ value: Double) -> Double {
    if logarithmic {
      let v = log10(max(value, lower * 1e-3))
      return start + (v - log10(lower)) / (log10(upper) - log10(lower)) * (end - start)
    }
    return start + (value - lower) / (upper - lower) * (end - start)
  }

  /// Tick values and their labels.
  var ticks: [(value: Double, label: String)] {
    if logarithmic {
      var out: [(Double, String)] = []
      let decades = log10(upper) - log10(lower)
      let mantissas: [Double] = decades > 3 ? [1] : (decades > 1.2 ? [1, 3] : [1, 2, 5])
      var exponent = Int(log10(lower).rounded(.down))
      while Double(exponent) <= log10(upper) + 1e-9 {
        for m in mantissas {
          let value = m * pow(10, Double(exponent))
          if value >= lower * (1 - 1e-9), value <= upper * (1 + 1e-9) {
            out.append((value, logLabel(value)))
          }
        }
        exponent += 1
      }
      if out.count < 2 {
        out = [(lower, logLabel(lower)), (upper, logLabel(upper))]
      }
      return out
    }
    let step = niceStep((upper - lower) / 5)
    var out: [(Double, String)] = []
    var value = lower
    while value <= upper + step * 1e-6 {
      out.append((value, tickLabel(value, step: step)))
      value += step
    }
    return out
  }

  private func logLabel(_ value: Double) -> String {
    let exponent = log10(value).rounded(.down)
    if exponent >= -3 && exponent <= 3 {
      return tickLabel(value, step: pow(10, exponent))
    }
    return String(format: "%.0e", value)
  }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
func niceStep(_ raw: Double) -> Double {
  guard raw.isFinite, raw > 0 else { return 1 }
  let power = pow(10, log10(raw).rounded(.down))
  for m in [1.0, 2, 2.5, 5, 10] where m * power >= raw * (1 - 1e-9) { return m * power }
  return 10 * power
}

/// A figure's markup being built.
struct SVGCanvas {
  var width: Double
  var height: Double
  var parts: [String] = []

  init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  mutating func add(_ markup: String) { parts.append(markup) }

  mutating func text(
    _ content: String, x: Double, y: Double, size: Double = 11, anchor: String = "start",
    weight: String? = nil, rotate: Bool = false, colour: String? = nil
  ) {
    var attributes = "x=\"\(coord(x))\" y=\"\(coord(y))\" font-size=\"\(coord(size))\""
    if anchor != "start" { attributes += " text-anchor=\"\(anchor)\"" }
    if let weight { attributes += " font-weight=\"\(weight)\"" }
    if let colour { attributes += " fill=\"\(colour)\"" }
    if rotate { attributes += " transform=\"rotate(-90 \(coord(x)) \(coord(y)))\"" }
    add("<text \(attributes)>\(escapeXML(content))</text>")
  }

  mutating func line(
    _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, colour: String = "#000",
    width: Double = 1, dash: String? = nil
  ) {
    add(
      "<line x1=\"\(coord(x1))\" y1=\"\(coord(y1))\" x2=\"\(coord(x2))\" y2=\"\(coord(y2))\" "
        + "stroke=\"\(colour)\" stroke-width=\"\(coord(width))\""
        + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
  }

  /// A polyline through the finite points; gaps (NaN) split it.
  mutating func polyline(
    _ points: [(Double, Double)], colour: String, width: Double = 1.5, dash: String? = nil,
    opacity: Double? = nil, title: String? = nil
  ) {
    var runs: [[(Double, Double)]] = [[]]
    for p in points {
      if p.0.isFinite && p.1.isFinite { runs[runs.count - 1].append(p) } else { runs.append([]) }
    }
    for run in runs where run.count > 1 {
      var d = "M"
      for (i, p) in run.enumerated() {
        d += (i == 0 ? "" : "L") + coord(p.0) + " " + coord(p.1)
      }
      let style =
        "fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(coord(width))\" "
        + "stroke-linejoin=\"round\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")
        + (opacity.map { " stroke-opacity=\"\(decimal($0, 2))\"" } ?? "")
      if let title {
        add("<path d=\"\(d)\" \(style)><title>\(escapeXML(title))</title></path>")
      } else {
        add("<path d=\"\(d)\" \(style)/>")
      }
    }
  }

  /// A filled band between `lower` and `upper` over `xs`.
  mutating func band(
    xs: [Double], lower: [Double], upper: [Double], colour: String, opacity: Double
  ) {
    var points: [(Double, Double)] = []
    for i in xs.indices where lower[i].isFinite && upper[i].isFinite {
      points.append((xs[i], upper[i]))
    }
    for i in xs.indices.reversed() where lower[i].isFinite && upper[i].isFinite {
      points.append((xs[i], lower[i]))
    }
    guard points.count > 2 else { return }
    var d = "M"
    for (i, p) in points.enumerated() { d += (i == 0 ? "" : "L") + coord(p.0) + " " + coord(p.1) }
    add(
      "<path d=\"\(d)Z\" fill=\"\(colour)\" fill-opacity=\"\(decimal(opacity, 2))\" "
        + "stroke=\"none\"/>")
  }

  mutating func rect(
    x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
    opacity: Double? = nil, title: String? = nil
  ) {
    var markup =
      "<rect x=\"\(coord(x))\" y=\"\(coord(y))\" width=\"\(coord(max(0, width)))\" "
      + "height=\"\(coord(max(0, height)))\" fill=\"\(fill)\""
    if let stroke { markup += " stroke=\"\(stroke)\"" }
    if let opacity { markup += " fill-opacity=\"\(decimal(opacity, 2))\"" }
    if let title {
      add(markup + "><title>\(escapeXML(title))</title></rect>")
    } else {
      add(markup + "/>")
    }
  }

  mutating func circle(
    x: Double, y: Double, r: Double, fill: String, stroke: String = "#ffffff",
    title: String? = nil
  ) {
    let markup =
      "<circle cx=\"\(coord(x))\" cy=\"\(coord(y))\" r=\"\(coord(r))\" fill=\"\(fill)\" "
      + "stroke=\"\(stroke)\" stroke-width=\"0.8\""
    if let title {
      add(markup + "><title>\(escapeXML(title))</title></circle>")
    } else {
      add(markup + "/>")
    }
  }

  /// The plot frame of one panel with ticks, grid lines, tick labels and both axis titles.
  mutating func axes(
    x: Scale, y: Scale, xTitle: String, yTitle: String, xTicks: [(Double, String)]? = nil,
    grid: Bool = true
  ) {
    let left = min(x.start, x.end)
    let right = max(x.start, x.end)
    let top = min(y.start, y.end)
    let bottom = max(y.start, y.end)
    for tick in y.ticks {
      let py = y(tick.value)
      if grid { line(left, py, right, py, colour: "#e5e5e5", width: 0.7) }
      line(left - 4, py, left, py, colour: "#333")
      text(tick.label, x: left - 6, y: py + 3.5, size: 10, anchor: "end")
    }
    for tick in xTicks ?? x.ticks {
      let px = x(tick.0)
      line(px, bottom, px, bottom + 4, colour: "#333")
      text(tick.1, x: px, y: bottom + 15, size: 10, anchor: "middle")
    }
    add(
      "<rect x=\"\(coord(left))\" y=\"\(coord(top))\" width=\"\(coord(right - left))\" "
        + "height=\"\(coord(bottom - top))\" fill=\"none\" stroke=\"#333\" stroke-width=\"0.8\"/>")
    text(xTitle, x: (left + right) / 2, y: bottom + 30, size: 11, anchor: "middle")
    text(yTitle, x: left - 38, y: (top + bottom) / 2, size: 11, anchor: "middle", rotate: true)
  }

  /// One legend entry's symbol.
  enum Symbol {
    case line(colour: String, dash: String?)
    case band(colour: String, opacity: Double)
    case lineOnBand(colour: String, band: String)
    case box(colour: String)
    case dot(colour: String)
    case errorBar
    case marker(colour: String)
  }

  /// Lays the entries out left to right, wrapping at `maxWidth`; returns the height used.
  @discardableResult
  mutating func legend(
    _ entries: [(symbol: Symbol, label: String)], x: Double, y: Double, maxWidth: Double
  ) -> Double {
    var px = x
    var py = y
    let rowHeight = 16.0
    for entry in entries {
      let width = 28 + Double(entry.label.count) * 6.2 + 14
      if px > x, px + width > x + maxWidth {
        px = x
        py += rowHeight
      }
      let cy = py + 6
      switch entry.symbol {
      case .line(let colour, let dash):
        line(px, cy, px + 22, cy, colour: colour, width: 2, dash: dash)
      case .band(let colour, let opacity):
        rect(x: px, y: cy - 5, width: 22, height: 10, fill: colour, opacity: opacity)
      case .lineOnBand(let colour, let band):
        rect(x: px, y: cy - 5, width: 22, height: 10, fill: band, opacity: 0.45)
        line(px, cy, px + 22, cy, colour: colour, width: 2)
      case .box(let colour):
        rect(x: px + 4, y: cy - 5, width: 14, height: 10, fill: colour, stroke: "#333")
      case .dot(let colour):
        circle(x: px + 11, y: cy, r: 3, fill: colour, stroke: "#333")
      case .errorBar:
        line(px + 11, cy - 5, px + 11, cy + 5, colour: "#000")
        line(px + 7, cy - 5, px + 15, cy - 5, colour: "#000")
        line(px + 7, cy + 5, px + 15, cy + 5, colour: "#000")
      case .marker(let colour):
        line(px + 11, cy - 6, px + 11, cy + 6, colour: colour, width: 1, dash: "2 2")
        circle(x: px + 11, y: cy, r: 3.5, fill: colour, stroke: "#000")
      }
      text(entry.label, x: px + 28, y: cy + 4, size: 11)
      px += width
    }
    return py + rowHeight - y
  }

  /// The standalone SVG document: title and description for screen readers, a white
  /// background so that it pastes into slides and papers as it looks here.
  func document(title: String, description: String? = nil) -> String {
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(coord(width))\" "
      + "height=\"\(coord(height))\" viewBox=\"0 0 \(coord(width)) \(coord(height))\" "
      + "role=\"img\" font-family=\"Helvetica, Arial, 'DejaVu Sans', sans-serif\" "
      + "fill=\"#000\">\n<title>\(escapeXML(title))</title>\n"
    if let description { out += "<desc>\(escapeXML(description))</desc>\n" }
    out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    out += parts.joined(separator: "\n")
    out += "\n</svg>\n"
    return out
  }
}

/// A finished figure: its file name under `figures/`, a caption, and the SVG markup.
struct Figure {
  var file: String
  var caption: String
  var svg: String
}
