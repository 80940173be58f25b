import CKernels

/// The instruction-set path the C kernels run on: the widest this CPU supports, read once from cpuid,
/// unless the `ZOO_ISA` environment variable (or `select`) names a narrower one.
public enum KernelPath: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    /// SSE2 on x86-64, NEON on aarch64: what every CPU of the architecture has.
    case baseline = 0
    /// AVX2 with FMA, 8-wide.
    case avx2 = 1
    /// AVX-512 F, DQ, BW and VL, 16-wide.
    case avx512 = 2

    /// The widest path the CPU and operating system support.
    public static var detected: KernelPath { KernelPath(zoo_isa_detected()) }

    /// The path every kernel uses now.
    public static var active: KernelPath { KernelPath(zoo_isa_active()) }

    /// Every path this CPU can run, narrowest first.
    public static var available: [KernelPath] { allCases.filter { $0 <= detected } }

    /// Switches every kernel to `path` (tests and `zoo bench --isa` cover each path this way).
    /// Weights packed for another path are repacked on their next use.
    public static func select(_ path: KernelPath) throws {
        guard zoo_isa_select(path.c) != 0 else { throw KernelPathError.unsupported(path, widest: detected) }
    }

    /// Runs `body` on `path`, then returns to the path that was active.
    public static func with<T>(_ path: KernelPath, _ body: () throws -> T) throws -> T {
        let previous = active
        try select(path)
        defer { try? select(previous) }
        return try body()
    }

    /// The processor's brand string, as /proc/cpuinfo's "model name".
    public static var cpuModel: String { String(cString: zoo_cpu_model()) }

    /// "avx512", "avx2" or "baseline (SSE2)" / "baseline (NEON)".
    public var description: String { String(cString: zoo_isa_name(c)) }

    /// The name `ZOO_ISA` and `--isa` take.
    public var name: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// The path `name` names, in any case; nil for a name that is none of them.
    public init?(name: String) {
        guard let path = KernelPath.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = path
    }

    /// Narrower before wider: a path is usable when it is `<=` the detected one.
    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rawValue < b.rawValue }

    init(_ isa: zoo_isa) { self = KernelPath(rawValue: Int(isa.rawValue)) ?? .baseline }
    var c: zoo_isa { zoo_isa(rawValue: UInt32(rawValue)) }
}

/// Why a kernel path could not be selected.
public enum KernelPathError: Error, CustomStringConvertible, Equatable {
    /// The CPU or operating system lacks the path's instructions; `widest` is the widest it has.
    case unsupported(KernelPath, widest: KernelPath)
    /// A name (`--isa`) that is not a path's.
    case unknown(String)

    /// One line naming the path and the ones that can be used.
    public var description: String {
        switch self {
        case .unsupported(let path, let widest):
            return "the \(path.name) kernels need instructions this CPU lacks (its widest path is \(widest.name))"
        case .unknown(let name):
            return
                "unknown instruction-set path '\(name)' (expected \(KernelPath.allCases.map(\.name).joined(separator: ", ")))"
        }
    }
}
