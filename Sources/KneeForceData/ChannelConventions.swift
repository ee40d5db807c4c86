/// The channel naming rules of the dataset format, in one place so that the checker, the
/// feature pipeline and the importers agree on them.
public enum ChannelConventions {
  /// The first column of every trial file.
  public static let timeColumn = "time_s"

  /// Targets, always in this order in every model output and every `SequenceSet`.
  public static let targetChannels = ["kcf.medial", "kcf.lateral", "kcf.total"]

  /// The input groups of a leave-one-feature-out analysis, in their canonical order.
  public static let inputGroups = ["kin", "grf", "emg"]

  /// The group of a `<group>.<name>` channel, or nil when the name has no group.
  public static func group(of channel: String) -> String? {
    guard let dot = channel.firstIndex(of: "."), dot != channel.startIndex else { return nil }
    let rest = channel[channel.index(after: dot)...]
    return rest.isEmpty ? nil : String(channel[..<dot])
  }

  /// The part after the group, or the whole name when there is no group.
  public static func name(of channel: String) -> String {
    guard let dot = channel.firstIndex(of: ".") else { return channel }
    return String(channel[channel.index(after: dot)...])
  }

  /// Whether a channel is a force in newtons that the pipeline divides by body weight.
  ///
  /// The rule: every `kcf.*` channel, and every `grf.*` channel except centre-of-pressure
  /// positions (names starting with `cop`, in m) and moments (names containing `moment`,
  /// `torque` or equal to `tz`, in N·m). Positions and moments are not divided, because
  /// dividing metres by newtons would only make them depend on the subject's weight.
  public static func isBodyWeightScaled(_ channel: String) -> Bool {
    switch group(of: channel) {
    case "kcf": return true
    case "grf":
      let name = name(of: channel).lowercased()
      if name.hasPrefix("cop") || name == "tz" { return false }
      if name.contains("moment") || name.contains("torque") { return false }
      return true
    default: return false
    }
  }
}
