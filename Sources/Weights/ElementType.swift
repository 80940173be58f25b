import Foundation

/// Element types a checkpoint may store; every one is widened (or narrowed) to Float32 on load.
/// Integer tensors (e.g. BatchNorm's int64 `num_batches_tracked`) become Float too.
enum ElementType: String, CaseIterable, Sendable {
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float64 = "F64"
    case int64 = "I64"
    case int32 = "I32"
    case int16 = "I16"
    case int8 = "I8"
    case uint8 = "U8"
    case bool = "BOOL"

    var byteCount: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The safetensors dtype name ("F32", …).
    init?(safetensorsName: String) { self.init(rawValue: safetensorsName) }

    /// The element type of a legacy typed storage class (`torch.FloatStorage`, …).
    init?(torchStorageName: String) {
        switch torchStorageName {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// Decodes `count` little-endian elements starting at `raw`'s first byte into Float32.
    /// `raw` need not be aligned (zip entries and safetensors offsets promise no alignment).
    func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        precondition(count >= 0 && raw.count >= count * byteCount, "decode: buffer too small")
        guard count > 0, let source = raw.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            guard let destination = out.baseAddress else {
                initialized = 0
                return
            }
            decode(from: source, into: destination, count: count)
            initialized = count
        }
    }

    private func decode(from source: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .float32:
            #if _endian(little)
            memcpy(out, source, count * 4)
            #else
            for i in 0..<count {
                out[i] = Float(
                    bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
        case .float16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                out[i] = Float(Float16(bitPattern: bits))
            }
        case .bfloat16:
            // bfloat16 is the upper half of a float32.
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .float64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                out[i] = Float(Double(bitPattern: bits))
            }
        case .int64:
            for i in 0..<count {
                out[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
            }
        case .int32:
            for i in 0..<count {
                out[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
            }
        case .int16:
            for i in 0..<count {
                out[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
            }
        case .int8:
            for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8:
            for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool:
            for i in 0..<count { out[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        }
    }
}

/// Product of a shape's dimensions, or nil when a dimension is negative or the product overflows.
func elementCount(of shape: [Int]) -> Int? {
    var product = 1
    for dimension in shape {
        guard dimension >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        product = next
    }
    return product
}

/// `count * elementSize`, or nil on overflow.
func byteCount(elements count: Int, of type: ElementType) -> Int? {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: type.byteCount)
    return overflow ? nil : bytes
}
