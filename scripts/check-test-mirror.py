#!/usr/bin/env python3
"""Fails when a source file has no mirror test file: Sources/<Target>/<Name>.swift is tested by
Tests/<Target>Tests/<Name>Tests.swift, whose test class is <Name>Tests. A file that cannot or need not be
tested on its own is listed in EXEMPT with the reason. An EXEMPT entry that is gone or has a mirror by now is
an error, so the list stays true."""
import pathlib
import re
import sys

# Files with nothing to test on their own (no logic beyond data, messages or an entry point), or that run
# only where a test process cannot host them.
EXEMPT = {
    "Sources/zoo/main.swift": "the executable's entry point: one call to Zoo.runMain()",
    "Sources/ZooTestSupport/Fixtures.swift": "test support (fixture locations); every test target that loads a fixture runs it",
    "Sources/Hub/HubError.swift": "an error enum whose only logic is its message",
    "Sources/VisionIO/ImageDecodeError.swift": "error enums whose only logic is their messages",
    "Sources/Metrics/Metrics.swift": "a comment describing the target; no code",
    "Sources/Distributed/MPICommunicator.swift": "runs only under mpirun: exercised through `zoo` by "
    "Tests/ZooCommandsTests/JobTests.swift",
}

root = pathlib.Path(__file__).resolve().parent.parent


def mirror(source: pathlib.Path) -> pathlib.Path:
    target = source.parent.relative_to(root / "Sources")
    return root / "Tests" / f"{target}Tests" / f"{source.stem}Tests.swift"


missing, wrong_class, stale = [], [], []
sources = sorted((root / "Sources").rglob("*.swift"))
for source in sources:
    path = str(source.relative_to(root))
    test = mirror(source)
    if path in EXEMPT:
        if test.exists():
            stale.append(f"{path}: exempt, but {test.relative_to(root)} exists")
        continue
    if not test.exists():
        missing.append(f"{path} -> {test.relative_to(root)}")
    elif not re.search(rf"\bclass\s+{source.stem}Tests\b", test.read_text()):
        wrong_class.append(f"{test.relative_to(root)}: no class {source.stem}Tests")
paths = {str(source.relative_to(root)) for source in sources}
stale += [f"{path}: exempt, but there is no such file" for path in EXEMPT if path not in paths]

problems = missing + wrong_class + stale
if missing:
    print(f"{len(missing)} source file(s) without a mirror test (add one, or an EXEMPT entry with the reason):\n  "
          + "\n  ".join(missing))
if wrong_class:
    print("mirror test files without their test class:\n  " + "\n  ".join(wrong_class))
if stale:
    print("EXEMPT entries to remove:\n  " + "\n  ".join(stale))
if problems:
    sys.exit(1)
print(f"test mirror: {len(sources)} source files, {len(sources) - len(EXEMPT)} mirrored, {len(EXEMPT)} exempt")
