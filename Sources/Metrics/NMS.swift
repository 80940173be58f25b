// Non-maximum suppression: hard (torchvision.ops.nms / batched_nms) and soft (Bodla et al.,
// "Soft-NMS — Improving Object Detection With One Line of Code", ICCV 2017, arXiv:1704.04503).

import Foundation

/// Indices of `scores` from highest to lowest; equal scores keep their input order
/// (torchvision sorts with `stable=True`).
func indicesByDescendingScore(_ scores: [Double]) -> [Int] {
    scores.indices.sorted { i, j in
        scores[i] != scores[j] ? scores[i] > scores[j] : i < j
    }
}

/// Hard NMS with torchvision.ops.nms semantics: visit boxes by descending score (stable), keep a
/// box unless an already kept box overlaps it with IoU **strictly greater** than `iouThreshold`.
/// Returns the kept indices in descending score order.
public func nms(boxes: [Box], scores: [Double], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count, "nms: \(boxes.count) boxes but \(scores.count) scores")
    let order = indicesByDescendingScore(scores)
    var suppressed = [Bool](repeating: false, count: boxes.count)
    var keep: [Int] = []
    for (position, i) in order.enumerated() where !suppressed[i] {
        keep.append(i)
        for j in order[(position + 1)...] where !suppressed[j] {
            // NaN IoU (two empty boxes) compares false and never suppresses, as in torchvision.
            if iou(boxes[i], boxes[j]) > iouThreshold { suppressed[j] = true }
        }
    }
    return keep
}

/// Class-aware NMS (torchvision.ops.batched_nms): boxes of different `classes` never suppress each
/// other. Returns the kept indices in descending score order (ties by input order).
public func batchedNMS(boxes: [Box], scores: [Double], classes: [Int], iouThreshold: Double) -> [Int] {
    precondition(
        boxes.count == scores.count && boxes.count == classes.count,
        "batchedNMS: \(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
    var byClass: [Int: [Int]] = [:]
    for (i, c) in classes.enumerated() { byClass[c, default: []].append(i) }
    var keep: [Int] = []
    for members in byClass.values {
        let kept = nms(
            boxes: members.map { boxes[$0] }, scores: members.map { scores[$0] },
            iouThreshold: iouThreshold)
        keep += kept.map { members[$0] }
    }
    return keep.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
}

/// How soft-NMS decays the scores of boxes overlapping a selected box.
public enum SoftNMSMethod: Equatable, Sendable {
    /// s ← s · (1 − IoU) when IoU > the IoU threshold, unchanged otherwise.
    case linear
    /// s ← s · exp(−IoU² / σ) for every remaining box (the paper's default σ is 0.5).
    case gaussian(sigma: Double)
}

/// Soft-NMS: repeatedly select the highest-scoring remaining box, decay the scores of the others
/// by their overlap with it and discard those whose score falls below `scoreThreshold`.
/// Ties pick the lowest input index. Returns the selected boxes in selection order with their
/// decayed scores. Defaults follow the reference implementation (Nt = 0.3, threshold 0.001).
public func softNMS(
    boxes: [Box], scores: [Double], method: SoftNMSMethod,
    iouThreshold: Double = 0.3, scoreThreshold: Double = 0.001
) -> [(index: Int, score: Double)] {
    precondition(boxes.count == scores.count, "softNMS: \(boxes.count) boxes but \(scores.count) scores")
    var remaining = scores.indices.filter { scores[$0] >= scoreThreshold }
    var current = scores
    var selected: [(index: Int, score: Double)] = []
    while !remaining.isEmpty {
        var best = 0
        for k in remaining.indices.dropFirst() where current[remaining[k]] > current[remaining[best]] { best = k }
        let chosen = remaining.remove(at: best)
        selected.append((chosen, current[chosen]))
        remaining = remaining.filter { j in
            let overlap = iou(boxes[chosen], boxes[j])
            switch method {
            case .linear: if overlap > iouThreshold { current[j] *= 1 - overlap }
            case .gaussian(let sigma): current[j] *= exp(-(overlap * overlap) / sigma)
            }
            return current[j] >= scoreThreshold
        }
    }
    return selected
}
