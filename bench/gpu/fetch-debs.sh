#!/usr/bin/env bash
# fetch-debs.sh [DEST_DIR] - run on a Debian 12 (bookworm, amd64) machine with apt access.
# Downloads (apt-get download, nothing is installed) the .deb files needed to BUILD and RUN
# nucseg with -DNUCSEG_USE_MPI=OFF on a bare GPU node (Ubuntu 24.04, no network) into
# DEST_DIR (default: bench/gpu/debs, git-ignored). Carry that folder to the node and run
# `bench/gpu/stage-debs.sh DEST_DIR` there as root. Not whole dependency closures: only the
# -dev packages the build reads plus the runtime closure (ldd) of the libraries nucseg links,
# minus libc6/libstdc++6/libgcc-s1/zlib1g (always on the node) and LibTorch/CUDA (from pip).
# Set NUCSEG_CHECK_BIN=path/to/nucseg to list ldd-resolved packages missing from RT below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/debs}

# Headers, CMake configs and link-time .so links (zlib1g-dev: libz.so for FindPNG and ITK).
DEV=(libinsighttoolkit5-dev libhdf5-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
     libtiff-dev libpng-dev libjpeg62-turbo-dev libdeflate-dev zlib1g-dev libgtest-dev)
# ITK 5.2's CMake config loads every enabled module: Modules/ITK{GDCM,DCMTK,MINC,HDF5}.cmake
# find_package() GDCM, DCMTK (its targets file requires the libdcmtk17 libs), LIBMINC and
# HDF5 C+CXX (libhdf5_cpp.so). Configure-time only: nucseg links none of these.
CFG=(libgdcm-dev libgdcm3.0 libdcmtk-dev libdcmtk17 libminc-dev libminc2-5.3.0 libhdf5-cpp-103-1)
# Runtime: ITK libs, HDF5 (links libcurl/libcrypto/libsz), libtiff, libpng, spdlog, fmt and deps.
RT=(libinsighttoolkit5.2 libhdf5-103-1 libtiff6 libpng16-16 libdeflate0 libspdlog1.10 libfmt9
    libjpeg62-turbo libjbig0 liblerc4 libwebp7 liblzma5 libzstd1 libaec0 libsz2
    libcurl4 libssl3 libnghttp2-14 libidn2-0 libunistring2 librtmp1 libssh2-1 libpsl5
    libgnutls30 libnettle8 libhogweed6 libgmp10 libp11-kit0 libffi8 libtasn1-6 libbrotli1
    libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
    libldap-2.5-0 libsasl2-2)

if [ -n "${NUCSEG_CHECK_BIN:-}" ]; then   # optional: verify RT against a built nucseg
  skip=' libc6 libstdc++6 libgcc-s1 zlib1g '
  need=$(readelf -d "$NUCSEG_CHECK_BIN" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | grep -Ev 'torch|c10|cuda|mpi')
  for f in $(ldd "$NUCSEG_CHECK_BIN" | awk -v n=" ${need//$'\n'/ } " 'index(n, " "$1" ") && /=> \//{print $3}'); do
    for l in "$f" $(ldd "$f" | awk '/=> \//{print $3}'); do
      dpkg -S "$(readlink -f "$l")" 2>/dev/null | cut -d: -f1 || true
    done
  done | sort -u | while read -r p; do
    [[ " ${RT[*]} $skip" == *" $p "* ]] || echo "fetch-debs: $p (ldd of $NUCSEG_CHECK_BIN) not in RT"
  done
fi

mkdir -p "$dest"
cd "$dest"
rm -f ./*.deb
apt-get download "${DEV[@]}" "${CFG[@]}" "${RT[@]}" 2>&1 | grep -v -e '^Get:' -e 'unsandboxed' || true
n=$(find . -maxdepth 1 -name '*.deb' | wc -l)
[ "$n" -eq $(( ${#DEV[@]} + ${#CFG[@]} + ${#RT[@]} )) ] || { echo "fetch-debs: only $n debs" >&2; exit 1; }
echo "fetch-debs: $n debs, $(du -cb ./*.deb | awk 'END{printf "%.1f MB", $1/1e6}') in $dest"
