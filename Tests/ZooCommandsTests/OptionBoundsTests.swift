import ArgumentParser
import XCTest

@testable import ZooCommands

/// Numeric options outside their stated range are one line naming the option, its bounds and the value.
final class OptionBoundsTests: XCTestCase {
    private func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testValuesOutsideTheRangeAreNamed() {
        XCTAssertNil(message { try requireOption("--epochs", 1, in: OptionBounds.epochs) })
        XCTAssertNil(message { try requireOption("--epochs", 100_000, in: OptionBounds.epochs) })
        XCTAssertEqual(
            message { try requireOption("--epochs", 0, in: OptionBounds.epochs) },
            "--epochs must be between 1 and 100000, got 0")
        XCTAssertEqual(
            message { try requireOption("--img-size", 4097, in: OptionBounds.imageSize) },
            "--img-size must be between 8 and 4096, got 4097")
        XCTAssertEqual(
            message { try requireOption("--smoothing", Float(1), in: OptionBounds.labelSmoothing) },
            "--smoothing must be between 0.0 and 0.99, got 1.0")
    }

    /// NaN compares false with everything, so it lies in no range.
    func testNaNIsOutsideEveryRange() {
        XCTAssertEqual(
            message { try requireOption("--weight-decay", Float.nan, in: OptionBounds.weightDecay) },
            "--weight-decay must be between 0.0 and 10.0, got nan")
    }

    func testPositiveNumbers() {
        XCTAssertNil(message { try requirePositive("--lr", 1e-4) })
        for value: Float in [0, -1, .infinity, .nan] {
            XCTAssertEqual(
                message { try requirePositive("--lr", value) }, "--lr must be a positive number, got \(value)")
        }
    }

    /// 4096 images of 4096² RGB floats need 4096³ · 12 bytes = 824.6 GB, more than any budget; one 8² image fits.
    func testBatchMustFitTheTensorBudget() {
        XCTAssertNil(message { try requireBatchFits(batch: 1, size: 8) })
        let refused = message { try requireBatchFits(batch: 4096, size: 4096) }
        XCTAssertTrue(
            refused?.hasPrefix("--batch-size 4096 at --img-size 4096 needs 824.6 GB for the input alone; ") == true,
            refused ?? "accepted")
    }
}
