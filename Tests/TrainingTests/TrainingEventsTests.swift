import XCTest

@testable import Training

/// The callbacks a training run reports through: defaults that ignore everything and never stop, and handlers
/// that receive what the run passes.
final class TrainingEventsTests: XCTestCase {
    func testDefaultsIgnoreEveryEventAndNeverStop() throws {
        let events = TrainingEvents<Int>()
        XCTAssertFalse(events.shouldStop())
        try events.started(0, 0)
        events.batchEnded(BatchProgress(epoch: 1, epochs: 1, batch: 1, batches: 1, images: 4, loss: 1))
        try events.stepEnded(StepRecord(epoch: 1, step: 1, loss: 1, learningRate: 0.1))
        try events.epochEnded(1)
        events.message("ignored")
    }

    func testHandlersReceiveWhatTheRunPasses() throws {
        final class Log { var lines: [String] = [] }
        let log = Log()
        struct Stop: Error {}
        let events = TrainingEvents<String>(
            shouldStop: { log.lines.count >= 5 },
            started: { epoch, step in log.lines.append("started \(epoch) \(step)") },
            batchEnded: {
                log.lines.append("batch \($0.batch)/\($0.batches) of epoch \($0.epoch), \($0.images) images")
            },
            stepEnded: { log.lines.append("step \($0.step) lr \($0.learningRate)") },
            epochEnded: { record in
                log.lines.append("epoch \(record)")
                throw Stop()
            },
            message: { log.lines.append($0) })
        try events.started(2, 40)
        events.batchEnded(BatchProgress(epoch: 3, epochs: 5, batch: 1, batches: 20, images: 32, loss: 0.5))
        try events.stepEnded(StepRecord(epoch: 3, step: 41, loss: 0.5, learningRate: 0.25))
        events.message("note")
        XCTAssertFalse(events.shouldStop())
        XCTAssertThrowsError(try events.epochEnded("3")) { XCTAssertTrue($0 is Stop) }
        XCTAssertTrue(events.shouldStop())
        XCTAssertEqual(
            log.lines,
            ["started 2 40", "batch 1/20 of epoch 3, 32 images", "step 41 lr 0.25", "note", "epoch 3"])
    }
}
