import Dispatch

/// Median and spread of repeated timings, after warm-up runs.
struct TimingSummary: Codable {
    var medianMilliseconds: Double
    var minMilliseconds: Double
    var maxMilliseconds: Double

    static func measure(warmup: Int = 2, iterations: Int, _ body: () throws -> Void) rethrows -> TimingSummary {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<max(1, iterations) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        return TimingSummary(
            medianMilliseconds: samples[samples.count / 2], minMilliseconds: samples[0],
            maxMilliseconds: samples[samples.count - 1])
    }
}
