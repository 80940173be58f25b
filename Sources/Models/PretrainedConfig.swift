import VisionIO

/// How a model's pretrained weights expect images: timm's `pretrained_cfg` for the default tag.
public struct PretrainedConfig: Equatable, Codable, Sendable {

    public var tag: String
    public var inputSize: [Int]  // (3, H, W)
    public var mean: [Float]
    public var std: [Float]
    public var cropPct: Float
    /// The resampling the weights were trained and evaluated with (timm's `interpolation`).
    public var interpolation: ResampleFilter
    public var numClasses: Int
    /// The Hugging Face Hub repository of these weights (`timm/resnet50.a1_in1k`); nil when they are not there.
    public var hubID: String?

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    public static let inceptionStd: [Float] = [0.5, 0.5, 0.5]

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
