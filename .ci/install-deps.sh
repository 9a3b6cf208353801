#!/usr/bin/env bash
# Installs everything nucseg needs to build and test on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libtorch-dev
  libinsighttoolkit5-dev
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools libtiff-dev libpng-dev libjpeg-dev libdeflate-dev
  libssl-dev libexpat1-dev libpcre2-dev
  libspdlog-dev libfmt-dev
  libcli11-dev
  libgtest-dev libgmock-dev googletest
  nlohmann-json3-dev
  python3 python3-venv python3-numpy python3-h5py python3-skimage python3-tifffile python3-jsonschema python3-torch python3-pil
  slurmctld slurmd slurm-client munge snakemake
  chromium
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
