#!/usr/bin/env bash
# Shows that another package can depend on this one by version, under SwiftPM's rules for remote
# packages (which refuse unsafeFlags): a clone of the committed HEAD is tagged 0.0.1, a fresh package
# names it with `.package(url: "file://…", from: "0.0.1")`, builds in release and runs a forward pass.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet . "$work/zoo"
git -C "$work/zoo" -c user.name=ci -c user.email=ci@localhost tag 0.0.1
mkdir -p "$work/app/Sources/app"
cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "app",
    dependencies: [.package(url: "file://$work/zoo", from: "0.0.1")],
    targets: [.executableTarget(name: "app", dependencies: [.product(name: "Zoo", package: "zoo")])]
)
SWIFT
cat > "$work/app/Sources/app/main.swift" <<'SWIFT'
import Kernels
import Models
import Tensors

let model = try ModelRegistry.create("resnet18")
model.eval()
let logits = try withoutGrad { try model(Tensor(zeros: [1, 3, 64, 64])) }
print("forward pass of resnet18 on \(KernelPath.active): logits \(logits.shape)")
SWIFT
echo "dependent package: building in release against zoo 0.0.1" >&2
swift build -c release --package-path "$work/app" 2>&1 | tail -n 2
"$work/app/.build/release/app"
