#!/usr/bin/env bash
# Installs the second LibTorch nucseg is built against: the newest CUDA LibTorch 2.x, from the
# Python package index's torch wheel, into a virtual environment outside the repository
# (reused when present). Prints the CMake prefix to build with.
set -euo pipefail
TORCH_VERSION=${NUCSEG_TORCH2_VERSION:-2.15.0}
VENV=${NUCSEG_TORCH2_VENV:-$HOME/.cache/nucseg/torch2}
PYTHON=${NUCSEG_TORCH2_PYTHON:-/usr/bin/python3}  # Debian's, with python3-venv from install-deps.sh
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "install-torch2: torch $TORCH_VERSION into $VENV" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "torch==$TORCH_VERSION" >&2
fi
"$VENV/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null
