import ArgumentParser
import Foundation
import Kernels
import Models
import NN
import Randomness
import Tensors
import Training

/// `zoo bench --model M --batch B`: inference (or training-step) time of a model on random input;
/// `zoo bench kernels`: GFLOP/s of the kernels models spend their time in, on every instruction-set path
/// this CPU runs, next to OpenBLAS's SGEMM. Each run names the CPU and the path.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed of a model (--model) or of the kernel layer (kernels).")

    @Argument(help: "'kernels' to benchmark the kernel layer instead of a model.")
    var target: String?

    @Option(help: "Model to benchmark (timm name, or an MAE preset such as mae_vit_base_patch16).")
    var model: String?

    @Option(parsing: .unconditional, help: "Batch size.")
    var batch: Int = 1

    @Option(parsing: .unconditional, help: "Input size (default: the model's pretrained input size).")
    var imgSize: Int?

    @Flag(help: "Measure a training step (forward, loss, backward, AdamW update) instead of inference.")
    var train = false

    @Option(parsing: .unconditional, help: "Threads for OpenBLAS and the zoo's loops (default: all cores).")
    var threads: Int?

    @Option(help: "Instruction-set path: avx512, avx2 or baseline (default: the widest this CPU has, or ZOO_ISA).")
    var isa: String?

    @Option(parsing: .unconditional, help: "Timed iterations after warm-up.")
    var iterations: Int = 20

    @Flag(
        help:
            "Also print the time per layer kind (conv 3×3, conv 1×1, depthwise, GEMM, attention, norm, pooling, other)."
    )
    var profile = false

    @Flag(help: "Also print the time of each layer, in the order a run calls them (implies --profile).")
    var layers = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if (profile || layers) && model == nil {
            throw ValidationError("--profile and --layers profile a model: give --model M")
        }
        if let target, target != "kernels" {
            throw ValidationError("unknown bench target '\(target)'; expected 'kernels' or --model M")
        }
        if target == nil && model == nil { throw ValidationError("give --model M (or 'kernels')") }
        try requireOption("--batch", batch, in: OptionBounds.batchSize)
        try requireOption("--iterations", iterations, in: OptionBounds.iterations)
        if let threads { try requireOption("--threads", threads, in: OptionBounds.threads) }
        if let imgSize {
            try requireOption("--img-size", imgSize, in: OptionBounds.imageSize)
            try requireBatchFits(batch: batch, size: imgSize)
        }
        if let isa, KernelPath(name: isa) == nil { throw ValidationError(KernelPathError.unknown(isa).description) }
    }

    struct ModelResult: Encodable {
        var model: String, batch: Int, threads: Int, mode: String, inputSize: Int
        var msMedian: Double, msMin: Double, msMax: Double, imagesPerSecond: Double
        var isa: String, cpu: String
        var profile: [ProfileRow]?
        var layers: [LayerRow]?

        enum CodingKeys: String, CodingKey {
            case model, batch, threads, mode, profile, layers
            case inputSize = "input_size"
            case msMedian = "ms_median"
            case msMin = "ms_min"
            case msMax = "ms_max"
            case imagesPerSecond = "images_per_s"
            case isa, cpu
        }
    }

    /// One layer kind's share of a profiled forward (or training step): time and kernel calls per run.
    struct ProfileRow: Encodable {
        var kind: String, msPerRun: Double, share: Double, calls: Int

        enum CodingKeys: String, CodingKey {
            case kind
            case msPerRun = "ms_per_run"
            case share, calls
        }
    }

    /// One layer of a profiled run (a measured kernel call, in call order): its median time over the runs.
    struct LayerRow: Encodable {
        var kind: String, shape: String, msMedian: Double

        enum CodingKeys: String, CodingKey {
            case kind, shape
            case msMedian = "ms_median"
        }
    }

    struct KernelReport: Encodable {
        var cpu: String, isa: String, openblasCore: String, threads: Int
        var rows: [KernelBenchmarkRow]

        enum CodingKeys: String, CodingKey {
            case cpu, isa
            case openblasCore = "openblas_core"
            case threads, rows
        }
    }

    func run() throws {
        Threads.set(threads ?? Threads.count)
        let requested = isa.flatMap { KernelPath(name: $0) }
        if let requested { try KernelPath.select(requested) }
        if let model { return try benchModel(model) }
        let chosen = KernelPath.active
        // Every path this CPU runs (or the one asked for), the chosen one first.
        let paths = requested.map { [$0] } ?? [chosen] + KernelPath.available.reversed().filter { $0 != chosen }
        var rows: [KernelBenchmarkRow] = []
        for path in paths { rows += try KernelPath.with(path) { KernelBenchmarks(iterations: iterations).run() } }
        rows.append(KernelBenchmarks(iterations: iterations).openBLASRow())
        let report = KernelReport(
            cpu: KernelPath.cpuModel, isa: chosen.name, openblasCore: openBLASCoreName,
            threads: Threads.count, rows: rows)
        if json { return print(try jsonString(report)) }
        print(
            "cpu: \(report.cpu)\npath chosen: \(chosen) (of \(KernelPath.available.map(\.name).joined(separator: ", ")))"
        )
        print("openblas kernel: \(report.openblasCore)\nthreads: \(report.threads)")
        for row in rows {
            let share = row.percentOfGemm.map { String(format: "  (%.0f%% of SGEMM at the same shape)", $0) } ?? ""
            let name = "[\(row.isa)] \(row.name)".padding(toLength: 52, withPad: " ", startingAt: 0)
            print(name + String(format: " %8.3f ms  %7.1f GFLOP/s", row.milliseconds, row.gflops) + share)
        }
    }
}

