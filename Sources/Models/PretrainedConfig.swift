import VisionIO

/// How a model's pretrained weights expect images: timm's `pretrained_cfg` for the default tag.
public struct PretrainedConfig: Equatable, Codable, Sendable {

    /// The pretrained tag these weights are published under (`a1_in1k` in `resnet50.a1_in1k`).
    public var tag: String
    /// timm's `input_size`: `[3, H, W]`, the image size the weights were evaluated at.
    public var inputSize: [Int]  // (3, H, W)
    /// Per-channel RGB mean subtracted from `[0, 1]` pixels (timm's `mean`).
    public var mean: [Float]
    /// Per-channel RGB standard deviation the pixels are divided by (timm's `std`).
    public var std: [Float]
    /// timm's `crop_pct`: the eval resize is to `floor(size / cropPct)` before the centre crop, in `(0, 1]`.
    public var cropPct: Float
    /// The resampling the weights were trained and evaluated with (timm's `interpolation`).
    public var interpolation: ResampleFilter
    /// Number of classes of the checkpoint's classifier (timm's `num_classes`); 0 for headless weights.
    public var numClasses: Int
    /// The Hugging Face Hub repository of these weights (`timm/resnet50.a1_in1k`); nil when they are not there.
    public var hubID: String?

    /// timm's `IMAGENET_DEFAULT_MEAN`.
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    /// timm's `IMAGENET_DEFAULT_STD`.
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    /// timm's `IMAGENET_INCEPTION_MEAN`; with `inceptionStd` it maps `[0, 1]` pixels to `[-1, 1]`.
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    /// timm's `IMAGENET_INCEPTION_STD` (Google's TF/JAX-trained weights, among others).
    public static let inceptionStd: [Float] = [0.5, 0.5, 0.5]

    /// Creates a config with timm's defaults for anything not given.
    ///
    /// - Parameters:
    ///   - tag: The pretrained tag (`a1_in1k`).
    ///   - inputSize: Side of the square eval image, in pixels; stored as `[3, inputSize, inputSize]`.
    ///   - mean: Per-channel RGB normalisation mean; ImageNet's by default.
    ///   - std: Per-channel RGB normalisation standard deviation; ImageNet's by default.
    ///   - cropPct: timm's `crop_pct`, in `(0, 1]`.
    ///   - interpolation: The resampling filter of the eval resize.
    ///   - numClasses: Classes of the checkpoint's classifier; 0 for headless weights.
    ///   - hubID: The Hugging Face Hub repository of the weights, or nil when they are not on the Hub.
    public init(
        tag: String, inputSize: Int = 224, mean: [Float] = imagenetMean, std: [Float] = imagenetStd,
        cropPct: Float = 0.875, interpolation: ResampleFilter = .bicubic, numClasses: Int = 1000, hubID: String? = nil
    ) {
        self.tag = tag
        self.inputSize = [3, inputSize, inputSize]
        self.mean = mean
        self.std = std
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.numClasses = numClasses
        self.hubID = hubID
    }
}

extension PreprocessConfig {
    /// timm's eval transform for weights with this pretrained config, optionally at another square size.
    public init(_ pretrained: PretrainedConfig, imageSize: Int? = nil) {
        self.init(
            inputSize: (3, imageSize ?? pretrained.inputSize[1], imageSize ?? pretrained.inputSize[2]),
            mean: pretrained.mean, std: pretrained.std, cropPct: Double(pretrained.cropPct),
            interpolation: pretrained.interpolation)
    }
}
