import Foundation
import KneeForceFiles

/// The HTML page: six sections, inline CSS and SVG, no script, nothing fetched.
enum ReportPage {
  static let sections: [(id: String, title: String)] = [
    ("run", "1. The run"),
    ("table", "2. Results: mean ± SD over held-out subjects"),
    ("curves", "3. Predicted vs measured curves"),
    ("scores", "4. RMSE and r per model"),
    ("lofo", "5. Leave one feature group out"),
    ("training", "6. Training curves"),
  ]

  static let style = """
    body{font-family:Helvetica,Arial,'DejaVu Sans',sans-serif;color:#111;background:#fff;\
    margin:0 auto;max-width:1240px;padding:0 18px 40px;line-height:1.4}
    h1{font-size:26px;margin:18px 0 6px}h2{font-size:20px;margin:30px 0 8px;\
    border-bottom:2px solid #333;padding-bottom:3px}h3{font-size:16px;margin:18px 0 6px}
    nav{font-size:14px;margin:6px 0 12px}nav a{margin-right:14px;color:#0057a0}
    .synthetic{background:#D55E00;color:#fff;font-weight:bold;font-size:20px;padding:10px 14px;\
    border:3px solid #000;margin:10px 0}
    .warning{background:#fff3d6;border:2px solid #E69F00;padding:8px 12px;margin:10px 0}
    table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
    th,td{border:1px solid #bbb;padding:3px 7px;text-align:left;vertical-align:top}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    th{background:#f0f0f0}tr.group th{background:#dde6f0;text-align:left}
    tr.baseline td:first-child{font-style:italic}
    td.best{font-weight:bold;background:#e2f0e6}
    .note{font-size:13px;color:#333}
    figure{margin:10px 0 22px}figcaption{font-size:13px;color:#333;max-width:940px}
    figure svg{max-width:100%;height:auto;display:block}
    .multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:8px}
    .multiples figure{margin:0}
    code{font-size:12px}
    """

  static func render(_ content: ReportContent) -> String {
    var html: [String] = []
    let sweep = content.sweep.sweep
    let command = sweep["command"] as? String ?? "sweep"
    html.append("<!DOCTYPE html>")
    html.append("<html lang=\"en\">")
    html.append("<head>")
    html.append("<meta charset=\"utf-8\">")
    html.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    html.append(
      "<title>\(content.synthetic ? "SYNTHETIC – " : "")KneeForce \(escapeXML(command)) report: "
        + "\(escapeXML(content.sweep.url.lastPathComponent))</title>")
    html.append("<style>\n\(style)\n</style>")
    html.append("</head>")
    html.append("<body>")
    html.append("<h1>KneeForce \(escapeXML(command)) report</h1>")
    html.append(
      "<p class=\"note\">Folder <code>\(escapeXML(content.sweep.url.path))</code>. Built by "
        + "<code>kneeforce report</code> \(KneeForceVersion.current) from the folder's files "
        + "alone (docs/SWEEP_OUTPUTS.md); the figures are also in <code>figures/</code> as "
        + "standalone SVG.</p>")
    if content.synthetic {
      html.append(
        "<div class=\"synthetic\" id=\"synthetic\">SYNTHETIC DATA: these results come from a "
          + "simulated cohort (kneeforce synth), not from patients or measured knee loads. "
          + "Do not report them as findings.</div>")
    }
    html.append(contentsOf: completeness(content))
    html.append(
      "<nav>" + sections.map { "<a href=\"#\($0.id)\">\(escapeXML($0.title))</a>" }.joined()
        + "</nav>")
    html.append(contentsOf: runSection(content))
    html.append(contentsOf: tableSection(content))
    html.append(contentsOf: curvesSection(content))
    html.append(contentsOf: scoresSection(content))
    html.append(contentsOf: lofoSection(content))
    html.append(contentsOf: trainingSection(content))
    html.append("</body>")
    html.append("</html>")
    return html.joined(separator: "\n") + "\n"
  }

  static func heading(_ id: String) -> String {
    let title = sections.first { $0.id == id }?.title ?? id
    return "<section id=\"\(id)\">\n<h2>\(escapeXML(title))</h2>"
  }