struct KernelBenchmarkRow: Codable {
    var name: String
    var isa: String
    var milliseconds: Double
    var gflops: Double
    var percentOfGemm: Double?
}

struct KernelBenchmarks {
    var iterations: Int

    private func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
        return p
    }

    private func row(_ name: String, flops: Double, _ body: () -> Void) -> KernelBenchmarkRow {
        let t = TimingSummary.measure(iterations: iterations, body)
        return KernelBenchmarkRow(
            name: name, isa: KernelPath.active.name, milliseconds: t.medianMilliseconds,
            gflops: flops / t.medianMilliseconds / 1e6)
    }

    private func gemmRow(_ name: String, m: Int, n: Int, k: Int) -> KernelBenchmarkRow {
        let a = buffer(m * k)
        let b = buffer(k * n)
        let c = buffer(m * n)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        return row(name, flops: 2.0 * Double(m * n * k)) { gemm(m: m, n: n, k: k, a: a, b: b, c: c) }
    }

    private func convRow(_ name: String, _ g: Conv2dGeometry) -> KernelBenchmarkRow {
        let x = buffer(g.batch * g.inChannels * g.height * g.width)
        let w = buffer(g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth)
        let y = buffer(g.batch * g.outChannels * g.outHeight * g.outWidth)
        defer {
            x.deallocate()
            w.deallocate()
            y.deallocate()
        }
        return row(name, flops: g.flops) { conv2dForward(g, input: x, weight: w, bias: nil, output: y) }
    }

    /// SGEMM 1024³ on one thread through OpenBLAS, with whichever kernel it picked for this CPU.
    func openBLASRow() -> KernelBenchmarkRow {
        let n = 1024
        let a = buffer(n * n)
        let b = buffer(n * n)
        let c = buffer(n * n)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        var result = row("sgemm 1024³, 1 thread", flops: 2.0 * Double(n * n * n)) {
            openBLASGemm(m: n, n: n, k: n, a: a, b: b, c: c)
        }
        result.isa = "openblas \(openBLASCoreName)"
        return result
    }

    func run() -> [KernelBenchmarkRow] {
        var rows: [KernelBenchmarkRow] = []
        rows.append(gemmRow("sgemm 1024×1024×1024", m: 1024, n: 1024, k: 1024))
        let n = 1024
        let a = buffer(n * n)
        let b = buffer(n * n)
        let c = buffer(n * n)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        rows.append(
            row("sgemm 1024³, 1 thread", flops: 2.0 * Double(n * n * n)) {
                withSingleThreadedGemm { gemm(m: n, n: n, k: n, a: a, b: b, c: c) }
            })
        // ResNet-50 stage-1 3×3 conv: its GEMM is 64 × 3136 × 576.
        let resnet = Conv2dGeometry(
            batch: 1, inChannels: 64, height: 56, width: 56, outChannels: 64, kernel: (3, 3), padding: (1, 1, 1, 1))
        let sameShape = gemmRow("sgemm 64×3136×576 (that conv's GEMM)", m: 64, n: 3136, k: 576)
        rows.append(sameShape)
        var conv = convRow("conv 3×3 64→64 @56×56 (im2col + GEMM)", resnet)
        conv.percentOfGemm = 100 * conv.gflops / sameShape.gflops
        rows.append(conv)
        rows.append(
            convRow(
                "conv 1×1 256→64 @56×56",
                Conv2dGeometry(batch: 1, inChannels: 256, height: 56, width: 56, outChannels: 64, kernel: (1, 1))))
        // MobileNetV2's first expansion: so little depth per output that storing C is most of the work.
        rows.append(
            convRow(
                "conv 1×1 16→96 @112×112",
                Conv2dGeometry(batch: 1, inChannels: 16, height: 112, width: 112, outChannels: 96, kernel: (1, 1))))
        rows.append(
            convRow(
                "conv 3×3 s2 3→32 @224×224 (stem)",
                Conv2dGeometry(
                    batch: 1, inChannels: 3, height: 224, width: 224, outChannels: 32, kernel: (3, 3), stride: (2, 2),
                    padding: (0, 0, 1, 1))))
        rows.append(
            convRow(
                "depthwise 3×3 96ch @112×112",
                Conv2dGeometry(
                    batch: 1, inChannels: 96, height: 112, width: 112, outChannels: 96, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 96)))
        rows.append(
            convRow(
                "depthwise 3×3 s2 96ch @112×112",
                Conv2dGeometry(
                    batch: 1, inChannels: 96, height: 112, width: 112, outChannels: 96, kernel: (3, 3), stride: (2, 2),
                    padding: (0, 0, 1, 1), groups: 96)))
        // ViT-S/16 attention core: 6 heads, 197 tokens, 64 dims per head.
        let g = AttentionGeometry(batch: 1, heads: 6, queries: 197, keys: 197, headDim: 64)
        let q = buffer(6 * 197 * 64)
        let k = buffer(6 * 197 * 64)
        let v = buffer(6 * 197 * 64)
        let o = buffer(6 * 197 * 64)
        defer {
            q.deallocate()
            k.deallocate()
            v.deallocate()
            o.deallocate()
        }
        rows.append(
            row("attention ViT-S (6 heads × 197 × 64)", flops: g.flops) {
                attentionForward(g, q: q, k: k, v: v, output: o, probabilities: nil)
            })
        return rows
    }
}

