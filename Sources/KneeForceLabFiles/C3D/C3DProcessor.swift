/// The machine a C3D file was written on decides its byte order and float encoding; the
/// parameter section's fourth byte names it (83 + n).
public enum C3DProcessor: String, Sendable, CaseIterable {
  case intel
  case dec
  case mips

  /// The byte value the parameter section stores for this processor.
  public var code: UInt8 {
    switch self {
    case .intel: return 84
    case .dec: return 85
    case .mips: return 86
    }
  }

  public init?(code: UInt8) {
    switch code {
    case 84: self = .intel
    case 85: self = .dec
    case 86: self = .mips
    default: return nil
    }
  }

  public var displayName: String {
    switch self {
    case .intel: return "Intel"
    case .dec: return "DEC (VAX)"
    case .mips: return "SGI/MIPS"
    }
  }
}

/// How points and analog samples are stored: POINT:SCALE < 0 means 32-bit floats, otherwise
/// 16-bit integers multiplied by the scale.
public enum C3DStorage: String, Sendable {
  case integer
  case float
}

/// VAX F floats are IEEE-like with the 16-bit halves swapped, an exponent bias of 128 and the
/// hidden bit after the point: decoded exactly here instead of by the common "divide by 4"
/// shortcut, which turns the largest exponents into infinities.
enum DECFloat {
  static func decode(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) -> Float {
    let high = UInt32(b0) | UInt32(b1) << 8
    let low = UInt32(b2) | UInt32(b3) << 8
    let bits = high << 16 | low
    let exponent = Int((bits >> 23) & 0xff)
    if exponent == 0 { return (bits >> 31) == 0 ? 0 : .nan }
    let fraction = Double(bits & 0x7f_ffff) / Double(1 << 23)
    let magnitude = (1 + fraction) * pow2(exponent - 129)
    return Float((bits >> 31) == 0 ? magnitude : -magnitude)
  }

  /// The inverse, for test files: returns the four bytes in file order.
  static func encode(_ value: Float) -> [UInt8] {
    if value == 0 || !value.isFinite { return [0, 0, 0, 0] }
    let bits = (value * 4).bitPattern
    let high = bits >> 16
    let low = bits & 0xffff
    return [UInt8(high & 0xff), UInt8(high >> 8), UInt8(low & 0xff), UInt8(low >> 8)]
  }

  private static func pow2(_ exponent: Int) -> Double {
    var result = 1.0
    if exponent >= 0 {
      for _ in 0..<exponent { result *= 2 }
    } else {
      for _ in 0..<(-exponent) { result /= 2 }
    }
    return result
  }
}
