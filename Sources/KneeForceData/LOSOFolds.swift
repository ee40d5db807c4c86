/// One leave-one-subject-out fold: train on every other subject, test on this one. Subjects
/// rather than trials are held out because trials of one person share their gait, so
/// trial-level splits would overstate how well a model generalises to a new patient.
public struct LOSOFold: Sendable, Equatable, Hashable, Codable {
  public var heldOutSubject: String
  public var trainingSubjects: [String]

  public init(heldOutSubject: String, trainingSubjects: [String]) {
    self.heldOutSubject = heldOutSubject
    self.trainingSubjects = trainingSubjects
  }
}

public enum LOSOFolds {
  /// One fold per distinct subject, subjects sorted, training subjects sorted. Fewer than
  /// two subjects give no fold, since there would be nobody to train on.
  public static func folds(subjects: [String]) -> [LOSOFold] {
    let unique = Array(Set(subjects)).sorted()
    guard unique.count >= 2 else { return [] }
    return unique.map { held in
      LOSOFold(heldOutSubject: held, trainingSubjects: unique.filter { $0 != held })
    }
  }
}
