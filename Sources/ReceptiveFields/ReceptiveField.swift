// Receptive fields of convolutional networks, after Araujo, Norris & Sim, "Computing Receptive
// Fields of Convolutional Neural Networks", Distill 2019 (doi:10.23915/distill.00021).
//
// Going forward from the input (r₀ = 1, S₀ = 1, P₀ = 0), a layer with kernel k, stride s,
// dilation d (effective kernel d(k−1)+1) and leading padding p gives
//     r_l = r_{l−1} + (k_eff − 1)·S_{l−1},   S_l = S_{l−1}·s,   P_l = P_{l−1} + p·S_{l−1},
// and the first output unit is centred on input coordinate (r − 1)/2 − P. Height and width are
// computed independently. Multi-path blocks take the union of their branches' fields (the
// largest r when aligned) and report branches whose centres disagree; "global" layers
// (attention, global pooling, SE gating) make the field the whole input from there on.

import Foundation
import JSON

/// A (height, width) pair of integers.
public struct RFPair: Equatable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The vertical value (rows).
    public var height: Int
    /// The horizontal value (columns).
    public var width: Int
    /// A pair from its vertical and horizontal values.
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }
    /// A square pair, so that `kernel: 3` means 3×3.
    public init(integerLiteral value: Int) { self.init(value, value) }
    /// "3" when square, "3x5" otherwise.
    public var description: String { height == width ? "\(height)" : "\(height)x\(width)" }
    var json: JSONOutput { height == width ? .int(height) : .array([.int(height), .int(width)]) }
}

/// Explicit padding on each side.
public struct RFPadding: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Pixels added on each side of the input.
    public var top: Int, left: Int, bottom: Int, right: Int
    /// Padding that may differ on each side.
    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }
    /// The same padding on all four sides.
    public init(_ all: Int) { self.init(top: all, left: all, bottom: all, right: all) }
    /// Symmetric per axis: `height` above and below, `width` left and right.
    public init(height: Int, width: Int) { self.init(top: height, left: width, bottom: height, right: width) }
    /// "1" when all four sides agree, "top,left,bottom,right" otherwise.
    public var description: String {
        top == left && left == bottom && bottom == right ? "\(top)" : "\(top),\(left),\(bottom),\(right)"
    }
}

/// How a layer pads its input.
public enum RFPaddingMode: Equatable, Hashable, Sendable {
    /// Fixed padding, whatever the input size (PyTorch's `padding`).
    case explicit(RFPadding)
    /// TensorFlow "SAME": total = max((⌈n/s⌉ − 1)·s + k_eff − n, 0), the smaller half before.
    case same
}

/// One layer as the receptive-field calculator sees it. Model families emit lists of these.
public struct RFLayer: Equatable, Hashable, Sendable {
    /// What the layer does to the spatial grid.
    public enum Kind: Equatable, Hashable, Sendable {
        /// A convolution: a local window of kernel × dilation at the layer's stride and padding.
        case conv
        /// A max or average pooling window; the same geometry as `conv`.
        case pool
        /// Activations, norms, additions: no spatial effect.
        case identity
        /// Mixes every position (attention, SE gating): output size follows kernel/stride/padding.
        case global
        /// Global pooling: mixes every position and leaves a 1×1 map.
        case globalPool
        /// Parallel paths from the same input whose outputs are combined (added or concatenated);
        /// an empty branch is the identity shortcut.
        case branches([[RFLayer]])
    }

    /// Label in the report (e.g. timm's module name `layer1.0.conv1`); empty for "layer N" by position.
    public var name: String
    /// What the layer does to the spatial grid.
    public var kind: Kind
    /// Kernel size k (before dilation); 1 for layers without a window.
    public var kernel: RFPair
    /// Step s between output units, in input units of this layer.
    public var stride: RFPair
    /// Padding before the window slides; only the leading side moves the field.
    public var padding: RFPaddingMode
    /// Spacing d between kernel taps; the effective kernel is d(k − 1) + 1.
    public var dilation: RFPair

