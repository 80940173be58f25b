import NN
import Randomness
import Tensors
import XCTest

@testable import Models

/// Sizes from `--model-args` are checked where they enter, and what passes is bounded by the tensor memory budget.
final class ModelArgumentBoundsTests: XCTestCase {
    /// Builds that pass every bound but not the budget stop at 512 MB here, whatever the machine.
    override func setUp() {
        let previous = TensorMemory.budget
        TensorMemory.budget = 512 << 20
        addTeardownBlock { TensorMemory.budget = previous }
    }

    private func buildError(_ name: String, _ arguments: ModelArguments) -> String? {
        do {
            _ = try Initialization.skipping { try ModelRegistry.create(name, arguments) }
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testSizesOutsideTheirBoundsAreRefusedByName() {
        let cases: [(String, ModelArguments, String)] = [
            (
                "vit_small_patch16_224", ["embed_dim": -192],
                "argument 'embed_dim' must be between 1 and 16384, got -192"
            ),
            ("vit_small_patch16_224", ["depth": -1], "argument 'depth' must be between 1 and 1000, got -1"),
            (
                "vit_small_patch16_224", ["mlp_ratio": 1e9],
                "argument 'mlp_ratio' must be between 0.01 and 64, got 1000000000"
            ),
            (
                "resnet50", ["num_classes": .int(Int.max)],
                "argument 'num_classes' must be between 0 and 100000, got \(Int.max)"
            ),
            ("resnet50", ["layers": [100_000, 1, 1, 1]], "argument 'layers' must be between 1 and 1000, got 100000"),
            ("resnet50", ["layers": [0, 0, 0, 0]], "argument 'layers' must be between 1 and 1000, got 0"),
            ("resnet50", ["layers": [1, 1]], "argument 'layers' must list 4 stages, got 2"),
            ("mixer_b16_224", ["img_size": 100_000], "argument 'img_size' must be between 1 and 4096, got 100000"),
            ("densenet121", ["growth_rate": 0], "argument 'growth_rate' must be between 1 and 4096, got 0"),
            (
                "swin_tiny_patch4_window7_224", ["drop_path_rate": 2],
                "argument 'drop_path_rate' must be between 0 and 1, got 2"
            ),
        ]
        for (name, arguments, expected) in cases {
            let message = buildError(name, arguments)
            XCTAssertTrue(message?.contains(expected) == true, "\(name) \(arguments.values): \(message ?? "built")")
        }
    }

    /// Every size within its bound, and still far too big together: the budget stops it, and what was
    /// allocated before the refusal is given back.
    func testWithinBoundsButTooBigInSumHitsTheMemoryBudget() {
        let before = TensorMemory.inUse
        let message = buildError("vit_small_patch16_224", ["embed_dim": 16384, "num_heads": 16, "depth": 1000])
        XCTAssertTrue(message?.contains("cannot allocate a tensor of shape") == true, message ?? "built")
        XCTAssertEqual(TensorMemory.inUse, before)
    }

    /// Random values for every argument each model accepts: each build succeeds or throws a model or
    /// tensor error naming the problem; none traps or hangs.
    func testFuzzedArgumentsNeverCrash() {
        let values: [ArgumentValue] = [
            -1, 0, 1, 3, 7, 1000, 1_000_000, .int(Int.max), .int(Int.min), 1e9, 0.5, -0.5, 1e300,
            "x", "", true, [], [1, 1, 1, 1], [100_000], [-1, 2, 3, 4], .list(Array(repeating: 1, count: 100)),
        ]
        var rng = RandomGenerator(seed: 1)  // the same cases on every run
        func next(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &rng) }
        var built = 0
        var refused = 0
        for entry in ModelRegistry.entries {
            let keys = entry.accepted.sorted()
            for _ in 0..<12 {
                var arguments = ModelArguments()
                for _ in 0...next(2) { arguments.values[keys[next(keys.count)]] = values[next(values.count)] }
                do {
                    _ = try Initialization.skipping { try entry.create(arguments) }
                    built += 1
                } catch is ModelError {
                    refused += 1
                } catch is TensorError {
                    refused += 1
                } catch {
                    XCTFail("\(entry.name) \(arguments.values): untyped error \(error)")
                }
            }
        }
        XCTAssertGreaterThan(built, 0)
        XCTAssertGreaterThan(refused, 0)
    }
}
