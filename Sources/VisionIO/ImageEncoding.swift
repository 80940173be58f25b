// PNG / JPEG encoders (8-bit RGB) and writing to disk; the format follows the file extension.
import CImageShims
import Foundation

extension Image {
    /// The image as 8-bit RGB PNG file bytes; throws `ImageEncodeError.failed` if the encoder fails.
    public func encodePNG() throws -> [UInt8] {
        var encoded = zoo_encoded_image()
        let status = pixels.withUnsafeBufferPointer {
            zoo_png_encode_rgb($0.baseAddress, Int32(width), Int32(height), &encoded)
        }
        return try Image.take(&encoded, status: status, format: "PNG")
    }

    /// The image as baseline JPEG file bytes, at `quality` 1...100 on libjpeg's scale (Pillow's default is 75;
    /// values outside are clamped).
    /// - Returns: the encoded file.
    /// - Throws: `ImageEncodeError.failed` when the encoder fails.
    public func encodeJPEG(quality: Int = 75) throws -> [UInt8] {
        var encoded = zoo_encoded_image()
        let status = pixels.withUnsafeBufferPointer {
            zoo_jpeg_encode_rgb($0.baseAddress, Int32(width), Int32(height), Int32(max(1, min(100, quality))), &encoded)
        }
        return try Image.take(&encoded, status: status, format: "JPEG")
    }

    /// Writes PNG for `.png`, JPEG for `.jpg` / `.jpeg`, PNG otherwise.
    public func write(to url: URL, jpegQuality: Int = 95) throws {
        let ext = url.pathExtension.lowercased()
        let bytes = (ext == "jpg" || ext == "jpeg") ? try encodeJPEG(quality: jpegQuality) : try encodePNG()
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw ImageEncodeError.writeFailed(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    private static func take(_ encoded: inout zoo_encoded_image, status: Int32, format: String) throws -> [UInt8] {
        defer { zoo_image_free(encoded.bytes) }
        guard status == 0, let bytes = encoded.bytes else {
            let reason = withUnsafeBytes(of: encoded.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw ImageEncodeError.failed(format: format, reason: reason)
        }
        return [UInt8](UnsafeBufferPointer(start: bytes, count: encoded.count))
    }
}