    /// A layer from its geometry; the defaults describe a 1×1, stride-1, unpadded conv.
    ///
    /// - Parameters:
    ///   - name: Label in the report; empty for "layer N" by position.
    ///   - kind: What the layer does to the spatial grid.
    ///   - kernel: Kernel size k, each side between 1 and `maxExtent`.
    ///   - stride: Stride s, each side between 1 and `maxExtent`.
    ///   - padding: Padding mode, each explicit side between 0 and `maxExtent`.
    ///   - dilation: Dilation d, each side between 1 and `maxExtent`.
    public init(
        name: String = "", kind: Kind = .conv, kernel: RFPair = 1, stride: RFPair = 1,
        padding: RFPaddingMode = .explicit(RFPadding(0)), dilation: RFPair = 1
    ) {
        self.name = name
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// A convolution with the same explicit padding on every side (torch.nn.Conv2d's integer `padding`).
    ///
    /// - Parameters:
    ///   - name: Label in the report; empty for "layer N" by position.
    ///   - kernel: Kernel size k.
    ///   - stride: Stride s.
    ///   - padding: Pixels added on each side.
    ///   - dilation: Dilation d.
    /// - Returns: A `.conv` layer.
    public static func conv(
        _ name: String = "", kernel: RFPair, stride: RFPair = 1, padding: Int = 0,
        dilation: RFPair = 1
    ) -> RFLayer {
        RFLayer(
            name: name, kind: .conv, kernel: kernel, stride: stride, padding: .explicit(RFPadding(padding)),
            dilation: dilation)
    }

    /// A pooling window with the same explicit padding on every side (torch.nn.MaxPool2d / AvgPool2d).
    ///
    /// - Parameters:
    ///   - name: Label in the report; empty for "layer N" by position.
    ///   - kernel: Window size k.
    ///   - stride: Stride s (torch's default is the kernel size; here it must be given).
    ///   - padding: Pixels added on each side.
    /// - Returns: A `.pool` layer.
    public static func pool(_ name: String = "", kernel: RFPair, stride: RFPair, padding: Int = 0) -> RFLayer {
        RFLayer(name: name, kind: .pool, kernel: kernel, stride: stride, padding: .explicit(RFPadding(padding)))
    }

    /// A named multi-path block (e.g. a residual block: `[[conv, conv], []]`).
    ///
    /// - Parameters:
    ///   - name: Label in the report.
    ///   - paths: The branches, each a layer list from the block's input; `[]` is the identity shortcut.
    /// - Returns: A `.branches` layer.
    public static func branches(_ name: String, _ paths: [[RFLayer]]) -> RFLayer {
        RFLayer(name: name, kind: .branches(paths))
    }

    /// An unnamed multi-path block over `paths` (each a layer list; `[]` is the identity shortcut).
    public static func branches(_ paths: [[RFLayer]]) -> RFLayer {
        RFLayer(kind: .branches(paths))
    }

    var kindLabel: String {
        switch kind {
        case .conv: return "conv"
        case .pool: return "pool"
        case .identity: return "identity"
        case .global: return "global"
        case .globalPool: return "global_pool"
        case .branches: return "branches"
        }
    }
}

/// Why a layer list has no receptive field; one line naming the layer.
public struct ReceptiveFieldError: Error, Equatable, CustomStringConvertible {
    /// The layer's name or its position (`layer 3`, `block2/branch 1/layer 2`).
    public var layer: String
    /// What is wrong, e.g. "branch strides differ (2 vs 1); outputs cannot be combined".
    public var problem: String
    /// A failure described by `problem` at `layer` ("input" for the input size).
    public init(layer: String, problem: String) {
        self.layer = layer
        self.problem = problem
    }
    /// "layer: problem".
    public var description: String { "\(layer): \(problem)" }
}

/// The centre (row, column) of the first output unit's field in input coordinates.
public struct RFCentre: Equatable, Sendable, CustomStringConvertible {
    /// Row of the centre in input pixels: a half for an even field, negative when the padding puts it above
    /// the image.
    public var y: Double
    /// Column of the centre, in input pixels.
    public var x: Double
    /// "7.5" when both agree, "y,x" otherwise; whole numbers without a fraction.
    public var description: String { y == x ? format(y) : "\(format(y)),\(format(x))" }
    private func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
    var json: JSONOutput { y == x ? .number(y) : .array([.number(y), .number(x)]) }
}

/// One row of the report: a layer and the field after it.
public struct RFRow: Equatable, Sendable {
    /// The layer's name, or its position such as `layer 3` or `block2/branch 1/layer 2`.
    public var name: String
    /// The kind as the spec writes it: conv, pool, identity, global, global_pool or branches.
    public var kind: String
    /// 0 for top-level layers, 1 inside a block's branches, …
    public var depth: Int
    /// The layer's kernel size k (before dilation).
    public var kernel: RFPair
    /// The layer's own stride s.
    public var stride: RFPair
    /// Resolved padding ("same" turned into numbers).
    public var padding: RFPadding
    /// The layer's dilation d.
    public var dilation: RFPair
    /// nil when no input size was given.
    public var outputSize: RFPair?
    /// Receptive field size r; for global layers the input size (nil if unknown).
    public var receptiveField: RFPair?
    /// Effective stride S (input pixels between neighbouring output units).
    public var effectiveStride: RFPair
    /// Effective padding P; for global layers 0 (the field is the image itself), nil when the
    /// input size is unknown.
    public var effectivePadding: RFPair?
    /// Centre of the first unit's field, (r − 1)/2 − P.
    public var centre: RFCentre?
    /// The field covers the whole input from this layer on.
    public var isGlobal: Bool
    /// Branches of this block are centred differently (see `RFReport.warnings`).
    public var misaligned: Bool
}

/// The result of `receptiveFields(of:inputSize:)`: one row per layer, the final field, and warnings.
public struct RFReport: Equatable, Sendable {
    /// The input (height, width) the fields were computed for; nil when none was given.
    public var inputSize: RFPair?
    /// One row per layer in order, a block's branch layers before the block's own row.
    public var rows: [RFRow]
    /// Name of the first layer that sees the whole input, if any.
    public var globalFrom: String?
    /// Misaligned branches and padding assumptions, one line each.
    public var warnings: [String]