  static func figure(_ figure: Figure) -> String {
    // The standalone file starts with the same <svg> element; inline, the XML declaration and
    // namespace are harmless.
    "<figure>\n\(figure.svg)<figcaption>\(escapeXML(figure.caption)) "
      + "<a href=\"figures/\(escapeXML(figure.file))\">figures/\(escapeXML(figure.file))</a>"
      + "</figcaption>\n</figure>"
  }

  static func completeness(_ content: ReportContent) -> [String] {
    var out: [String] = []
    let sweep = content.sweep.sweep
    let units = sweep["units"] as? [String: Any] ?? [:]
    let complete = sweep["complete"] as? Bool
    if complete == false || !content.sweep.unfinished.isEmpty {
      let planned = integer(units["planned"]).map { " of \($0) planned" } ?? ""
      out.append(
        "<div class=\"warning\"><strong>Incomplete:</strong> \(content.sweep.units.count) units "
          + "finished\(planned); \(content.sweep.unfinished.count) started but not finished. "
          + "The figures and tables show the finished units only.</div>")
    }
    let failed = content.sweep.units.filter(\.failed)
    if !failed.isEmpty {
      out.append(
        "<div class=\"warning\"><strong>\(failed.count) failed "
          + (failed.count == 1 ? "unit" : "units")
          + "</strong> (non-finite loss; left out of the means): "
          + failed.map { unit in
            "<code>\(escapeXML(unit.folder))</code>"
              + (unit.failure.map { " (\(escapeXML($0)))" } ?? "")
          }.joined(separator: ", ")
          + "</div>")
    }
    return out
  }

  // MARK: 1. The run

  static func runSection(_ content: ReportContent) -> [String] {
    let sweep = content.sweep.sweep
    let data = sweep["data"] as? [String: Any] ?? [:]
    let run = sweep["run"] as? [String: Any] ?? [:]
    let timings = sweep["timings"] as? [String: Any] ?? [:]
    let units = sweep["units"] as? [String: Any] ?? [:]
    let shard = sweep["shard"] as? [String: Any] ?? [:]
    var rows: [(String, String)] = []
    let subjects = (data["subjects"] as? [Any])?.compactMap { $0 as? String } ?? content.subjects
    rows.append(
      ("Data set", (data["folder"] as? String).map { "<code>\(escapeXML($0))</code>" } ?? "—"))
    rows.append(
      (
        "Synthetic",
        content.synthetic
          ? "<strong>yes: simulated cohort, not patient data</strong>" : "no (measured data)"
      ))
    rows.append(
      ("Subjects", "\(subjects.count): " + escapeXML(subjects.joined(separator: ", "))))
    if let trials = data["trials_per_activity"] as? [String: Any] {
      let list = trials.keys.sorted().map {
        "\(escapeXML($0)) \(integer(trials[$0]).map(String.init) ?? "?")"
      }
      let total = trials.values.compactMap { integer($0) }.reduce(0, +)
      rows.append(("Trials", "\(total): " + list.joined(separator: ", ")))
      rows.append(("Activities", escapeXML(trials.keys.sorted().joined(separator: ", "))))
    }
    rows.append(("Data fingerprint", code(data["fingerprint"])))
    rows.append(("Device", escape(run["device"])))
    if let threads = run["threads"] { rows.append(("Threads", escape(threads))) }
    if let batch = run["fold_batch"] { rows.append(("Fold batch", escape(batch))) }
    var version = escape(sweep["version"])
    if let commit = sweep["commit"] as? String {
      version += " (commit <code>\(escapeXML(commit))</code>)"
    }
    rows.append(("Version", version))
    rows.append(("Command", "kneeforce " + escape(sweep["command"])))
    if let started = timings["started"] as? String { rows.append(("Started", escapeXML(started))) }
    rows.append(("Wall time", double(timings["seconds"]).map(duration) ?? "—"))
    if let training = double(timings["training_seconds"]) {
      rows.append(("Training time", duration(training)))
    }
    if !units.isEmpty {
      rows.append(
        (
          "Units",
          ["planned", "finished", "failed"].compactMap { key in
            integer(units[key]).map { "\($0) \(key)" }
          }.joined(separator: ", ")
        ))
    }
    if let index = integer(shard["index"]), let count = integer(shard["count"]) {
      rows.append(("Shard", "\(index) of \(count)"))
    }
    if let merged = sweep["merged_from"] { rows.append(("Merged from", escape(merged))) }
    if let complete = sweep["complete"] as? Bool {
      rows.append(("Complete", complete ? "yes" : "no"))
    }
    var out = [heading("run"), "<table>"]
    for (name, value) in rows {
      out.append("<tr><th>\(escapeXML(name))</th><td>\(value)</td></tr>")
    }
    out.append("</table>")
    if let options = sweep["options"] as? [String: Any], !options.isEmpty {
      out.append("<h3>Options (the settings that change results)</h3>")
      out.append("<table>")
      for key in options.keys.sorted() {
        out.append(
          "<tr><th>\(escapeXML(key))</th><td><code>\(escapeXML(json(options[key]!)))</code></td></tr>"
        )
      }
      out.append("</table>")
    }
    out.append("</section>")
    return out
  }

