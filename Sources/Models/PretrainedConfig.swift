/// How a model's pretrained weights expect images: timm's `pretrained_cfg` for the default tag.
public struct PretrainedConfig: Equatable, Codable, Sendable {
    public enum Interpolation: String, Codable, Sendable { case bilinear, bicubic, nearest }

    public var tag: String
    public var inputSize: [Int]  // (3, H, W)
    public var mean: [Float]
    public var std: [Float]
    public var cropPct: Float
    public var interpolation: Interpolation
    public var numClasses: Int
    /// The Hugging Face Hub repository of these weights (`timm/resnet50.a1_in1k`); nil when they are not there.
    public var hubID: String?

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    public static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    public static let inceptionStd: [Float] = [0.5, 0.5, 0.5]

    public init(
        tag: String, inputSize: Int = 224, mean: [Float] = imagenetMean, std: [Float] = imagenetStd,
        cropPct: Float = 0.875, interpolation: Interpolation = .bicubic, numClasses: Int = 1000, hubID: String? = nil
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