extension BenchCommand {
    /// A model reduced to what the benchmark needs: its parameters and one loss (or inference) pass.
    private struct Benchee {
        var module: Module
        var inputSize: Int
        var forward: (Tensor) throws -> Tensor
    }

    /// Classifiers from the model registry, or an MAE preset (its forward is the masked-reconstruction loss).
    private func benchee(_ name: String) throws -> Benchee {
        if name.hasPrefix("mae_") {
            let model = try MaskedAutoencoderRegistry.create(name, imgSize.map { ["img_size": .int($0)] } ?? [:])
            var rng = RandomGenerator(seed: 1)
            let noise = try Tensor.uniform([batch, model.config.patches], using: &rng)
            return Benchee(module: model, inputSize: model.config.imageSize) { try model($0, noise: noise).loss }
        }
        let entry = try ModelRegistry.entry(named: name)
        let net = try entry.create()
        let labels = (0..<batch).map { $0 % max(1, net.numClasses) }
        return Benchee(module: net, inputSize: imgSize ?? entry.pretrained.inputSize[1]) {
            let logits = try net($0)
            return net.isTraining ? try logits.crossEntropy(labels: labels) : logits
        }
    }

    func benchModel(_ name: String) throws {
        let model = try benchee(name)
        var rng = RandomGenerator(seed: 0)
        let input = try Tensor.normal([batch, 3, model.inputSize, model.inputSize], using: &rng)
        let run: () throws -> Void
        if train {
            // One optimizer step as the training loops take it: forward, loss, backward, AdamW update.
            model.module.train()
            let optimizer = try AdamW(
                groups: weightDecayGroups(model.module, weightDecay: 0.05), learningRate: 1e-4, betas: (0.9, 0.95))
            run = {
                optimizer.zeroGrad()
                try model.forward(input).backward()
                try optimizer.step()
            }
        } else {
            model.module.eval()
            run = { _ = try withoutGrad { try model.forward(input) } }
        }
        let timing = try TimingSummary.measure(warmup: train ? 1 : 2, iterations: iterations, run)
        var result = ModelResult(
            model: name, batch: batch, threads: Threads.count, mode: train ? "train" : "inference",
            inputSize: model.inputSize,
            msMedian: timing.medianMilliseconds, msMin: timing.minMilliseconds, msMax: timing.maxMilliseconds,
            imagesPerSecond: Double(batch) / timing.medianMilliseconds * 1000,
            isa: KernelPath.active.name, cpu: KernelPath.cpuModel)
        // Profiled runs come after the timed ones, so the clock reads do not touch the times above.
        if profile || layers {
            let (kinds, calls) = try profileRows(iterations: iterations, run)
            (result.profile, result.layers) = (kinds, layers ? calls : nil)
        }
        if json { return print(try jsonString(result)) }
        print(
            String(
                format: "%@  batch %d  %@  %d threads, %@ on %@: median %.2f ms (min %.2f, max %.2f), %.1f images/s",
                name, batch, result.mode, Threads.count, result.isa, result.cpu, result.msMedian, result.msMin,
                result.msMax,
                result.imagesPerSecond))
        guard let rows = result.profile else { return }
        print("time per layer kind (mean of \(iterations) profiled runs):")
        for row in rows {
            let calls = row.calls == 0 ? "" : "  \(row.calls) call" + (row.calls == 1 ? "" : "s")
            print(
                "  " + row.kind.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + String(format: " %8.2f ms  %5.1f%%", row.msPerRun, row.share * 100) + calls)
        }
        guard let layers = result.layers else { return }
        print("time per layer, in call order (median of \(iterations) profiled runs):")
        for layer in layers {
            print(
                String(format: "  %8.3f ms  ", layer.msMedian)
                    + layer.kind.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + layer.shape)
        }
    }

