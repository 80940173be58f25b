#!/usr/bin/env python3
"""Fails when an idea that must have one home (issue 16) is defined in more than one place, or a
`nonisolated(unsafe)` has no reason beside it. Cheap text checks over Sources/: each pattern is a definition."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
sources = {p: p.read_text() for p in sorted((root / "Sources").rglob("*.swift"))}

# idea -> (definition pattern, the one file allowed to hold it)
ONE_HOME = {
    "seeded generator": (r"struct \w+\s*:\s*RandomNumberGenerator", "Sources/Randomness/RandomGenerator.swift"),
    "SplitMix64": (r"0x9E37_?79B9_?7F4A_?7C15", "Sources/Randomness/RandomGenerator.swift"),
    "Mixup / CutMix": (r"(struct|class|enum) \w*(Mixup|CutMix)\b", "Sources/VisionIO/Mixup.swift"),
    "interpolation enum": (r"enum \w*(Interpolation|Filter|Resample)\w*\s*:", "Sources/VisionIO/Resize.swift"),
    "cubic kernel": (r"let a = -0\.5|-0\.75", "Sources/VisionIO/Resize.swift"),
    "module walker": (r"func descendants", "Sources/NN/Module.swift"),
    "drop-path schedule": (r"func linearRate", "Sources/NN/Regularization.swift"),
    "command-line error": (r"struct \w+Error\s*:\s*Error", "Sources/ZooCommands/CommandInput.swift"),
    "edit distance": (r"func editDistance", "Sources/Models/NearestNames.swift"),
}

problems = []
for idea, (pattern, home) in ONE_HOME.items():
    places = []
    for path, text in sources.items():
        code = "\n".join(line.split("//")[0] for line in text.splitlines())  # comments do not define anything
        if path.relative_to(root).parts[1] == "ZooCommands" or idea != "command-line error":
            places += [(path, m) for m in re.finditer(pattern, code)]
    files = sorted({str(p.relative_to(root)) for p, _ in places})
    if files != [home]:
        problems.append(f"{idea}: expected one home in {home}, found in {files or 'no file'}")

for path, text in sources.items():
    lines = text.splitlines()
    for i, line in enumerate(lines):
        # The reason sits on the line, or in the comment just above a run of such declarations.
        above = i
        while above > 0 and "nonisolated(unsafe)" in lines[above - 1]:
            above -= 1
        if "nonisolated(unsafe)" in line and "//" not in line and not lines[above - 1].strip().startswith("//"):
            problems.append(f"{path.relative_to(root)}:{i + 1}: nonisolated(unsafe) without a one-line reason")

for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"one home: {len(ONE_HOME)} ideas, each defined once; every nonisolated(unsafe) says why")
