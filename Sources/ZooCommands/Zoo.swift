import ArgumentParser

/// The `zoo` command line: classify, forward, preprocess, models, rf, eval-detections, pretrain-mae,
/// train, eval, bench. Each subcommand lives in its own file of this target.
public struct Zoo: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "A vision model zoo: run, train and inspect timm models in Swift, on the CPU.",
        subcommands: [EvalDetectionsCommand.self, ReceptiveFieldCommand.self]
    )
    public init() {}
}