    /// Values after the last top-level layer (r = 1, S = 1, P = 0 for an empty list).
    public var receptiveField: RFPair? {
        rows.last(where: { $0.depth == 0 })?.receptiveField ?? (rows.isEmpty ? 1 : nil)
    }
    /// Effective stride S after the last top-level layer (1 for an empty list).
    public var effectiveStride: RFPair { rows.last(where: { $0.depth == 0 })?.effectiveStride ?? 1 }
    /// Effective padding P after the last top-level layer (0 for an empty list; nil when the field is global and
    /// the input size unknown).
    public var effectivePadding: RFPair? { rows.last(where: { $0.depth == 0 }).map { $0.effectivePadding } ?? 0 }

    /// `{"rf", "stride", "padding", "input_size", "global_from", "warnings", "layers": [...]}`.
    public var json: JSONOutput {
        func optional(_ pair: RFPair?) -> JSONOutput { pair?.json ?? .null }
        let layers: [JSONOutput] = rows.map { row in
            .object([
                ("name", .string(row.name)), ("kind", .string(row.kind)), ("depth", .int(row.depth)),
                ("kernel", row.kernel.json), ("stride", row.stride.json),
                (
                    "padding",
                    .array([
                        .int(row.padding.top), .int(row.padding.left), .int(row.padding.bottom),
                        .int(row.padding.right),
                    ])
                ),
                ("dilation", row.dilation.json), ("output_size", optional(row.outputSize)),
                ("rf", optional(row.receptiveField)), ("effective_stride", row.effectiveStride.json),
                ("effective_padding", optional(row.effectivePadding)), ("centre", row.centre?.json ?? .null),
                ("global", .bool(row.isGlobal)), ("misaligned", .bool(row.misaligned)),
            ])
        }
        return .object([
            ("rf", optional(receptiveField)), ("stride", effectiveStride.json), ("padding", optional(effectivePadding)),
            ("input_size", optional(inputSize)), ("global_from", globalFrom.map { .string($0) } ?? .null),
            ("warnings", .array(warnings.map { .string($0) })), ("layers", .array(layers)),
        ])
    }

