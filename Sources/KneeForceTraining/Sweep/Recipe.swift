import Foundation
import KneeForceCompute
import KneeForceData

/// The starting points of a sweep's settings (`--recipe`); every option given on the command
/// line overrides its recipe's value. docs/RECIPE.md gives each part's reason and measured
/// effect.
public enum Recipe: String, Codable, Sendable, CaseIterable {
  /// The default: what generalises to unseen subjects of a cohort of a handful of subjects
  /// (docs/RECIPE.md). Per part: gait cycles; inputs chosen per fold among grf, grf+kin and
  /// all by inner validation; each subject z-scored with its own statistics; small networks;
  /// AdamW with weight decay; input noise, channel offsets and gains and small time warps;
  /// early stopping by inner leave-one-subject-out, the inner models averaged; the networks
  /// learn the residual from the aligned curve.
  case smallCohort = "small_cohort"
  /// KneeForce's first settings and the plain setup of the papers: whole trials, every
  /// input, the training subjects' z-scores, the default network sizes, Adam, no
  /// augmentation, one validation subject, networks predicting the force itself.
  case plain

  public var options: SweepOptions {
    var o = SweepOptions()
    guard self == .smallCohort else { return o }
    o.segmentation = .cycle(length: 101)
    o.featureSetList = ["grf", "grf+kin", "all"]
    o.normalization = .subject
    o.hidden = 32
    o.layers = 1
    o.mlp = [32, 16]
    o.channels = 32
    o.levels = 4
    o.optimizer = .adamw
    o.weightDecay = 0.1
    o.augmentation = Augmentation(noise: 0.1, offset: 0.2, gain: 0.1, timeWarp: 0.1)
    o.validation = .inner
    o.residual = .alignedCurve
    return o
  }
}
