// Axis-aligned boxes, format conversions and the IoU family.
//
// Definitions follow torchvision.ops (`box_convert`, `box_iou`, `generalized_box_iou`,
// `distance_box_iou`, `complete_box_iou`), including the order of floating-point operations
// and the `eps` guards, so results agree with torchvision in float64 to the last few ulps.

import Foundation

/// How four numbers describe a box.
public enum BoxFormat: String, Sendable, CaseIterable {
    /// Corners: x1, y1 (top left), x2, y2 (bottom right).
    case xyxy
    /// Top-left corner, width, height (COCO's `bbox`).
    case xywh
    /// Centre, width, height.
    case cxcywh
}

/// An axis-aligned box stored as corners (`xyxy`), like torchvision's canonical format.
public struct Box: Equatable, Hashable, Sendable {
    /// Left edge.
    public var x1: Double
    /// Top edge (y grows downwards, as in image coordinates).
    public var y1: Double
    /// Right edge.
    public var x2: Double
    /// Bottom edge.
    public var y2: Double

    /// A box from its corners, taken as given (an inverted box, x2 < x1 or y2 < y1, is not reordered).
    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// Reads four coordinates given in `format`.
    public init(_ c: SIMD4<Double>, format: BoxFormat) {
        let xyxy = convertBox(c, from: format, to: .xyxy)
        self.init(x1: xyxy[0], y1: xyxy[1], x2: xyxy[2], y2: xyxy[3])
    }

    /// COCO's `[x, y, w, h]`.
    public init(xywh x: Double, _ y: Double, _ w: Double, _ h: Double) {
        self.init(SIMD4(x, y, w, h), format: .xywh)
    }

    /// The four coordinates in `format`.
    public func coordinates(in format: BoxFormat) -> SIMD4<Double> {
        convertBox(SIMD4(x1, y1, x2, y2), from: .xyxy, to: format)
    }

    /// `x2 - x1`; negative for an inverted box.
    public var width: Double { x2 - x1 }
    /// `y2 - y1`; negative for an inverted box.
    public var height: Double { y2 - y1 }
    /// `(x2 - x1) * (y2 - y1)`, as torchvision's `box_area`; negative for inverted boxes.
    public var area: Double { (x2 - x1) * (y2 - y1) }
}

/// Converts coordinates between formats with torchvision's formulas (via `xyxy` for the
/// xywh ↔ cxcywh pairs, exactly as `box_convert` does).
public func convertBox(_ c: SIMD4<Double>, from: BoxFormat, to: BoxFormat) -> SIMD4<Double> {
    if from == to { return c }
    let xyxy: SIMD4<Double>
    switch from {
    case .xyxy: xyxy = c
    case .xywh: xyxy = SIMD4(c[0], c[1], c[0] + c[2], c[1] + c[3])
    case .cxcywh:
        xyxy = SIMD4(c[0] - 0.5 * c[2], c[1] - 0.5 * c[3], c[0] + 0.5 * c[2], c[1] + 0.5 * c[3])
    }
    switch to {
    case .xyxy: return xyxy
    case .xywh: return SIMD4(xyxy[0], xyxy[1], xyxy[2] - xyxy[0], xyxy[3] - xyxy[1])
    case .cxcywh:
        return SIMD4((xyxy[0] + xyxy[2]) / 2, (xyxy[1] + xyxy[3]) / 2, xyxy[2] - xyxy[0], xyxy[3] - xyxy[1])
    }
}

// MARK: - Single pairs

/// Intersection and union areas (torchvision `_box_inter_union`).

func intersectionAndUnion(_ a: Box, _ b: Box) -> (intersection: Double, union: Double) {
    let w = max(min(a.x2, b.x2) - max(a.x1, b.x1), 0)
    let h = max(min(a.y2, b.y2) - max(a.y1, b.y1), 0)
    let intersection = w * h
    return (intersection, a.area + b.area - intersection)
}

/// Intersection over union. Two empty boxes give NaN (0/0), as in torchvision.
public func iou(_ a: Box, _ b: Box) -> Double {
    let (intersection, union) = intersectionAndUnion(a, b)
    return intersection / union
}

/// Generalized IoU (Rezatofighi et al. 2019): IoU − (|C| − |A∪B|) / |C|, C the enclosing box.
public func generalizedIoU(_ a: Box, _ b: Box) -> Double {
    let (intersection, union) = intersectionAndUnion(a, b)
    let enclosingW = max(max(a.x2, b.x2) - min(a.x1, b.x1), 0)
    let enclosingH = max(max(a.y2, b.y2) - min(a.y1, b.y1), 0)
    let enclosingArea = enclosingW * enclosingH
    return intersection / union - (enclosingArea - union) / enclosingArea
}

/// Distance IoU (Zheng et al. 2020) and plain IoU: IoU − ρ²(centres) / (c² + eps),
/// c the diagonal of the enclosing box.

func distanceAndPlainIoU(_ a: Box, _ b: Box, eps: Double) -> (diou: Double, iou: Double) {
    let plain = iou(a, b)
    let enclosingW = max(max(a.x2, b.x2) - min(a.x1, b.x1), 0)
    let enclosingH = max(max(a.y2, b.y2) - min(a.y1, b.y1), 0)
    let diagonalSquared = (enclosingW * enclosingW) + (enclosingH * enclosingH) + eps
    let dx = (a.x1 + a.x2) / 2 - (b.x1 + b.x2) / 2
    let dy = (a.y1 + a.y2) / 2 - (b.y1 + b.y2) / 2
    let centresSquared = (dx * dx) + (dy * dy)
    return (plain - centresSquared / diagonalSquared, plain)
}

/// Distance IoU, torchvision `distance_box_iou` (default `eps` 1e-7).
public func distanceIoU(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    distanceAndPlainIoU(a, b, eps: eps).diou
}

/// Complete IoU, torchvision `complete_box_iou`: DIoU − α·v with
/// v = 4/π² (atan(w₁/h₁) − atan(w₂/h₂))², α = v / (1 − IoU + v + eps).
public func completeIoU(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    let (diou, plain) = distanceAndPlainIoU(a, b, eps: eps)
    let angle = atan(a.width / a.height) - atan(b.width / b.height)
    let v = (4 / (Double.pi * Double.pi)) * (angle * angle)
    let alpha = v / (1 - plain + v + eps)
    return diou - alpha * v
}

// MARK: - Pairwise matrices ([N][M], row i for boxes1[i])

private func pairwise(_ boxes1: [Box], _ boxes2: [Box], _ f: (Box, Box) -> Double) -> [[Double]] {
    boxes1.map { a in boxes2.map { b in f(a, b) } }
}

/// torchvision `box_iou`: the N×M matrix of IoUs.
public func boxIoU(_ boxes1: [Box], _ boxes2: [Box]) -> [[Double]] {
    pairwise(boxes1, boxes2, iou)
}

/// torchvision `generalized_box_iou`.
public func generalizedBoxIoU(_ boxes1: [Box], _ boxes2: [Box]) -> [[Double]] {
    pairwise(boxes1, boxes2, generalizedIoU)
}

/// torchvision `distance_box_iou`.
public func distanceBoxIoU(_ boxes1: [Box], _ boxes2: [Box], eps: Double = 1e-7) -> [[Double]] {
    pairwise(boxes1, boxes2) { distanceIoU($0, $1, eps: eps) }
}

/// torchvision `complete_box_iou`.
public func completeBoxIoU(_ boxes1: [Box], _ boxes2: [Box], eps: Double = 1e-7) -> [[Double]] {
    pairwise(boxes1, boxes2) { completeIoU($0, $1, eps: eps) }
}
