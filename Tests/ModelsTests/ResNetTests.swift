import Tensors
import XCTest
import ZooTestSupport

@testable import Models

/// ResNet and SE-ResNet reproduce the logits timm computed for their fixtures in ../shared/parity.
final class ResNetTests: XCTestCase {
    func testResNet18() throws { try checkFixture("resnet18_tiny") }
    func testResNet50() throws { try checkFixture("resnet50_tiny") }
    func testSEResNet50() throws { try checkFixture("seresnet50_tiny") }
}
