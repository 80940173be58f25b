import Foundation
import XCTest

@testable import Hub

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The client's settings from the environment, its URLs and headers, and what it does without the network.
/// Downloads against a Hub look-alike are tested through the command line (ZooCommandsTests/HubCommandsTests).
final class HubClientTests: XCTestCase {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("HubTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// HF_HUB_OFFLINE is on for 1/ON/YES/TRUE in any case, off otherwise; HF_ENDPOINT defaults to the Hub.
    func testEnvironmentSettings() {
        for value in ["1", "on", "YES", "True"] {
            XCTAssertTrue(HubClient(environment: ["HF_HUB_OFFLINE": value, "HF_HOME": "/none"]).offline, value)
        }
        for value in ["", "0", "false", "no"] {
            XCTAssertFalse(HubClient(environment: ["HF_HUB_OFFLINE": value, "HF_HOME": "/none"]).offline, value)
        }
        XCTAssertEqual(HubClient(environment: ["HF_HOME": "/none"]).endpoint.absoluteString, "https://huggingface.co")
        XCTAssertEqual(
            HubClient(environment: ["HF_ENDPOINT": "http://127.0.0.1:8080", "HF_HOME": "/none"]).endpoint
                .absoluteString,
            "http://127.0.0.1:8080")
        XCTAssertEqual(HubClient(environment: ["HF_HUB_CACHE": "/c"]).cache.root.path, "/c")
    }

    /// HF_TOKEN wins; otherwise the token file `huggingface-cli login` writes ($HF_HOME/token), trimmed; an
    /// empty token is none.
    func testTokenFromTheEnvironmentOrTheTokenFile() throws {
        let home = try scratch()
        try Data("file-token\n".utf8).write(to: home.appendingPathComponent("token"))
        XCTAssertEqual(HubClient(environment: ["HF_HOME": home.path, "HF_TOKEN": "env-token"]).token, "env-token")
        XCTAssertEqual(HubClient(environment: ["HF_HOME": home.path]).token, "file-token")
        XCTAssertEqual(HubClient(environment: ["HF_HOME": home.path, "HF_TOKEN": ""]).token, "file-token")
        XCTAssertNil(HubClient(environment: ["HF_HOME": home.appendingPathComponent("none").path]).token)
        try Data("\n".utf8).write(to: home.appendingPathComponent("token"))
        XCTAssertNil(HubClient(environment: ["HF_HOME": home.path]).token)
    }

    /// `<endpoint>/<repository>/resolve/<revision>/<file>`, each folder of the file's path its own component.
    func testResolveURL() {
        let client = HubClient(
            endpoint: URL(string: "https://hub.example")!, cache: HubCache(root: URL(fileURLWithPath: "/c")))
        XCTAssertEqual(
            client.resolveURL("timm/resnet50.a1_in1k", "model.safetensors", revision: "main").absoluteString,
            "https://hub.example/timm/resnet50.a1_in1k/resolve/main/model.safetensors")
        XCTAssertEqual(
            client.resolveURL("timm/x", "sub/dir/config.json", revision: "c0ffee").absoluteString,
            "https://hub.example/timm/x/resolve/c0ffee/sub/dir/config.json")
    }

    /// The token goes to the endpoint's host and port only, never to the host a download redirects to.
    func testTokenIsSentToTheHubOnly() {
        let client = HubClient(
            endpoint: URL(string: "http://127.0.0.1:8080")!, cache: HubCache(root: URL(fileURLWithPath: "/c")),
            token: "secret")
        let hub = client.request(URL(string: "http://127.0.0.1:8080/timm/x/resolve/main/a")!, method: "HEAD")
        XCTAssertEqual(hub.value(forHTTPHeaderField: "Authorization"), "Bearer secret")
        XCTAssertEqual(hub.httpMethod, "HEAD")
        XCTAssertEqual(hub.value(forHTTPHeaderField: "Accept-Encoding"), "identity")
        for other in ["http://cdn.example/a", "http://127.0.0.1:9090/a"] {
            XCTAssertNil(client.request(URL(string: other)!, method: "GET").value(forHTTPHeaderField: "Authorization"))
        }
        let anonymous = HubClient(
            endpoint: URL(string: "http://127.0.0.1:8080")!, cache: HubCache(root: URL(fileURLWithPath: "/c")))
        XCTAssertNil(
            anonymous.request(URL(string: "http://127.0.0.1:8080/a")!, method: "GET")
                .value(forHTTPHeaderField: "Authorization"))
    }

    /// Offline, a file not in the cache is `HubError.offline` naming every file tried; a cached one is returned
    /// without a request (the endpoint is a closed port).
    func testOfflineUsesTheCacheOnly() throws {
        let cache = HubCache(root: try scratch())
        let closed = URL(string: "http://127.0.0.1:9")!
        let offline = HubClient(endpoint: closed, cache: cache, offline: true)
        XCTAssertThrowsError(try offline.download("timm/tiny", "model.safetensors")) { error in
            XCTAssertEqual(error as? HubError, .offline(repository: "timm/tiny", file: "model.safetensors"))
        }
        XCTAssertThrowsError(try offline.download("timm/tiny", anyOf: ["model.safetensors", "pytorch_model.bin"])) {
            XCTAssertEqual(
                $0 as? HubError, .offline(repository: "timm/tiny", file: "model.safetensors or pytorch_model.bin"))
        }

        let blob = cache.blob("timm/tiny", etag: "e1")
        try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("bin".utf8).write(to: blob)
        try cache.link("timm/tiny", file: "pytorch_model.bin", revision: "main", commit: "c1", etag: "e1")
        let found = try offline.download("timm/tiny", anyOf: ["model.safetensors", "pytorch_model.bin"])
        XCTAssertEqual(found.lastPathComponent, "pytorch_model.bin")
        let online = HubClient(endpoint: closed, cache: cache)
        XCTAssertEqual(try online.download("timm/tiny", "pytorch_model.bin"), found)
    }

    /// Below HTTP (nothing listens on the port) the error is one line naming the URL.
    func testUnreachableEndpointIsANetworkError() throws {
        let client = HubClient(endpoint: URL(string: "http://127.0.0.1:9")!, cache: HubCache(root: try scratch()))
        XCTAssertThrowsError(try client.download("timm/tiny", "model.safetensors")) { error in
            guard case HubError.network(let url, _)? = error as? HubError else { return XCTFail("\(error)") }
            XCTAssertEqual(url, "http://127.0.0.1:9/timm/tiny/resolve/main/model.safetensors")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }
}
