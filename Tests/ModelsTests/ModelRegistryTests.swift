import Tensors
import XCTest

@testable import Models

final class ModelRegistryTests: XCTestCase {
    /// Every registered model builds from its name alone with exactly timm's parameter count.
    func testEveryModelBuildsWithTimmParameterCount() throws {
        for entry in ModelRegistry.entries {
            let model = try entry.create()
            XCTAssertEqual(model.parameterCount, entry.parameterCount, entry.name)
            XCTAssertEqual(model.numClasses, 1000, entry.name)
        }
    }

    /// Every registered model, at its pretrained input size with non-trivial weights and batch-norm statistics,
    /// gives the same logits through the inference path (folded batch norms, packed weights, Winograd, fused
    /// epilogues) as through the autograd path it trains on. Winograd's error scales with the largest value of a
    /// transformed tile, so the logits are compared at the scale of the largest one.
    func testInferencePathAgreesWithAutogradPathOnEveryModel() throws {
        for entry in ModelRegistry.entries {
            let model = try entry.create()
            FormulaWeights.apply(to: model)
            let side = try entry.pretrained(tag: nil).inputSize[1]
            let input = try FormulaWeights.input([1, 3, side, side])
            let inferred = try withoutGrad { try model(input) }.scalars
            let recorded = try model(input)
            XCTAssertTrue(recorded.requiresGrad, "\(entry.name): the second forward records the autograd graph")
            let scale = max(1, recorded.scalars.map(abs).max() ?? 0)
            let worst = zip(inferred, recorded.scalars).map { abs($0 - $1) }.max() ?? .nan
            XCTAssertLessThanOrEqual(worst / scale, 1e-5, "\(entry.name): max difference \(worst) at scale \(scale)")
        }
    }

    func testUnknownNamesSuggestTheNearest() {
        XCTAssertThrowsError(try ModelRegistry.create("resnet5")) { error in
            guard case ModelError.unknownModel(let name, let suggestions) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "resnet5")
            XCTAssertTrue(suggestions.contains("resnet50"), "\(suggestions)")
        }
        XCTAssertThrowsError(try ModelRegistry.create("resnet18", ["layerz": [1, 1, 1, 1]])) { error in
            XCTAssertTrue("\(error)".contains("layerz"))
        }
        XCTAssertThrowsError(try ModelRegistry.create("resnet18", ["layers": "four"]))
    }

    func testMakeDivisibleMatchesTimm() {
        // timm.layers.make_divisible: (32·0.25 → 8), (2 → 8), (100 → 104), (91 → 88 would be < 0.9·91? no: 88 ≥ 81.9)
        XCTAssertEqual(makeDivisible(8), 8)
        XCTAssertEqual(makeDivisible(2), 8)
        XCTAssertEqual(makeDivisible(100), 104)
        XCTAssertEqual(makeDivisible(91), 88)
        XCTAssertEqual(makeDivisible(16 * 0.35), 8)
    }

    /// `name.tag` picks a tag timm publishes (its own config: resnet50.tv_in1k is torchvision's bilinear 0.875
    /// crop); a bare name the pinned default (resnet50.a1_in1k, crop 0.95); an unknown tag lists the real ones.
    func testResolveReadsTheTag() throws {
        let (entry, tagged) = try ModelRegistry.resolve("resnet50.tv_in1k")
        XCTAssertEqual(entry.name, "resnet50")
        XCTAssertEqual(tagged.tag, "tv_in1k")
        XCTAssertEqual(tagged.hubID, "timm/resnet50.tv_in1k")
        XCTAssertEqual(tagged.interpolation, .bilinear)
        XCTAssertEqual(tagged.cropPct, 0.875)
        let pinned = try ModelRegistry.resolve("resnet50").pretrained
        XCTAssertEqual(pinned.tag, "a1_in1k")
        XCTAssertEqual(pinned.cropPct, 0.95)
        XCTAssertThrowsError(try ModelRegistry.resolve("resnet50.nope")) { error in
            guard case ModelError.unknownTag("resnet50", "nope", let available) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(available.contains("a1_in1k") && available.contains("tv_in1k"), "\(available)")
        }
        XCTAssertThrowsError(try ModelRegistry.resolve("resnet5.a1_in1k")) { error in
            guard case ModelError.unknownModel("resnet5", _) = error else { return XCTFail("\(error)") }
        }
        let tags = try ModelRegistry.entry(named: "resnet50").tags
        XCTAssertTrue(tags.allSatisfy { $0.hubID == "timm/resnet50." + $0.tag }, "\(tags.map(\.tag))")
    }

    /// An argument outside the entry's accepted set is refused by name, listing what is accepted;
    /// `num_classes` is always accepted.
    func testEntryRefusesArgumentsItDoesNotAccept() throws {
        let entry = try ModelRegistry.entry(named: "resnet18")
        XCTAssertTrue(entry.accepted.contains("num_classes"))
        XCTAssertThrowsError(try entry.create(["bogus": 1])) { error in
            guard case ModelError.unknownArgument("resnet18", "bogus", let accepted) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(Set(accepted), entry.accepted)
        }
        XCTAssertEqual(try entry.create(["num_classes": 7]).numClasses, 7)
    }
}
