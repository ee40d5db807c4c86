import ArgumentParser

struct DevicesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "devices", abstract: "List OpenCL devices and the CPU backend, and self-check each.")
  func run() throws {}
}
