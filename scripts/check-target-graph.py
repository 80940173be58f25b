#!/usr/bin/env python3
"""Fails when Package.swift's target dependencies differ from what each target's sources import: the graph
then says exactly what the code uses (no edge without an import, no import through a transitive edge)."""
import json
import pathlib
import re
import subprocess
import sys

PLATFORM = {"Foundation", "FoundationNetworking", "Dispatch", "XCTest", "Glibc", "Musl", "Darwin"}
root = pathlib.Path(__file__).resolve().parent.parent
manifest = json.loads(subprocess.run(
    ["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout)

problems = []
for target in manifest["targets"]:
    if target["type"] == "system":
        continue
    declared = set()
    for dependency in target["dependencies"]:
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                declared.add(dependency[kind][0])
    default = ("Tests/" if target["type"] == "test" else "Sources/") + target["name"]
    sources = list((root / (target.get("path") or default)).rglob("*.swift"))
    if not sources:
        continue  # a C target: its module map names what it links
    imported = set()
    for source in sources:
        for line in source.read_text().splitlines():
            match = re.match(r"\s*(?:@testable\s+)?import\s+(\w+)", line)
            if match:
                imported.add(match.group(1))
    imported -= PLATFORM
    if declared != imported:
        problems.append(f"{target['name']}: declared {sorted(declared)}, imported {sorted(imported)}")
if problems:
    print("Package.swift's edges differ from the imports:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"target graph: {len(manifest['targets'])} targets, every edge an import and every import an edge")
