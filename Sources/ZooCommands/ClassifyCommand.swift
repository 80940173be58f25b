import ArgumentParser
import Foundation
import Models
import VisionIO

/// `zoo classify FILES_OR_DIRS…`: top-k ImageNet labels per image with the model's pretrained preprocessing.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify images (files or folders) with a pretrained model.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(parsing: .unconditional, help: "Labels shown per image.")
    var topK: Int = 5

    @Option(parsing: .unconditional, help: "Images per forward pass.")
    var batchSize: Int = 8

    @Option(help: "A labels file (one class name per line) for models not trained on ImageNet-1k.")
    var labels: String?

    @Flag(
        help:
            "Print JSON: [{\"file\", \"top\": [{\"index\", \"label\", \"prob\"}]}] or {\"file\", \"error\"} per failed file."
    )
    var json = false

    @Option(
        help: ArgumentHelp(
            "Classify share i of n (0 ≤ i < n): every n-th file of the sorted list, from the i-th.",
            discussion: "Under mpirun the rank's share by default; also for Slurm arrays or GNU parallel.",
            valueName: "i/n"))
    var shard: FileShard?

    @Option(
        help: ArgumentHelp(
            "Write the results to OUT/predictions-0000i-of-0000n.jsonl (one JSON object per line) instead of stdout.",
            discussion: "A share whose file exists is skipped, so an interrupted run resumes where it stopped.",
            valueName: "OUT"))
    var output: String?

    @Argument(help: "Image files or folders (searched recursively for images).")
    var inputs: [String]

    func validate() throws {
        try requireOption("--top-k", topK, in: OptionBounds.topK)
        try requireOption("--batch-size", batchSize, in: OptionBounds.batchSize)
    }

    struct Classification: Encodable {
        var file: String
        var top: [ImageClassification.Prediction]?
        var error: String?
    }

    func run() throws {
        let job = Job.communicator
        let share = shard ?? FileShard(index: job.rank, count: job.size)
        let resultsFile = output.map { URL(fileURLWithPath: $0).appendingPathComponent(share.fileName) }
        if let resultsFile, FileManager.default.fileExists(atPath: resultsFile.path) {
            FileHandle.standardError.write(Data("zoo: \(resultsFile.path): already written, skipped\n".utf8))
            return
        }
        let (allFiles, allMissing) = expandInputs(inputs)
        let files = share.take(allFiles)
        let missing = share.index == 0 ? allMissing : []  // reported once, by the first share
        let (pretrained, model) = try modelOptions.loadModel()
        model.keepWeightsPackedOnly()  // inference only: the packed weights are the only copy kept
        let classNames =
            try labels.map { try classNamesFile($0, classes: model.numClasses) }
            ?? (model.numClasses == 1000 ? Assets.imagenetLabels() : [])
        let classifier = ImageClassification(
            model: model, preprocessing: PreprocessConfig(pretrained), labels: classNames)
        let progress = files.count > batchSize ? ProgressReporter(total: files.count, label: "classify") : nil
        var results: [Classification] = []
        var failed = !missing.isEmpty
        for (path, problem) in missing {
            reportError("\(path): \(problem)")
            results.append(Classification(file: path, error: problem))
        }
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batchFiles = Array(files[start..<min(start + batchSize, files.count)])
            let outcomes = try classifier.classify(
                batchFiles.map { URL(fileURLWithPath: $0) }, topK: topK, batchSize: batchSize)
            // Results in file order, failures included, so that shares interleave back into the whole list.
            for (file, outcome) in zip(batchFiles, outcomes) {
                switch outcome {
                case .success(let top):
                    results.append(Classification(file: file, top: top))
                    if !json && resultsFile == nil { printResult(results.last!) }
                case .failure(let error):
                    failed = true
                    let problem = problemText(error, file: file)
                    reportError("\(file): \(problem)")
                    results.append(Classification(file: file, error: problem))
                }
            }
            progress?.update(
                done: min(start + batchSize, files.count), items: min(start + batchSize, files.count), detail: "")
        }
        if let resultsFile {
            try writeJSONLines(results, to: resultsFile)
        } else if json {
            print(try jsonString(results))
        }
        if failed { throw ExitCode.failure }
    }

    /// One compact JSON object per line, written atomically: a share's file is either complete or absent.
    private func writeJSONLines(_ results: [Classification], to url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lines = try results.map { try jsonString($0, pretty: false) + "\n" }.joined()
        try Data(lines.utf8).write(to: url, options: .atomic)
    }

    /// One class name per line, exactly as many as the model predicts (a mismatch is an error, not "class N").
    private func classNamesFile(_ path: String, classes: Int) throws -> [String] {
        let text = String(decoding: try readInputFile(path), as: UTF8.self)
        let names = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let lines = names.last == "" ? Array(names.dropLast()) : names
        guard lines.count == classes else {
            throw CommandError(
                file: path, problem: "\(lines.count) labels, but the model predicts \(classes) classes")
        }
        return lines
    }

    private func printResult(_ result: Classification) {
        print(result.file)
        for p in result.top ?? [] { print(String(format: "  %6.2f%%  %4d  %@", p.probability * 100, p.index, p.label)) }
    }

    /// The error without the leading "PATH: " decoders put there: the line and the JSON entry name the file once.
    private func problemText(_ error: Error, file: String) -> String {
        let message = "\(error)"
        for path in [file, URL(fileURLWithPath: file).path] where message.hasPrefix(path + ": ") {
            return String(message.dropFirst(path.count + 2))
        }
        return message
    }
}

/// Share `index` of `count` of a sorted file list: every count-th file from the index-th, so that the shares
/// interleave back into the whole list and each holds a spread of it.
struct FileShard: ExpressibleByArgument, Equatable {
    var index: Int
    var count: Int

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0,
            count <= 99_999, (0..<count).contains(index)
        else { return nil }
        self.init(index: index, count: count)
    }

    func take<T>(_ items: [T]) -> [T] { stride(from: index, to: items.count, by: count).map { items[$0] } }

    var fileName: String { String(format: "predictions-%05d-of-%05d.jsonl", index, count) }
}

/// Files as given, folders expanded to their images (recursively, sorted); paths that are missing or
/// hold no images come back separately, so the rest of the batch still runs.
func expandInputs(_ inputs: [String]) -> (files: [String], problems: [(path: String, problem: String)]) {
    var files: [String] = []
    var problems: [(String, String)] = []
    for input in inputs {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            problems.append((input, "no such file or folder"))
            continue
        }
        guard isDirectory.boolValue else {
            files.append(input)
            continue
        }
        let root = URL(fileURLWithPath: input).standardizedFileURL
        let prefix = input.hasSuffix("/") ? input : input + "/"
        let found =
            (FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { torchvisionImageExtensions.contains("." + $0.pathExtension.lowercased()) }
            .map { prefix + $0.standardizedFileURL.path.dropFirst(root.path.count + 1) }
            .sorted()
        if found.isEmpty { problems.append((input, "no images in this folder")) }
        files += found
    }
    return (files, problems)
}
