import Tensors
import XCTest
import ZooTestSupport

@testable import Training

/// Optimizer trajectories against PyTorch's (Fixtures/make_optimizer_fixtures.py).
final class OptimizersTests: XCTestCase {
    struct Reference: Decodable {
        struct Step: Decodable {
            var weight: [Float]
            var b: [Float]
            enum CodingKeys: String, CodingKey {
                case weight = "W"
                case b
            }
        }
        var inputs: [Float], targets: [Float], initialWeight: [Float], b0: [Float]
        var cases: [String: [Step]]
        enum CodingKeys: String, CodingKey {
            case inputs = "X"
            case targets = "Y"
            case initialWeight = "W0"
            case b0, cases
        }
    }

    func reference() throws -> Reference {
        let url = Fixtures.packageRoot.appendingPathComponent("Tests/TrainingTests/Fixtures/optimizers.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func run(_ name: String, make: ([ParameterGroup]) throws -> any Optimizer, samRho: Float? = nil) throws {
        let ref = try reference()
        let x = try Tensor(shape: [4, 3], scalars: ref.inputs)
        let y = try Tensor(shape: [4, 2], scalars: ref.targets)
        let w = try Tensor(shape: [3, 2], scalars: ref.initialWeight, requiresGrad: true)
        let b = try Tensor(shape: [2], scalars: ref.b0, requiresGrad: true)
        var optimizer = try make([
            ParameterGroup(names: ["b"], parameters: [b], weightDecay: 0),
            ParameterGroup(names: ["W"], parameters: [w], weightDecay: -1),
        ])
        if let samRho { optimizer = SAM(base: optimizer, rho: samRho) }
        func backward() throws { try (x.matmul(w) + b - y).squared().sum().backward() }
        for (i, expected) in try XCTUnwrap(ref.cases[name]).enumerated() {
            optimizer.zeroGrad()
            try backward()
            if let sam = optimizer as? SAM {
                try sam.perturb()
                sam.zeroGrad()
                try backward()
            }
            try optimizer.step()
            for (a, e) in zip(w.scalars + b.scalars, expected.weight + expected.b) {
                XCTAssertEqual(a, e, accuracy: 1e-4 * max(1, abs(e)), "\(name) step \(i + 1)")
            }
        }
    }

    // Weight decay -1 in the test groups means "the optimizer's default for decayed weights", set here.
    func groups(_ g: [ParameterGroup], decay: Float) -> [ParameterGroup] {
        g.map {
            var group = $0
            if group.weightDecay < 0 { group.weightDecay = decay }
            return group
        }
    }

    func testSGDWithMomentum() throws {
        try run("sgd_momentum") { try SGD(groups: self.groups($0, decay: 0.01), learningRate: 0.05, momentum: 0.9) }
    }
    func testSGDNesterov() throws {
        try run("sgd_nesterov") {
            try SGD(groups: self.groups($0, decay: 0.01), learningRate: 0.05, momentum: 0.9, nesterov: true)
        }
    }
    func testAdamW() throws {
        try run("adamw") { try AdamW(groups: self.groups($0, decay: 0.05), learningRate: 0.1, betas: (0.9, 0.95)) }
    }
    func testSAMAroundSGD() throws {
        try run(
            "sam_sgd", make: { try SGD(groups: self.groups($0, decay: 0.01), learningRate: 0.05, momentum: 0.9) },
            samRho: 0.05)
    }
}
