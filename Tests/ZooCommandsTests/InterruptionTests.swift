import Foundation
import XCTest

@testable import ZooCommands

/// SIGINT / SIGTERM become a flag the training loop polls. The signals are raised in this process with the
/// handlers installed (raise(3) runs the handler before it returns); a second signal would end the process,
/// so each test raises one per installation, and the default dispositions are restored afterwards.
final class InterruptionTests: XCTestCase {
    override func tearDown() {
        Interruption.install()  // clears the flag, for any later in-process run
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        super.tearDown()
    }

    func testSIGINTSetsTheFlag() {
        Interruption.install()
        XCTAssertFalse(Interruption.requested)
        raise(SIGINT)
        XCTAssertTrue(Interruption.requested)
    }

    func testSIGTERMSetsTheFlag() {
        Interruption.install()
        raise(SIGTERM)
        XCTAssertTrue(Interruption.requested)
    }

    /// Installing again (a new run in the same process) starts with no request.
    func testInstallClearsAnEarlierRequest() {
        Interruption.install()
        raise(SIGINT)
        XCTAssertTrue(Interruption.requested)
        Interruption.install()
        XCTAssertFalse(Interruption.requested)
    }
}
