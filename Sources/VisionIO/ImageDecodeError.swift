// Why an image could not be read, naming the file so one bad file in a folder is easy to find.

/// Why an image could not be decoded; every case names the file (`path`).
public enum ImageDecodeError: Error, Equatable, CustomStringConvertible {
    /// Neither a PNG nor a JPEG signature (or a codec layout we do not decode).
    case unsupportedFormat(path: String, reason: String)
    /// The codec rejected the data; `reason` is its message.
    case corrupt(path: String, reason: String)
    /// The data ended before the image did.
    case truncated(path: String, reason: String)
    /// The header announces more pixels than `limit` (decompression-bomb guard); nothing was allocated.
    case tooLarge(path: String, pixels: UInt64, limit: UInt64)
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// The decoder could not allocate its buffers.
    case outOfMemory(path: String)

    /// One line starting with the path, for logs and CLI errors.
    public var description: String {
        switch self {
        case .unsupportedFormat(let path, let reason): return "\(path): unsupported image format (\(reason))"
        case .corrupt(let path, let reason): return "\(path): corrupt image (\(reason))"
        case .truncated(let path, let reason): return "\(path): truncated image (\(reason))"
        case .tooLarge(let path, let pixels, let limit):
            return "\(path): image has \(pixels) pixels, more than the limit of \(limit)"
        case .unreadable(let path, let reason): return "\(path): cannot read file (\(reason))"
        case .outOfMemory(let path): return "\(path): out of memory while decoding"
        }
    }
}

/// Why an image could not be encoded or saved.
public enum ImageEncodeError: Error, Equatable, CustomStringConvertible {
    /// The PNG or JPEG encoder failed; `reason` is its message.
    case failed(format: String, reason: String)
    /// The encoded bytes could not be written to `path`.
    case writeFailed(path: String, reason: String)

    /// One line for logs and CLI errors.
    public var description: String {
        switch self {
        case .failed(let format, let reason): return "cannot encode \(format): \(reason)"
        case .writeFailed(let path, let reason): return "\(path): cannot write image (\(reason))"
        }
    }
}

/// A preprocessing resize that was refused rather than attempted.
public enum ImageResizeError: Error, Equatable, CustomStringConvertible {
    /// A resize target of no pixels, or of more than `limit` (the decoder's bomb guard, applied to what
    /// an extreme aspect ratio would make of a small image).
    case targetTooLarge(width: Int, height: Int, targetWidth: Int, targetHeight: Int, limit: UInt64)

    /// One line naming the source and target sizes.
    public var description: String {
        switch self {
        case .targetTooLarge(let width, let height, let targetWidth, let targetHeight, let limit):
            let problem = targetWidth < 1 || targetHeight < 1 ? "empty" : "more than the limit of \(limit) pixels"
            return
                "a \(width)×\(height) image resized for the model would be \(targetWidth)×\(targetHeight) pixels (\(problem))"
        }
    }
}
