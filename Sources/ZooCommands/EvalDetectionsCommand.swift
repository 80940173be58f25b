import ArgumentParser
import Foundation
import JSON
import Metrics

/// `zoo eval-detections`: COCO box AP/AR (pycocotools' numbers) and optionally VOC AP.
struct EvalDetectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-detections",
        abstract: "Evaluate COCO-format detections against ground truth: the 12 COCO AP/AR numbers, optionally VOC AP.",
        discussion: """
            GT.json is a COCO ground-truth file (images, categories, annotations with bbox [x, y, w, h], \
            area, iscrowd); DT.json a COCO results list [{image_id, category_id, bbox, score}]. \
            The numbers reproduce pycocotools' COCOeval for iouType "bbox".
            """)

    @Option(name: .customLong("gt"), help: "COCO ground-truth JSON.")
    var groundTruthPath: String

    @Option(name: .customLong("dt"), help: "COCO detection results JSON (a list).")
    var detectionsPath: String

    @Flag(help: "Print {\"AP\", \"AP50\", …, \"ARl\"} as JSON.")
    var json = false

    @Option(
        name: .customLong("iou-thresholds"),
        help: "Comma-separated IoU thresholds replacing 0.50:0.05:0.95 (AP50/AP75 are -1 unless listed).")
    var iouThresholds: String?

    @Flag(name: .customLong("class-agnostic"), help: "Pool categories (pycocotools useCats = 0).")
    var classAgnostic = false

    @Flag(help: "Also report PASCAL VOC AP at IoU 0.5 per class (all-point, VOC2010+).")
    var voc = false

    @Flag(name: .customLong("voc-11-point"), help: "Like --voc with the 11-point interpolation (VOC2007).")
    var voc11Point = false

    func validate() throws {
        _ = try parsedThresholds()
    }

    /// The `--iou-thresholds` values, or nil for COCO's default ten.
    func parsedThresholds() throws -> [Double]? {
        guard let iouThresholds else { return nil }
        let items = iouThresholds.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return try items.map { item in
            guard let value = Double(item), value > 0, value <= 1 else {
                throw ValidationError("--iou-thresholds: '\(item)' is not a number in (0, 1]")
            }
            return value
        }
    }

    func run() throws {
        print(try output())
    }

    /// Everything `run` prints, so tests can check it without capturing stdout.
    func output() throws -> String {
        let groundTruth = try attributing(to: groundTruthPath) {
            try COCOGroundTruth(jsonData: try readInputFile(groundTruthPath))
        }
        let detections = try attributing(to: detectionsPath) {
            try groundTruth.detections(jsonData: try readInputFile(detectionsPath))
        }
        var parameters = COCOEvalParameters()
        if let thresholds = try parsedThresholds() { parameters.iouThresholds = thresholds }
        parameters.useCategories = !classAgnostic
        let coco = evaluateCOCO(groundTruth: groundTruth, detections: detections, parameters: parameters)
        let vocResult =
            (voc || voc11Point)
            ? evaluateVOC(
                groundTruth: groundTruth, detections: detections, method: voc11Point ? .elevenPoint : .allPoint)
            : nil

        if json {
            var fields: [(String, JSONOutput)] = coco.namedStats.map { ($0.name, .number($0.value)) }
            if let vocResult {
                let classes: [JSONOutput] = vocResult.classes.map { c in
                    .object([
                        ("category_id", .int(c.categoryID)), ("name", .string(c.name)),
                        ("ap", c.averagePrecision.map { .number($0) } ?? .null),
                        ("positives", .int(c.positives)), ("detections", .int(c.detections)),
                    ])
                }
                fields.append(
                    (
                        "voc",
                        .object([
                            ("method", .string(vocResult.method.rawValue)),
                            ("iou_threshold", .number(vocResult.iouThreshold)),
                            ("mAP", vocResult.meanAveragePrecision.map { .number($0) } ?? .null),
                            ("classes", .array(classes)),
                        ])
                    ))
            }
            return JSONOutput.object(fields).text
        }
        var lines = coco.summaryLines
        if let vocResult {
            lines.append("")
            lines.append("VOC AP @ IoU>\(vocResult.iouThreshold) (\(vocResult.method.rawValue))")
            let width = max(8, vocResult.classes.map(\.name.count).max() ?? 0)
            for c in vocResult.classes {
                let ap = c.averagePrecision.map { String(format: "%.4f", $0) } ?? "n/a (no ground truth)"
                lines.append("  " + c.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + ap)
            }
            let mAP = vocResult.meanAveragePrecision.map { String(format: "%.4f", $0) } ?? "n/a"
            lines.append("  " + "mAP".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + mAP)
        }
        return lines.joined(separator: "\n")
    }
}
