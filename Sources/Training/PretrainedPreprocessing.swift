import Models
import VisionIO

// The one place a model's pretrained config (Models) becomes image preprocessing (VisionIO).

extension ResampleFilter {
    /// The resampling filter timm's `interpolation` names.
    public init(_ interpolation: PretrainedConfig.Interpolation) {
        switch interpolation {
        case .bilinear: self = .bilinear
        case .bicubic: self = .bicubic
        case .nearest: self = .nearest
        }
    }
}

extension PreprocessConfig {
    /// timm's eval transform for weights with this pretrained config, optionally at another square size.
    public init(_ pretrained: PretrainedConfig, imageSize: Int? = nil) {
        self.init(
            inputSize: (3, imageSize ?? pretrained.inputSize[1], imageSize ?? pretrained.inputSize[2]),
            mean: pretrained.mean, std: pretrained.std, cropPct: Double(pretrained.cropPct),
            interpolation: ResampleFilter(pretrained.interpolation))
    }
}
