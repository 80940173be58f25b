// COCO bounding-box evaluation, a line-by-line port of pycocotools' COCOeval (evaluate,
// accumulate, summarize) for iouType "bbox": same matching order, same ignore rules, same
// precision envelope and recall sampling, all in Double like numpy's float64.

import Foundation

/// numpy.linspace(start, stop, count): `i * step + start`, with the last value set to `stop`.
public func numpyLinspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
    guard count > 1 else { return count == 1 ? [start] : [] }
    let step = (stop - start) / Double(count - 1)
    var values = (0..<count).map { Double($0) * step + start }
    values[count - 1] = stop
    return values
}

/// One area range of the summary ("all", "small", …), bounds inclusive as in pycocotools.
public struct COCOAreaRange: Equatable, Sendable {
    /// Name of the range; the summary looks up "all", "small", "medium" and "large" by it.
    public var label: String
    /// Smallest area in the range, in square pixels.
    public var lower: Double
    /// Largest area in the range, in square pixels.
    public var upper: Double
    /// A range named `label` covering areas from `lower` to `upper` square pixels, both included.
    public init(label: String, lower: Double, upper: Double) {
        self.label = label
        self.lower = lower
        self.upper = upper
    }
    func excludes(_ area: Double) -> Bool { area < lower || area > upper }
}

/// pycocotools `Params` for iouType "bbox".
public struct COCOEvalParameters: Equatable, Sendable {
    /// Default: numpy.linspace(.5, .95, 10).
    public var iouThresholds: [Double] = numpyLinspace(0.5, 0.95, count: 10)
    /// Default: numpy.linspace(0, 1, 101).
    public var recallThresholds: [Double] = numpyLinspace(0, 1, count: 101)
    /// Sorted ascending; the summary reads indices 0, 1, 2.
    public var maxDetections: [Int] = [1, 10, 100]
    /// Default: pycocotools' all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].
    public var areaRanges: [COCOAreaRange] = [
        COCOAreaRange(label: "all", lower: 0, upper: 1e10),
        COCOAreaRange(label: "small", lower: 0, upper: 32 * 32),
        COCOAreaRange(label: "medium", lower: 32 * 32, upper: 96 * 96),
        COCOAreaRange(label: "large", lower: 96 * 96, upper: 1e10),
    ]
    /// When false, categories are pooled: any detection may match any ground-truth box.
    public var useCategories = true

    /// pycocotools' defaults for bounding boxes.
    public init() {}
}

/// The accumulated tables and the 12 summary numbers of one evaluation.
public struct COCOEvalResult: Sendable {
    /// The parameters evaluated with, `maxDetections` sorted ascending (the M axis).
    public var parameters: COCOEvalParameters
    /// Category ids along the K axis (`[-1]` when categories are pooled).
    public var categoryIDs: [Int]
    /// precision[t][r][k][a][m], −1 where a category has no ground truth (pycocotools' layout).
    public var precision: [[[[[Double]]]]]
    /// recall[t][k][a][m], −1 where a category has no ground truth.
    public var recall: [[[[Double]]]]
    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; −1 when undefined.
    public var stats: [Double]

