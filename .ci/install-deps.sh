#!/usr/bin/env bash
# Installs the Debian 12 packages Xception Studio needs to build, run and test.
# Usage: bash .ci/install-deps.sh [--dev]   (--dev adds PyTorch/h5py for goldens and benches)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then exec sudo bash "$0" "$@"; fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libgtk-4-dev libopenblas-dev libhdf5-dev libjson-glib-dev libgdk-pixbuf-2.0-dev
  libsoup-3.0-dev libdcmtk-dev libpng-dev libtiff-dev
  python3-pydicom clang libclang-rt-14-dev slurm-wlm munge
  desktop-file-utils appstream
  xvfb xauth poppler-utils dataset-fashion-mnist
)
if [ "${1:-}" = "--dev" ]; then
  pkgs+=(python3-torch python3-h5py python3-numpy python3-pil dcmtk)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
