import XCTest

@testable import Weights

/// Checkpoint element types: their sizes and names, and the little-endian decoding of each to Float32,
/// checked against bit patterns worked out from the IEEE 754 and bfloat16 formats.
final class ElementTypeTests: XCTestCase {
    /// Decodes `bytes` as `count` elements of `type`, starting one byte into the buffer so nothing is aligned.
    private func decode(_ type: ElementType, _ bytes: [UInt8], count: Int) -> [Float] {
        let shifted = [0xAA] + bytes
        return shifted.withUnsafeBytes { raw in type.decode(UnsafeRawBufferPointer(rebasing: raw[1...]), count: count) }
    }

    func testSizesAndNames() {
        let sizes: [ElementType: Int] = [
            .float64: 8, .int64: 8, .float32: 4, .int32: 4, .float16: 2, .bfloat16: 2, .int16: 2, .int8: 1,
            .uint8: 1, .bool: 1,
        ]
        for type in ElementType.allCases {
            XCTAssertEqual(type.byteCount, sizes[type], "\(type)")
            XCTAssertEqual(ElementType(safetensorsName: type.rawValue), type)
        }
        XCTAssertNil(ElementType(safetensorsName: "f32"))
        XCTAssertNil(ElementType(safetensorsName: "F8_E4M3"))
        XCTAssertEqual(ElementType(torchStorageName: "FloatStorage"), .float32)
        XCTAssertEqual(ElementType(torchStorageName: "HalfStorage"), .float16)
        XCTAssertEqual(ElementType(torchStorageName: "BFloat16Storage"), .bfloat16)
        XCTAssertEqual(ElementType(torchStorageName: "LongStorage"), .int64)
        XCTAssertEqual(ElementType(torchStorageName: "ByteStorage"), .uint8)
        XCTAssertEqual(ElementType(torchStorageName: "CharStorage"), .int8)
        XCTAssertNil(ElementType(torchStorageName: "ComplexFloatStorage"))
    }

    /// float16: 0x3C00 = 1, 0xC000 = −2, 0x7BFF = 65504 (the largest), 0x0001 = 2⁻²⁴ (the smallest subnormal),
    /// 0x7C00 = +∞, 0x7E00 = NaN.
    func testFloat16() {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x7E00]
        let values = decode(.float16, bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, count: 6)
        XCTAssertEqual(Array(values[0..<4]), [1, -2, 65504, 0x1p-24])
        XCTAssertEqual(values[4], .infinity)
        XCTAssertTrue(values[5].isNaN)
    }

    /// bfloat16 is a float32's upper half: 0x3F80 = 1, 0xC040 = −3, 0x4049 = 3.140625, 0xFF80 = −∞.
    func testBFloat16() {
        let bits: [UInt16] = [0x3F80, 0xC040, 0x4049, 0xFF80]
        let values = decode(.bfloat16, bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, count: 4)
        XCTAssertEqual(values, [1, -3, 3.140625, -.infinity])
    }

    func testFloat32AndFloat64() {
        // 1.5 is 0x3FC00000 as float32 and 0x3FF8000000000000 as float64, little-endian.
        XCTAssertEqual(decode(.float32, [0x00, 0x00, 0xC0, 0x3F], count: 1), [1.5])
        XCTAssertEqual(decode(.float64, [0, 0, 0, 0, 0, 0, 0xF8, 0x3F], count: 1), [1.5])
        // 0.1 in float64 narrows to the nearest float32.
        let tenth = withUnsafeBytes(of: (0.1).bitPattern.littleEndian) { Array($0) }
        XCTAssertEqual(decode(.float64, tenth, count: 1), [Float(0.1)])
    }

    /// Integers become floats by value, two's complement and little-endian; bool is 0 or 1.
    func testIntegersAndBool() {
        XCTAssertEqual(decode(.int64, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], count: 1), [-2])
        XCTAssertEqual(decode(.int32, [0x01, 0x01, 0x00, 0x00], count: 1), [257])
        XCTAssertEqual(decode(.int16, [0x00, 0x80], count: 1), [-32768])
        XCTAssertEqual(decode(.int8, [0xFF, 0x7F], count: 2), [-1, 127])
        XCTAssertEqual(decode(.uint8, [0xFF, 0x00], count: 2), [255, 0])
        XCTAssertEqual(decode(.bool, [0, 1, 2], count: 3), [0, 1, 1])
        XCTAssertEqual(decode(.float32, [], count: 0), [])
    }

    /// Sizes that overflow are nil, not a trap; a negative dimension is nil.
    func testElementAndByteCounts() {
        XCTAssertEqual(elementCount(of: [2, 3, 4]), 24)
        XCTAssertEqual(elementCount(of: []), 1)
        XCTAssertEqual(elementCount(of: [5, 0]), 0)
        XCTAssertNil(elementCount(of: [-1, 4]))
        XCTAssertNil(elementCount(of: [1 << 32, 1 << 32]))
        XCTAssertEqual(byteCount(elements: 10, of: .bfloat16), 20)
        XCTAssertNil(byteCount(elements: Int.max / 2, of: .float32))
    }
}
