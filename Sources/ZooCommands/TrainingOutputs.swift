import Foundation
import Training
import VisionIO

// What the command line makes of a training run's events: the progress bar, metrics.csv, the plots, and
// Ctrl-C as the run's stop request.

/// The console and files of a training run: a progress bar per epoch, `metrics.csv` (cut back on resume to
/// the rows `keep` accepts, those up to the checkpoint), messages on stderr, and SIGINT / SIGTERM as the
/// run's stop request.
final class TrainingConsole {
    private let metricsURL: URL
    private let columns: [String]
    private let resume: Bool
    private let keep: (_ row: [Substring], _ epoch: Int, _ step: Int) -> Bool
    private var log: MetricsLog?
    private var bar: (epoch: Int, reporter: ProgressReporter)?
    /// When the current epoch began (the run's start, then the end of the previous epoch's work).
    private var epochStart = Date()

    init(
        metrics: URL, columns: [String], resume: Bool,
        keep: @escaping (_ row: [Substring], _ epoch: Int, _ step: Int) -> Bool
    ) {
        (metricsURL, self.columns, self.resume, self.keep) = (metrics, columns, resume, keep)
    }

    /// What every rank of a run needs from the command line, and all that the ranks other than 0 get:
    /// SIGINT / SIGTERM as the stop request (the ranks stop together).
    static func stopOnSignals<Epoch>() -> TrainingEvents<Epoch> {
        Interruption.install()
        return TrainingEvents(shouldStop: { Interruption.requested })
    }

    /// The run's events: these, plus the command's own for steps and epochs.
    func events<Epoch>(
        stepEnded: @escaping (StepRecord) throws -> Void = { _ in },
        epochEnded: @escaping (Epoch) throws -> Void
    ) -> TrainingEvents<Epoch> {
        var events: TrainingEvents<Epoch> = Self.stopOnSignals()
        events.started = { [self] epoch, step in
            log = try MetricsLog(url: metricsURL, columns: columns, resume: resume) { keep($0, epoch, step) }
            epochStart = Date()
        }
        events.batchEnded = { [self] progress in
            if bar?.epoch != progress.epoch {
                let label = "epoch \(progress.epoch)/\(progress.epochs)"
                bar = (progress.epoch, ProgressReporter(total: progress.batches, label: label, start: epochStart))
            }
            bar?.reporter.update(
                done: progress.batch, items: progress.images, detail: String(format: "loss %.4f", progress.loss))
        }
        events.stepEnded = stepEnded
        events.epochEnded = { [self] epoch in
            try epochEnded(epoch)
            epochStart = Date()
        }
        events.message = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        return events
    }

    /// Appends a row to metrics.csv.
    func record(_ values: [String]) throws { try log?.append(values) }
}

/// Mean loss per epoch as a small line chart (no plotting library on the machine).
func lossCurve(_ losses: [(epoch: Int, loss: Double)]) -> Image? {
    guard losses.count >= 1 else { return nil }
    let (width, height, margin) = (480, 240, 24)
    var chart = Image(width: width, height: height, fill: (255, 255, 255))
    let values = losses.map(\.1)
    let low = values.min()!
    let high = max(values.max()!, low + 1e-9)
    func point(_ i: Int) -> (Int, Int) {
        let x = margin + (losses.count == 1 ? 0 : i * (width - 2 * margin) / (losses.count - 1))
        let y = height - margin - Int((values[i] - low) / (high - low) * Double(height - 2 * margin))
        return (x, y)
    }
    func plot(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let o = (y * width + x) * 3
        chart.pixels[o] = color.0
        chart.pixels[o + 1] = color.1
        chart.pixels[o + 2] = color.2
    }
    for x in margin..<(width - margin) { plot(x, height - margin, (0, 0, 0)) }
    for y in margin..<(height - margin) { plot(margin, y, (0, 0, 0)) }
    for i in 0..<losses.count {
        let (x0, y0) = point(i)
        let (x1, y1) = point(min(i + 1, losses.count - 1))
        let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for t in 0...steps {
            let x = x0 + (x1 - x0) * t / steps
            let y = y0 + (y1 - y0) * t / steps
            for dy in -1...1 { plot(x, y + dy, (31, 119, 180)) }
        }
        for dx in -2...2 { for dy in -2...2 { plot(x0 + dx, y0 + dy, (214, 39, 40)) } }
    }
    return chart
}