    /// Short names of the twelve `stats`, in order.
    public static let statNames = [
        "AP", "AP50", "AP75", "APs", "APm", "APl",
        "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    ]

    /// pycocotools' twelve printed lines, character for character.
    public var summaryLines: [String] {
        let maxDets = parameters.maxDetections
        guard maxDets.count >= 3, stats.count == 12 else { return [] }
        let layout: [(isAP: Bool, iou: Double?, area: String, maxDets: Int)] = [
            (true, nil, "all", maxDets[2]), (true, 0.5, "all", maxDets[2]), (true, 0.75, "all", maxDets[2]),
            (true, nil, "small", maxDets[2]), (true, nil, "medium", maxDets[2]), (true, nil, "large", maxDets[2]),
            (false, nil, "all", maxDets[0]), (false, nil, "all", maxDets[1]), (false, nil, "all", maxDets[2]),
            (false, nil, "small", maxDets[2]), (false, nil, "medium", maxDets[2]), (false, nil, "large", maxDets[2]),
        ]
        let thresholds = parameters.iouThresholds
        return zip(layout, stats).map { row, value in
            let title = (row.isAP ? "Average Precision" : "Average Recall").padding(
                toLength: 18, withPad: " ", startingAt: 0)
            let iou =
                row.iou.map { String(format: "%0.2f", $0) }
                ?? String(format: "%0.2f:%0.2f", thresholds.first ?? .nan, thresholds.last ?? .nan)
            let iouField = iou.padding(toLength: max(9, iou.count), withPad: " ", startingAt: 0)
            let area = String(repeating: " ", count: max(0, 6 - row.area.count)) + row.area
            let dets = String(format: "%3d", row.maxDets)
            return " \(title) \(row.isAP ? "(AP)" : "(AR)") @[ IoU=\(iouField) | area=\(area) | maxDets=\(dets) ] = "
                + String(format: "%0.3f", value)
        }
    }

    /// The stats keyed by `statNames`.
    public var namedStats: [(name: String, value: Double)] {
        zip(Self.statNames, stats).map { ($0, $1) }
    }
}

/// IoU of detection and ground-truth boxes in COCO (x, y, w, h), exactly as pycocotools'
/// `bbIou` (maskApi.c): for a crowd ground truth the union is the detection's own area.
func cocoBoxIoU(detection d: SIMD4<Double>, groundTruth g: SIMD4<Double>, crowd: Bool) -> Double {
    let w = min(d[2] + d[0], g[2] + g[0]) - max(d[0], g[0])
    if w <= 0 { return 0 }
    let h = min(d[3] + d[1], g[3] + g[1]) - max(d[1], g[1])
    if h <= 0 { return 0 }
    let intersection = w * h
    let detectionArea = d[2] * d[3]
    let union = crowd ? detectionArea : detectionArea + g[2] * g[3] - intersection
    return intersection / union
}

/// numpy's pairwise summation (what `np.mean` uses on a contiguous float64 array), so means
/// agree with pycocotools to the last bit rather than to ~1e-16.
func numpyPairwiseSum(_ values: ArraySlice<Double>) -> Double {
    let n = values.count
    if n < 8 {
        return values.reduce(0, +)
    } else if n <= 128 {
        let base = values.startIndex
        var r = (0..<8).map { values[base + $0] }
        var i = 8
        while i < n - n % 8 {
            for j in 0..<8 { r[j] += values[base + i + j] }
            i += 8
        }
        var result = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n {
            result += values[base + i]
            i += 1
        }
        return result
    } else {
        var half = n / 2
        half -= half % 8
        let mid = values.startIndex + half
        return numpyPairwiseSum(values[..<mid]) + numpyPairwiseSum(values[mid...])
    }
}

/// `sorted(indices)` by `key` ascending, keeping input order among equals (numpy's mergesort).
private func stableArgsort<K: Comparable>(_ count: Int, key: (Int) -> K) -> [Int] {
    (0..<count).sorted { i, j in
        let a = key(i)
        let b = key(j)
        return a != b ? a < b : i < j
    }
}

/// pycocotools' per-image, per-category, per-area-range evaluation (`evaluateImg`).
private struct ImageEvaluation {
    /// Detection scores, highest first, at most maxDets.last.
    var scores: [Double]
    /// [t][d]: id of the matched ground truth, 0 when unmatched (pycocotools stores ids and tests
    /// them for truthiness, so a ground truth with id 0 counts as unmatched — kept for parity).
    var matches: [[Int]]
    /// [t][d]
    var detectionIgnored: [[Bool]]
    var groundTruthIgnored: [Bool]
}

/// Runs COCOeval (evaluate + accumulate + summarize) for bounding boxes.
public func evaluateCOCO(
    groundTruth: COCOGroundTruth, detections: [COCODetection],
    parameters: COCOEvalParameters = COCOEvalParameters()
) -> COCOEvalResult {
    let p = parameters
    let imageIDs = Array(Set(groundTruth.images.map(\.id))).sorted()
    let allCategoryIDs = Array(Set(groundTruth.categories.map(\.id))).sorted()
    let maxDets = p.maxDetections.sorted()
    let maxDetLast = maxDets.last ?? 0
    let categorySet = Set(allCategoryIDs)

    // _prepare: bucket by (image, category) in file order.
    struct Key: Hashable {
        var image: Int
        var category: Int
    }
    var gts: [Key: [COCOAnnotation]] = [:]
    var dts: [Key: [COCODetection]] = [:]
    for a in groundTruth.annotations where categorySet.contains(a.categoryID) {
        gts[Key(image: a.imageID, category: a.categoryID), default: []].append(a)
    }
    for d in detections where categorySet.contains(d.categoryID) {
        dts[Key(image: d.imageID, category: d.categoryID), default: []].append(d)
    }
    let evaluatedCategories = p.useCategories ? allCategoryIDs : [-1]
    func groundTruths(_ image: Int, _ category: Int) -> [COCOAnnotation] {
        p.useCategories
            ? gts[Key(image: image, category: category)] ?? []
            : allCategoryIDs.flatMap { gts[Key(image: image, category: $0)] ?? [] }
    }
    func detectionsOf(_ image: Int, _ category: Int) -> [COCODetection] {
        p.useCategories
            ? dts[Key(image: image, category: category)] ?? []
            : allCategoryIDs.flatMap { dts[Key(image: image, category: $0)] ?? [] }
    }

    // pycocotools' names for the sizes of its arrays (T thresholds, R recall points, K categories, A areas,
    // M detection limits), so the loops below read like the reference.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    let T = p.iouThresholds.count
    // swift-format-ignore: AlwaysUseLowerCamelCase
    let R = p.recallThresholds.count
    // swift-format-ignore: AlwaysUseLowerCamelCase
    let K = evaluatedCategories.count
    // swift-format-ignore: AlwaysUseLowerCamelCase
    let A = p.areaRanges.count
    // swift-format-ignore: AlwaysUseLowerCamelCase
    let M = maxDets.count

    // evaluate(): evalImgs[k][a][i], nil where an image has neither boxes nor detections.
    var evalImgs = [[[ImageEvaluation?]]](
        repeating: [[ImageEvaluation?]](repeating: [], count: A), count: K)
    for (k, category) in evaluatedCategories.enumerated() {
        for image in imageIDs {
            let gt = groundTruths(image, category)
            var dt = detectionsOf(image, category)
            if gt.isEmpty && dt.isEmpty {
                for a in 0..<A { evalImgs[k][a].append(nil) }
                continue
            }
            dt = stableArgsort(dt.count) { -dt[$0].score }.prefix(maxDetLast).map { dt[$0] }
            // computeIoU: ious[d][g] over the ground truth in its original order.
            let ious: [[Double]] =
                (dt.isEmpty || gt.isEmpty)
                ? []
                : dt.map { d in
                    gt.map { g in cocoBoxIoU(detection: d.bbox, groundTruth: g.bbox, crowd: g.isCrowd) }
                }
            for (a, range) in p.areaRanges.enumerated() {
                let ignoredOriginal = gt.map { $0.isCrowd || range.excludes($0.area) }
                let gtOrder = stableArgsort(gt.count) { ignoredOriginal[$0] ? 1 : 0 }
                let gtSorted = gtOrder.map { gt[$0] }
                let gtIgnored = gtOrder.map { ignoredOriginal[$0] }
                var matches = [[Int]](repeating: [Int](repeating: 0, count: dt.count), count: T)
                var dtIgnored = [[Bool]](repeating: [Bool](repeating: false, count: dt.count), count: T)
                if !ious.isEmpty {
                    for (t, threshold) in p.iouThresholds.enumerated() {
                        var gtMatched = [Int](repeating: 0, count: gtSorted.count)
                        for (dIndex, d) in dt.enumerated() {
                            var best = min(threshold, 1 - 1e-10)
                            var m = -1
                            for (gIndex, g) in gtSorted.enumerated() {
                                // Already matched and not a crowd: taken.
                                if gtMatched[gIndex] > 0 && !g.isCrowd { continue }
                                // Matched to a regular box already and the rest are ignored ones: stop.
                                if m > -1 && !gtIgnored[m] && gtIgnored[gIndex] { break }
                                let overlap = ious[dIndex][gtOrder[gIndex]]
                                if overlap < best { continue }
                                best = overlap
                                m = gIndex
                            }
                            if m == -1 { continue }
                            dtIgnored[t][dIndex] = gtIgnored[m]
                            matches[t][dIndex] = gtSorted[m].id
                            gtMatched[m] = d.id
                        }
                    }
                }
                // Unmatched detections outside the area range are ignored.
                for (dIndex, d) in dt.enumerated() where range.excludes(d.area) {
                    for t in 0..<T where matches[t][dIndex] == 0 { dtIgnored[t][dIndex] = true }
                }
                evalImgs[k][a].append(
                    ImageEvaluation(
                        scores: dt.map(\.score), matches: matches,
                        detectionIgnored: dtIgnored, groundTruthIgnored: gtIgnored))
            }
        }
    }

    // accumulate()
    var precision = [[[[[Double]]]]](
        repeating: [[[[Double]]]](
            repeating: [[[Double]]](
                repeating: [[Double]](repeating: [Double](repeating: -1, count: M), count: A), count: K), count: R),
        count: T)
    var recall = [[[[Double]]]](
        repeating: [[[Double]]](
            repeating: [[Double]](repeating: [Double](repeating: -1, count: M), count: A), count: K), count: T)
    for k in 0..<K {
        for a in 0..<A {
            let images = evalImgs[k][a].compactMap { $0 }
            if images.isEmpty { continue }
            for (m, maxDet) in maxDets.enumerated() {
                var scores: [Double] = []
                var matched = [[Bool]](repeating: [], count: T)
                var ignored = [[Bool]](repeating: [], count: T)
                for e in images {
                    let n = min(maxDet, e.scores.count)
                    scores += e.scores[..<n]
                    for t in 0..<T {
                        matched[t] += e.matches[t][..<n].map { $0 != 0 }
                        ignored[t] += e.detectionIgnored[t][..<n]
                    }
                }
                let order = stableArgsort(scores.count) { -scores[$0] }
                let positives = images.reduce(0) { $0 + $1.groundTruthIgnored.filter { !$0 }.count }
                if positives == 0 { continue }
                let nd = order.count
                for t in 0..<T {
                    var tpSum = 0.0
                    var fpSum = 0.0
                    var rc = [Double](repeating: 0, count: nd)
                    var pr = [Double](repeating: 0, count: nd)
                    for (i, d) in order.enumerated() {
                        if !ignored[t][d] {
                            if matched[t][d] { tpSum += 1 } else { fpSum += 1 }
                        }
                        rc[i] = tpSum / Double(positives)
                        pr[i] = tpSum / (fpSum + tpSum + Double.ulpOfOne)  // np.spacing(1)
                    }
                    recall[t][k][a][m] = nd > 0 ? rc[nd - 1] : 0
                    // Precision envelope: monotone non-increasing from the right.
                    if nd > 1 {
                        for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                    }
                    // searchsorted(rc, recThrs, 'left'); thresholds past the last recall stay 0.
                    var i = 0
                    for (r, threshold) in p.recallThresholds.enumerated() {
                        while i < nd && rc[i] < threshold { i += 1 }
                        if i >= nd {
                            for rest in r..<R { precision[t][rest][k][a][m] = 0 }
                            break
                        }
                        precision[t][r][k][a][m] = pr[i]
                    }
                }
            }
        }
    }

    // summarize()
    func summarize(isAP: Bool, iou: Double?, area: String, maxDets maxDet: Int) -> Double {
        let thresholdIndices = p.iouThresholds.indices.filter { iou == nil || p.iouThresholds[$0] == iou }
        let areaIndices = p.areaRanges.indices.filter { p.areaRanges[$0].label == area }
        let maxDetIndices = maxDets.indices.filter { maxDets[$0] == maxDet }
        var values: [Double] = []
        for t in thresholdIndices {
            if isAP {
                for r in 0..<R {
                    for k in 0..<K {
                        for a in areaIndices {
                            for m in maxDetIndices {
                                values.append(precision[t][r][k][a][m])
                            }
                        }
                    }
                }
            } else {
                for k in 0..<K { for a in areaIndices { for m in maxDetIndices { values.append(recall[t][k][a][m]) } } }
            }
        }
        let valid = values.filter { $0 > -1 }
        return valid.isEmpty ? -1 : numpyPairwiseSum(valid[...]) / Double(valid.count)
    }
    var stats: [Double] = []
    if maxDets.count >= 3 {
        let m0 = maxDets[0]
        let m1 = maxDets[1]
        let m2 = maxDets[2]
        stats = [
            summarize(isAP: true, iou: nil, area: "all", maxDets: m2),
            summarize(isAP: true, iou: 0.5, area: "all", maxDets: m2),
            summarize(isAP: true, iou: 0.75, area: "all", maxDets: m2),
            summarize(isAP: true, iou: nil, area: "small", maxDets: m2),
            summarize(isAP: true, iou: nil, area: "medium", maxDets: m2),
            summarize(isAP: true, iou: nil, area: "large", maxDets: m2),
            summarize(isAP: false, iou: nil, area: "all", maxDets: m0),
            summarize(isAP: false, iou: nil, area: "all", maxDets: m1),
            summarize(isAP: false, iou: nil, area: "all", maxDets: m2),
            summarize(isAP: false, iou: nil, area: "small", maxDets: m2),
            summarize(isAP: false, iou: nil, area: "medium", maxDets: m2),
            summarize(isAP: false, iou: nil, area: "large", maxDets: m2),
        ]
    }
    var sortedParameters = p
    sortedParameters.maxDetections = maxDets
    return COCOEvalResult(
        parameters: sortedParameters, categoryIDs: evaluatedCategories,
        precision: precision, recall: recall, stats: stats)
}
