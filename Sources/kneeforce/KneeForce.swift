import ArgumentParser

@main
struct KneeForce: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kneeforce",
    abstract: "Train and run knee contact force models (biLSTM-MLP, TCN) on OpenCL or CPU.",
    discussion: """
      KneeForce predicts medial, lateral and total tibiofemoral contact force (in body \
      weights) from gait-lab kinematics, ground reaction forces and EMG, with a biLSTM-MLP \
      and a TCN (Derungs et al., Bioengineering 2026). Every command reads the dataset \
      folder format of docs/DATASET_FORMAT.md. Start with `kneeforce demo`.
      """,
    subcommands: [
      DemoCommand.self,
      SynthCommand.self,
      CheckCommand.self,
      DevicesCommand.self,
      BenchCommand.self,
      ForwardCommand.self,
      C3DCommand.self,
    ]
  )
}