  static func escape(_ value: Any?) -> String {
    guard let value else { return "—" }
    if let text = value as? String { return escapeXML(text) }
    return escapeXML(json(value))
  }

  static func code(_ value: Any?) -> String {
    guard let value else { return "—" }
    return "<code>\(escape(value))</code>"
  }

  static func json(_ value: Any) -> String {
    if value is NSNull { return "null" }
    if let text = value as? String { return text }
    // Not `as? Bool`: on Linux a JSON number 1 casts to true; the serialiser knows the kind.
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    else { return "\(value)" }
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: ",", with: ", ")
  }

  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "—" }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let total = Int(seconds.rounded())
    let h = total / 3600
    let m = (total % 3600) / 60
    let s = total % 60
    return h > 0 ? "\(h) h \(m) min \(s) s" : "\(m) min \(s) s"
  }

  // MARK: 2. The table

  static func tableSection(_ content: ReportContent) -> [String] {
    var out = [heading("table")]
    guard !content.tableModels.isEmpty else {
      out.append("<p>No results with input set <code>all</code> yet.</p></section>")
      return out
    }
    out.append(
      "<p class=\"note\">Input set <code>all</code>. RMSE in body weights (BW) and Pearson r, "
        + "mean ± SD over held-out subjects (n = subjects scored); <code>all activities</code> "
        + "pools every activity of a subject. Best per column and activity marked ★ "
        + "(lowest RMSE, highest r). Baselines (<i>italic</i>) beside the networks.</p>")
    let labelled = Set(content.tableModels.map(\.activities)).count > 1
    out.append("<table class=\"results\">")
    var header = "<tr><th rowspan=\"2\">Model</th><th rowspan=\"2\">n</th>"
    for target in content.targets { header += "<th colspan=\"2\">\(Words.target(target))</th>" }
    out.append(header + "</tr>")
    out.append(
      "<tr>" + content.targets.map { _ in "<th>RMSE (BW)</th><th>r</th>" }.joined() + "</tr>")
    for activity in content.tableActivities {
      out.append(
        "<tr class=\"group\"><th colspan=\"\(2 + 2 * content.targets.count)\">"
          + "\(escapeXML(Words.activity(activity)))</th></tr>")
      var bestRMSE: [String: Double] = [:]
      var bestR: [String: Double] = [:]
      for target in content.targets {
        for m in content.tableModels {
          guard
            let cell = content.table[
              ReportContent.tableKey(m.model, m.activities, activity, target)]
          else { continue }
          if let v = cell.rmse?.mean { bestRMSE[target] = min(bestRMSE[target] ?? .infinity, v) }
          if let v = cell.r?.mean, v.isFinite {
            bestR[target] = max(bestR[target] ?? -.infinity, v)
          }
        }
      }
      for m in content.tableModels {
        let cells = content.targets.map {
          content.table[ReportContent.tableKey(m.model, m.activities, activity, $0)]
        }
        guard cells.contains(where: { $0 != nil }) else { continue }
        let n = cells.compactMap { $0?.subjects }.max() ?? 0
        let name = Words.shortModel(m.model) + (labelled ? " (\(m.activities))" : "")
        var row =
          "<tr\(isBaseline(m.model) ? " class=\"baseline\"" : "")><td>\(escapeXML(name))</td>"
          + "<td class=\"num\">\(n)</td>"
        for (target, cell) in zip(content.targets, cells) {
          row += statCell(cell?.rmse, best: bestRMSE[target])
          row += statCell(cell?.r, best: bestR[target])
        }
        out.append(row + "</tr>")
      }
    }
    out.append("</table>")
    out.append("</section>")
    return out
  }

  static func statCell(_ stats: (mean: Double, sd: Double, n: Int)?, best: Double?) -> String {
    guard let stats else { return "<td class=\"num\">—</td>" }
    let isBest = best.map { abs($0 - stats.mean) < 1e-12 } ?? false
    let text = "\(decimal(stats.mean)) ± \(decimal(stats.sd))"
    return isBest
      ? "<td class=\"num best\">★ \(text)</td>" : "<td class=\"num\">\(text)</td>"
  }

  // MARK: 3.-6. Figures

  static func curvesSection(_ content: ReportContent) -> [String] {
    var out = [heading("curves")]
    out.append(
      "<p class=\"note\">Input set <code>all</code>. For each activity and target, one panel per "
        + "held-out subject: the measured mean ± SD over that subject's sequences (black line, "
        + "grey band) and every model's and baseline's mean prediction, over 0-100 % of the "
        + "movement, in body weights (BW). With several seeds the members' SD is a light band "
        + "in the model's colour.</p>")
    if content.curves.isEmpty { out.append("<p>No predictions yet.</p>") }
    var activity: String?
    for (key, figure) in zip(content.curveKeys, content.curves) {
      if key.activity != activity {
        activity = key.activity
        out.append("<h3>\(escapeXML(Words.activity(key.activity)))</h3>")
      }
      out.append(ReportPage.figure(figure))
    }
    out.append("</section>")
    return out
  }

  static func scoresSection(_ content: ReportContent) -> [String] {
    var out = [heading("scores")]
    if content.bars.isEmpty { out.append("<p>No pooled (activity all) results yet.</p>") }
    out += content.bars.map(figure)
    out.append("</section>")
    return out
  }

  static func lofoSection(_ content: ReportContent) -> [String] {
    var out = [heading("lofo")]
    guard let lofo = content.lofo else {
      out.append(
        "<p>This sweep did not leave feature groups out (run <code>kneeforce sweep --lofo</code>)."
          + "</p></section>")
      return out
    }
    out.append(figure(lofo))
    out.append(
      "<p class=\"note\">The mean-curve baseline uses no inputs and is not shown. Positive "
        + "ΔRMSE: the prediction got worse without the group, so the group helped.</p>")
    out.append(
      "<table><tr><th>Model</th><th>Left out</th>"
        + content.targets.map { "<th>\(Words.target($0)) ΔRMSE (BW)</th>" }.joined()
        + "<th>n</th></tr>")
    var pairs: [(model: String, group: String)] = []
    for row in content.lofoRows where !pairs.contains(where: { $0 == (row.model, row.group) }) {
      pairs.append((row.model, row.group))
    }
    for pair in pairs {
      let rows = content.lofoRows.filter { $0.model == pair.model && $0.group == pair.group }
      var line =
        "<tr\(isBaseline(pair.model) ? " class=\"baseline\"" : "")><td>"
        + "\(escapeXML(Words.shortModel(pair.model)))</td><td>"
        + "\(escapeXML(String(pair.group.dropFirst(3)).uppercased()))</td>"
      for target in content.targets {
        if let stats = rows.first(where: { $0.target == target })?.stats {
          line += "<td class=\"num\">\(decimal(stats.mean)) ± \(decimal(stats.sd))</td>"
        } else {
          line += "<td class=\"num\">—</td>"
        }
      }
      line += "<td class=\"num\">\(rows.map(\.stats.n).max() ?? 0)</td></tr>"
      out.append(line)
    }
    out.append("</table>")
    out.append("</section>")
    return out
  }

  static func trainingSection(_ content: ReportContent) -> [String] {
    var out = [heading("training")]
    out.append(
      "<p class=\"note\">Per unit: mean MSE of the training mini-batches (solid) and of the "
        + "validation subject (dashed) per epoch, log scale, every seed member; the marked "
        + "epoch is the one whose weights the checkpoint holds.</p>")
    if content.training.isEmpty { out.append("<p>No training histories (baselines only?).</p>") }
    for (group, figures) in content.training {
      out.append("<h3>\(escapeXML(group))</h3>")
      out.append("<div class=\"multiples\">")
      for figure in figures {
        out.append(
          "<figure>\n\(figure.svg)<figcaption><a href=\"figures/\(escapeXML(figure.file))\">"
            + "\(escapeXML(figure.file))</a></figcaption>\n</figure>")
      }
      out.append("</div>")
    }
    out.append("</section>")
    return out
  }
}
