import Foundation

/// Fixtures live beside this file; Fixtures/make_rf_fixtures.py says how they were produced.
func fixtureURL(_ name: String, file: StaticString = #filePath) -> URL {
    URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
}
