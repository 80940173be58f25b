import Foundation
import XCTest

/// Fixtures live beside this file; see Fixtures/make_*.py for how each was produced.
func fixtureURL(_ name: String, file: StaticString = #filePath) -> URL {
    URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
}

func loadFixture<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
    // The fixture writers' keys are snake_case (convert_xyxy → convertXyxy).
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(T.self, from: Data(contentsOf: fixtureURL(name)))
}

func assertMatrix(
    _ actual: [[Double]], _ expected: [[Double]], accuracy: Double,
    _ label: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(label): rows", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(a.count, e.count, "\(label): row \(i) length", file: file, line: line)
        for (j, (x, y)) in zip(a, e).enumerated() {
            XCTAssertEqual(x, y, accuracy: accuracy, "\(label)[\(i)][\(j)]", file: file, line: line)
        }
    }
}
