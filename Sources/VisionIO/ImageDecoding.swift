// Decoding PNG and JPEG bytes into `Image`, matching Pillow's `Image.open(f).convert("RGB")`.
import CImageShims
import Foundation

/// The encodings VisionIO decodes.
public enum ImageFormat: String, Sendable {
    /// Recognised by signature: PNG's 8-byte magic, JPEG's `FF D8 FF`.
    case png, jpeg

    /// Sniffs the signature, like Pillow does, rather than trusting the file extension.
    public init?(signatureOf data: [UInt8]) {
        if data.count >= 8, data[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if data.count >= 3, data[0] == 0xFF, data[1] == 0xD8, data[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }
}

extension Image {
    /// Pillow's `Image.MAX_IMAGE_PIXELS` (1024 * 1024 * 1024 / 4 / 3).
    public static let defaultMaxPixels: UInt64 = 89_478_485

    /// Decodes a PNG or JPEG file.
    /// - Parameters:
    ///   - url: the file; its format is sniffed from the bytes, not the extension.
    ///   - maxPixels: refuse images whose header announces more pixels (Pillow's `MAX_IMAGE_PIXELS` by default).
    ///   - applyExifOrientation: rotate/flip as `ImageOps.exif_transpose` would.
    ///     timm's and torchvision's loaders do not do this; pass `false` to match them on rotated photos.
    /// - Throws: `ImageDecodeError`, naming the file, when it cannot be read or decoded.
    public init(
        contentsOf url: URL, maxPixels: UInt64 = Image.defaultMaxPixels,
        applyExifOrientation: Bool = true
    ) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageDecodeError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        try self.init(
            bytes: [UInt8](data), path: url.path, maxPixels: maxPixels,
            applyExifOrientation: applyExifOrientation)
    }

    /// Decodes PNG or JPEG bytes held in memory; errors name the source `<data>`.
    /// - Parameters:
    ///   - data: the encoded bytes.
    ///   - maxPixels: refuse images whose header announces more pixels.
    ///   - applyExifOrientation: rotate/flip as `ImageOps.exif_transpose` would.
    /// - Throws: `ImageDecodeError` when the bytes are not a decodable PNG or JPEG.
    public init(data: Data, maxPixels: UInt64 = Image.defaultMaxPixels, applyExifOrientation: Bool = true) throws {
        try self.init(
            bytes: [UInt8](data), path: "<data>", maxPixels: maxPixels,
            applyExifOrientation: applyExifOrientation)
    }

    /// `path` only names the source in errors.
    public init(
        bytes: [UInt8], path: String = "<data>", maxPixels: UInt64 = Image.defaultMaxPixels,
        applyExifOrientation: Bool = true
    ) throws {
        guard let format = ImageFormat(signatureOf: bytes) else {
            throw ImageDecodeError.unsupportedFormat(path: path, reason: "not a PNG or JPEG signature")
        }
        var decoded = zoo_decoded_image()
        let status = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            switch format {
            case .png: return zoo_png_decode(buffer.baseAddress, buffer.count, maxPixels, &decoded)
            case .jpeg: return zoo_jpeg_decode(buffer.baseAddress, buffer.count, maxPixels, &decoded)
            }
        }
        defer { zoo_image_free(decoded.pixels) }
        let reason = withUnsafeBytes(of: decoded.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch zoo_image_status(rawValue: UInt32(status)) {
        case ZOO_IMAGE_OK: break
        case ZOO_IMAGE_TRUNCATED: throw ImageDecodeError.truncated(path: path, reason: reason)
        case ZOO_IMAGE_TOO_LARGE:
            throw ImageDecodeError.tooLarge(path: path, pixels: decoded.pixel_count, limit: maxPixels)
        case ZOO_IMAGE_UNSUPPORTED: throw ImageDecodeError.unsupportedFormat(path: path, reason: reason)
        case ZOO_IMAGE_NO_MEMORY: throw ImageDecodeError.outOfMemory(path: path)
        default: throw ImageDecodeError.corrupt(path: path, reason: reason)
        }
        let width = Int(decoded.width)
        let height = Int(decoded.height)
        guard let source = decoded.pixels, width > 0, height > 0 else {
            throw ImageDecodeError.corrupt(path: path, reason: "decoder returned no pixels")
        }
        let pixels = [UInt8](UnsafeBufferPointer(start: source, count: width * height * 3))
        self.init(width: width, height: height, pixels: pixels)
        if applyExifOrientation, let orientation = ExifOrientation(rawValue: Int(decoded.orientation)) {
            self = self.applying(orientation)
        }
    }
}
