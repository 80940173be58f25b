import Foundation

/// Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain line every few seconds otherwise.
final class ProgressReporter {
    /// What `done` and `items` count: images (shown as n/N and img/s) or bytes (MB and MB/s).
    enum Unit: Sendable { case images, bytes }

    private let total: Int
    private let label: String
    private let unit: Unit
    private let start: Date
    private var lastPrint = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0

    /// A reporter for `total` units of work; nothing is printed before the first `update`.
    ///
    /// - Parameters:
    ///   - total: The work to do, in `done`'s unit (at least 1 is kept); the bar is full at `done == total`.
    ///   - label: Printed first on every line (a command or repository name).
    ///   - unit: How counts and the rate are shown; images by default.
    ///   - start: When the work began (now by default), for the rate and the ETA.
    init(total: Int, label: String, unit: Unit = .images, start: Date = Date()) {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        self.start = start
    }

    func update(done: Int, items: Int, detail: String) {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (interactive ? 0.2 : 5) || done == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(items) / max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let fraction = Double(done) / Double(total)
        let counts: String
        switch unit {
        case .images: counts = String(format: "%d/%d %@ %.1f img/s", done, total, detail, rate)
        case .bytes:
            counts = String(format: "%.1f/%.1f MB %.1f MB/s", Double(done) / 1e6, Double(total) / 1e6, rate / 1e6)
        }
        let text = String(format: "%@ %3.0f%% %@ ETA %@", label, fraction * 100, counts, Self.clock(eta))
        if interactive {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