    /// Time per kernel kind over `iterations` runs of `run`, largest first, then "other": the rest of each run
    /// (element-wise ops, copies, reshapes, softmax outside attention, allocation); and each layer's median time,
    /// in call order.
    private func profileRows(iterations: Int, _ run: () throws -> Void) throws -> ([ProfileRow], [LayerRow]) {
        let profile = KernelProfile()
        let start = DispatchTime.now().uptimeNanoseconds
        try profile.recording { for _ in 0..<iterations { try run() } }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        var rows = KernelProfile.Kind.allCases.compactMap { kind -> ProfileRow? in
            guard let seconds = profile.seconds[kind] else { return nil }
            return ProfileRow(
                kind: kind.rawValue, msPerRun: seconds / Double(iterations) * 1000, share: seconds / total,
                calls: (profile.calls[kind] ?? 0) / iterations)
        }
        rows.sort { $0.msPerRun > $1.msPerRun }
        let other = max(0, total - profile.seconds.values.reduce(0, +))
        rows.append(
            ProfileRow(kind: "other", msPerRun: other / Double(iterations) * 1000, share: other / total, calls: 0))
        // Every run calls the same layers in the same order: call i of a run is layer i % (calls per run).
        let perRun = profile.log.count / iterations
        let layers = (0..<perRun).map { i in
            let times = stride(from: i, to: perRun * iterations, by: perRun).map { profile.log[$0].seconds }.sorted()
            let call = profile.log[i]
            return LayerRow(kind: call.kind.rawValue, shape: call.shape, msMedian: times[times.count / 2] * 1000)
        }
        return (rows, layers)
    }
}