    /// A fixed-width table, one row per layer (branch layers indented).
    public var table: String {
        let header = ["layer", "kind", "kernel", "stride", "pad", "dil", "output", "rf", "S", "P", "centre"]
        var lines = [header]
        for row in rows {
            lines.append([
                String(repeating: "  ", count: row.depth) + row.name, row.kind, row.kernel.description,
                row.stride.description, row.padding.description, row.dilation.description,
                row.outputSize?.description ?? "-",
                (row.receptiveField?.description ?? "all") + (row.isGlobal ? " (global)" : ""),
                row.effectiveStride.description, row.effectivePadding?.description ?? "-",
                (row.centre?.description ?? "-") + (row.misaligned ? " (misaligned)" : ""),
            ])
        }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        var text = lines.map { cells in
            var line = zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
            while line.last == " " { line.removeLast() }  // keep the branch indentation at the start
            return line
        }
        text.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        return text.joined(separator: "\n")
    }
}

// MARK: - Computation

/// The field along one axis after some layers.
private struct AxisState: Equatable {
    var r = 1, s = 1, p = 0
    /// Feature-map size along this axis, when the input size is known.
    var size: Int?
    var centre: Double { Double(r - 1) / 2 - Double(p) }
}

private struct State {
    var height: AxisState
    var width: AxisState
    /// Name of the layer from which the field is global.
    var globalFrom: String?
}

/// The largest input size, kernel, stride, dilation or padding accepted: sums of a few of them cannot overflow,
/// and the products along a network are checked as they are formed.
public let maxExtent = 1 << 31

/// Computes per-layer receptive fields. `inputSize` (height, width) enables output sizes,
/// input-dependent "same" padding and the numeric extent of global fields.
///
/// - Parameters:
///   - layers: The network as a layer list, from the input on.
///   - inputSize: Input (height, width) in pixels, each between 1 and `maxExtent`; nil to leave sizes open
///     ("same" padding is then resolved as if each size were divisible by its stride, with a warning for strided layers).
/// - Returns: One row per layer and the field after the last one.
/// - Throws: `ReceptiveFieldError` for a value out of range, a kernel larger than its padded input, branches
///   whose strides or output sizes differ, an empty branches block, or arithmetic overflow.
public func receptiveFields(of layers: [RFLayer], inputSize: RFPair? = nil) throws -> RFReport {
    if let size = inputSize, !(1...maxExtent).contains(size.height) || !(1...maxExtent).contains(size.width) {
        throw ReceptiveFieldError(layer: "input", problem: "size must be between 1 and \(maxExtent), got \(size)")
    }
    var calculator = Calculator(inputSize: inputSize)
    let start = State(height: AxisState(size: inputSize?.height), width: AxisState(size: inputSize?.width))
    let end = try calculator.run(layers, from: start, depth: 0, prefix: "")
    return RFReport(
        inputSize: inputSize, rows: calculator.rows, globalFrom: end.globalFrom,
        warnings: calculator.warnings)
}

private struct Calculator {
    let inputSize: RFPair?
    var rows: [RFRow] = []
    var warnings: [String] = []

    init(inputSize: RFPair?) { self.inputSize = inputSize }

    mutating func run(_ layers: [RFLayer], from start: State, depth: Int, prefix: String) throws -> State {
        var state = start
        for (index, layer) in layers.enumerated() {
            let label = layer.name.isEmpty ? "\(prefix)layer \(index + 1)" : layer.name
            state = try apply(layer, label: label, to: state, depth: depth)
        }
        return state
    }

