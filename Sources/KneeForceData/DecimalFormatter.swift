/// Writes numbers as fixed-point decimal text straight into a byte buffer. Generating a
/// cohort writes about a million cells; `String(format:)` would dominate the run time, and a
/// fixed number of decimals per channel also keeps files small and diff-friendly.
enum DecimalFormatter {
  private static let powers: [Double] = (0...9).map { p in
    var value = 1.0
    for _ in 0..<p { value *= 10 }
    return value
  }

  /// Appends `value` rounded to `decimals` places, trailing zeros dropped; NaN is a gap and
  /// writes nothing (an empty cell, as the format defines).
  static func append(_ value: Double, decimals: Int, to out: inout [UInt8]) {
    guard value.isFinite else { return }
    let places = min(max(decimals, 0), powers.count - 1)
    let scaled = (abs(value) * powers[places]).rounded()
    guard scaled < 9e15 else {
      out.append(contentsOf: Array("\(value)".utf8))
      return
    }
    var integer = UInt64(scaled)
    if integer == 0 {
      out.append(UInt8(ascii: "0"))
      return
    }
    if value < 0 { out.append(UInt8(ascii: "-")) }
    var fraction = places
    while fraction > 0 && integer % 10 == 0 {
      integer /= 10
      fraction -= 1
    }
    // Digits are written least significant first, then the run is reversed in place, so
    // that no temporary array is allocated per number.
    let start = out.count
    var remaining = integer
    var written = 0
    repeat {
      if written == fraction && fraction > 0 { out.append(UInt8(ascii: ".")) }
      out.append(UInt8(ascii: "0") + UInt8(remaining % 10))
      remaining /= 10
      written += 1
    } while remaining > 0 || written <= fraction
    var low = start
    var high = out.count - 1
    while low < high {
      out.swapAt(low, high)
      low += 1
      high -= 1
    }
  }
}
