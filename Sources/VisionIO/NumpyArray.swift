// `.npy` (format v1.0) read / write for float32, little-endian, C order: the CLI's tensor exchange format.
import Foundation

/// Why a `.npy` file could not be read or written; every case names the file (`path`).
public enum NumpyError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file could not be written.
    case unwritable(path: String, reason: String)
    /// The data does not start with `\x93NUMPY`.
    case badMagic(path: String)
    /// A format version other than 1, 2 or 3.
    case unsupportedVersion(path: String, major: UInt8)
    /// The header dictionary is missing a key, runs past the end, or has an unparsable shape.
    case badHeader(path: String, reason: String)
    /// The array is not little-endian float32 (`'<f4'`).
    case unsupportedDType(path: String, dtype: String)
    /// The array is stored in Fortran (column-major) order.
    case fortranOrder(path: String)
    /// The data after the header is not `expected` bytes long (`Int.max` when the shape's size overflows).
    case sizeMismatch(path: String, expected: Int, actual: Int)

    /// One line starting with the path.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read .npy (\(reason))"
        case .unwritable(let path, let reason): return "\(path): cannot write .npy (\(reason))"
        case .badMagic(let path): return "\(path): not a .npy file"
        case .unsupportedVersion(let path, let major): return "\(path): unsupported .npy version \(major)"
        case .badHeader(let path, let reason): return "\(path): malformed .npy header (\(reason))"
        case .unsupportedDType(let path, let dtype): return "\(path): dtype \(dtype) is not float32 ('<f4')"
        case .fortranOrder(let path): return "\(path): Fortran-ordered arrays are not supported"
        case .sizeMismatch(let path, let expected, let actual):
            return "\(path): header needs \(expected) data bytes, file has \(actual)"
        }
    }
}

/// `numpy.save` / `numpy.load` for float32 arrays, without NumPy.
public enum NumpyArray {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// A version 1.0 `.npy` file for a C-ordered `'<f4'` array; the header is padded so the data starts on a
    /// 64-byte boundary, as NumPy requires (the padding is not byte-identical to `numpy.save`'s).
    public static func encode(_ array: FloatArray) -> [UInt8] {
        let shape = array.shape.map(String.init).joined(separator: ", ") + (array.shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        // Pad with spaces so magic + version + length + header + "\n" is a multiple of 64.
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + array.values.count * 4)
        for value in array.values {
            let bits = value.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return bytes
    }

    /// Saves `array` as a `.npy` file at `url`, replacing any file there.
    /// - Parameters:
    ///   - array: the data and its shape.
    ///   - url: the destination file.
    /// - Throws: `NumpyError.unwritable` when the file cannot be written.
    public static func write(_ array: FloatArray, to url: URL) throws {
        do { try Data(encode(array)).write(to: url) } catch {
            throw NumpyError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Loads the `.npy` file at `url` (see `decode(_:path:)` for what is accepted).
    /// - Returns: the array with its shape.
    /// - Throws: `NumpyError` when the file cannot be read or is not a C-ordered float32 array.
    public static func read(contentsOf url: URL) throws -> FloatArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NumpyError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return try decode([UInt8](data), path: url.path)
    }

    /// Accepts versions 1.0–3.0 headers; the data must be '<f4' in C order.
    public static func decode(_ bytes: [UInt8], path: String = "<data>") throws -> FloatArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw NumpyError.badMagic(path: path) }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NumpyError.badHeader(path: path, reason: "too short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NumpyError.unsupportedVersion(path: path, major: major)
        }
        guard headerStart + headerLength <= bytes.count else {
            throw NumpyError.badHeader(path: path, reason: "header runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try value(of: "descr", in: header, path: path)
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard dtype == "<f4" || dtype == "f4" else { throw NumpyError.unsupportedDType(path: path, dtype: dtype) }
        if try value(of: "fortran_order", in: header, path: path).hasPrefix("True") {
            throw NumpyError.fortranOrder(path: path)
        }
        let shapeText = try value(of: "shape", in: header, path: path)
        guard let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw NumpyError.badHeader(path: path, reason: "shape is not a tuple")
        }
        var shape = [Int]()
        for part in shapeText[shapeText.index(after: open)..<close].split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dimension = Int(trimmed), dimension >= 0 else {
                throw NumpyError.badHeader(path: path, reason: "bad dimension '\(trimmed)'")
            }
            shape.append(dimension)
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (product, o) = acc.0.multipliedReportingOverflow(by: d)
            return (product, acc.1 || o)
        }
        let dataStart = headerStart + headerLength
        guard !overflow, count <= (bytes.count - dataStart) / 4, bytes.count - dataStart == count * 4 else {
            throw NumpyError.sizeMismatch(
                path: path, expected: overflow ? Int.max : count * 4,
                actual: bytes.count - dataStart)
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { raw in
            for i in 0..<count {
                let p = dataStart + 4 * i
                let bits =
                    UInt32(raw[p]) | UInt32(raw[p + 1]) << 8 | UInt32(raw[p + 2]) << 16 | UInt32(raw[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
        }
        return FloatArray(shape: shape, values: values)
    }

    /// The text after `'key':` up to the next top-level comma (tuples kept whole).
    private static func value(of key: String, in header: String, path: String) throws -> String {
        guard let range = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else {
            throw NumpyError.badHeader(path: path, reason: "missing '\(key)'")
        }
        var depth = 0
        var result = ""
        for character in header[range.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," || character == "}") && depth == 0 { break }
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