    private mutating func apply(_ layer: RFLayer, label: String, to state: State, depth: Int) throws -> State {
        for (value, what) in [(layer.kernel, "kernel"), (layer.stride, "stride"), (layer.dilation, "dilation")]
        where !(1...maxExtent).contains(value.height) || !(1...maxExtent).contains(value.width) {
            throw ReceptiveFieldError(layer: label, problem: "\(what) must be between 1 and \(maxExtent), got \(value)")
        }
        if case .explicit(let p) = layer.padding,
            min(p.top, p.left, p.bottom, p.right) < 0 || max(p.top, p.left, p.bottom, p.right) > maxExtent
        {
            throw ReceptiveFieldError(layer: label, problem: "padding must be between 0 and \(maxExtent), got \(p)")
        }
        if case .branches(let paths) = layer.kind {
            return try applyBranches(paths, layer: layer, label: label, to: state, depth: depth)
        }
        var next = state
        func checked(_ a: Int, times b: Int, plus c: Int) throws -> Int {
            // Absurd specs (hundreds of strided layers) must fail, not trap or wrap.
            let (product, overflow1) = a.multipliedReportingOverflow(by: b)
            let (sum, overflow2) = product.addingReportingOverflow(c)
            if overflow1 || overflow2 {
                throw ReceptiveFieldError(layer: label, problem: "receptive field arithmetic overflows")
            }
            return sum
        }
        let effectiveKernel = RFPair(
            try checked(layer.dilation.height, times: layer.kernel.height - 1, plus: 1),
            try checked(layer.dilation.width, times: layer.kernel.width - 1, plus: 1))
        let padding = resolvePadding(layer, effectiveKernel: effectiveKernel, state: state, label: label)
        func advance(_ axis: AxisState, kernel: Int, stride: Int, before: Int, after: Int) throws -> AxisState {
            var out = axis
            out.r = try checked(kernel - 1, times: axis.s, plus: axis.r)
            out.p = try checked(before, times: axis.s, plus: axis.p)
            out.s = try checked(axis.s, times: stride, plus: 0)
            if let n = axis.size {
                guard n + before + after >= kernel else {
                    throw ReceptiveFieldError(
                        layer: label,
                        problem:
                            "kernel \(kernel) (dilated) is larger than the padded input \(n + before + after)")
                }
                out.size = (n + before + after - kernel) / stride + 1
            }
            return out
        }
        switch layer.kind {
        case .identity:
            break
        case .conv, .pool, .global, .globalPool:
            next.height = try advance(
                state.height, kernel: effectiveKernel.height, stride: layer.stride.height,
                before: padding.top, after: padding.bottom)
            next.width = try advance(
                state.width, kernel: effectiveKernel.width, stride: layer.stride.width,
                before: padding.left, after: padding.right)
        case .branches:
            break  // handled above
        }
        if layer.kind == .globalPool {
            next.height.size = state.height.size.map { _ in 1 }
            next.width.size = state.width.size.map { _ in 1 }
        }
        if (layer.kind == .global || layer.kind == .globalPool) && next.globalFrom == nil { next.globalFrom = label }
        rows.append(row(for: layer, label: label, depth: depth, padding: padding, state: next, misaligned: false))
        return next
    }

    private mutating func resolvePadding(
        _ layer: RFLayer, effectiveKernel: RFPair, state: State, label: String
    ) -> RFPadding {
        switch layer.padding {
        case .explicit(let padding):
            return padding
        case .same:
            func split(_ n: Int?, kernel: Int, stride: Int) -> (Int, Int) {
                // Without an input size assume n divisible by the stride: total = k_eff − s.
                let total =
                    n.map { max(((($0 + stride - 1) / stride) - 1) * stride + (kernel - $0), 0) }
                    ?? max(kernel - stride, 0)
                return (total / 2, total - total / 2)
            }
            if state.height.size == nil, layer.stride != 1 {
                warnings.append(
                    "\(label): 'same' padding assumes the input size is divisible by the stride; pass an input size")
            }
            let (top, bottom) = split(state.height.size, kernel: effectiveKernel.height, stride: layer.stride.height)
            let (left, right) = split(state.width.size, kernel: effectiveKernel.width, stride: layer.stride.width)
            return RFPadding(top: top, left: left, bottom: bottom, right: right)
        }
    }

