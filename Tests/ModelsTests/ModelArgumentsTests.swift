import Foundation
import NN
import Randomness
import Tensors
import XCTest

@testable import Models

/// timm's keyword arguments: typed accessors that name the model and argument on error, their JSON form, and
/// bounds on sizes checked where they enter, with what passes bounded by the tensor memory budget.
final class ModelArgumentsTests: XCTestCase {
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

    /// A whole-number double is an integer (JSON has one number type), 3.5 is not; the wrong type names the
    /// model and the argument; a missing key gives the default.
    func testTypedAccessors() throws {
        var arguments: ModelArguments = [
            "depth": 3.0, "ratio": 3.5, "flag": true, "name": "avg", "size": [224, 160], "one": 7, "list": [1, 2],
        ]
        arguments.model = "m"
        XCTAssertEqual(try arguments.int("depth", default: 0), 3)
        XCTAssertEqual(try arguments.int("missing", default: 12), 12)
        XCTAssertThrowsError(try arguments.int("ratio", default: 0)) {
            XCTAssertEqual("\($0)", "m: argument 'ratio' must be an integer")
        }
        XCTAssertEqual(try arguments.double("depth", default: 0), 3)
        XCTAssertEqual(try arguments.double("one", default: 0), 7)
        XCTAssertThrowsError(try arguments.double("name", default: 0)) {
            XCTAssertEqual("\($0)", "m: argument 'name' must be a number")
        }
        XCTAssertEqual(try arguments.optionalDouble("ratio"), 3.5)
        XCTAssertNil(try arguments.optionalDouble("missing"))
        XCTAssertEqual(try arguments.bool("flag", default: false), true)
        XCTAssertThrowsError(try arguments.bool("one", default: false))
        XCTAssertEqual(try arguments.string("name", default: ""), "avg")
        XCTAssertThrowsError(try arguments.string("flag", default: ""))
        XCTAssertEqual(try arguments.ints("list", default: []), [1, 2])
        XCTAssertEqual(try arguments.ints("one", default: []), [7])
        XCTAssertThrowsError(try arguments.ints("name", default: []))
        XCTAssertTrue(try arguments.size("size", default: 0) == (224, 160))
        XCTAssertTrue(try arguments.size("one", default: 0) == (7, 7))
        XCTAssertTrue(try arguments.size("list", default: 0) == (1, 2))
        arguments.values["triple"] = [1, 2, 3]
        XCTAssertThrowsError(try arguments.size("triple", default: 0)) { XCTAssertTrue("\($0)".contains("pair")) }
    }

    /// A named choice lists the accepted names; lists are at most 64 long and hold integers only.
    func testChoicesAndListLimits() throws {
        enum Pool: String, CaseIterable { case avg, max }
        var arguments: ModelArguments = [
            "global_pool": "token", "pool": "max", "layers": .list(Array(repeating: 1, count: 65)),
            "mixed": [1, "two"],
        ]
        arguments.model = "m"
        XCTAssertEqual(try arguments.choice("pool", default: Pool.avg), .max)
        XCTAssertEqual(try arguments.choice("absent", default: Pool.avg), .avg)
        XCTAssertThrowsError(try arguments.choice("global_pool", default: Pool.avg)) {
            XCTAssertEqual("\($0)", "m: argument 'global_pool' must be avg or max")
        }
        XCTAssertThrowsError(try arguments.ints("layers", default: [])) {
            XCTAssertEqual("\($0)", "m: argument 'layers' must list at most 64 values, got 65")
        }
        XCTAssertThrowsError(try arguments.ints("mixed", default: [])) {
            XCTAssertEqual("\($0)", "m: argument 'mixed' must be a list of integers")
        }
        arguments.values["mlp_ratio"] = .double(.nan)
        XCTAssertThrowsError(try arguments.double("mlp_ratio", default: 4)) {
            XCTAssertEqual("\($0)", "m: argument 'mlp_ratio' must be a finite number")
        }
    }

    /// The caller's arguments override the preset's, and the result carries the caller's model name.
    func testMergedOverDefaults() {
        var mine: ModelArguments = ["depth": 2, "num_classes": 10]
        mine.model = "vit"
        let merged = mine.merged(over: ["depth": 12, "embed_dim": 192])
        XCTAssertEqual(merged.values, ["depth": 2, "num_classes": 10, "embed_dim": 192])
        XCTAssertEqual(merged.model, "vit")
    }

    /// JSON values decode to the narrowest case (true is a bool, not 1; 3 an int; 3.5 a double) and encode back.
    func testArgumentValuesFromJSON() throws {
        let json = #"{"a": true, "b": 3, "c": 3.5, "d": "x", "e": [1, [2, false]]}"#
        let decoded = try JSONDecoder().decode([String: ArgumentValue].self, from: Data(json.utf8))
        XCTAssertEqual(
            decoded,
            [
                "a": .bool(true), "b": .int(3), "c": .double(3.5), "d": .string("x"),
                "e": .list([.int(1), .list([.int(2), .bool(false)])]),
            ])
        let again = try JSONDecoder().decode(
            [String: ArgumentValue].self, from: JSONEncoder().encode(decoded))
        XCTAssertEqual(again, decoded)
        XCTAssertThrowsError(try JSONDecoder().decode([String: ArgumentValue].self, from: Data(#"{"a": null}"#.utf8)))
    }

    /// Bounds print as a user would write them.
    func testBoundsPrintAsWritten() {
        XCTAssertEqual(16.0.formatted, "16")
        XCTAssertEqual(0.99.formatted, "0.99")
        XCTAssertEqual(1e-12.formatted, "1e-12")
        XCTAssertEqual((-192.0).formatted, "-192")
    }
}
