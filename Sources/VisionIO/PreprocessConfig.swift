// timm's pretrained-config view of preprocessing and its eval transform
// (timm.data.transforms_factory.transforms_imagenet_eval, crop_mode "center").
import Foundation

public struct PreprocessConfig: Equatable, Sendable {
    public enum CropMode: String, Sendable { case center }

    public var channels: Int
    public var height: Int
    public var width: Int
    public var mean: [Float]
    public var std: [Float]
    public var cropPct: Double
    public var interpolation: ResampleFilter
    public var cropMode: CropMode

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    public static let inceptionStd: [Float] = [0.5, 0.5, 0.5]

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
