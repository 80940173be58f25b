// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "zoo",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "zoo", targets: ["zoo"]),
        .library(
            name: "Zoo",
            targets: [
                "Randomness", "Kernels", "Tensors", "NN", "Weights", "Models", "VisionIO", "JSON", "Metrics",
                "ReceptiveFields",
                "Training", "Hub",
            ]),
        // Separate, so that the library above needs no MPI installation.
        .library(name: "ZooDistributed", targets: ["Distributed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CImageShims", dependencies: ["CPNG", "CJPEG"]),
        // Hot loops per instruction set, chosen at run time (no machine flags: the package stays usable as a dependency).
        .target(name: "CKernels"),
        // The one seeded generator (xoshiro256**) everything random draws from.
        .target(name: "Randomness", swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Kernels", dependencies: ["CKernels", "COpenBLAS"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Tensors", dependencies: ["Randomness", "Kernels"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(
            name: "NN", dependencies: ["Randomness", "Kernels", "Tensors"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Weights", dependencies: ["JSON", "ZIPFoundation"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "Models", dependencies: ["Kernels", "NN", "ReceptiveFields", "Tensors", "VisionIO", "Weights"]),
        .target(name: "VisionIO", dependencies: ["Randomness", "CImageShims"]),
        // Ordered JSON output and a JSON tree whose validators name the field at fault.
        .target(name: "JSON", swiftSettings: [.swiftLanguageMode(.v6)]),
        // Detection scoring (IoU, NMS, COCO and VOC evaluation) as pycocotools.
        .target(name: "Metrics", dependencies: ["JSON"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // Receptive-field geometry (Araujo et al. 2019), which Models describes its layers in.
        .target(name: "ReceptiveFields", dependencies: ["JSON"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(
            name: "Training", dependencies: ["Randomness", "Kernels", "Models", "NN", "Tensors", "VisionIO", "Weights"]),
        // The Hugging Face Hub protocol and cache (URLSession, swift-crypto's SHA256).
        .target(name: "Hub", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Data parallelism over Open MPI (a job started by mpirun); only the command line links it.
        .target(name: "Distributed", dependencies: ["CMPI", "NN"]),
        .target(
            name: "ZooCommands",
            dependencies: [
                "Randomness",
                "Kernels", "Tensors", "NN", "Weights", "Models", "VisionIO", "JSON", "Metrics", "ReceptiveFields",
                "Training",
                "Hub", "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "zoo", dependencies: ["ZooCommands"]),
        // Fixture locations and parity assertions shared by the test targets.
        .target(name: "ZooTestSupport", dependencies: ["Models", "Weights"], path: "Sources/ZooTestSupport"),
        .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "HubTests", dependencies: ["Hub"]),
        .testTarget(name: "TensorsTests", dependencies: ["Randomness", "Kernels", "Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["Randomness", "Kernels", "NN", "Tensors"]),
        .testTarget(
            name: "WeightsTests", dependencies: ["Randomness", "Weights", "Tensors", "ZooTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ModelsTests",
            dependencies: [
                "Randomness", "Kernels", "Models", "NN", "ReceptiveFields", "Tensors", "VisionIO", "Weights",
                "ZooTestSupport",
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "VisionIOTests", dependencies: ["Randomness", "VisionIO", "ZooTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ReceptiveFieldsTests", dependencies: ["Randomness", "ReceptiveFields"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Randomness", "Models", "NN", "Tensors", "Training", "VisionIO", "ZooTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ZooCommandsTests",
            dependencies: [
                "Models", "VisionIO", "Weights", "ZooCommands", "ZooTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
