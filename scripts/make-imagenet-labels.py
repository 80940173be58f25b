#!/usr/bin/env python3
"""Builds zoo/imagenet_labels.txt (1000 lines, line i = human label of ImageNet-1k class i).

Source: the timm wheel on PyPI (Apache-2.0). `imagenet_synsets.txt` gives the class order
(sorted WordNet ids, the order every ImageNet-1k classifier uses) and
`imagenet_synset_to_lemma.txt` maps each id to its WordNet lemmas ("tabby, tabby cat").

Usage: python3 scripts/make-imagenet-labels.py [path/to/timm-X-py3-none-any.whl]
Without an argument the wheel is fetched with `pip download --no-deps timm==TIMM_VERSION`.
"""
import pathlib
import subprocess
import sys
import tempfile
import zipfile

TIMM_VERSION = "1.0.31"
INFO = "timm/data/_info/"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def fetch_wheel(directory: str) -> pathlib.Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "-q", "-d", directory, f"timm=={TIMM_VERSION}"], check=True)
    return next(pathlib.Path(directory).glob("timm-*.whl"))


def build_labels(wheel: pathlib.Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        synsets = archive.read(INFO + "imagenet_synsets.txt").decode().split()
        lemma_lines = archive.read(INFO + "imagenet_synset_to_lemma.txt").decode().splitlines()
    lemmas = dict(line.split("\t", 1) for line in lemma_lines if "\t" in line)
    if len(synsets) != 1000:
        sys.exit(f"expected 1000 synsets, found {len(synsets)} in {wheel}")
    missing = [s for s in synsets if s not in lemmas]
    if missing:
        sys.exit(f"no lemma for {missing[:5]} in {wheel}")
    return [lemmas[s].strip() for s in synsets]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else fetch_wheel(tmp)
        labels = build_labels(wheel)
    out = ROOT / "zoo" / "imagenet_labels.txt"
    out.write_text("\n".join(labels) + "\n")
    print(f"wrote {len(labels)} labels to {out} (from {wheel.name})")


if __name__ == "__main__":
    main()