    private mutating func applyBranches(
        _ paths: [[RFLayer]], layer: RFLayer, label: String, to state: State,
        depth: Int
    ) throws -> State {
        guard !paths.isEmpty else {
            throw ReceptiveFieldError(layer: label, problem: "a branches block needs at least one branch")
        }
        var ends: [State] = []
        for (index, path) in paths.enumerated() {
            ends.append(try run(path, from: state, depth: depth + 1, prefix: "\(label)/branch \(index + 1)/"))
        }
        // Combining needs equal strides (and sizes): otherwise the maps cannot be added or concatenated.
        let strides = ends.map { RFPair($0.height.s, $0.width.s) }
        if Set(strides).count > 1 {
            throw ReceptiveFieldError(
                layer: label,
                problem:
                    "branch strides differ (\(strides.map(\.description).joined(separator: " vs "))); outputs cannot be combined"
            )
        }
        let sizes = ends.compactMap { end in end.height.size.flatMap { h in end.width.size.map { RFPair(h, $0) } } }
        if Set(sizes).count > 1 {
            throw ReceptiveFieldError(
                layer: label,
                problem:
                    "branch output sizes differ (\(sizes.map(\.description).joined(separator: " vs ")))")
        }
        func union(_ axes: [AxisState]) -> AxisState {
            // Field of branch b spans [−P_b, −P_b + r_b − 1]; the block sees the union.
            let start = axes.map { -$0.p }.min() ?? 0
            let end = axes.map { -$0.p + $0.r - 1 }.max() ?? 0
            return AxisState(r: end - start + 1, s: axes[0].s, p: -start, size: axes[0].size)
        }
        var next = State(
            height: union(ends.map(\.height)), width: union(ends.map(\.width)),
            globalFrom: state.globalFrom ?? ends.compactMap(\.globalFrom).first)
        next.height.size = ends[0].height.size
        next.width.size = ends[0].width.size
        let centres = ends.filter { $0.globalFrom == nil }.map { RFCentre(y: $0.height.centre, x: $0.width.centre) }
        let misaligned = Set(centres.map(\.description)).count > 1
        if misaligned {
            warnings.append(
                "\(label): branch fields are not centred alike (centres \(centres.map(\.description).joined(separator: " vs "))); reporting their union"
            )
        }
        rows.append(
            row(for: layer, label: label, depth: depth, padding: RFPadding(0), state: next, misaligned: misaligned))
        return next
    }

    private func row(
        for layer: RFLayer, label: String, depth: Int, padding: RFPadding, state: State,
        misaligned: Bool
    ) -> RFRow {
        let isGlobal = state.globalFrom != nil
        let rf: RFPair? = isGlobal ? inputSize : RFPair(state.height.r, state.width.r)
        let p: RFPair? = isGlobal ? (inputSize == nil ? nil : 0) : RFPair(state.height.p, state.width.p)
        let centre: RFCentre? = rf.flatMap { rf in
            p.map {
                RFCentre(
                    y: Double(rf.height - 1) / 2 - Double($0.height), x: Double(rf.width - 1) / 2 - Double($0.width))
            }
        }
        let size = state.height.size.flatMap { h in state.width.size.map { RFPair(h, $0) } }
        return RFRow(
            name: label, kind: layer.kindLabel, depth: depth, kernel: layer.kernel, stride: layer.stride,
            padding: padding, dilation: layer.dilation, outputSize: size, receptiveField: rf,
            effectiveStride: RFPair(state.height.s, state.width.s), effectivePadding: p, centre: centre,
            isGlobal: isGlobal, misaligned: misaligned)
    }
}
