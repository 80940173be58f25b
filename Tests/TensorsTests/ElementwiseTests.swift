import Foundation
import Kernels
import XCTest

@testable import Tensors

final class ElementwiseTests: XCTestCase {
    func testBroadcastingValues() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3], scalars: [10, 20, 30])
        XCTAssertEqual(try (a + b).scalars, [11, 22, 33, 14, 25, 36])
        let column = try Tensor(shape: [2, 1], scalars: [2, 4])
        XCTAssertEqual(try (a / column).scalars, [0.5, 1, 1.5, 1, 1.25, 1.5])
        XCTAssertEqual(try (a - b).shape, [2, 3])
    }

    func testMismatchedShapesThrowNamingBoth() throws {
        let a = try Tensor(zeros: [2, 3])
        let b = try Tensor(zeros: [4])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertEqual(error as? TensorError, .shapeMismatch(op: "add", shapes: [[2, 3], [4]]))
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4]"))
        }
    }

    func testBinaryGradientsWithBroadcasting() throws {
        let shapes: [([Int], [Int])] = [
            ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [2, 2]),
        ]
        for (sa, sb) in shapes {
            try checkGradients([randomTensor(sa, seed: 1), randomTensor(sb, seed: 2)]) { try $0[0] + $0[1] }
            try checkGradients([randomTensor(sa, seed: 1), randomTensor(sb, seed: 2)]) { try $0[0] - $0[1] }
            try checkGradients([randomTensor(sa, seed: 1), randomTensor(sb, seed: 2)]) { try $0[0] * $0[1] }
            try checkGradients([randomTensor(sa, seed: 1), awayFromZero(sb, seed: 2, low: 0.5)]) { try $0[0] / $0[1] }
        }
    }

    func testPointwiseGradients() throws {
        try checkGradients([randomTensor([3, 5], seed: 3)]) { try $0[0].affine(scale: 2.5, shift: -1) }
        try checkGradients([randomTensor([3, 5], seed: 3)]) { try $0[0].exp() }
        try checkGradients([awayFromZero([3, 5], seed: 4, low: 0.5).pow(2).sqrt()]) { try $0[0].log() }
        try checkGradients([awayFromZero([3, 5], seed: 4, low: 0.5).pow(2)]) { try $0[0].sqrt() }
        try checkGradients([awayFromZero([3, 5], seed: 4, low: 0.5).pow(2)]) { try $0[0].pow(1.5) }
        try checkGradients([randomTensor([3, 5], seed: 3)]) { try $0[0].squared() }
    }

    func testEveryActivationGradient() throws {
        for activation in Activation.allCases {
            // Kinks sit at 0, ±3 and 6: sample between them.
            let x = try awayFromZero([4, 6], seed: 5, low: 0.2, high: 2.8)
            try checkGradients([x], epsilon: 1e-2) { try $0[0].activation(activation) }
        }
    }
}
