// timm's pretrained-config view of preprocessing and its eval transform
// (timm.data.transforms_factory.transforms_imagenet_eval, crop_mode "center").
import Foundation

/// A model's preprocessing as timm's `pretrained_cfg` / `resolve_data_config` describe it.
public struct PreprocessConfig: Equatable, Sendable {
    /// timm's `crop_mode`; only "center" (resize, then cut the centre; timm's default) is implemented.
    public enum CropMode: String, Sendable { case center }

    /// Input channels; always 3 (RGB).
    public var channels: Int
    /// The model's input height, in pixels.
    public var height: Int
    /// The model's input width, in pixels.
    public var width: Int
    /// Per-channel RGB mean subtracted after scaling to [0, 1].
    public var mean: [Float]
    /// Per-channel RGB standard deviation divided by after subtracting `mean`.
    public var std: [Float]
    /// The fraction of the resized image kept by the centre crop (timm's `crop_pct`).
    public var cropPct: Double
    /// The resize filter (timm's `interpolation`).
    public var interpolation: ResampleFilter
    /// How the crop is taken.
    public var cropMode: CropMode

    /// timm's `IMAGENET_DEFAULT_MEAN`.
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    /// timm's `IMAGENET_DEFAULT_STD`.
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    /// timm's `IMAGENET_INCEPTION_MEAN`, mapping [0, 1] to [-1, 1].
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    /// timm's `IMAGENET_INCEPTION_STD`.
    public static let inceptionStd: [Float] = [0.5, 0.5, 0.5]

    /// Defaults are timm's `resolve_data_config` fallbacks: 224 × 224, ImageNet mean/std, `crop_pct` 0.875,
    /// bicubic.
    /// - Parameters:
    ///   - inputSize: `(channels, height, width)` as timm's `input_size`; channels must be 3 (a precondition).
    ///   - mean: per-channel mean.
    ///   - std: per-channel standard deviation.
    ///   - cropPct: the fraction kept by the centre crop, > 0 (typically 0.875 to 1).
    ///   - interpolation: the resize filter.
    ///   - cropMode: how the crop is taken.
    public init(
        inputSize: (channels: Int, height: Int, width: Int) = (3, 224, 224),
        mean: [Float] = PreprocessConfig.imagenetMean, std: [Float] = PreprocessConfig.imagenetStd,
        cropPct: Double = 0.875, interpolation: ResampleFilter = .bicubic, cropMode: CropMode = .center
    ) {
        precondition(inputSize.channels == 3, "VisionIO produces RGB (3-channel) input")
        channels = inputSize.channels
        height = inputSize.height
        width = inputSize.width
        self.mean = mean
        self.std = std
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.cropMode = cropMode
    }

    /// timm's `input_size` tuple.
    public var inputSize: (channels: Int, height: Int, width: Int) { (channels, height, width) }

    /// timm: `math.floor(img_size / crop_pct)` per side.
    public var scaleSize: (height: Int, width: Int) {
        (Int((Double(height) / cropPct).rounded(.down)), Int((Double(width) / cropPct).rounded(.down)))
    }

    /// Resize → CenterCrop, the uint8 image timm would hand to ToTensor. The resized image is bounded by the
    /// decoder's pixel limit: a 1×100000 image would otherwise become a 224×22,400,000 one.
    public func evalCrop(_ image: Image) throws -> Image {
        let scale = scaleSize
        let squash = scale.height != scale.width
        // torchvision Resize(int): shorter side to scale_size; timm passes a (h, w) tuple when the
        // sides differ, which squashes to exactly that size.
        let target =
            squash
            ? (width: scale.width, height: scale.height)
            : Image.shorterSideSize(width: image.width, height: image.height, size: scale.height)
        let pixels = target.width.multipliedFullWidth(by: target.height)
        guard target.width >= 1, target.height >= 1, pixels.high == 0, UInt64(pixels.low) <= Image.defaultMaxPixels
        else {
            throw ImageResizeError.targetTooLarge(
                width: image.width, height: image.height,
                targetWidth: target.width, targetHeight: target.height, limit: Image.defaultMaxPixels)
        }
        let resized =
            squash
            ? image.resized(width: target.width, height: target.height, filter: interpolation)
            : image.resizedShorterSide(to: scale.height, filter: interpolation)
        return resized.centerCropped(width: width, height: height)
    }

    /// The full eval transform: (3, height, width) normalized floats.
    public func evalTransform(_ image: Image) throws -> [Float] {
        try evalCrop(image).normalizedCHW(mean: mean, std: std)
    }
}
