import XCTest

@testable import Models

/// The "did you mean" of unknown-name errors: Levenshtein distance, a bonus for containing the name, a
/// threshold that grows with the name, ties broken by name.
final class NearestNamesTests: XCTestCase {
    func testEditDistance() {
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("resnet50", "resnet50"), 0)
    }

    /// "resnet5" is one insertion from resnet50, two edits from resnet18, three from resnet101 (threshold 3).
    func testClosestFirstUpToTheLimit() {
        let names = ["resnet18", "resnet50", "resnet101", "vit_small_patch16_224"]
        XCTAssertEqual(nearestNames(to: "resnet5", among: names), ["resnet50", "resnet18", "resnet101"])
        XCTAssertEqual(nearestNames(to: "resnet5", among: names, limit: 2), ["resnet50", "resnet18"])
        XCTAssertEqual(nearestNames(to: "ResNet50", among: names).first, "resnet50")
    }

    /// A name contained in a candidate counts as distance 1 however long the candidate is.
    func testContainingTheNameCountsAsClose() {
        XCTAssertEqual(
            nearestNames(to: "vit", among: ["volo_d1_224", "vgg", "vit_small_patch16_224"]),
            ["vit_small_patch16_224", "vgg"])
    }

    /// Equal distances sort by name; nothing within the threshold gives no suggestion.
    func testTiesByNameAndNothingFar() {
        XCTAssertEqual(nearestNames(to: "ab", among: ["zz", "ac", "aa"]), ["aa", "ac", "zz"])
        XCTAssertEqual(nearestNames(to: "xyzzy", among: ["resnet50"]), [])
        XCTAssertEqual(nearestNames(to: "resnet50", among: []), [])
    }

    /// The threshold is max(3, length / 3): 4 for a 12-letter name, 3 for a 9-letter one.
    func testThresholdGrowsWithTheName() {
        XCTAssertEqual(nearestNames(to: "abcdefghijkl", among: ["abcdefgh", "abcdefg"]), ["abcdefgh"])
        XCTAssertEqual(nearestNames(to: "abcdefghi", among: ["abcdef", "abcde"]), ["abcdef"])
    }

    func testEditDistanceIsSymmetricAndCountsEachEdit() {
        XCTAssertEqual(editDistance("sitting", "kitten"), 3)
        XCTAssertEqual(editDistance("abc", ""), 3)
        XCTAssertEqual(editDistance("flaw", "lawn"), 2)
        XCTAssertEqual(editDistance("ab", "ba"), 2)  // a transposition is two edits in Levenshtein's distance
    }
}
