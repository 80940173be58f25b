// PASCAL VOC average precision, as in the VOC devkit / py-faster-rcnn `voc_eval.py`:
// detections of a class ranked by score, each matched greedily to the best-overlapping
// ground truth of its image (IoU > threshold); `difficult` boxes are neither hits nor misses.
// AP is the 11-point interpolation (VOC2007) or the area under the precision envelope (VOC2010+).
//
// Boxes come from COCO-format files, so IoU uses continuous coordinates (no VOC "+1" pixel).
// Crowd boxes are treated like difficult ones.

import Foundation

/// How AP is read off the precision/recall curve (voc_eval.py's `use_07_metric`); the raw value names it in
/// reports.
public enum VOCAPMethod: String, Sendable {
    /// Mean of the interpolated precision at recall 0, 0.1, …, 1 (VOC2007).
    case elevenPoint = "11-point"
    /// Area under the monotone precision envelope at every recall change (VOC2010+).
    case allPoint = "all-point"
}

/// The VOC evaluation of one category.
public struct VOCClassResult: Equatable, Sendable {
    /// The category's id in the ground truth.
    public var categoryID: Int
    /// The category's name in the ground truth.
    public var name: String
    /// nil when the class has no non-difficult ground truth (AP undefined).
    public var averagePrecision: Double?
    /// Non-difficult ground-truth boxes.
    public var positives: Int
    /// Detections of this category that were ranked and matched.
    public var detections: Int
}

/// Per-category VOC AP and their mean.
public struct VOCResult: Equatable, Sendable {
    /// How AP was computed.
    public var method: VOCAPMethod
    /// A detection is a hit when its IoU with a ground-truth box exceeds this (strictly, as voc_eval.py).
    public var iouThreshold: Double
    /// One result per distinct ground-truth category, in the order of its `categories`.
    public var classes: [VOCClassResult]
    /// Mean AP over classes with ground truth; nil when there are none.
    public var meanAveragePrecision: Double?
}

/// AP from a ranked precision/recall curve (`voc_ap` in voc_eval.py).
public func vocAveragePrecision(recall: [Double], precision: [Double], method: VOCAPMethod) -> Double {
    switch method {
    case .elevenPoint:
        var ap = 0.0
        for step in 0...10 {
            let threshold = Double(step) * 0.1  // np.arange(0., 1.1, 0.1)
            let best = zip(recall, precision).filter { $0.0 >= threshold }.map(\.1).max() ?? 0
            ap += best / 11
        }
        return ap
    case .allPoint:
        let mrec = [0] + recall + [1]
        var mpre = [0] + precision + [0]
        for i in stride(from: mpre.count - 1, to: 0, by: -1) { mpre[i - 1] = max(mpre[i - 1], mpre[i]) }
        var ap = 0.0
        for i in 0..<(mrec.count - 1) where mrec[i + 1] != mrec[i] { ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1] }
        return ap
    }
}

/// VOC AP per category of `groundTruth` and their mean.
public func evaluateVOC(
    groundTruth: COCOGroundTruth, detections: [COCODetection],
    iouThreshold: Double = 0.5, method: VOCAPMethod = .allPoint
) -> VOCResult {
    struct Key: Hashable {
        var image: Int
        var category: Int
    }
    var boxesByImage: [Key: [COCOAnnotation]] = [:]
    for a in groundTruth.annotations {
        boxesByImage[Key(image: a.imageID, category: a.categoryID), default: []].append(a)
    }
    var detectionsByCategory: [Int: [COCODetection]] = [:]
    for d in detections { detectionsByCategory[d.categoryID, default: []].append(d) }

    var classes: [VOCClassResult] = []
    var seen = Set<Int>()
    for category in groundTruth.categories where seen.insert(category.id).inserted {
        let positives = groundTruth.annotations.filter {
            $0.categoryID == category.id && !$0.isDifficult && !$0.isCrowd
        }.count
        // Stable descending order (voc_eval's argsort is not stable; ties are rare and this is deterministic).
        let ranked = (detectionsByCategory[category.id] ?? []).enumerated()
            .sorted {
                $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset
            }
            .map(\.element)
        var used: [Key: [Bool]] = [:]
        var tp: [Double] = []
        var fp: [Double] = []
        for d in ranked {
            let key = Key(image: d.imageID, category: category.id)
            let candidates = boxesByImage[key] ?? []
            var bestOverlap = -Double.infinity
            var bestIndex = -1
            let box = Box(xywh: d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3])
            for (j, g) in candidates.enumerated() {
                let overlap = iou(box, Box(xywh: g.bbox[0], g.bbox[1], g.bbox[2], g.bbox[3]))
                if overlap > bestOverlap {
                    bestOverlap = overlap
                    bestIndex = j
                }
            }
            var hit = 0.0
            var miss = 0.0
            if bestIndex >= 0 && bestOverlap > iouThreshold {
                let g = candidates[bestIndex]
                if !(g.isDifficult || g.isCrowd) {
                    var flags = used[key] ?? [Bool](repeating: false, count: candidates.count)
                    if flags[bestIndex] {
                        miss = 1
                    } else {
                        hit = 1
                        flags[bestIndex] = true
                    }
                    used[key] = flags
                }
            } else {
                miss = 1
            }
            tp.append((tp.last ?? 0) + hit)
            fp.append((fp.last ?? 0) + miss)
        }
        var ap: Double? = nil
        if positives > 0 {
            let recall = tp.map { $0 / Double(positives) }
            let precision = zip(tp, fp).map { $0 / max($0 + $1, Double.ulpOfOne) }
            ap = vocAveragePrecision(recall: recall, precision: precision, method: method)
        }
        classes.append(
            VOCClassResult(
                categoryID: category.id, name: category.name, averagePrecision: ap,
                positives: positives, detections: ranked.count))
    }
    let defined = classes.compactMap(\.averagePrecision)
    return VOCResult(
        method: method, iouThreshold: iouThreshold, classes: classes,
        meanAveragePrecision: defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count))
}
